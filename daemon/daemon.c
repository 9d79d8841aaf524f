/* daemon: one scan, with everything that is worth keeping from one scan to the next. */
#include <errno.h>
#include <stdlib.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "daemon.h"
#include "diag.h"
#include "tracker.h"

struct daemon {
        struct diag *diag;
        struct procmap *procmap;
        struct diag_set socks;
        uint32_t *inodes; /* the inodes to resolve, reused across scans */
        usec_t *ages;     /* CLOSE_WAIT age of socks.socks[i] */
        size_t cap_inodes, cap_ages;
        struct report report;
        struct procmap_stats proc_stats;
};

#define SCAN_STATES (DIAG_TCPF_CLOSE_WAIT | DIAG_TCPF_LISTEN | DIAG_TCPF_TIME_WAIT)

int daemon_new(const char *proc_path, procmap_unit_fn get_unit, struct daemon **ret) {
        struct daemon *d;
        int r;

        d = calloc(1, sizeof(*d));
        if (!d)
                return -ENOMEM;
        r = diag_open(&d->diag);
        if (r < 0)
                goto fail;
        r = procmap_new(proc_path, get_unit, &d->procmap);
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
        diag_close(d->diag);
        procmap_free(d->procmap);
        diag_set_done(&d->socks);
        report_done(&d->report);
        free(d->inodes);
        free(d->ages);
        free(d);
        return NULL;
}

/* A host without IPv6 answers the AF_INET6 dump with one of these: nothing to report there. */
static bool family_unavailable(int r) {
        return r == -ENOENT || r == -EAFNOSUPPORT || r == -EPROTONOSUPPORT || r == -EOPNOTSUPP;
}

int daemon_scan(struct daemon *d, const struct report **ret_report, struct render_scan *ret_scan) {
        struct report_owners owners;
        usec_t start = now_monotonic_usec();
        size_t n_inodes = 0;
        int r;

        clock_gettime(CLOCK_REALTIME, &ret_scan->wall);
        diag_set_clear(&d->socks);
        report_done(&d->report);
        d->proc_stats = (struct procmap_stats){};

        r = diag_dump(d->diag, AF_INET, SCAN_STATES, true, &d->socks);
        if (r < 0)
                return r;
        r = diag_dump(d->diag, AF_INET6, SCAN_STATES, true, &d->socks);
        if (r < 0 && !family_unavailable(r))
                return r;

        r = array_reserve((void **) &d->inodes, &d->cap_inodes, d->socks.n, sizeof(*d->inodes));
        if (r >= 0)
                r = array_reserve((void **) &d->ages, &d->cap_ages, d->socks.n, sizeof(*d->ages));
        if (r < 0)
                return r;
        for (size_t i = 0; i < d->socks.n; i++) {
                const struct diag_sock *s = &d->socks.socks[i];

                d->ages[i] = s->state == TCP_CLOSE_WAIT ? tracker_bootstrap_age_usec(s) : 0;
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

        ret_scan->duration_usec = now_monotonic_usec() - start;
        ret_scan->proc = &d->proc_stats;
        ret_scan->diag_duplicates = d->socks.duplicates;
        ret_scan->diag_malformed = d->socks.malformed;
        *ret_report = &d->report;
        return 0;
}
