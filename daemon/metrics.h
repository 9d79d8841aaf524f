/* metrics: the last scan as Prometheus metrics, in the text exposition format (0.0.4) that
 * node_exporter's textfile collector reads. Pure: the report, the alert counts, the configuration
 * and the daemon's counters go in, bytes come out; writing them is the keeper's (sandbox.h).
 *
 * Names follow https://prometheus.io/docs/practices/naming/: the closewaitd_ prefix, base units
 * (seconds), "_total" on counters only, a HELP and a TYPE line once per family, families without
 * a sample left out. Every family is a gauge but the three counters.
 *
 * Bounded cardinality, and few series that come and go: per-process, per-listener and
 * per-TIME_WAIT-group series exist for at most METRICS_TOP of each, and only for processes and
 * listeners with at least one stuck socket (hold old; a busy server holds CLOSE_WAIT sockets for
 * milliseconds, which would make new series at every scan) and TIME_WAIT groups of at least
 * METRICS_TIME_WAIT_PERCENT of their threshold (a client's every remote port is a group). Those
 * the daemon would alert about come first (so a rule never misses one for want of a series), then
 * the largest; the totals and the counts of processes, listeners and groups are always there. Label values are the
 * strings of the report (comm is already escaped for display, "\xNN"), escaped for the format (backslash, double quote,
 * newline); a byte that is a control character or not valid UTF-8 becomes the text "\xNN", so a file is always valid.
 * Unknown values are "" (no unit, no container, a listener whose owner is not known).
 *
 * Per process, labels pid, comm, unit, container, pod, netns (the inode of its network namespace):
 *   closewaitd_process_close_wait_sockets             CLOSE_WAIT sockets it holds
 *   closewaitd_process_close_wait_stuck_sockets       ... at least close_wait.hold old (its own,
 *                                                     from the rules): what the alert counts
 *   closewaitd_process_close_wait_unread_sockets      ... whose EOF it never read (Recv-Q > 0)
 *   closewaitd_process_close_wait_oldest_age_seconds  age of its oldest (a lower bound)
 *   closewaitd_process_open_fds, closewaitd_process_max_fds (left out when unlimited)
 *   closewaitd_process_close_wait_threshold_sockets       its close_wait.count
 *   closewaitd_process_close_wait_threshold_age_seconds   its close_wait.age (0 = off)
 *   closewaitd_process_fd_pressure_threshold_ratio        its fd_pressure.ratio (0 = off)
 * Per listener with unaccepted connections, labels address, netns and the owner's pid, comm,
 * unit, container, pod:
 *   closewaitd_listener_accept_backlog_sockets, _stuck_sockets (accept_backlog.hold old),
 *   _oldest_age_seconds, closewaitd_listener_accept_backlog_threshold_sockets
 * Per TIME_WAIT group, labels side ("server": address is a listener's; "client": a remote one),
 * address, netns and the owner's (server side) pid, comm, unit, container, pod:
 *   closewaitd_time_wait_group_sockets, closewaitd_time_wait_group_oldest_age_seconds,
 *   closewaitd_time_wait_group_threshold_sockets
 * The thresholds are the daemon's own for that process (conf_match()), so that an alerting rule
 * compares series with series and follows the configuration and its rules without being edited;
 * an ignored process (rules: ignore = true) has no threshold series, and so no rule fires for it.
 * What a rule cannot read from here is a hold that is a duration of the condition
 * (time_wait.hold, fd_pressure.hold: the rule's "for:") and the clear_ratio hysteresis.
 *
 * Totals: closewaitd_close_wait_sockets, closewaitd_close_wait_unowned_sockets,
 * closewaitd_accept_backlog_sockets, closewaitd_time_wait_sockets, closewaitd_close_wait_processes,
 * closewaitd_accept_backlog_listeners, closewaitd_time_wait_groups.
 * Alerts: closewaitd_alerts_active{kind} for the four kinds.
 * The daemon: closewaitd_build_info{version}, closewaitd_scans_total, closewaitd_scan_errors_total,
 * closewaitd_scan_duration_seconds_total, closewaitd_last_scan_timestamp_seconds (0: none yet),
 * closewaitd_last_scan_duration_seconds, closewaitd_scan_interval_seconds,
 * closewaitd_network_namespaces.
 *
 * Without a report (the last scan failed) the per-series families and the totals are left out:
 * the values are unknown, not zero. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "conf.h"
#include "policy.h"
#include "report.h"
#include "util.h"

/* At most this many processes, listeners and TIME_WAIT groups get series of their own: with
 * about ten families each, some 400 series per host at most. */
#define METRICS_TOP 20

/* A TIME_WAIT group gets series from this share of its time_wait.count on (1,000 sockets by
 * default). */
#define METRICS_TIME_WAIT_PERCENT 10

/* What the daemon counts about itself, from its start. */
struct metrics_counters {
        uint64_t scans;            /* completed scans */
        uint64_t scan_errors;      /* scans that failed (the socket dump, /proc, memory) */
        usec_t scan_usec;          /* wall time of the completed scans, summed */
        struct timespec last_wall; /* CLOCK_REALTIME at the start of the last completed scan; 0: none */
        usec_t last_duration_usec; /* wall time of the last completed scan */
        usec_t interval_usec;      /* the scan period in effect */
        unsigned netns;            /* network namespaces the last scan dumped (the own one included) */
};

/* The metrics as the bytes of a .prom file: the report r of the last scan (NULL when it failed:
 * no per-series families, no totals), active (_POLICY_KIND_MAX counts from policy_active(); NULL:
 * no closewaitd_alerts_active, e.g. once the daemon stops), the thresholds of c, and m.
 * Returns 0 with *ret (malloc'd, the caller frees it; NUL-terminated, *ret_size bytes without the
 * NUL), or -ENOMEM. */
int metrics_render(const struct report *r, const unsigned *active, const struct conf *c,
                   const struct metrics_counters *m, char **ret, size_t *ret_size);
