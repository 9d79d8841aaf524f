/* daemon: one scan, with everything that is worth keeping from one scan to the next, and the
 * decision on it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "daemon.h"
#include "diag.h"
#include "netns.h"
#include "policy.h"
#include "tracker.h"

struct daemon {
        struct netns_set *netns; /* a diag socket in each network namespace watched */
        bool enter_netns;        /* watch the other namespaces too, not only the own one */
        struct netns_stats netns_stats;
        unsigned long netns_dumped; /* namespaces dumped by the last scan */
        uint32_t *unseen;           /* namespaces found but not dumped by the last scan */
        size_t n_unseen, cap_unseen;
        unsigned long netns_dump_failed; /* namespaces whose dump failed in the last scan */
        struct procmap *procmap;
        struct tracker *tracker;
        struct policy *policy;
        struct diag_set socks;
        bool per_family;  /* the kernel refused a dump of both families at once */
        uint32_t *inodes; /* the inodes to resolve, reused across scans */
        usec_t *ages;     /* CLOSE_WAIT age of socks.socks[i] */
        size_t cap_inodes, cap_ages;
        struct report report;
        bool report_valid;
        struct procmap_stats proc_stats;
        struct render_scan last_scan;
};

#define SCAN_STATES (DIAG_TCPF_CLOSE_WAIT | DIAG_TCPF_LISTEN | DIAG_TCPF_TIME_WAIT)

/* tcp_info is needed only to date a CLOSE_WAIT socket the tracker has not seen yet. Asking for
 * it in every dump made each message ~3x larger and cost a tcp_get_info() per socket per scan.
 * New sockets are asked for one by one (a request and an answer each, ~5 us) when they are few
 * or a small part of all (a leak growing by 1,000 among 100k: 5 ms instead of a second dump of
 * 100k, ~150 ms); else (the first scan of a loaded host) one more dump of the CLOSE_WAIT state
 * carries it for all. */
#define INFO_QUERY_FEW   64
#define INFO_QUERY_SHARE 4 /* queries while new * INFO_QUERY_SHARE <= all CLOSE_WAIT */

int daemon_new(const char *proc_path, procmap_unit_fn get_unit, struct daemon **ret) {
        struct daemon *d;
        int r;

        d = calloc(1, sizeof(*d));
        if (!d)
                return -ENOMEM;
        r = netns_set_new(proc_path, "/run/netns", &d->netns);
        if (r < 0)
                goto fail;
        r = procmap_new(proc_path, get_unit, &d->procmap);
        if (r < 0)
                goto fail;
        r = tracker_new(&d->tracker);
        if (r < 0)
                goto fail;
        r = policy_new(&d->policy);
        if (r < 0)
                goto fail;
        *ret = d;
        return 0;
fail:
        daemon_free(d);
        return r;
}

struct daemon *daemon_free(struct daemon *d) {
        if (!d)
                return NULL;
        netns_set_free(d->netns);
        procmap_free(d->procmap);
        tracker_free(d->tracker);
        policy_free(d->policy);
        diag_set_done(&d->socks);
        report_done(&d->report);
        free(d->inodes);
        free(d->ages);
        free(d->unseen);
        free(d);
        return NULL;
}

/* A host without IPv6 answers the AF_INET6 dump with one of these: nothing to report there. */
static bool family_unavailable(int r) {
        return r == -ENOENT || r == -EAFNOSUPPORT || r == -EPROTONOSUPPORT || r == -EOPNOTSUPP;
}

static int dump_plain(struct diag *diag, int family, uint32_t states, struct diag_set *set) {
        return diag_dump(diag, family, states, false, set);
}

/* Dump the IPv4 and IPv6 sockets in states into set (info_only: fill the tcp_info of those in set
 * already, see diag_dump_info()): in one walk of the kernel's tables when it
 * takes the request for both (every kernel since 2.6 does), else one dump per family. */
static int dump_both(struct daemon *d, struct diag *diag, uint32_t states, bool info_only, struct diag_set *set) {
        int (*fn)(struct diag *, int, uint32_t, struct diag_set *) = info_only ? diag_dump_info : dump_plain;
        int r;

        if (!d->per_family) {
                r = fn(diag, AF_UNSPEC, states, set);
                if (r != -EINVAL && r != -EOPNOTSUPP)
                        return r;
                d->per_family = true;
        }
        r = fn(diag, AF_INET, states, set);
        if (r < 0)
                return r;
        r = fn(diag, AF_INET6, states, set);
        return r < 0 && family_unavailable(r) ? 0 : r;
}

/* Give the CLOSE_WAIT sockets that the tracker does not know their tcp_info: those from socks[first]
 * on, which diag (one namespace's socket) dumped. Best effort: a socket without it is dated from
 * this scan on, which errs on the young side. */
static int fetch_info(struct daemon *d, struct diag *diag, size_t first) {
        size_t n_new = 0, n_cw = 0;
        int r;

        for (size_t i = first; i < d->socks.n; i++) {
                const struct diag_sock *s = &d->socks.socks[i];

                if (s->state != TCP_CLOSE_WAIT)
                        continue;
                n_cw++;
                if (!tracker_contains(d->tracker, s->netns, s->cookie))
                        n_new++;
        }
        if (n_new == 0)
                return 0;

        if (n_new <= INFO_QUERY_FEW || n_new * INFO_QUERY_SHARE <= n_cw) {
                for (size_t i = first; i < d->socks.n; i++) {
                        struct diag_sock *s = &d->socks.socks[i];

                        if (s->state != TCP_CLOSE_WAIT || tracker_contains(d->tracker, s->netns, s->cookie))
                                continue;
                        r = diag_query_info(diag, s);
                        if (r == -ENOMEM)
                                return r;
                }
                return 0;
        }

        /* Into the set itself: a second set of 100k sockets was ~10 MiB of peak memory. */
        r = dump_both(d, diag, DIAG_TCPF_CLOSE_WAIT, true, &d->socks);
        return r == -ENOMEM ? r : 0;
}

/* Dump every namespace watched into d->socks, each socket stamped with its namespace. A failed
 * dump of the own namespace fails the scan; one of another namespace is counted and skipped (its
 * sockets missing from one scan are kept by the tracker, its alerts by the policy: unseen_netns),
 * and its socket is opened again by the next refresh, as the own one is. */
static int dump_namespaces(struct daemon *d) {
        int r;

        d->netns_stats = (struct netns_stats){};
        d->netns_dump_failed = 0;
        d->netns_dumped = 0;
        d->n_unseen = 0;
        r = netns_refresh(d->netns, d->enter_netns, &d->netns_stats);
        if (r < 0)
                return r;
        r = array_reserve((void **) &d->unseen, &d->cap_unseen, netns_count(d->netns), sizeof(*d->unseen));
        if (r < 0)
                return r;
        for (size_t i = 0; i < netns_count(d->netns); i++) {
                struct netns_entry *e = netns_get(d->netns, i);
                size_t first = d->socks.n;

                if (!e->diag) {
                        /* Not entered (counted by the refresh as failed, or not a failure: its
                         * process exited first): nothing known about it this time. */
                        d->unseen[d->n_unseen++] = (uint32_t) e->ino;
                        continue;
                }
                d->socks.netns = (uint32_t) e->ino; /* nsfs inodes are 32-bit */
                r = dump_both(d, e->diag, SCAN_STATES, false, &d->socks);
                if (r >= 0)
                        r = fetch_info(d, e->diag, first);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        /* Whatever state the socket was left in (a dump cut short, a queue
                         * overrun), the next scan starts with a fresh one; the dump-both probe
                         * is repeated too. */
                        netns_reset(e);
                        d->per_family = false;
                        if (e->own)
                                return r;
                        e->error = r;
                        d->netns_dump_failed++;
                        /* Half a namespace would look like sockets gone: none of it, and its
                         * subjects keep their alerts (report.h, unseen_netns). */
                        diag_set_truncate(&d->socks, first);
                        d->unseen[d->n_unseen++] = (uint32_t) e->ino;
                } else
                        d->netns_dumped++;
        }
        return 0;
}

int daemon_scan(struct daemon *d, usec_t now, const struct report **ret_report, struct render_scan *ret_scan) {
        struct report_owners owners;
        usec_t start = now_monotonic_usec(), cpu_start = now_cpu_usec();
        size_t n_inodes = 0;
        int r;

        clock_gettime(CLOCK_REALTIME, &ret_scan->wall);
        diag_set_clear(&d->socks);
        report_done(&d->report);
        d->report_valid = false;
        d->proc_stats = (struct procmap_stats){};

        r = dump_namespaces(d);
        if (r < 0)
                return r;

        r = array_reserve((void **) &d->inodes, &d->cap_inodes, d->socks.n, sizeof(*d->inodes));
        if (r >= 0)
                r = array_reserve((void **) &d->ages, &d->cap_ages, d->socks.n, sizeof(*d->ages));
        if (r < 0)
                return r;
        r = tracker_observe(d->tracker, &d->socks, now, d->ages);
        if (r < 0)
                return r;
        for (size_t i = 0; i < d->socks.n; i++) {
                const struct diag_sock *s = &d->socks.socks[i];

                /* Listeners are resolved too: their owners take the accept backlog and the
                 * server-side TIME_WAIT. There are few, and the cache keeps them. */
                if ((s->state == TCP_CLOSE_WAIT || s->state == TCP_LISTEN) && s->inode != 0)
                        d->inodes[n_inodes++] = s->inode;
        }

        r = procmap_resolve(d->procmap, d->inodes, n_inodes, &d->proc_stats);
        if (r < 0)
                return r;

        owners = report_owners_procmap(d->procmap);
        r = report_build(&d->socks, d->ages, &owners, &d->report);
        if (r < 0)
                return r;
        d->report.unseen_netns = d->unseen;
        d->report.n_unseen_netns = d->n_unseen;

        ret_scan->duration_usec = now_monotonic_usec() - start;
        ret_scan->cpu_usec = now_cpu_usec() - cpu_start;
        ret_scan->proc = &d->proc_stats;
        ret_scan->diag_duplicates = d->socks.duplicates;
        ret_scan->diag_malformed = d->socks.malformed;
        ret_scan->netns_own = netns_own(d->netns);
        ret_scan->netns_watched = d->netns_dumped;
        ret_scan->netns_denied = d->netns_stats.denied;
        ret_scan->netns_failed = d->netns_stats.failed + d->netns_dump_failed;
        d->last_scan = *ret_scan;
        d->report_valid = true;
        *ret_report = &d->report;
        return 0;
}

int daemon_alert(struct daemon *d, const struct conf *c, usec_t now, size_t max_alerts, struct alert *a) {
        const struct policy_event *events;
        size_t n, suppressed;
        int r, written = 0;

        if (!d->report_valid)
                return 0;
        r = policy_evaluate(d->policy, c, &d->report, now, max_alerts, &events, &n, &suppressed);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                struct alert_entry e = {};

                r = alert_format_event(&events[i], &e);
                if (r < 0)
                        return r;
                alert_emit(a, &e);
                alert_entry_done(&e);
                written++;
        }
        if (suppressed > 0) {
                struct alert_entry e = {};

                r = alert_format_suppressed(suppressed, max_alerts, &e);
                if (r < 0)
                        return r;
                alert_emit(a, &e);
                alert_entry_done(&e);
                written++;
        }
        return written;
}

size_t daemon_alerts_active(const struct daemon *d, unsigned *counts) {
        return policy_active(d->policy, counts);
}

void daemon_status(const struct daemon *d, char *buf, size_t size) {
        const struct report *r = &d->report;
        unsigned active[_POLICY_KIND_MAX] = {};
        usec_t oldest = 0;
        size_t n_active;

        if (!d->report_valid) {
                snprintf(buf, size, "no complete scan yet");
                return;
        }
        for (size_t i = 0; i < r->n_procs; i++)
                if (r->procs[i].oldest_age_usec > oldest)
                        oldest = r->procs[i].oldest_age_usec;
        n_active = policy_active(d->policy, active);
        snprintf(buf, size,
                 "%u CLOSE_WAIT in %zu process%s (oldest %.0fs), %u unaccepted, %u TIME_WAIT in %lu network "
                 "namespace%s; %zu alert%s active; scan %.1f ms, cpu %.1f ms, %lu /proc entries",
                 r->total_close_wait, r->n_procs, r->n_procs == 1 ? "" : "es", usec_to_sec(oldest),
                 r->total_accept_backlog, r->total_time_wait, d->netns_dumped, d->netns_dumped == 1 ? "" : "s",
                 n_active, n_active == 1 ? "" : "s", (double) d->last_scan.duration_usec / (double) USEC_PER_MSEC,
                 (double) d->last_scan.cpu_usec / (double) USEC_PER_MSEC, d->proc_stats.proc_entries);
}

int daemon_save_state(const struct daemon *d, const char *boot_id, char **ret, size_t *ret_size) {
        return tracker_serialize(d->tracker, boot_id, ret, ret_size);
}

int daemon_load_state(struct daemon *d, int dir_fd, const char *boot_id, usec_t now) {
        return tracker_load(d->tracker, dir_fd, DAEMON_STATE_FILE, boot_id, now, (uint32_t) netns_own(d->netns));
}

void daemon_set_netns(struct daemon *d, bool enter) {
        d->enter_netns = enter;
}
