/* report: classify the sockets of one scan and roll them up per process, listener and group.
 *
 * Everything here is a pure function of the deduplicated sockets, their ages and the owners
 * lookup, so it is unit-tested with tables. Work is O(n log n) in the number of sockets with a
 * handful of allocations per report, never one per socket. */
#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

static size_t owners_procmap_holders(const void *userdata, uint32_t inode, const pid_t **ret) {
        return procmap_holders(userdata, inode, ret);
}

static const struct proc_info *owners_procmap_info(const void *userdata, pid_t pid) {
        return procmap_info(userdata, pid);
}

struct report_owners report_owners_procmap(const struct procmap *pm) {
        return (struct report_owners){
                .holders = owners_procmap_holders,
                .info = owners_procmap_info,
                .userdata = pm,
        };
}

/* Listeners sorted by port, for lookups by the local port of a CLOSE_WAIT or TIME_WAIT socket. */
struct listeners {
        const struct diag_sock **socks;
        size_t n;
};

static int listener_compare(const void *a, const void *b) {
        const struct diag_sock *x = *(const struct diag_sock *const *) a, *y = *(const struct diag_sock *const *) b;

        int r;

        if (x->local.port != y->local.port)
                return x->local.port < y->local.port ? -1 : 1;
        r = diag_addr_compare(&x->local, &y->local);
        if (r != 0)
                return r;
        return (x->cookie > y->cookie) - (x->cookie < y->cookie);
}

static int listeners_build(const struct diag_set *set, struct listeners *l) {
        size_t n = 0;

        for (size_t i = 0; i < set->n; i++)
                if (set->socks[i].state == TCP_LISTEN)
                        n++;
        l->n = 0;
        l->socks = NULL;
        if (n == 0)
                return 0;
        l->socks = malloc(n * sizeof(*l->socks));
        if (!l->socks)
                return -ENOMEM;
        for (size_t i = 0; i < set->n; i++)
                if (set->socks[i].state == TCP_LISTEN)
                        l->socks[l->n++] = &set->socks[i];
        qsort(l->socks, l->n, sizeof(*l->socks), listener_compare);
        return 0;
}

/* Of two listeners on one address (SO_REUSEPORT), the one whose accept queue is not empty, since
 * only a listener with connections waiting can hold unaccepted ones; else the first, which the
 * sort by cookie makes stable from scan to scan. */
static const struct diag_sock *listener_better(const struct diag_sock *best, const struct diag_sock *s) {
        if (!best || (best->rqueue == 0 && s->rqueue > 0))
                return s;
        return best;
}

/* The listener owning local address a: the one bound to exactly a, else the wildcard address of
 * a's family on its port (a connection accepted by a dual-stack [::] listener is AF_INET6 with a
 * v4-mapped address, so the family always matches). NULL when there is none: a listener on
 * another address of the same port did not make this socket. */
static const struct diag_sock *listeners_find(const struct listeners *l, const struct diag_addr *a) {
        size_t lo = 0, hi = l->n;
        const struct diag_sock *exact = NULL, *wildcard = NULL;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (l->socks[mid]->local.port < a->port)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        for (size_t i = lo; i < l->n && l->socks[i]->local.port == a->port; i++) {
                const struct diag_sock *s = l->socks[i];

                if (s->local.family != a->family)
                        continue;
                if (diag_addr_compare(&s->local, a) == 0)
                        exact = listener_better(exact, s);
                else if (diag_addr_is_any(&s->local))
                        wildcard = listener_better(wildcard, s);
        }
        return exact ? exact : wildcard;
}

/* The owner of a listener: every process holding it, and one to name. systemd (socket
 * activation) and supervisors hold listeners for a service, so PID 1 is named only when it is the
 * sole holder; otherwise the lowest other pid, the parent of a preforking server. */
static const struct proc_info *listener_owner(const struct report_owners *o, const struct diag_sock *listener,
                                              const pid_t **ret_pids, size_t *ret_n) {
        const pid_t *pids;
        size_t n;

        *ret_pids = NULL;
        *ret_n = 0;
        if (!listener || listener->inode == 0)
                return NULL;
        n = o->holders(o->userdata, listener->inode, &pids);
        if (n == 0)
                return NULL;
        *ret_pids = pids;
        *ret_n = n;
        for (size_t i = 0; i < n; i++)
                if (pids[i] != 1 || n == 1) {
                        const struct proc_info *info = o->info(o->userdata, pids[i]);

                        if (info)
                                return info;
                }
        return NULL;
}

/* (process, socket) pairs of CLOSE_WAIT sockets with an inode, sorted by process then peer. */
struct hold {
        const struct proc_info *info;
        const struct diag_sock *sock;
        struct diag_addr remote; /* unmapped */
        usec_t age;
};

static int hold_compare(const void *a, const void *b) {
        const struct hold *x = a, *y = b;

        if (x->info->pid != y->info->pid)
                return x->info->pid < y->info->pid ? -1 : 1;
        return diag_addr_compare(&x->remote, &y->remote);
}

static int peer_compare(const void *a, const void *b) {
        const struct report_peer *x = a, *y = b;

        if (x->count != y->count)
                return x->count > y->count ? -1 : 1;
        return diag_addr_compare(&x->remote, &y->remote);
}

static int age_compare_desc(const void *a, const void *b) {
        usec_t x = *(const usec_t *) a, y = *(const usec_t *) b;

        return (x < y) - (x > y);
}

static int proc_compare(const void *a, const void *b) {
        const struct report_proc *x = a, *y = b;

        if (x->close_wait != y->close_wait)
                return x->close_wait > y->close_wait ? -1 : 1;
        return x->info->pid < y->info->pid ? -1 : x->info->pid > y->info->pid;
}

static int build_procs(const struct diag_set *set, const usec_t *age_usec, const struct report_owners *o,
                       struct report *r) {
        struct hold *holds = NULL;
        size_t n_holds = 0, cap = 0, n_procs = 0, n_peers = 0;
        int ret = -ENOMEM;

        for (size_t i = 0; i < set->n; i++) {
                const struct diag_sock *s = &set->socks[i];
                struct diag_addr remote;
                const pid_t *pids;
                size_t n;

                if (s->state != TCP_CLOSE_WAIT || s->inode == 0)
                        continue;
                r->total_close_wait++;
                n = o->holders(o->userdata, s->inode, &pids);
                if (n == 0) {
                        r->unowned_close_wait++;
                        continue;
                }
                remote = diag_addr_unmap(&s->remote);
                for (size_t k = 0; k < n; k++) {
                        const struct proc_info *info = o->info(o->userdata, pids[k]);

                        if (!info)
                                continue;
                        if (array_reserve((void **) &holds, &cap, n_holds + 1, sizeof(*holds)) < 0)
                                goto finish;
                        holds[n_holds++] =
                                (struct hold){ .info = info, .sock = s, .remote = remote, .age = age_usec[i] };
                }
        }
        if (n_holds == 0) {
                ret = 0;
                goto finish;
        }
        qsort(holds, n_holds, sizeof(*holds), hold_compare);

        for (size_t i = 0; i < n_holds; i++) {
                if (i == 0 || holds[i].info != holds[i - 1].info)
                        n_procs++;
                if (i == 0 || holds[i].info != holds[i - 1].info ||
                    diag_addr_compare(&holds[i].remote, &holds[i - 1].remote) != 0)
                        n_peers++;
        }
        r->procs = calloc(n_procs, sizeof(*r->procs));
        r->peer_pool = calloc(n_peers, sizeof(*r->peer_pool));
        r->age_pool = malloc(n_holds * sizeof(*r->age_pool));
        if (!r->procs || !r->peer_pool || !r->age_pool)
                goto finish;

        for (size_t i = 0, p = 0; i < n_holds; i++) {
                struct report_proc *rp;
                bool new_proc = i == 0 || holds[i].info != holds[i - 1].info;

                if (new_proc) {
                        rp = &r->procs[r->n_procs++];
                        rp->info = holds[i].info;
                        rp->peers = &r->peer_pool[p];
                        rp->ages = &r->age_pool[i];
                } else
                        rp = &r->procs[r->n_procs - 1];

                r->age_pool[i] = holds[i].age;
                rp->close_wait++;
                if (holds[i].sock->rqueue > 0)
                        rp->unread++;
                if (holds[i].age > rp->oldest_age_usec)
                        rp->oldest_age_usec = holds[i].age;
                if (new_proc || diag_addr_compare(&holds[i].remote, &holds[i - 1].remote) != 0) {
                        rp->peers[rp->n_peers].remote = holds[i].remote;
                        rp->n_peers++;
                        p++;
                }
                rp->peers[rp->n_peers - 1].count++;
        }
        for (size_t i = 0; i < r->n_procs; i++) {
                struct report_proc *rp = &r->procs[i];

                qsort(rp->peers, rp->n_peers, sizeof(struct report_peer), peer_compare);
                /* The policy counts the sockets older than a hold time: oldest first. */
                qsort((usec_t *) rp->ages, rp->close_wait, sizeof(usec_t), age_compare_desc);
        }
        qsort(r->procs, r->n_procs, sizeof(*r->procs), proc_compare);
        ret = 0;
finish:
        free(holds);
        return ret;
}

/* Groups keyed by a listener or an address, accumulated in a small sorted-on-demand array. */
struct group {
        const struct diag_sock *listener; /* NULL: keyed by addr */
        struct diag_addr addr;
        unsigned count;
        usec_t oldest;
        usec_t *ages; /* with groups_merge(gs, pool): the age of each member, in pool */
};

struct groups {
        struct group *g;
        size_t n, cap;
};

static int group_key_compare(const struct group *x, const struct group *y) {
        if (x->listener != y->listener)
                return x->listener < y->listener ? -1 : 1;
        return x->listener ? 0 : diag_addr_compare(&x->addr, &y->addr);
}

static int group_sort_compare(const void *a, const void *b) {
        return group_key_compare(a, b);
}

static int group_count_compare(const void *a, const void *b) {
        const struct group *x = a, *y = b;

        if (x->count != y->count)
                return x->count > y->count ? -1 : 1;
        return diag_addr_compare(&x->addr, &y->addr);
}

static int groups_push(struct groups *gs, const struct diag_sock *listener, const struct diag_addr *addr, usec_t age) {
        if (array_reserve((void **) &gs->g, &gs->cap, gs->n + 1, sizeof(*gs->g)) < 0)
                return -ENOMEM;
        gs->g[gs->n++] = (struct group){
                .listener = listener,
                .addr = listener ? listener->local : *addr,
                .count = 1,
                .oldest = age,
        };
        return 0;
}

/* Merge entries with the same key (one entry per socket before), then order by count. When pool
 * (gs->n entries) is given, each group's members' ages are kept there, oldest first. */
static void groups_merge(struct groups *gs, usec_t *pool) {
        size_t w = 0;

        if (gs->n == 0)
                return;
        qsort(gs->g, gs->n, sizeof(*gs->g), group_sort_compare);
        if (pool) {
                for (size_t i = 0; i < gs->n; i++)
                        pool[i] = gs->g[i].oldest;
                gs->g[0].ages = pool;
        }
        for (size_t i = 1; i < gs->n; i++) {
                if (group_key_compare(&gs->g[i], &gs->g[w]) == 0) {
                        gs->g[w].count += gs->g[i].count;
                        if (gs->g[i].oldest > gs->g[w].oldest)
                                gs->g[w].oldest = gs->g[i].oldest;
                } else {
                        gs->g[++w] = gs->g[i];
                        if (pool)
                                gs->g[w].ages = &pool[i];
                }
        }
        gs->n = w + 1;
        if (pool)
                for (size_t i = 0; i < gs->n; i++)
                        qsort(gs->g[i].ages, gs->g[i].count, sizeof(usec_t), age_compare_desc);
        qsort(gs->g, gs->n, sizeof(*gs->g), group_count_compare);
}

static usec_t time_wait_age(const struct diag_sock *s) {
        usec_t left = (usec_t) s->expires_ms * USEC_PER_MSEC;

        return left >= REPORT_TIME_WAIT_USEC ? 0 : REPORT_TIME_WAIT_USEC - left;
}

static int build_groups(const struct diag_set *set, const usec_t *age_usec, const struct report_owners *o,
                        const struct listeners *l, struct report *r) {
        struct groups backlog = {}, tw = {};
        int ret = -ENOMEM;

        for (size_t i = 0; i < set->n; i++) {
                const struct diag_sock *s = &set->socks[i];
                const struct diag_sock *listener;

                if (s->state == TCP_CLOSE_WAIT && s->inode == 0) {
                        r->total_accept_backlog++;
                        listener = listeners_find(l, &s->local);
                        if (groups_push(&backlog, listener, &s->local, age_usec[i]) < 0)
                                goto finish;
                } else if (s->state == TCP_TIME_WAIT) {
                        r->total_time_wait++;
                        listener = listeners_find(l, &s->local);
                        struct diag_addr remote = diag_addr_unmap(&s->remote);

                        if (groups_push(&tw, listener, &remote, time_wait_age(s)) < 0)
                                goto finish;
                }
        }
        if (backlog.n > 0) {
                r->backlog_age_pool = malloc(backlog.n * sizeof(*r->backlog_age_pool));
                if (!r->backlog_age_pool)
                        goto finish;
        }
        groups_merge(&backlog, r->backlog_age_pool);
        groups_merge(&tw, NULL);

        if (backlog.n > 0) {
                r->backlogs = calloc(backlog.n, sizeof(*r->backlogs));
                if (!r->backlogs)
                        goto finish;
        }
        for (size_t i = 0; i < backlog.n; i++) {
                struct report_backlog *b = &r->backlogs[r->n_backlogs++];

                *b = (struct report_backlog){
                        .local = backlog.g[i].addr,
                        .close_wait = backlog.g[i].count,
                        .oldest_age_usec = backlog.g[i].oldest,
                        .ages = backlog.g[i].ages,
                };
                b->info = listener_owner(o, backlog.g[i].listener, &b->pids, &b->n_pids);
        }

        if (tw.n > 0) {
                r->tw = calloc(tw.n, sizeof(*r->tw));
                if (!r->tw)
                        goto finish;
        }
        for (size_t i = 0; i < tw.n; i++) {
                struct report_tw *t = &r->tw[r->n_tw++];

                *t = (struct report_tw){
                        .server = tw.g[i].listener != NULL,
                        .addr = tw.g[i].addr,
                        .count = tw.g[i].count,
                        .oldest_age_usec = tw.g[i].oldest,
                };
                t->info = listener_owner(o, tw.g[i].listener, &t->pids, &t->n_pids);
        }
        ret = 0;
finish:
        free(backlog.g);
        free(tw.g);
        return ret;
}

int report_build(const struct diag_set *set, const usec_t *age_usec, const struct report_owners *owners,
                 struct report *out) {
        struct listeners l;
        int r;

        *out = (struct report){};
        r = listeners_build(set, &l);
        if (r < 0)
                return r;
        r = build_procs(set, age_usec, owners, out);
        if (r >= 0)
                r = build_groups(set, age_usec, owners, &l, out);
        free(l.socks);
        if (r < 0)
                report_done(out);
        return r;
}

static int peer_group_addr_compare(const void *a, const void *b) {
        const struct report_peer_group *x = a, *y = b;
        struct diag_addr hx = x->addr, hy = y->addr;
        int r;

        hx.port = hy.port = 0;
        r = diag_addr_compare(&hx, &hy);
        if (r != 0)
                return r;
        return (x->addr.port > y->addr.port) - (x->addr.port < y->addr.port);
}

static int peer_group_count_compare(const void *a, const void *b) {
        const struct report_peer_group *x = a, *y = b;

        if (x->count != y->count)
                return x->count < y->count ? 1 : -1;
        return diag_addr_compare(&x->addr, &y->addr);
}

static bool same_host(const struct diag_addr *a, const struct diag_addr *b) {
        struct diag_addr x = *a, y = *b;

        x.port = y.port = 0;
        return diag_addr_equal(&x, &y);
}

int report_peer_groups(const struct report_proc *p, struct report_peer_group **ret, size_t *ret_n) {
        struct report_peer_group *g;
        size_t n = 0;
        bool last_singles = false;

        *ret = NULL;
        *ret_n = 0;
        if (p->n_peers == 0)
                return 0;
        g = calloc(p->n_peers, sizeof(*g));
        if (!g)
                return -ENOMEM;
        for (size_t i = 0; i < p->n_peers; i++)
                g[i] = (struct report_peer_group){ .addr = diag_addr_unmap(&p->peers[i].remote),
                                                   .count = p->peers[i].count };
        /* By host, then port: the single-socket endpoints of one host are adjacent. */
        qsort(g, p->n_peers, sizeof(*g), peer_group_addr_compare);
        for (size_t i = 0; i < p->n_peers; i++) {
                bool singles = g[i].count == 1;

                if (singles && last_singles && same_host(&g[n - 1].addr, &g[i].addr)) {
                        g[n - 1].count++;
                        g[n - 1].any_port = true;
                        continue;
                }
                g[n++] = g[i];
                last_singles = singles;
        }
        qsort(g, n, sizeof(*g), peer_group_count_compare);
        *ret = g;
        *ret_n = n;
        return 0;
}

const char *report_peer_group_format(const struct report_peer_group *g, char *buf, size_t size) {
        char *colon;

        diag_addr_format(&g->addr, buf, size);
        colon = strrchr(buf, ':');
        if (g->any_port && colon)
                snprintf(colon, size - (size_t) (colon - buf), ":*");
        return buf;
}

void report_done(struct report *r) {
        free(r->procs);
        free(r->peer_pool);
        free(r->age_pool);
        free(r->backlog_age_pool);
        free(r->backlogs);
        free(r->tw);
        *r = (struct report){};
}
