/* Unit tests of report: classification and roll-ups from sockets built in the test, with a fake
 * owners table instead of /proc. */
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test-util.h"

#include "render.h"
#include "report.h"

/* A fake owners table: inode -> pids. */
struct fake_hold {
        uint32_t inode;
        pid_t pids[4];
        size_t n;
};

struct fake_owners {
        const struct fake_hold *holds;
        size_t n_holds;
        struct proc_info infos[8];
        size_t n_infos;
};

static size_t fake_holders(const void *userdata, uint32_t inode, const pid_t **ret) {
        const struct fake_owners *fo = userdata;

        for (size_t i = 0; i < fo->n_holds; i++)
                if (fo->holds[i].inode == inode) {
                        *ret = fo->holds[i].pids;
                        return fo->holds[i].n;
                }
        return 0;
}

static const struct proc_info *fake_info(const void *userdata, pid_t pid) {
        const struct fake_owners *fo = userdata;

        for (size_t i = 0; i < fo->n_infos; i++)
                if (fo->infos[i].pid == pid)
                        return &fo->infos[i];
        return NULL;
}

static void fake_add_proc(struct fake_owners *fo, pid_t pid, const char *comm) {
        fo->infos[fo->n_infos++] = (struct proc_info){
                .pid = pid,
                .comm = (char *) comm,
                .exe = (char *) "/usr/bin/x",
                .uid = 1000,
                .open_fds = 10,
                .fd_limit = 1024,
        };
}

static struct report_owners owners_of(const struct fake_owners *fo) {
        return (struct report_owners){ .holders = fake_holders, .info = fake_info, .userdata = fo };
}

static uint64_t next_cookie = 1;

static void add_sock(struct diag_set *set, uint8_t state, uint32_t inode, const char *lip, uint16_t lport,
                     const char *rip, uint16_t rport, uint32_t rqueue, uint32_t expires_ms) {
        struct diag_sock s = {
                .cookie = next_cookie++,
                .netns = set->netns, /* as a dump stamps it */
                .local = test_addr(lip, lport),
                .remote = test_addr(rip, rport),
                .state = state,
                .inode = inode,
                .rqueue = rqueue,
                .expires_ms = expires_ms,
        };

        assert_int_equal(diag_set_add(set, &s), 1);
}

static void build(struct diag_set *set, const struct fake_owners *fo, const usec_t *ages, struct report *r) {
        struct report_owners o = owners_of(fo);
        usec_t *zero = NULL;

        if (!ages) {
                zero = calloc(set->n + 1, sizeof(*zero));
                ages = zero;
        }
        assert_int_equal(report_build(set, ages, &o, r), 0);
        free(zero);
}

/* Peers in the report's order: count descending, then address. */
static int peer_sort_desc(const void *a, const void *b) {
        const struct report_peer *x = a, *y = b;

        if (x->count != y->count)
                return x->count > y->count ? -1 : 1;
        return diag_addr_compare(&x->remote, &y->remote);
}
static int u64_desc(const void *a, const void *b) {
        usec_t x = *(const usec_t *) a, y = *(const usec_t *) b;

        return (x < y) - (x > y);
}

/* Thousands of sockets: the top ten peers are exactly those a full sort gives, in its order, and
 * the ages are all there, oldest first (the radix sort of large processes). */
static void test_many_peers_and_ages(void **state) {
        enum { BIG = 20, SINGLES = 2180, N = 822 + SINGLES }; /* 60 + 60 + 56 + 54 + ... + 22 = 822 */
        static struct fake_hold holds[N];
        static usec_t ages[N], want_ages[N];
        struct fake_owners fo = { .holds = holds, .n_holds = N };
        struct report_peer want[BIG];
        struct diag_set set = {};
        struct report r = {};
        uint64_t x = 12345;
        size_t n = 0;

        fake_add_proc(&fo, 10, "big");
        for (int k = 0; k < BIG; k++) {
                /* 60, 60, 56, 54, ...: a tie at the top, ordered by address. */
                unsigned count = k == 1 ? 60 : 60 - 2 * (unsigned) k;
                char ip[32];

                snprintf(ip, sizeof(ip), "10.0.%d.%d", k % 3, 200 - k);
                want[k] = (struct report_peer){ .remote = test_addr(ip, 5432), .count = count };
                for (unsigned c = 0; c < count && n < N; c++) {
                        holds[n] = (struct fake_hold){ (uint32_t) (1000 + n), { 10 }, 1 };
                        add_sock(&set, TCP_CLOSE_WAIT, (uint32_t) (1000 + n), "10.1.1.1", 80, ip, 5432, 0, 0);
                        n++;
                }
        }
        while (n < N) {
                holds[n] = (struct fake_hold){ (uint32_t) (1000 + n), { 10 }, 1 };
                add_sock(&set, TCP_CLOSE_WAIT, (uint32_t) (1000 + n), "10.1.1.1", 80, "192.168.7.7",
                         (uint16_t) (10000 + n), 0, 0);
                n++;
        }
        for (size_t i = 0; i < N; i++) {
                x = x * 6364136223846793005ULL + 1442695040888963407ULL;
                ages[i] = (x >> 22) & ((UINT64_C(1) << 42) - 1); /* up to 50 days */
                want_ages[i] = ages[i];
        }
        ages[7] = 0;
        want_ages[7] = 0;
        qsort(want, BIG, sizeof(want[0]), peer_sort_desc);
        qsort(want_ages, N, sizeof(want_ages[0]), u64_desc);

        build(&set, &fo, ages, &r);
        assert_int_equal(r.n_procs, 1);
        assert_int_equal(r.procs[0].close_wait, N);
        assert_int_equal(r.procs[0].n_peers, BIG + SINGLES);
        for (size_t i = 0; i < REPORT_TOP_PEERS; i++) {
                assert_int_equal(r.procs[0].peers[i].count, want[i].count);
                assert_true(diag_addr_equal(&r.procs[0].peers[i].remote, &want[i].remote));
        }
        for (size_t i = 0; i < N; i++)
                assert_int_equal(r.procs[0].ages[i], want_ages[i]);
        assert_int_equal(r.procs[0].oldest_age_usec, want_ages[0]);

        report_done(&r);
        diag_set_done(&set);
}

static void test_holder_counts_and_peers(void **state) {
        struct diag_set set = {};
        struct fake_hold holds[] = {
                { 101, { 10 }, 1 },
                { 102, { 10 }, 1 },
                { 103, { 10 }, 1 },
                { 201, { 20 }, 1 },
        };
        struct fake_owners fo = { .holds = holds, .n_holds = ELEMENTSOF(holds) };
        usec_t ages[4] = { 5 * USEC_PER_SEC, 9 * USEC_PER_SEC, 1 * USEC_PER_SEC, 3 * USEC_PER_SEC };
        struct report r;

        (void) state;
        fake_add_proc(&fo, 10, "big");
        fake_add_proc(&fo, 20, "small");
        add_sock(&set, TCP_CLOSE_WAIT, 101, "10.0.0.1", 80, "10.0.0.5", 5432, 1, 0);
        add_sock(&set, TCP_CLOSE_WAIT, 102, "10.0.0.1", 81, "10.0.0.5", 5432, 0, 0);
        add_sock(&set, TCP_CLOSE_WAIT, 103, "10.0.0.1", 82, "10.0.0.6", 5432, 1, 0);
        add_sock(&set, TCP_CLOSE_WAIT, 201, "10.0.0.1", 83, "10.0.0.7", 1, 0, 0);
        build(&set, &fo, ages, &r);

        assert_int_equal(r.total_close_wait, 4);
        assert_int_equal(r.n_procs, 2);
        assert_int_equal(r.procs[0].info->pid, 10);
        assert_int_equal(r.procs[0].close_wait, 3);
        assert_int_equal(r.procs[0].unread, 2);
        assert_int_equal(r.procs[0].oldest_age_usec, 9 * USEC_PER_SEC);
        assert_int_equal(r.procs[0].n_peers, 2);
        assert_int_equal(r.procs[0].peers[0].count, 2);
        assert_int_equal(r.procs[0].peers[0].remote.port, 5432);
        assert_int_equal(r.procs[0].peers[1].count, 1);
        assert_int_equal(r.procs[1].info->pid, 20);
        assert_int_equal(r.procs[1].close_wait, 1);
        assert_int_equal(r.procs[1].oldest_age_usec, 3 * USEC_PER_SEC);
        /* Every socket's age, oldest first: the policy counts those older than its hold. */
        assert_int_equal(r.procs[0].ages[0], 9 * USEC_PER_SEC);
        assert_int_equal(r.procs[0].ages[1], 5 * USEC_PER_SEC);
        assert_int_equal(r.procs[0].ages[2], 1 * USEC_PER_SEC);
        assert_int_equal(r.procs[1].ages[0], 3 * USEC_PER_SEC);
        assert_int_equal(r.unowned_close_wait, 0);
        report_done(&r);
        diag_set_done(&set);
}

/* A socket shared after fork counts for each holder and once in the totals. */
static void test_shared_after_fork(void **state) {
        struct diag_set set = {};
        struct fake_hold holds[] = { { 7, { 30, 31 }, 2 }, { 8, { 30, 31 }, 2 } };
        struct fake_owners fo = { .holds = holds, .n_holds = ELEMENTSOF(holds) };
        struct report r;

        (void) state;
        fake_add_proc(&fo, 30, "parent");
        fake_add_proc(&fo, 31, "child");
        add_sock(&set, TCP_CLOSE_WAIT, 7, "127.0.0.1", 9000, "127.0.0.1", 40000, 0, 0);
        add_sock(&set, TCP_CLOSE_WAIT, 8, "127.0.0.1", 9000, "127.0.0.1", 40001, 0, 0);
        build(&set, &fo, NULL, &r);

        assert_int_equal(r.total_close_wait, 2);
        assert_int_equal(r.n_procs, 2);
        assert_int_equal(r.procs[0].info->pid, 30);
        assert_int_equal(r.procs[0].close_wait, 2);
        assert_int_equal(r.procs[1].info->pid, 31);
        assert_int_equal(r.procs[1].close_wait, 2);
        report_done(&r);
        diag_set_done(&set);
}

static void test_unowned(void **state) {
        struct diag_set set = {};
        struct fake_owners fo = {};
        struct report r;

        (void) state;
        add_sock(&set, TCP_CLOSE_WAIT, 55, "127.0.0.1", 1, "127.0.0.1", 2, 0, 0);
        build(&set, &fo, NULL, &r);
        assert_int_equal(r.total_close_wait, 1);
        assert_int_equal(r.unowned_close_wait, 1);
        assert_int_equal(r.n_procs, 0);
        report_done(&r);
        diag_set_done(&set);
}

/* Table: where does an unaccepted CLOSE_WAIT socket (inode 0) land? */
static void test_backlog_attribution(void **state) {
        static const struct {
                const char *listen_ip;
                uint16_t listen_port;
                const char *sock_ip;
                uint16_t sock_port;
                bool owned; /* attributed to the listener's process */
        } cases[] = {
                { "127.0.0.1", 6379, "127.0.0.1", 6379, true },  /* exact */
                { "0.0.0.0", 6379, "127.0.0.2", 6379, true },    /* IPv4 wildcard */
                { "::", 80, "::1", 80, true },                   /* IPv6 wildcard */
                { "::", 80, "::ffff:127.0.0.1", 80, true },      /* v4-mapped child of a dual-stack listener */
                { "127.0.0.1", 6379, "127.0.0.1", 6380, false }, /* other port */
                { "127.0.0.2", 6379, "127.0.0.1", 6379, false }, /* other address, not wildcard */
                { "::", 80, "127.0.0.1", 80, false },            /* other family */
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct diag_set set = {};
                struct fake_hold holds[] = { { 900, { 77 }, 1 } };
                struct fake_owners fo = { .holds = holds, .n_holds = 1 };
                struct report r;

                fake_add_proc(&fo, 77, "listener");
                add_sock(&set, TCP_LISTEN, 900, cases[i].listen_ip, cases[i].listen_port, cases[i].listen_ip, 0, 0, 0);
                add_sock(&set, TCP_CLOSE_WAIT, 0, cases[i].sock_ip, cases[i].sock_port, cases[i].sock_ip, 5555, 0, 0);
                add_sock(&set, TCP_CLOSE_WAIT, 0, cases[i].sock_ip, cases[i].sock_port, cases[i].sock_ip, 5556, 0, 0);
                build(&set, &fo, NULL, &r);

                assert_int_equal(r.total_accept_backlog, 2);
                assert_int_equal(r.total_close_wait, 0);
                assert_int_equal(r.n_procs, 0);
                assert_int_equal(r.n_backlogs, 1);
                assert_int_equal(r.backlogs[0].close_wait, 2);
                if (cases[i].owned) {
                        if (!r.backlogs[0].info || r.backlogs[0].info->pid != 77)
                                fail_msg("case %zu: not attributed to the listener", i);
                        assert_int_equal(r.backlogs[0].local.port, cases[i].listen_port);
                } else {
                        /* No listener: the group is keyed by the sockets' own local address. */
                        struct diag_addr own = test_addr(cases[i].sock_ip, cases[i].sock_port);

                        if (r.backlogs[0].info)
                                fail_msg("case %zu: attributed to a listener it does not belong to", i);
                        assert_true(diag_addr_equal(&r.backlogs[0].local, &own));
                }
                report_done(&r);
                diag_set_done(&set);
        }
}

/* Each listener's unaccepted connections keep their ages, oldest first, per listener. */
static void test_backlog_ages(void **state) {
        struct diag_set set = {};
        struct fake_hold holds[] = { { 900, { 77 }, 1 }, { 901, { 78 }, 1 } };
        struct fake_owners fo = { .holds = holds, .n_holds = ELEMENTSOF(holds) };
        usec_t ages[6] = { 0, 0, 2 * USEC_PER_SEC, 7 * USEC_PER_SEC, 4 * USEC_PER_SEC, 1 * USEC_PER_SEC };
        struct report r;

        (void) state;
        fake_add_proc(&fo, 77, "a");
        fake_add_proc(&fo, 78, "b");
        add_sock(&set, TCP_LISTEN, 900, "127.0.0.1", 7000, "0.0.0.0", 0, 0, 0);
        add_sock(&set, TCP_LISTEN, 901, "127.0.0.1", 7001, "0.0.0.0", 0, 0, 0);
        add_sock(&set, TCP_CLOSE_WAIT, 0, "127.0.0.1", 7000, "127.0.0.1", 5000, 0, 0);
        add_sock(&set, TCP_CLOSE_WAIT, 0, "127.0.0.1", 7001, "127.0.0.1", 5001, 0, 0);
        add_sock(&set, TCP_CLOSE_WAIT, 0, "127.0.0.1", 7000, "127.0.0.1", 5002, 0, 0);
        add_sock(&set, TCP_CLOSE_WAIT, 0, "127.0.0.1", 7000, "127.0.0.1", 5003, 0, 0);
        build(&set, &fo, ages, &r);

        assert_int_equal(r.n_backlogs, 2);
        assert_int_equal(r.backlogs[0].info->pid, 77);
        assert_int_equal(r.backlogs[0].close_wait, 3);
        assert_int_equal(r.backlogs[0].ages[0], 4 * USEC_PER_SEC);
        assert_int_equal(r.backlogs[0].ages[1], 2 * USEC_PER_SEC);
        assert_int_equal(r.backlogs[0].ages[2], 1 * USEC_PER_SEC);
        assert_int_equal(r.backlogs[1].info->pid, 78);
        assert_int_equal(r.backlogs[1].close_wait, 1);
        assert_int_equal(r.backlogs[1].ages[0], 7 * USEC_PER_SEC);
        report_done(&r);
        diag_set_done(&set);
}

static void test_time_wait_groups(void **state) {
        struct diag_set set = {};
        struct fake_hold holds[] = { { 900, { 88 }, 1 } };
        struct fake_owners fo = { .holds = holds, .n_holds = 1 };
        struct report r;

        (void) state;
        fake_add_proc(&fo, 88, "nginx");
        add_sock(&set, TCP_LISTEN, 900, "0.0.0.0", 80, "0.0.0.0", 0, 0, 0);
        /* server side: local port 80 has a listener */
        add_sock(&set, TCP_TIME_WAIT, 0, "10.0.0.1", 80, "10.0.0.9", 40000, 0, 59000);
        add_sock(&set, TCP_TIME_WAIT, 0, "10.0.0.1", 80, "10.0.0.9", 40001, 0, 30000);
        add_sock(&set, TCP_TIME_WAIT, 0, "10.0.0.1", 80, "10.0.0.8", 40001, 0, 1000);
        /* client side: grouped by destination */
        add_sock(&set, TCP_TIME_WAIT, 0, "10.0.0.1", 33000, "10.0.0.9", 5432, 0, 50000);
        add_sock(&set, TCP_TIME_WAIT, 0, "10.0.0.1", 33001, "10.0.0.9", 5432, 0, 50000);
        add_sock(&set, TCP_TIME_WAIT, 0, "10.0.0.1", 33002, "10.0.0.10", 5432, 0, 60000);
        build(&set, &fo, NULL, &r);

        assert_int_equal(r.total_time_wait, 6);
        assert_int_equal(r.n_tw, 3);
        assert_true(r.tw[0].server);
        assert_int_equal(r.tw[0].count, 3);
        assert_non_null(r.tw[0].info);
        assert_int_equal(r.tw[0].info->pid, 88);
        assert_int_equal(r.tw[0].addr.port, 80);
        assert_int_equal(r.tw[0].oldest_age_usec, 59 * USEC_PER_SEC);
        assert_false(r.tw[1].server);
        assert_int_equal(r.tw[1].count, 2);
        assert_null(r.tw[1].info);
        assert_int_equal(r.tw[1].addr.port, 5432);
        assert_int_equal(r.tw[1].oldest_age_usec, 10 * USEC_PER_SEC);
        assert_int_equal(r.tw[2].count, 1);
        assert_int_equal(r.tw[2].oldest_age_usec, 0);
        report_done(&r);
        diag_set_done(&set);
}

static const struct report_backlog *backlog_in(const struct report *r, uint64_t netns) {
        for (size_t i = 0; i < r->n_backlogs; i++)
                if (r->backlogs[i].netns == netns)
                        return &r->backlogs[i];
        return NULL;
}

static const struct report_tw *tw_in(const struct report *r, uint64_t netns, bool server, uint16_t port) {
        for (size_t i = 0; i < r->n_tw; i++)
                if (r->tw[i].netns == netns && r->tw[i].server == server && r->tw[i].addr.port == port)
                        return &r->tw[i];
        return NULL;
}

/* Every container may listen on 0.0.0.0:80: a listener serves only the connections of its own
 * network namespace, and groups of different namespaces are never merged. */
static void test_namespaces(void **state) {
        struct diag_set set = {};
        struct fake_hold holds[] = { { 900, { 77 }, 1 }, { 901, { 78 }, 1 } };
        struct fake_owners fo = { .holds = holds, .n_holds = ELEMENTSOF(holds) };
        const struct report_backlog *b;
        const struct report_tw *t;
        struct report r;

        (void) state;
        fake_add_proc(&fo, 77, "web-a");
        fake_add_proc(&fo, 78, "web-c");
        set.netns = 1; /* a listener, its backlog and server TIME_WAIT; a client TIME_WAIT */
        add_sock(&set, TCP_LISTEN, 900, "0.0.0.0", 80, "0.0.0.0", 0, 0, 0);
        add_sock(&set, TCP_CLOSE_WAIT, 0, "10.0.0.1", 80, "10.0.0.9", 40000, 0, 0);
        add_sock(&set, TCP_TIME_WAIT, 0, "10.0.0.1", 80, "10.0.0.9", 40001, 0, 50000);
        add_sock(&set, TCP_TIME_WAIT, 0, "10.0.0.1", 33000, "10.0.0.9", 5432, 0, 50000);
        set.netns = 2; /* the same addresses, no listener */
        add_sock(&set, TCP_CLOSE_WAIT, 0, "10.0.0.1", 80, "10.0.0.9", 40000, 0, 0);
        add_sock(&set, TCP_CLOSE_WAIT, 0, "10.0.0.1", 80, "10.0.0.9", 40002, 0, 0);
        add_sock(&set, TCP_TIME_WAIT, 0, "10.0.0.1", 80, "10.0.0.9", 40001, 0, 50000);
        add_sock(&set, TCP_TIME_WAIT, 0, "10.0.0.1", 33000, "10.0.0.9", 5432, 0, 50000);
        add_sock(&set, TCP_TIME_WAIT, 0, "10.0.0.1", 33001, "10.0.0.9", 5432, 0, 50000);
        set.netns = 3; /* another listener on the same address */
        add_sock(&set, TCP_LISTEN, 901, "0.0.0.0", 80, "0.0.0.0", 0, 0, 0);
        add_sock(&set, TCP_CLOSE_WAIT, 0, "10.0.0.1", 80, "10.0.0.9", 40000, 0, 0);
        build(&set, &fo, NULL, &r);

        assert_int_equal(r.total_accept_backlog, 4);
        assert_int_equal(r.n_backlogs, 3);
        b = backlog_in(&r, 1);
        assert_non_null(b);
        assert_non_null(b->info);
        assert_int_equal(b->info->pid, 77);
        assert_int_equal(b->close_wait, 1);
        b = backlog_in(&r, 2);
        assert_non_null(b);
        assert_null(b->info); /* not web-a's nor web-c's: no listener in its namespace */
        assert_int_equal(b->close_wait, 2);
        b = backlog_in(&r, 3);
        assert_non_null(b);
        assert_non_null(b->info);
        assert_int_equal(b->info->pid, 78);

        assert_int_equal(r.total_time_wait, 5);
        assert_int_equal(r.n_tw, 4);
        t = tw_in(&r, 1, true, 80);
        assert_non_null(t);
        assert_int_equal(t->info->pid, 77);
        t = tw_in(&r, 1, false, 5432);
        assert_non_null(t);
        assert_int_equal(t->count, 1);
        t = tw_in(&r, 2, false, 40001); /* no listener: by destination */
        assert_non_null(t);
        assert_null(t->info);
        t = tw_in(&r, 2, false, 5432);
        assert_non_null(t);
        assert_int_equal(t->count, 2);
        report_done(&r);
        diag_set_done(&set);
}

/* A TIME_WAIT socket on a listener's port but another local address was a client's socket bound
 * to that port: the listener did not make it, so it is grouped by destination. */
static void test_time_wait_other_address(void **state) {
        struct diag_set set = {};
        struct fake_hold holds[] = { { 900, { 88 }, 1 } };
        struct fake_owners fo = { .holds = holds, .n_holds = 1 };
        struct report r;

        (void) state;
        fake_add_proc(&fo, 88, "api");
        add_sock(&set, TCP_LISTEN, 900, "127.0.0.1", 8080, "0.0.0.0", 0, 0, 0);
        add_sock(&set, TCP_TIME_WAIT, 0, "127.1.1.1", 8080, "127.0.0.3", 38763, 0, 30000);
        add_sock(&set, TCP_TIME_WAIT, 0, "127.0.0.1", 8080, "127.0.0.9", 40000, 0, 30000);
        build(&set, &fo, NULL, &r);

        assert_int_equal(r.n_tw, 2);
        for (size_t i = 0; i < r.n_tw; i++) {
                if (r.tw[i].server) {
                        assert_int_equal(r.tw[i].info->pid, 88);
                        assert_int_equal(r.tw[i].count, 1);
                } else {
                        assert_null(r.tw[i].info);
                        assert_int_equal(r.tw[i].addr.port, 38763);
                }
        }
        assert_true(r.tw[0].server != r.tw[1].server);
        report_done(&r);
        diag_set_done(&set);
}

/* A dual-stack socket's IPv4 peers are v4-mapped: one destination must not count as two. */
static void test_v4_mapped_peers_merge(void **state) {
        struct diag_set set = {};
        struct fake_hold holds[] = { { 1, { 10 }, 1 }, { 2, { 10 }, 1 } };
        struct fake_owners fo = { .holds = holds, .n_holds = 2 };
        struct report r;

        (void) state;
        fake_add_proc(&fo, 10, "java");
        add_sock(&set, TCP_CLOSE_WAIT, 1, "::ffff:127.0.0.1", 40000, "::ffff:10.0.0.5", 5432, 0, 0);
        add_sock(&set, TCP_CLOSE_WAIT, 2, "127.0.0.1", 40001, "10.0.0.5", 5432, 0, 0);
        add_sock(&set, TCP_TIME_WAIT, 0, "::ffff:127.0.0.1", 40002, "::ffff:10.0.0.5", 5432, 0, 1000);
        add_sock(&set, TCP_TIME_WAIT, 0, "127.0.0.1", 40003, "10.0.0.5", 5432, 0, 1000);
        build(&set, &fo, NULL, &r);

        assert_int_equal(r.n_procs, 1);
        assert_int_equal(r.procs[0].n_peers, 1);
        assert_int_equal(r.procs[0].peers[0].count, 2);
        assert_int_equal(r.procs[0].peers[0].remote.family, AF_INET);
        assert_int_equal(r.n_tw, 1);
        assert_int_equal(r.tw[0].count, 2);
        assert_int_equal(r.tw[0].addr.family, AF_INET);
        report_done(&r);
        diag_set_done(&set);
}

/* Socket activation: PID 1 holds the listener too; the service is named, every holder listed. */
static void test_listener_owner_not_pid1(void **state) {
        struct diag_set set = {};
        struct fake_hold holds[] = { { 900, { 1, 500, 501 }, 3 }, { 901, { 1 }, 1 } };
        struct fake_owners fo = { .holds = holds, .n_holds = 2 };
        struct report r;

        (void) state;
        fake_add_proc(&fo, 1, "systemd");
        fake_add_proc(&fo, 500, "gunicorn");
        fake_add_proc(&fo, 501, "gunicorn");
        add_sock(&set, TCP_LISTEN, 900, "0.0.0.0", 8000, "0.0.0.0", 0, 0, 0);
        add_sock(&set, TCP_LISTEN, 901, "0.0.0.0", 9000, "0.0.0.0", 0, 0, 0);
        add_sock(&set, TCP_CLOSE_WAIT, 0, "127.0.0.1", 8000, "127.0.0.1", 1, 0, 0);
        add_sock(&set, TCP_CLOSE_WAIT, 0, "127.0.0.1", 9000, "127.0.0.1", 1, 0, 0);
        add_sock(&set, TCP_CLOSE_WAIT, 0, "127.0.0.1", 9000, "127.0.0.1", 2, 0, 0);
        build(&set, &fo, NULL, &r);

        assert_int_equal(r.n_backlogs, 2);
        assert_int_equal(r.backlogs[0].local.port, 9000); /* larger first */
        assert_int_equal(r.backlogs[0].info->pid, 1);     /* sole holder */
        assert_int_equal(r.backlogs[1].info->pid, 500);
        assert_int_equal(r.backlogs[1].n_pids, 3);
        assert_int_equal(r.backlogs[1].pids[0], 1);
        assert_int_equal(r.backlogs[1].pids[2], 501);
        report_done(&r);
        diag_set_done(&set);
}

/* SO_REUSEPORT: two listeners on one address; the one with a non-empty queue holds the backlog. */
static void test_reuseport_prefers_queue(void **state) {
        for (int busy = 0; busy < 2; busy++) {
                struct diag_set set = {};
                struct fake_hold holds[] = { { 900, { 60 }, 1 }, { 901, { 61 }, 1 } };
                struct fake_owners fo = { .holds = holds, .n_holds = 2 };
                struct report r;

                (void) state;
                fake_add_proc(&fo, 60, "first");
                fake_add_proc(&fo, 61, "second");
                add_sock(&set, TCP_LISTEN, 900, "127.0.0.1", 7000, "0.0.0.0", 0, busy == 0 ? 1 : 0, 0);
                add_sock(&set, TCP_LISTEN, 901, "127.0.0.1", 7000, "0.0.0.0", 0, busy == 1 ? 1 : 0, 0);
                add_sock(&set, TCP_CLOSE_WAIT, 0, "127.0.0.1", 7000, "127.0.0.1", 1, 0, 0);
                build(&set, &fo, NULL, &r);
                assert_int_equal(r.n_backlogs, 1);
                assert_int_equal(r.backlogs[0].info->pid, busy == 0 ? 60 : 61);
                report_done(&r);
                diag_set_done(&set);
        }
}

/* A holder whose info is gone (vanished between walk and load) is skipped, not a crash. */
static void test_missing_info(void **state) {
        struct diag_set set = {};
        struct fake_hold holds[] = { { 5, { 40, 41 }, 2 } };
        struct fake_owners fo = { .holds = holds, .n_holds = 1 };
        struct report r;

        (void) state;
        fake_add_proc(&fo, 41, "alive");
        add_sock(&set, TCP_CLOSE_WAIT, 5, "127.0.0.1", 1, "127.0.0.1", 2, 0, 0);
        build(&set, &fo, NULL, &r);
        assert_int_equal(r.n_procs, 1);
        assert_int_equal(r.procs[0].info->pid, 41);
        report_done(&r);
        diag_set_done(&set);
}

/* Many sockets, many holders: ordering is by count, then pid. */
static void test_ordering(void **state) {
        struct diag_set set = {};
        struct fake_hold holds[30];
        struct fake_owners fo = { .holds = holds, .n_holds = 0 };
        struct report r;
        const unsigned per_pid[3] = { 4, 10, 4 };

        (void) state;
        fake_add_proc(&fo, 300, "c");
        fake_add_proc(&fo, 100, "a");
        fake_add_proc(&fo, 200, "b");
        for (unsigned p = 0; p < 3; p++)
                for (unsigned k = 0; k < per_pid[p] && fo.n_holds < ELEMENTSOF(holds); k++) {
                        uint32_t inode = 1000 + (uint32_t) fo.n_holds;

                        holds[fo.n_holds++] = (struct fake_hold){ inode, { (pid_t) (100 * (p + 1)) }, 1 };
                        add_sock(&set, TCP_CLOSE_WAIT, inode, "127.0.0.1", 80, "127.0.0.1", (uint16_t) (20000 + inode),
                                 0, 0);
                }
        build(&set, &fo, NULL, &r);
        assert_int_equal(r.n_procs, 3);
        assert_int_equal(r.procs[0].info->pid, 200);
        assert_int_equal(r.procs[0].close_wait, 10);
        assert_int_equal(r.procs[1].info->pid, 100);
        assert_int_equal(r.procs[2].info->pid, 300);
        assert_int_equal(r.procs[0].n_peers, 10);
        report_done(&r);
        diag_set_done(&set);
}

/* The JSON writer never lets a control byte through, whatever the strings hold. */
static void test_render_json_hostile(void **state) {
        struct diag_set set = {};
        struct fake_hold holds[] = { { 5, { 40 }, 1 } };
        struct fake_owners fo = { .holds = holds, .n_holds = 1 };
        struct render_scan scan = {};
        struct report r;
        char *buf = NULL;
        size_t size = 0;
        FILE *f;

        (void) state;
        fake_add_proc(&fo, 40, "raw\n\x1b[31m\"q\\");
        fo.infos[0].unit = (char *) "bad\xff.service";
        add_sock(&set, TCP_CLOSE_WAIT, 5, "::1", 8080, "::1", 40000, 0, 0);
        build(&set, &fo, NULL, &r);
        f = open_memstream(&buf, &size);
        assert_non_null(f);
        assert_int_equal(render_json(f, &r, &scan), 0);
        assert_int_equal(fclose(f), 0);
        for (size_t i = 0; i + 1 < size; i++)
                if ((unsigned char) buf[i] < 0x20)
                        fail_msg("control byte 0x%02x at %zu in %s", buf[i], i, buf);
        assert_non_null(strstr(buf, "\"comm\":\"raw\\u000a\\u001b[31m\\\"q\\\\\""));
        assert_non_null(strstr(buf, "\"unit\":\"bad\\ufffd.service\""));
        assert_non_null(strstr(buf, "\"remote\":\"[::1]:40000\""));
        assert_non_null(strstr(buf, "\"totals\":{\"close_wait\":1,"));
        free(buf);
        report_done(&r);
        diag_set_done(&set);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_holder_counts_and_peers),
                cmocka_unit_test(test_many_peers_and_ages),
                cmocka_unit_test(test_shared_after_fork),
                cmocka_unit_test(test_unowned),
                cmocka_unit_test(test_backlog_attribution),
                cmocka_unit_test(test_backlog_ages),
                cmocka_unit_test(test_time_wait_groups),
                cmocka_unit_test(test_time_wait_other_address),
                cmocka_unit_test(test_v4_mapped_peers_merge),
                cmocka_unit_test(test_listener_owner_not_pid1),
                cmocka_unit_test(test_namespaces),
                cmocka_unit_test(test_reuseport_prefers_queue),
                cmocka_unit_test(test_missing_info),
                cmocka_unit_test(test_ordering),
                cmocka_unit_test(test_render_json_hostile),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
