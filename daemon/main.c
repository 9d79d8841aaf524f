/* main: the command line of closewaitd, and the sd-event wiring of the daemon: a re-arming
 * monotonic timer for scans, signal sources (TERM/INT exit, HUP reloads), and the sd_notify
 * protocol. The work of a scan is in daemon.c; this file only drives it, hands the state and the
 * metrics to the keeper that writes them (sandbox.h), and maps errors to exit codes. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <syslog.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>
#include <systemd/sd-id128.h>
#include <systemd/sd-login.h>

#include "alert.h"
#include "conf.h"
#include "config.h"
#include "daemon.h"
#include "netns.h"
#include "metrics.h"
#include "render.h"
#include "sandbox.h"
#include "tracker.h"

struct args {
        bool once;
        bool json;
        bool check_config;
        bool verbose;
        const char *config_path; /* NULL: the default path, missing means defaults */
        const char *log_target;
};

static void usage(FILE *f) {
        fprintf(f,
                "Usage:\n"
                "  closewaitd [--config PATH] [--log-target auto|journal|stderr] [-v]\n"
                "  closewaitd --once [--json] [--config PATH]\n"
                "  closewaitd --check-config [--config PATH]\n"
                "  closewaitd --version | --help\n"
                "\n"
                "Finds processes that leak TCP sockets in CLOSE_WAIT (the peer closed, the program never\n"
                "called close()), connections dying in accept queues, and TIME_WAIT pile-ups.\n"
                "\n"
                "  --once            scan once, print the report to stdout and exit\n"
                "  --json            with --once: print the report as JSON\n"
                "  --config PATH     configuration file (default %s)\n"
                "  --check-config    validate the configuration and exit\n"
                "  --log-target T    where the daemon logs: auto, journal or stderr\n"
                "  -v, --verbose     log every scan\n"
                "  --version         print the version and exit\n"
                "  --help            print this help and exit\n"
                "\n"
                "Exit status: 0 success, 1 runtime failure, 64 bad usage, 78 configuration error.\n",
                CLOSEWAITD_CONFIG_PATH);
}

/* Returns 0 to go on, or an exit status (EX_OK for --help/--version) with *done set. */
static int parse_args(int argc, char **argv, struct args *a, bool *done) {
        enum { OPT_ONCE = 0x100, OPT_JSON, OPT_CONFIG, OPT_CHECK, OPT_LOG_TARGET, OPT_VERSION, OPT_HELP };
        static const struct option options[] = {
                { "once", no_argument, NULL, OPT_ONCE },
                { "json", no_argument, NULL, OPT_JSON },
                { "config", required_argument, NULL, OPT_CONFIG },
                { "check-config", no_argument, NULL, OPT_CHECK },
                { "log-target", required_argument, NULL, OPT_LOG_TARGET },
                { "verbose", no_argument, NULL, 'v' },
                { "version", no_argument, NULL, OPT_VERSION },
                { "help", no_argument, NULL, OPT_HELP },
                {},
        };
        int c;

        *done = false;
        while ((c = getopt_long(argc, argv, "v", options, NULL)) >= 0) {
                switch (c) {
                case OPT_ONCE:
                        a->once = true;
                        break;
                case OPT_JSON:
                        a->json = true;
                        break;
                case OPT_CONFIG:
                        a->config_path = optarg;
                        break;
                case OPT_CHECK:
                        a->check_config = true;
                        break;
                case OPT_LOG_TARGET:
                        if (strcmp(optarg, "auto") != 0 && strcmp(optarg, "journal") != 0 &&
                            strcmp(optarg, "stderr") != 0) {
                                fprintf(stderr,
                                        "closewaitd: --log-target must be auto, journal or stderr, not \"%s\"\n",
                                        optarg);
                                *done = true;
                                return EX_USAGE;
                        }
                        a->log_target = optarg;
                        break;
                case 'v':
                        a->verbose = true;
                        break;
                case OPT_VERSION:
                        printf("closewaitd %s\n", CLOSEWAITD_VERSION);
                        *done = true;
                        return EX_OK;
                case OPT_HELP:
                        usage(stdout);
                        *done = true;
                        return EX_OK;
                default:
                        usage(stderr);
                        *done = true;
                        return EX_USAGE;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "closewaitd: unexpected argument \"%s\"\n", argv[optind]);
                *done = true;
                return EX_USAGE;
        }
        if (a->json && !a->once) {
                fprintf(stderr, "closewaitd: --json needs --once\n");
                *done = true;
                return EX_USAGE;
        }
        if (a->once && a->check_config) {
                fprintf(stderr, "closewaitd: --once and --check-config exclude each other\n");
                *done = true;
                return EX_USAGE;
        }
        return 0;
}

/* Load the configuration named on the command line (or the default, which may be missing).
 * Returns 0, EX_CONFIG after printing every error to stderr, or EXIT_FAILURE (out of memory). */
static int load_conf(const struct args *a, struct conf *ret) {
        struct conf_errors errs = {};
        int r;

        r = conf_load_file(a->config_path ?: CLOSEWAITD_CONFIG_PATH, !a->config_path, ret, &errs);
        for (size_t i = 0; i < errs.n; i++)
                fprintf(stderr, "%s\n", errs.msgs[i]);
        conf_errors_done(&errs);
        if (r == -ENOMEM) {
                fprintf(stderr, "closewaitd: out of memory\n");
                return EXIT_FAILURE;
        }
        return r < 0 ? EX_CONFIG : 0;
}

/* One fd per watched network namespace stays open (its diag socket), and a host with many
 * containers has many: the soft open-files limit (1024 by default) goes up to the hard one. The
 * unit sets LimitNOFILE= itself, and its SystemCallFilter= refuses setrlimit() (EPERM, ignored). */
static void raise_nofile_limit(void) {
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                (void) setrlimit(RLIMIT_NOFILE, &rl);
        }
}

static int run_once(const struct args *a) {
        struct daemon *d = NULL;
        const struct report *report;
        struct render_scan scan = {};
        struct conf c;
        int r;

        r = load_conf(a, &c); /* a broken file is an error here too: the user asked for it */
        if (r != 0)
                return r;

        raise_nofile_limit();
        r = daemon_new("/proc", sd_pid_get_unit, &d);
        if (r < 0) {
                fprintf(stderr, "closewaitd: cannot open the socket diagnostics or /proc: %s\n", strerror(-r));
                conf_done(&c);
                return EXIT_FAILURE;
        }
        if (c.netns && netns_can_enter() <= 0)
                fprintf(stderr, "closewaitd: no CAP_SYS_ADMIN: only this network namespace is scanned\n");
        daemon_set_netns(d, c.netns && netns_can_enter() > 0);
        conf_done(&c);
        r = daemon_scan(d, now_monotonic_usec(), &report, &scan);
        if (r < 0) {
                fprintf(stderr, "closewaitd: scan failed: %s\n", strerror(-r));
                daemon_free(d);
                return EXIT_FAILURE;
        }
        r = a->json ? render_json(stdout, report, &scan) : render_table(stdout, report, &scan);
        daemon_free(d);
        if (r < 0) {
                fprintf(stderr, "closewaitd: cannot write the report: %s\n", strerror(-r));
                return EXIT_FAILURE;
        }
        return EXIT_SUCCESS;
}

/* At most this many alerts per scan; the rest follow at the next scans, announced by one line. */
#define MAX_ALERTS_PER_SCAN 10

/* How late a scan may start. sd-event's default (0 given) is 250 ms, which made a 0.5 s interval
 * 0.75 s; a millisecond still lets the kernel coalesce wake-ups. */
#define TIMER_ACCURACY_USEC (1 * USEC_PER_MSEC)

/* Write the first-seen table at most this often while running (and always on exit), so that a
 * crash or a watchdog restart loses little. */
#define STATE_SAVE_USEC (60 * USEC_PER_SEC)

/* A failing socket scan is retried after the interval, then twice that, and so on up to this
 * (and up to half the watchdog period, which expires anyway after WatchdogSec= without a scan:
 * then systemd restarts us, which is the last resort). */
#define RETRY_MAX_USEC (60 * USEC_PER_SEC)

struct runtime {
        const struct args *args;
        struct conf conf;
        struct daemon *daemon;
        struct alert *alert;
        sd_event *event;
        sd_event_source *timer;
        usec_t watchdog_usec; /* 0: no watchdog */
        /* The processes that write the state and the metrics files (sandbox.h), one each: a
         * metrics directory that hangs (NFS) costs the metrics, never the socket ages. NULL: the
         * file is not kept (no directory, or its keeper is gone). */
        struct sandbox_keeper *state_keeper, *metrics_keeper;
        char boot_id[SD_ID128_STRING_MAX];
        usec_t state_saved;
        bool ready;
        unsigned scan_failures; /* consecutive failed scans */
        bool proc_denied;
        bool netns_failing; /* some network namespace could not be dumped in the last scan */
        bool netns_warned;  /* "no CAP_SYS_ADMIN" was said */
        struct metrics_counters counters;
        char *metrics_path; /* metrics_file as it was at start (a reload cannot change it); NULL: none */
        bool metrics_failing;
};

/* netns = true needs CAP_SYS_ADMIN (setns()). Without it, say so once and watch the own network
 * namespace only. */
static void apply_netns(struct runtime *rt) {
        int can = rt->conf.netns ? netns_can_enter() : 0;

        if (rt->conf.netns && can <= 0 && !rt->netns_warned) {
                alert_log(rt->alert, LOG_WARNING, NULL,
                          "no CAP_SYS_ADMIN: watching this network namespace only; the sockets of containers "
                          "and other network namespaces are not seen (set netns = false to silence this)");
                rt->netns_warned = true;
        }
        daemon_set_netns(rt->daemon, rt->conf.netns && can > 0);
}

/* The scan period: the configured interval, shortened to half the watchdog period when systemd
 * expects a ping more often than that (pings come only from completed scans). */
static usec_t scan_period(const struct runtime *rt) {
        usec_t period = rt->conf.interval_usec;

        if (rt->watchdog_usec > 0 && period > rt->watchdog_usec / 2)
                period = rt->watchdog_usec / 2;
        return period;
}

/* Hand size bytes of data to the keeper *k, which writes what (for the message). Returns as
 * sandbox_keeper_save(); -ECHILD is logged here, once, with what is lost (consequence): without
 * its keeper nothing here may write that file any more. */
static int keeper_save(struct runtime *rt, struct sandbox_keeper **k, const void *data, size_t size, const char *what,
                       const char *consequence) {
        int r;

        if (!*k)
                return -ECHILD;
        r = sandbox_keeper_save(*k, 0, data, size);
        if (r == -ECHILD) {
                alert_log(rt->alert, LOG_WARNING, NULL, "the process that writes %s is gone; %s", what, consequence);
                *k = sandbox_keeper_free(*k);
        }
        return r;
}

static void save_state(struct runtime *rt, usec_t now) {
        char *buf = NULL;
        size_t size = 0;
        int r;

        if (!rt->state_keeper)
                return;
        r = daemon_save_state(rt->daemon, rt->boot_id, &buf, &size);
        if (r >= 0)
                r = keeper_save(rt, &rt->state_keeper, buf, size, "the socket ages",
                                "socket ages restart with the daemon");
        free(buf);
        if (r < 0 && r != -ECHILD)
                alert_log(rt->alert, LOG_WARNING, NULL, "cannot save the socket ages: %s, ignoring", strerror(-r));
        rt->state_saved = now;
}

/* Write the metrics: of report (NULL after a failed scan, or when stopping), with the alert
 * counts unless stopping. A file that cannot be written is logged when it starts failing and when
 * it works again, not at every scan. */
static void write_metrics(struct runtime *rt, const struct report *report, bool stopping) {
        unsigned active[_POLICY_KIND_MAX] = {};
        char *buf = NULL;
        size_t size = 0;
        int r;

        if (!rt->metrics_keeper)
                return;
        if (!stopping)
                daemon_alerts_active(rt->daemon, active);
        rt->counters.interval_usec = scan_period(rt);
        r = metrics_render(report, stopping ? NULL : active, &rt->conf, &rt->counters, &buf, &size);
        if (r >= 0)
                r = keeper_save(rt, &rt->metrics_keeper, buf, size, "the metrics",
                                "no more metrics until the daemon restarts");
        free(buf);
        if (r == -ECHILD)
                return;
        if (r < 0 && !rt->metrics_failing)
                alert_log(rt->alert, LOG_WARNING, NULL,
                          "cannot write the metrics to %s: %s; trying again after every scan, ignoring",
                          rt->metrics_path, strerror(-r));
        else if (r >= 0 && rt->metrics_failing)
                alert_log(rt->alert, LOG_NOTICE, NULL, "the metrics are written to %s again", rt->metrics_path);
        rt->metrics_failing = r < 0;
}

/* The delay before the next attempt after n consecutive failed scans (n >= 1). */
static usec_t retry_delay(const struct runtime *rt, unsigned n) {
        usec_t period = scan_period(rt), cap = RETRY_MAX_USEC, delay = period;

        if (rt->watchdog_usec > 0 && cap > rt->watchdog_usec / 2)
                cap = rt->watchdog_usec / 2;
        if (cap < period)
                cap = period;
        for (unsigned i = 1; i < n && delay < cap; i++)
                delay *= 2;
        return delay < cap ? delay : cap;
}

/* Scan and decide. Returns the delay until the next scan. */
static usec_t scan_once(struct runtime *rt, usec_t now) {
        const struct report *report;
        struct render_scan scan = {};
        char status[256];
        usec_t delay;
        int r;

        r = daemon_scan(rt->daemon, now, &report, &scan);
        if (r < 0) {
                /* One entry per episode. No WATCHDOG=1 without a completed scan: if this lasts
                 * longer than WatchdogSec=, systemd restarts us. */
                rt->scan_failures++;
                rt->counters.scan_errors++;
                write_metrics(rt, NULL, false);
                delay = retry_delay(rt, rt->scan_failures);
                if (rt->scan_failures == 1)
                        alert_log(rt->alert, LOG_WARNING, ALERT_MID_DEGRADED,
                                  "monitoring degraded: the socket scan failed: %s; retrying with backoff, up "
                                  "to every %.0f s",
                                  strerror(-r), (double) retry_delay(rt, UINT_MAX) / USEC_PER_SEC);
                sd_notifyf(false, "STATUS=monitoring degraded: the socket scan failed: %s; retrying in %.1f s",
                           strerror(-r), (double) delay / USEC_PER_SEC);
                return delay;
        }
        if (rt->scan_failures > 0)
                alert_log(rt->alert, LOG_NOTICE, NULL,
                          "monitoring recovered: the socket scan works again after %u failed attempt%s",
                          rt->scan_failures, rt->scan_failures == 1 ? "" : "s");
        rt->scan_failures = 0;
        rt->counters.scans++;
        rt->counters.scan_usec += scan.duration_usec;
        rt->counters.last_wall = scan.wall;
        rt->counters.last_duration_usec = scan.duration_usec;
        rt->counters.netns = (unsigned) scan.netns_watched;

        /* On the processes known unreadable, not on those read in this scan: most scans do not
         * read them, and the state must not flap with the walks. */
        if (scan.proc->unreadable > 0 && !rt->proc_denied)
                alert_log(rt->alert, LOG_WARNING, ALERT_MID_DEGRADED,
                          "monitoring degraded: the open files of %lu process%s could not be read (permission "
                          "denied); their sockets are reported without an owner. closewaitd needs "
                          "CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH",
                          scan.proc->unreadable, scan.proc->unreadable == 1 ? "" : "es");
        else if (scan.proc->unreadable == 0 && rt->proc_denied)
                alert_log(rt->alert, LOG_NOTICE, NULL, "monitoring recovered: every process's open files are readable");
        rt->proc_denied = scan.proc->unreadable > 0;

        if (scan.netns_failed > 0 && !rt->netns_failing)
                alert_log(rt->alert, LOG_WARNING, ALERT_MID_DEGRADED,
                          "monitoring degraded: %lu network namespace%s could not be entered or dumped; their "
                          "sockets are not seen (retried at every scan)",
                          scan.netns_failed, scan.netns_failed == 1 ? "" : "s");
        else if (scan.netns_failed == 0 && rt->netns_failing)
                alert_log(rt->alert, LOG_NOTICE, NULL, "monitoring recovered: every network namespace is watched");
        rt->netns_failing = scan.netns_failed > 0;

        r = daemon_alert(rt->daemon, &rt->conf, now, MAX_ALERTS_PER_SCAN, rt->alert);
        if (r < 0)
                alert_log(rt->alert, LOG_ERR, NULL, "cannot evaluate the scan: %s, ignoring", strerror(-r));

        daemon_status(rt->daemon, status, sizeof(status));
        alert_log(rt->alert, LOG_DEBUG, NULL, "scan %" PRIu64 ": %s", rt->counters.scans, status);
        sd_notifyf(false, "%sSTATUS=%s\nWATCHDOG=1", rt->ready ? "" : "READY=1\n", status);
        rt->ready = true;

        write_metrics(rt, report, false);
        if (now >= rt->state_saved + STATE_SAVE_USEC)
                save_state(rt, now);
        return scan_period(rt);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        struct runtime *rt = userdata;
        usec_t now = now_monotonic_usec(), delay;
        int r;

        delay = scan_once(rt, now);
        /* Re-arm from the end of the scan, so a slow scan never piles up behind itself. */
        r = sd_event_source_set_time(s, now_monotonic_usec() + delay);
        if (r >= 0)
                r = sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        if (r < 0) {
                alert_log(rt->alert, LOG_ERR, NULL, "cannot re-arm the scan timer: %s", strerror(-r));
                return sd_event_exit(sd_event_source_get_event(s), EXIT_FAILURE);
        }
        return 0;
}

/* A shorter interval takes effect now, not after the old one runs out; the next scan is only ever
 * moved earlier, so that reloads in a tight loop cannot starve the scans (and the watchdog). */
static void reschedule_earlier(struct runtime *rt) {
        uint64_t next;
        usec_t want = now_monotonic_usec() + scan_period(rt);
        int r;

        r = sd_event_source_get_time(rt->timer, &next);
        if (r >= 0 && want < next)
                r = sd_event_source_set_time(rt->timer, want);
        if (r < 0)
                alert_log(rt->alert, LOG_WARNING, NULL, "cannot reschedule the next scan: %s, ignoring", strerror(-r));
}

/* "\"PATH\"", or "none" for NULL, in buf. */
static const char *quoted(char *buf, size_t size, const char *path) {
        if (path)
                snprintf(buf, size, "\"%s\"", path);
        else
                snprintf(buf, size, "none");
        return buf;
}

/* Two paths, either NULL (none), are the same. */
static bool same_path(const char *a, const char *b) {
        return a && b ? strcmp(a, b) == 0 : a == b;
}

static int on_reload(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        struct runtime *rt = userdata;
        const char *path = rt->args->config_path ?: CLOSEWAITD_CONFIG_PATH;
        struct conf_errors errs = {};
        struct conf c;
        int r;

        sd_notifyf(false, "RELOADING=1\nMONOTONIC_USEC=%llu", (unsigned long long) now_monotonic_usec());
        r = conf_load_file(path, !rt->args->config_path, &c, &errs);
        if (r < 0) {
                for (size_t i = 0; i < errs.n; i++)
                        alert_log(rt->alert, LOG_ERR, NULL, "%s", errs.msgs[i]);
                alert_log(rt->alert, LOG_ERR, NULL, "reload failed: %s; keeping the running configuration",
                          r == -ENOMEM ? "out of memory" : "the configuration has errors");
        } else {
                /* The keeper opened its directory at start, and nothing can open another now. */
                if (!same_path(c.metrics_file, rt->metrics_path)) {
                        char was[PATH_MAX + 2], now[PATH_MAX + 2];

                        alert_log(rt->alert, LOG_WARNING, NULL,
                                  "metrics_file changed from %s to %s: that takes a restart, not a reload (the "
                                  "daemon opens the directory of the metrics file only when it starts); until then "
                                  "it stays %s",
                                  quoted(was, sizeof(was), rt->metrics_path), quoted(now, sizeof(now), c.metrics_file),
                                  was);
                }
                conf_done(&rt->conf);
                rt->conf = c;
                apply_netns(rt);
                /* A new interval takes effect now, not after the old one runs out. */
                reschedule_earlier(rt);
                alert_log(rt->alert, LOG_INFO, NULL, "configuration reloaded from %s: interval %.1fs, %zu rule%s", path,
                          usec_to_sec(rt->conf.interval_usec), rt->conf.n_rules, rt->conf.n_rules == 1 ? "" : "s");
        }
        conf_errors_done(&errs);
        /* Before the first complete scan, READY=1 is still that scan's to send. */
        if (rt->ready)
                sd_notify(false, "READY=1");
        return 0;
}

static int on_exit_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        struct runtime *rt = userdata;

        sd_notify(false, "STOPPING=1");
        alert_log(rt->alert, LOG_INFO, NULL, "stopping on %s", si->ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
        return sd_event_exit(sd_event_source_get_event(s), EXIT_SUCCESS);
}

/* The directory of the first-seen table: $RUNTIME_DIRECTORY (set by systemd from
 * RuntimeDirectory=closewaitd), else /run/closewaitd, created if missing. */
static int open_state_dir(struct runtime *rt) {
        const char *dir = getenv("RUNTIME_DIRECTORY") ?: "/run/closewaitd";
        sd_id128_t boot;
        int fd, r;

        r = sd_id128_get_boot(&boot);
        if (r < 0) {
                alert_log(rt->alert, LOG_WARNING, NULL,
                          "cannot read the boot id: %s; socket ages restart with the daemon", strerror(-r));
                return -1;
        }
        sd_id128_to_string(boot, rt->boot_id);
        if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
                alert_log(rt->alert, LOG_WARNING, NULL, "cannot create %s: %m; socket ages restart with the daemon",
                          dir);
                return -1;
        }
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                alert_log(rt->alert, LOG_WARNING, NULL, "cannot open %s: %m; socket ages restart with the daemon", dir);
                return -1;
        }
        r = daemon_load_state(rt->daemon, fd, rt->boot_id, now_monotonic_usec());
        if (r >= 0)
                alert_log(rt->alert, LOG_INFO, NULL, "kept the ages of %d socket%s from %s/state", r, r == 1 ? "" : "s",
                          dir);
        else if (r == -ESTALE)
                alert_log(rt->alert, LOG_INFO, NULL, "%s/state is from another boot, ignoring", dir);
        else if (r == -EPROTO)
                alert_log(rt->alert, LOG_INFO, NULL, "%s/state is in another version's format, ignoring", dir);
        else if (r != -ENOENT)
                alert_log(rt->alert, LOG_WARNING, NULL, "cannot load %s/state: %s, ignoring", dir,
                          r == -EBADMSG ? "truncated or corrupt" : strerror(-r));
        return fd;
}

/* The directory of metrics_file, opened now for the keeper: once started, the daemon can open
 * nothing for writing. Keeps the path in rt->metrics_path. Returns the fd, or -1 when there is no
 * metrics file or the directory cannot be opened (logged: the metrics are off, the monitoring
 * goes on). *ret_name points into rt->metrics_path. */
static int open_metrics_dir(struct runtime *rt, const char **ret_name) {
        char *dir;
        int fd;

        if (!rt->conf.metrics_file)
                return -1;
        rt->metrics_path = strdup(rt->conf.metrics_file);
        dir = strdup(rt->conf.metrics_file);
        if (!rt->metrics_path || !dir) {
                free(dir);
                alert_log(rt->alert, LOG_WARNING, NULL, "out of memory; no metrics");
                free(rt->metrics_path);
                rt->metrics_path = NULL;
                return -1;
        }
        /* conf checked it: absolute, with a file name after the last '/'. */
        *ret_name = strrchr(rt->metrics_path, '/') + 1;
        *strrchr(dir, '/') = '\0';
        fd = open(dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                alert_log(rt->alert, LOG_WARNING, NULL,
                          "cannot open %s, the directory of metrics_file: %m; no metrics until a restart",
                          dir[0] ? dir : "/");
        }
        free(dir);
        return fd;
}

/* Fork the keeper of dir_fd/name (closing dir_fd; -1: none) into *ret. A keeper that cannot
 * start costs only its file, said once (what, consequence). Returns 0 or -ENOMEM. */
static int start_keeper(struct runtime *rt, int dir_fd, const char *name, sandbox_write_fn write_file, const char *what,
                        const char *consequence, struct sandbox_keeper **ret) {
        struct sandbox_keeper_file f = { dir_fd, name, write_file };
        int r;

        *ret = NULL;
        if (dir_fd < 0)
                return 0;
        r = sandbox_keeper_start(&f, 1, ret);
        close(dir_fd);
        if (r == -ENOMEM) {
                alert_log(rt->alert, LOG_ERR, NULL, "out of memory");
                return r;
        }
        if (r < 0)
                alert_log(rt->alert, LOG_WARNING, NULL, "cannot start the process that writes %s: %s; %s", what,
                          strerror(-r), consequence);
        return 0;
}

/* Give up writing before the first scan (sandbox.h): fork the keeper of the state file in
 * state_dir_fd and another of the metrics file in metrics_dir_fd (either -1: none; both closed
 * here, each keeper has its own), then forbid this process every write. A kernel that refuses the
 * filter costs a warning, not the monitoring: the unit's own sandbox still stands. A keeper that
 * cannot start costs the ages across a restart, or the metrics. Returns 0, or -ENOMEM (logged). */
static int sandbox_start(struct runtime *rt, int state_dir_fd, int metrics_dir_fd, const char *metrics_name) {
        int r;

        r = start_keeper(rt, state_dir_fd, DAEMON_STATE_FILE, tracker_write_file, "the socket ages",
                         "socket ages restart with the daemon", &rt->state_keeper);
        if (r >= 0)
                r = start_keeper(rt, metrics_dir_fd, metrics_name, sandbox_write_readable, "the metrics", "no metrics",
                                 &rt->metrics_keeper);
        else if (metrics_dir_fd >= 0)
                close(metrics_dir_fd);
        if (r < 0)
                return r;
        r = sandbox_forbid_writes();
        if (r == -ENOMEM) {
                alert_log(rt->alert, LOG_ERR, NULL, "out of memory");
                return r;
        }
        if (r < 0)
                alert_log(rt->alert, LOG_WARNING, NULL,
                          "cannot forbid this process to write files (seccomp): %s, ignoring", strerror(-r));
        return 0;
}

static bool log_to_journal(const char *target) {
        return strcmp(target, "journal") == 0 || (strcmp(target, "auto") == 0 && alert_journal_available());
}

static const int handled_signals[] = { SIGTERM, SIGINT, SIGHUP };

static int run_daemon(const struct args *a) {
        struct runtime rt = { .args = a };
        bool journal = log_to_journal(a->log_target);
        /* stderr connected to the journal by systemd: "<N>" prefixes keep each line's priority. */
        bool stderr_prefix = getenv("JOURNAL_STREAM") != NULL;
        const char *metrics_name = NULL;
        sigset_t mask;
        int r, ret = EXIT_FAILURE, state_dir_fd, metrics_dir_fd;

        /* A signal ignored by the parent stays ignored across exec, and an ignored signal never
         * reaches a signalfd: take the defaults back. Then block them before anything else, so
         * that a SIGTERM during start-up (a long first scan, loading the state) waits for the
         * event loop and ends in a clean exit 0, not death by signal. */
        sigemptyset(&mask);
        for (size_t i = 0; i < ELEMENTSOF(handled_signals); i++) {
                sigaction(handled_signals[i], &(struct sigaction){ .sa_handler = SIG_DFL }, NULL);
                sigaddset(&mask, handled_signals[i]);
        }
        sigprocmask(SIG_BLOCK, &mask, NULL);
        /* SIGCHLD ignored by the parent would have the kernel reap the keeper at once, and its pid
         * could be another process's by the time we kill or wait for it. */
        sigaction(SIGCHLD, &(struct sigaction){ .sa_handler = SIG_DFL }, NULL);

        conf_defaults(&rt.conf);
        r = load_conf(a, &rt.conf);
        if (r != 0)
                return r;

        /* To the journal with stderr as the fallback while it is unreachable, or to stderr alone. */
        r = alert_new(journal ? alert_sink_journal() : alert_sink_stream(stderr, stderr_prefix),
                      journal ? alert_sink_stream(stderr, stderr_prefix) : (struct alert_sink){ 0 },
                      a->verbose ? LOG_DEBUG : LOG_INFO, &rt.alert);
        if (r < 0) {
                fprintf(stderr, "closewaitd: out of memory\n");
                goto finish;
        }
        raise_nofile_limit();
        r = daemon_new("/proc", sd_pid_get_unit, &rt.daemon);
        if (r < 0) {
                alert_log(rt.alert, LOG_ERR, NULL, "cannot open the socket diagnostics or /proc: %s", strerror(-r));
                goto finish;
        }
        apply_netns(&rt);
        state_dir_fd = open_state_dir(&rt);
        metrics_dir_fd = open_metrics_dir(&rt, &metrics_name);
        r = sandbox_start(&rt, state_dir_fd, metrics_dir_fd, metrics_name);
        if (r < 0)
                goto finish;
        /* The namespace the daemon runs in, until the first scan says how many it watched. */
        rt.counters.netns = 1;

        r = sd_watchdog_enabled(false, &rt.watchdog_usec);
        if (r <= 0)
                rt.watchdog_usec = 0;

        r = sd_event_default(&rt.event);
        if (r >= 0)
                r = sd_event_add_signal(rt.event, NULL, SIGTERM | SD_EVENT_SIGNAL_PROCMASK, on_exit_signal, &rt);
        if (r >= 0)
                r = sd_event_add_signal(rt.event, NULL, SIGINT | SD_EVENT_SIGNAL_PROCMASK, on_exit_signal, &rt);
        if (r >= 0)
                r = sd_event_add_signal(rt.event, NULL, SIGHUP | SD_EVENT_SIGNAL_PROCMASK, on_reload, &rt);
        /* The first scan right away: READY=1 follows it. */
        if (r >= 0)
                r = sd_event_add_time(rt.event, &rt.timer, CLOCK_MONOTONIC, 0, TIMER_ACCURACY_USEC, on_timer, &rt);
        if (r < 0) {
                alert_log(rt.alert, LOG_ERR, NULL, "cannot set up the event loop: %s", strerror(-r));
                goto finish;
        }

        alert_log(rt.alert, LOG_INFO, NULL,
                  "closewaitd %s started: scanning every %.1fs%s, %zu rule%s, configuration %s", CLOSEWAITD_VERSION,
                  usec_to_sec(scan_period(&rt)),
                  scan_period(&rt) != rt.conf.interval_usec ? " (half the watchdog period)" : "", rt.conf.n_rules,
                  rt.conf.n_rules == 1 ? "" : "s", a->config_path ?: CLOSEWAITD_CONFIG_PATH);
        ret = sd_event_loop(rt.event);
        if (ret < 0) {
                alert_log(rt.alert, LOG_ERR, NULL, "event loop failed: %s", strerror(-ret));
                ret = EXIT_FAILURE;
        }
        save_state(&rt, now_monotonic_usec());
        /* Stopped: the counters stay, the values go (nobody updates them any more), so that
         * alerting rules on them resolve instead of firing on a file that stands still. */
        write_metrics(&rt, NULL, true);
finish:
        sd_event_source_unref(rt.timer);
        sd_event_unref(rt.event);
        sandbox_keeper_free(rt.state_keeper);
        sandbox_keeper_free(rt.metrics_keeper);
        daemon_free(rt.daemon);
        alert_free(rt.alert);
        conf_done(&rt.conf);
        free(rt.metrics_path);
        return ret;
}

static int check_config(const struct args *a) {
        struct conf c;
        int r;

        r = load_conf(a, &c);
        if (r != 0)
                return r;
        conf_done(&c);
        printf("configuration OK\n");
        return EXIT_SUCCESS;
}

int main(int argc, char **argv) {
        struct args a = { .log_target = "auto" };
        bool done;
        int r;

        r = parse_args(argc, argv, &a, &done);
        if (done)
                return r;
        if (a.check_config)
                return check_config(&a);
        if (a.once)
                return run_once(&a);
        return run_daemon(&a);
}
