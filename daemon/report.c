/* report: classify the sockets of one scan and roll them up per process, listener and group.
 *
 * Everything here is a pure function of the deduplicated sockets, their ages and the owners
 * lookup, so it is unit-tested with tables. The roll-up per process is O(n) in the number of
 * sockets (hash tables, a radix sort of ages); the groups of the accept backlog and TIME_WAIT sort
 * their members. A handful of allocations per report, never one per socket. */
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

/* Listeners sorted by network namespace and port, for lookups by the local port of a CLOSE_WAIT or
 * TIME_WAIT socket: a listener serves only the connections of its own namespace (every container
 * may listen on 0.0.0.0:80). */
struct listeners {
        const struct diag_sock **socks;
        size_t n;
};

static int listener_compare(const void *a, const void *b) {
        const struct diag_sock *x = *(const struct diag_sock *const *) a, *y = *(const struct diag_sock *const *) b;

        int r;

        if (x->netns != y->netns)
                return x->netns < y->netns ? -1 : 1;
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
        l->socks = malloc(n * sizeof(const struct diag_sock *));
        if (!l->socks)
                return -ENOMEM;
        for (size_t i = 0; i < set->n; i++)
                if (set->socks[i].state == TCP_LISTEN)
                        l->socks[l->n++] = &set->socks[i];
        qsort(l->socks, l->n, sizeof(const struct diag_sock *), listener_compare);
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

/* The listener owning local address a in namespace netns: the one bound to exactly a, else the wildcard address of
 * a's family on its port (a connection accepted by a dual-stack [::] listener is AF_INET6 with a
 * v4-mapped address, so the family always matches). NULL when there is none: a listener on
 * another address of the same port did not make this socket. */
static const struct diag_sock *listeners_find(const struct listeners *l, uint64_t netns, const struct diag_addr *a) {
        size_t lo = 0, hi = l->n;
        const struct diag_sock *exact = NULL, *wildcard = NULL;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                const struct diag_sock *m = l->socks[mid];

                if (m->netns < netns || (m->netns == netns && m->local.port < a->port))
                        lo = mid + 1;
                else
                        hi = mid;
        }
        for (size_t i = lo; i < l->n && l->socks[i]->netns == netns && l->socks[i]->local.port == a->port; i++) {
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

/* A power of two at least twice n (open-addressing tables at most half full). */
static size_t table_size(size_t n) {
        size_t cap = 16;

        while (cap < n * 2)
                cap *= 2;
        return cap;
}

static uint64_t mix64(uint64_t h) {
        h ^= h >> 33;
        h *= UINT64_C(0xff51afd7ed558ccd);
        h ^= h >> 33;
        return h;
}

static size_t addr_hash(const struct diag_addr *a) {
        uint64_t h = (uint64_t) a->family << 16 | a->port;
        uint32_t w[4] = {};

        memcpy(w, a->family == AF_INET ? (const void *) &a->v4 : (const void *) &a->v6,
               a->family == AF_INET ? sizeof(a->v4) : sizeof(a->v6));
        for (size_t i = 0; i < 4; i++)
                h = mix64(h ^ ((uint64_t) w[i] << 20));
        return (size_t) h;
}

/* The distinct peers of one process: remotes[0..n) counted into peers (at most n of them) with a
 * table of cap slots (index + 1, zeroed by the caller). Returns how many distinct. */
static size_t count_peers(const struct diag_addr *remotes, size_t n, uint32_t *slots, size_t cap,
                          struct report_peer *peers) {
        size_t n_peers = 0;

        for (size_t i = 0; i < n; i++) {
                size_t k = addr_hash(&remotes[i]) & (cap - 1);

                while (slots[k] != 0 && diag_addr_compare(&peers[slots[k] - 1].remote, &remotes[i]) != 0)
                        k = (k + 1) & (cap - 1);
                if (slots[k] == 0) {
                        peers[n_peers] = (struct report_peer){ .remote = remotes[i] };
                        slots[k] = (uint32_t) ++n_peers;
                }
                peers[slots[k] - 1].count++;
        }
        return n_peers;
}

/* Put the REPORT_TOP_PEERS largest peers first, in peer_compare() order; the rest keep no order.
 * A full sort of a server's every client port would cost O(n log n) for ten names: this keeps the
 * best ten at the front, insertion-sorted, and most peers cost one comparison with the tenth. */
static void select_top_peers(struct report_peer *peers, size_t n) {
        size_t top = n < REPORT_TOP_PEERS ? n : REPORT_TOP_PEERS;

        qsort(peers, top, sizeof(*peers), peer_compare);
        for (size_t i = top; i < n; i++) {
                struct report_peer t;
                size_t k;

                if (peer_compare(&peers[i], &peers[top - 1]) >= 0)
                        continue;
                /* Takes a place in the top: the tenth goes to where this one was. */
                t = peers[i];
                peers[i] = peers[top - 1];
                for (k = top - 1; k > 0 && peer_compare(&t, &peers[k - 1]) < 0; k--)
                        peers[k] = peers[k - 1];
                peers[k] = t;
        }
}

/* Sort ages oldest first: an LSD radix sort on 11-bit digits, only as many as the oldest needs
 * (4 for ages up to 200 days), with tmp as large as ages. qsort() of 100k ages was ~35M
 * instructions per scan. */
static void sort_ages_desc(usec_t *ages, size_t n, usec_t *tmp) {
        usec_t max = 0, *src = ages, *dst = tmp, *swap;
        unsigned shift;

        if (n < 64) {
                qsort(ages, n, sizeof(*ages), age_compare_desc);
                return;
        }
        for (size_t i = 0; i < n; i++)
                if (ages[i] > max)
                        max = ages[i];
        for (shift = 0; shift < 64 && (max >> shift) != 0; shift += 11) {
                size_t count[2048] = {}, pos = 0;

                for (size_t i = 0; i < n; i++)
                        count[2047 - ((src[i] >> shift) & 2047)]++;
                for (size_t d = 0; d < 2048; d++) {
                        size_t c = count[d];

                        count[d] = pos;
                        pos += c;
                }
                for (size_t i = 0; i < n; i++)
                        dst[count[2047 - ((src[i] >> shift) & 2047)]++] = src[i];
                swap = src;
                src = dst;
                dst = swap;
        }
        if (src != ages)
                memcpy(ages, src, n * sizeof(*ages));
}

static int proc_compare(const void *a, const void *b) {
        const struct report_proc *x = a, *y = b;

        if (x->close_wait != y->close_wait)
                return x->close_wait > y->close_wait ? -1 : 1;
        return x->info->pid < y->info->pid ? -1 : x->info->pid > y->info->pid;
}

/* The slot of info in a table of cap slots (index + 1 into procs, 0 = empty). */
static size_t proc_slot(const uint32_t *slots, size_t cap, const struct report_proc *procs,
                        const struct proc_info *info) {
        size_t k = mix64((uint64_t) (uintptr_t) info) & (cap - 1);

        while (slots[k] != 0 && procs[slots[k] - 1].info != info)
                k = (k + 1) & (cap - 1);
        return k;
}

/* Processes and their CLOSE_WAIT sockets, in O(n): count per process, place each process's
 * sockets in one slice of the pools, then count its distinct peers in a hash table. No sort of
 * the sockets: at 100k of them it was the largest cost of the report. */
static int build_procs(const struct diag_set *set, const usec_t *age_usec, const struct report_owners *o,
                       struct report *r) {
        struct hold {
                uint32_t sock; /* index into set->socks */
                uint32_t proc; /* index into r->procs */
        } *holds = NULL;
        struct diag_addr *remotes = NULL;
        uint32_t *slots = NULL, *peer_slots = NULL;
        usec_t *age_tmp = NULL;
        size_t n_holds = 0, cap_holds = 0, cap = 0, cap_procs = 0, max_count = 0, n_peers = 0, off = 0;
        bool *unread = NULL;
        int ret = -ENOMEM;

        /* Pass 1: the processes and how many sockets each holds. */
        for (size_t i = 0; i < set->n; i++) {
                const struct diag_sock *s = &set->socks[i];
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
                for (size_t k = 0; k < n; k++) {
                        const struct proc_info *info = o->info(o->userdata, pids[k]);
                        size_t slot;

                        if (!info)
                                continue;
                        if (cap == 0 || (r->n_procs + 1) * 2 > cap) {
                                size_t ncap = table_size(r->n_procs + 1);
                                uint32_t *ns = calloc(ncap, sizeof(*ns));

                                if (!ns)
                                        goto finish;
                                for (size_t j = 0; j < r->n_procs; j++)
                                        ns[proc_slot(ns, ncap, r->procs, r->procs[j].info)] = (uint32_t) j + 1;
                                free(slots);
                                slots = ns;
                                cap = ncap;
                        }
                        slot = proc_slot(slots, cap, r->procs, info);
                        if (slots[slot] == 0) {
                                if (array_reserve((void **) &r->procs, &cap_procs, r->n_procs + 1, sizeof(*r->procs)) <
                                    0)
                                        goto finish;
                                r->procs[r->n_procs] = (struct report_proc){ .info = info };
                                slots[slot] = (uint32_t) ++r->n_procs;
                        }
                        r->procs[slots[slot] - 1].close_wait++;
                        if (array_reserve((void **) &holds, &cap_holds, n_holds + 1, sizeof(*holds)) < 0)
                                goto finish;
                        holds[n_holds++] = (struct hold){ .sock = (uint32_t) i, .proc = slots[slot] - 1 };
                }
        }
        if (n_holds == 0) {
                ret = 0;
                goto finish;
        }

        /* Pass 2: each process's ages and remotes in its own slice, in the order of the socks. */
        r->age_pool = malloc(n_holds * sizeof(*r->age_pool));
        r->peer_pool = malloc(n_holds * sizeof(*r->peer_pool));
        remotes = malloc(n_holds * sizeof(*remotes));
        unread = malloc(n_holds * sizeof(*unread));
        if (!r->age_pool || !r->peer_pool || !remotes || !unread)
                goto finish;
        for (size_t j = 0; j < r->n_procs; j++) {
                struct report_proc *rp = &r->procs[j];

                rp->ages = &r->age_pool[off];
                off += rp->close_wait;
                if (rp->close_wait > max_count)
                        max_count = rp->close_wait;
                rp->close_wait = 0; /* counted again as the slice fills */
        }
        for (size_t h = 0; h < n_holds; h++) {
                const struct diag_sock *s = &set->socks[holds[h].sock];
                struct report_proc *rp = &r->procs[holds[h].proc];
                size_t at = (size_t) (rp->ages - r->age_pool) + rp->close_wait++;

                r->age_pool[at] = age_usec[holds[h].sock];
                remotes[at] = diag_addr_unmap(&s->remote);
                unread[at] = s->rqueue > 0;
        }

        /* Per process: unread, oldest, distinct peers, ages oldest first (the policy counts the
         * sockets older than a hold time). */
        peer_slots = malloc(table_size(max_count) * sizeof(*peer_slots));
        /* NOLINTNEXTLINE(clang-analyzer-optin.portability.UnixAPI): n_holds > 0, so max_count >= 1 */
        age_tmp = malloc(max_count * sizeof(*age_tmp));
        if (!peer_slots || !age_tmp)
                goto finish;
        for (size_t j = 0; j < r->n_procs; j++) {
                struct report_proc *rp = &r->procs[j];
                size_t first = (size_t) (rp->ages - r->age_pool), pcap = table_size(rp->close_wait);

                for (size_t i = first; i < first + rp->close_wait; i++) {
                        if (unread[i])
                                rp->unread++;
                        if (r->age_pool[i] > rp->oldest_age_usec)
                                rp->oldest_age_usec = r->age_pool[i];
                }
                memset(peer_slots, 0, pcap * sizeof(*peer_slots));
                rp->peers = &r->peer_pool[n_peers];
                rp->n_peers = count_peers(&remotes[first], rp->close_wait, peer_slots, pcap, rp->peers);
                n_peers += rp->n_peers;
                select_top_peers(rp->peers, rp->n_peers);
                sort_ages_desc((usec_t *) rp->ages, rp->close_wait, age_tmp);
        }
        qsort(r->procs, r->n_procs, sizeof(*r->procs), proc_compare);
        ret = 0;
finish:
        free(holds);
        free(slots);
        free(peer_slots);
        free(age_tmp);
        free(remotes);
        free(unread);
        return ret;
}

/* Groups keyed by a listener or an address, accumulated in a small sorted-on-demand array. */
struct group {
        uint64_t netns;
        const struct diag_sock *listener; /* NULL: keyed by netns and addr */
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
        if (x->netns != y->netns)
                return x->netns < y->netns ? -1 : 1;
        if (x->listener != y->listener)
                return x->listener < y->listener ? -1 : 1;
        return x->listener ? 0 : diag_addr_compare(&x->addr, &y->addr);
}

static int group_sort_compare(const void *a, const void *b) {
        return group_key_compare(a, b);
}

static int group_count_compare(const void *a, const void *b) {
        const struct group *x = a, *y = b;

        int r;

        if (x->count != y->count)
                return x->count > y->count ? -1 : 1;
        r = diag_addr_compare(&x->addr, &y->addr);
        if (r != 0)
                return r;
        return (x->netns > y->netns) - (x->netns < y->netns);
}

static int groups_push(struct groups *gs, uint64_t netns, const struct diag_sock *listener,
                       const struct diag_addr *addr, usec_t age) {
        if (array_reserve((void **) &gs->g, &gs->cap, gs->n + 1, sizeof(*gs->g)) < 0)
                return -ENOMEM;
        gs->g[gs->n++] = (struct group){
                .netns = netns,
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
                        listener = listeners_find(l, s->netns, &s->local);
                        if (groups_push(&backlog, s->netns, listener, &s->local, age_usec[i]) < 0)
                                goto finish;
                } else if (s->state == TCP_TIME_WAIT) {
                        r->total_time_wait++;
                        listener = listeners_find(l, s->netns, &s->local);
                        struct diag_addr remote = diag_addr_unmap(&s->remote);

                        if (groups_push(&tw, s->netns, listener, &remote, time_wait_age(s)) < 0)
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
                        .netns = backlog.g[i].netns,
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
                        .netns = tw.g[i].netns,
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

unsigned report_count_at_least(const usec_t *ages, unsigned n, usec_t min) {
        unsigned lo = 0, hi = n;

        if (!ages)
                return 0;
        while (lo < hi) {
                unsigned mid = lo + (hi - lo) / 2;

                if (ages[mid] >= min)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
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
