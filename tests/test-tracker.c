/* Unit tests of tracker: ages across scans with an injected clock, forgetting after two missed
 * scans, a table that grows and shrinks, and the saved state (round trip, other boot, corrupt). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/tcp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tracker.h"

#define SEC  USEC_PER_SEC
#define BOOT "0123456789abcdef0123456789abcdef"

static void add(struct diag_set *set, uint64_t cookie, uint8_t state, uint32_t last_ack_ms) {
        struct diag_sock s = {
                .cookie = cookie,
                .netns = set->netns, /* as a dump stamps it */
                .state = state,
                .inode = (uint32_t) cookie,
                .has_info = last_ack_ms > 0,
                .last_ack_recv_ms = last_ack_ms,
                .last_data_recv_ms = last_ack_ms + 1000,
        };

        assert_int_equal(diag_set_add(set, &s), 1);
}

static usec_t *observe(struct tracker *t, const struct diag_set *set, usec_t now) {
        static usec_t ages[20000];

        assert_true(set->n <= ELEMENTSOF(ages));
        assert_int_equal(tracker_observe(t, set, now, ages), 0);
        return ages;
}

static void test_bootstrap(void **state) {
        struct diag_sock s = { .has_info = true, .last_ack_recv_ms = 6048, .last_data_recv_ms = 9052 };

        (void) state;
        /* The smaller stamp, minus one HZ=100 jiffy: never more than the truth. */
        assert_int_equal(tracker_bootstrap_age_usec(&s), 6038 * USEC_PER_MSEC);
        s.last_data_recv_ms = 100;
        assert_int_equal(tracker_bootstrap_age_usec(&s), 90 * USEC_PER_MSEC);
        s.last_ack_recv_ms = s.last_data_recv_ms = 5;
        assert_int_equal(tracker_bootstrap_age_usec(&s), 0);
        s.has_info = false;
        assert_int_equal(tracker_bootstrap_age_usec(&s), 0);
}

/* First sight from tcp_info, then the clock; other states get 0. */
static void test_ages_across_scans(void **state) {
        struct tracker *t;
        struct diag_set set = {};
        usec_t *ages;

        (void) state;
        assert_int_equal(tracker_new(&t), 0);
        add(&set, 1, TCP_CLOSE_WAIT, 2010); /* in CLOSE_WAIT for 2 s already */
        add(&set, 2, TCP_CLOSE_WAIT, 0);    /* no tcp_info: just entered, as far as we know */
        add(&set, 3, TCP_TIME_WAIT, 0);
        ages = observe(t, &set, 100 * SEC);
        assert_int_equal(ages[0], 2 * SEC);
        assert_int_equal(ages[1], 0);
        assert_int_equal(ages[2], 0);
        assert_int_equal(tracker_size(t), 2);

        /* Later scans: the clock, not tcp_info (which a later dump may not even carry). */
        diag_set_clear(&set);
        add(&set, 1, TCP_CLOSE_WAIT, 1);
        add(&set, 2, TCP_CLOSE_WAIT, 0);
        ages = observe(t, &set, 130 * SEC);
        assert_int_equal(ages[0], 32 * SEC);
        assert_int_equal(ages[1], 30 * SEC);

        diag_set_done(&set);
        tracker_free(t);
}

/* A socket missing from one dump (a racing dump can skip it) keeps its age; two misses forget it. */
static void test_forget_after_two_misses(void **state) {
        struct tracker *t;
        struct diag_set with = {}, without = {};
        usec_t *ages;

        (void) state;
        assert_int_equal(tracker_new(&t), 0);
        add(&with, 7, TCP_CLOSE_WAIT, 0);
        add(&with, 8, TCP_CLOSE_WAIT, 0);
        add(&without, 8, TCP_CLOSE_WAIT, 0);

        assert_false(tracker_contains(t, 0, 7));
        observe(t, &with, 10 * SEC);
        assert_true(tracker_contains(t, 0, 7));
        assert_false(tracker_contains(t, 0, 9));
        assert_false(tracker_contains(t, 0, 0));
        observe(t, &without, 15 * SEC);
        assert_int_equal(tracker_size(t), 2);
        ages = observe(t, &with, 20 * SEC);
        assert_int_equal(ages[0], 10 * SEC); /* kept through one miss */

        observe(t, &without, 25 * SEC);
        observe(t, &without, 30 * SEC);
        assert_int_equal(tracker_size(t), 1);
        assert_false(tracker_contains(t, 0, 7));
        ages = observe(t, &with, 35 * SEC);
        assert_int_equal(ages[0], 0); /* forgotten: a new socket as far as the table knows */
        assert_int_equal(ages[1], 25 * SEC);

        diag_set_done(&with);
        diag_set_done(&without);
        tracker_free(t);
}

/* Thousands of sockets coming and going in a pattern that exercises growth and backward-shift
 * deletion: every survivor must keep its own first-seen time. */
static void test_churn(void **state) {
        struct tracker *t;
        struct diag_set set = {};
        usec_t *ages;

        (void) state;
        assert_int_equal(tracker_new(&t), 0);
        for (unsigned round = 0; round < 30; round++) {
                uint64_t lo = round * 500 + 1, hi = lo + 5000;

                diag_set_clear(&set);
                for (uint64_t c = lo; c < hi; c++)
                        if (c % 7 != round % 7)
                                add(&set, c, TCP_CLOSE_WAIT, 0);
                ages = observe(t, &set, (usec_t) round * SEC);
                for (size_t i = 0; i < set.n; i++) {
                        uint64_t c = set.socks[i].cookie;
                        /* First seen in the first round whose range held it (c >= round*500+1). */
                        uint64_t first = c <= 5000 ? 0 : (c - 5000 + 499) / 500;

                        if (c % 7 == first % 7) /* skipped in that round: seen the next one */
                                first++;

                        /* Skipped at most once in a row (c % 7 == round % 7 repeats every 7
                         * rounds), so never forgotten while inside the window. */
                        if (ages[i] != (usec_t) (round - first) * SEC)
                                fail_msg("round %u cookie %llu: age %llu, want %llu", round, (unsigned long long) c,
                                         (unsigned long long) ages[i], (unsigned long long) ((round - first) * SEC));
                }
                assert_true(tracker_size(t) >= set.n);
                /* ... plus those that left the window or were skipped: kept for one scan. */
                assert_true(tracker_size(t) <= set.n + 500 + 5000 / 7 + 1);
        }
        diag_set_done(&set);
        tracker_free(t);
}

static int make_dir(char *path) {
        int fd;

        assert_non_null(mkdtemp(path));
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        return fd;
}

static void write_file(int dir, const char *name, const char *content, size_t len) {
        int fd = openat(dir, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

        assert_true(fd >= 0);
        assert_int_equal(write(fd, content, len), (ssize_t) len);
        close(fd);
}

/* What a restart keeps: ages continue where they were, not from tcp_info again. */
static void test_save_load(void **state) {
        char path[] = "/tmp/test-tracker-XXXXXX";
        struct tracker *t, *u;
        struct diag_set set = {};
        struct stat st;
        usec_t *ages;
        int dir;

        (void) state;
        dir = make_dir(path);
        assert_int_equal(tracker_new(&t), 0);
        assert_int_equal(tracker_new(&u), 0);
        add(&set, 0x1234567890abULL, TCP_CLOSE_WAIT, 0);
        add(&set, 42, TCP_CLOSE_WAIT, 0);
        observe(t, &set, 50 * SEC);
        assert_int_equal(tracker_save(t, dir, "state", BOOT), 0);
        assert_int_equal(fstatat(dir, "state", &st, 0), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        assert_int_equal(faccessat(dir, ".state.tmp", F_OK, 0), -1); /* renamed, not left behind */

        assert_int_equal(tracker_load(u, dir, "state", BOOT, 80 * SEC, 0), 2);
        ages = observe(u, &set, 80 * SEC);
        assert_int_equal(ages[0], 30 * SEC);
        assert_int_equal(ages[1], 30 * SEC);

        /* Loaded sockets that are gone are forgotten after two scans, like any other. */
        tracker_free(u);
        assert_int_equal(tracker_new(&u), 0);
        assert_int_equal(tracker_load(u, dir, "state", BOOT, 60 * SEC, 0), 2);
        diag_set_clear(&set);
        observe(u, &set, 60 * SEC);
        assert_int_equal(tracker_size(u), 2);
        observe(u, &set, 65 * SEC);
        assert_int_equal(tracker_size(u), 0);

        /* Another boot: the monotonic clock and the cookies mean nothing any more. */
        assert_int_equal(tracker_load(u, dir, "state", "ffffffffffffffffffffffffffffffff", 60 * SEC, 0), -ESTALE);
        assert_int_equal(tracker_size(u), 0);
        assert_int_equal(tracker_load(u, dir, "missing", BOOT, 60 * SEC, 0), -ENOENT);

        unlinkat(dir, "state", 0);
        close(dir);
        rmdir(path);
        diag_set_done(&set);
        tracker_free(t);
        tracker_free(u);
}

/* A state file's bytes: body and its checksum line (FNV-1a 64, computed here independently). */
static char *with_sum(const char *body) {
        uint64_t h = 0xcbf29ce484222325ULL;
        size_t len = strlen(body);
        char *out = malloc(len + 32);

        assert_non_null(out);
        for (size_t i = 0; i < len; i++) {
                h ^= (unsigned char) body[i];
                h *= 0x100000001b3ULL;
        }
        snprintf(out, len + 32, "%send %016" PRIx64 "\n", body, h);
        return out;
}

/* One cookie in two namespaces is two sockets (cookies were counted per namespace before Linux
 * 5.10), each with its own age, kept apart through a save and a load. A file of version 2 (before
 * namespaces) loads into the host's namespace. */
static void test_netns_key(void **state) {
        char path[] = "/tmp/test-tracker-XXXXXX";
        struct tracker *t, *u;
        struct diag_set a = { .netns = 4026531840 }, b = { .netns = 4026532999 }, both = {};
        usec_t *ages;
        char *v2;
        int dir;

        (void) state;
        dir = make_dir(path);
        assert_int_equal(tracker_new(&t), 0);
        add(&a, 7, TCP_CLOSE_WAIT, 0);
        add(&b, 7, TCP_CLOSE_WAIT, 0);
        both.netns = a.netns;
        add(&both, 7, TCP_CLOSE_WAIT, 0);
        both.netns = b.netns;
        add(&both, 7, TCP_CLOSE_WAIT, 0);
        assert_int_equal(both.n, 2);

        observe(t, &a, 10 * SEC);
        assert_true(tracker_contains(t, a.netns, 7));
        assert_false(tracker_contains(t, b.netns, 7));
        ages = observe(t, &both, 20 * SEC);
        assert_int_equal(ages[0], 10 * SEC);
        assert_int_equal(ages[1], 0); /* new in its namespace */
        assert_int_equal(tracker_size(t), 2);

        assert_int_equal(tracker_save(t, dir, "state", BOOT), 0);
        assert_int_equal(tracker_new(&u), 0);
        assert_int_equal(tracker_load(u, dir, "state", BOOT, 30 * SEC, 0), 2);
        ages = observe(u, &both, 30 * SEC);
        assert_int_equal(ages[0], 20 * SEC);
        assert_int_equal(ages[1], 10 * SEC);
        tracker_free(u);

        v2 = with_sum("closewaitd-state 2\nboot " BOOT "\ncount 1\n7 5000000\n");
        write_file(dir, "state", v2, strlen(v2));
        assert_int_equal(tracker_new(&u), 0);
        assert_int_equal(tracker_load(u, dir, "state", BOOT, 30 * SEC, a.netns), 1);
        assert_true(tracker_contains(u, a.netns, 7));
        assert_false(tracker_contains(u, b.netns, 7));
        ages = observe(u, &both, 30 * SEC);
        assert_int_equal(ages[0], 25 * SEC);
        free(v2);

        unlinkat(dir, "state", 0);
        close(dir);
        rmdir(path);
        diag_set_done(&a);
        diag_set_done(&b);
        diag_set_done(&both);
        tracker_free(t);
        tracker_free(u);
}

/* A truncated or corrupt file loads nothing at all, whether its checksum is right or not. */
static void test_load_corrupt(void **state) {
        static const char *const bodies[] = {
                "",
                "closewaitd-state 2\n",
                "closewaitd-state 2\nboot " BOOT "\ncount 2\n1 5\n",             /* fewer than said */
                "closewaitd-state 2\nboot " BOOT "\ncount 1\n1 5\n2 6\n",        /* more than said */
                "closewaitd-state 2\nboot " BOOT "\ncount 1\nzz 5\n",            /* not hex */
                "closewaitd-state 2\nboot " BOOT "\ncount 1\n1 5 junk\n",        /* trailing junk */
                "closewaitd-state 2\nboot " BOOT "\ncount 1\n0 5\n",             /* cookie 0 */
                "closewaitd-state 2\nboot " BOOT "\ncount x\n",                  /* bad count */
                "closewaitd-state 2\nboot " BOOT "\ncount 999999999999\n",       /* absurd count */
                "closewaitd-state 2\nboot " BOOT "\ncount 1\n1 99000000000\n",   /* first seen after now */
                "closewaitd-state 2\nboot " BOOT "\ncount 1\n1 7 5\n",           /* a version-3 line */
                "closewaitd-state 3\nboot " BOOT "\ncount 1\n1 5\n",             /* a version-2 line */
                "closewaitd-state 3\nboot " BOOT "\ncount 1\n1 7 5 junk\n",      /* trailing junk */
                "closewaitd-state 3\nboot " BOOT "\ncount 1\n0 7 5\n",           /* cookie 0 */
                "closewaitd-state 3\nboot " BOOT "\ncount 1\n1 7 99000000000\n", /* after now */
                "garbage\x01\x02\x03\n",
        };
        char path[] = "/tmp/test-tracker-XXXXXX";
        struct tracker *t;
        int dir;

        (void) state;
        dir = make_dir(path);
        assert_int_equal(tracker_new(&t), 0);
        for (size_t i = 0; i < ELEMENTSOF(bodies); i++) {
                char *file = with_sum(bodies[i]);

                for (int raw = 0; raw < 2; raw++) {
                        const char *bytes = raw ? bodies[i] : file; /* raw: no checksum line */

                        write_file(dir, "state", bytes, strlen(bytes));
                        if (tracker_load(t, dir, "state", BOOT, 100 * SEC, 0) != -EBADMSG)
                                fail_msg("case %zu%s: not refused as corrupt", i, raw ? " without a sum" : "");
                        assert_int_equal(tracker_size(t), 0);
                }
                free(file);
        }
        /* The format before the checksum: not corrupt, another version's. */
        {
                static const char v1[] = "closewaitd-state 1\nboot " BOOT "\ncount 1\n1 5\nend\n";

                write_file(dir, "state", v1, sizeof(v1) - 1);
                assert_int_equal(tracker_load(t, dir, "state", BOOT, 100 * SEC, 0), -EPROTO);
        }
        /* A NUL byte in the middle. */
        {
                static const char nul[] = "closewaitd-state 2\nboot " BOOT "\ncount 1\n1\0 5\nend 0\n";

                write_file(dir, "state", nul, sizeof(nul) - 1);
        }
        assert_int_equal(tracker_load(t, dir, "state", BOOT, 100 * SEC, 0), -EBADMSG);

        unlinkat(dir, "state", 0);
        close(dir);
        rmdir(path);
        tracker_free(t);
}

/* A saved file with one digit changed still parses; the checksum refuses it. Every cut of it is
 * refused too, and the intact file loads. */
static void test_load_damaged(void **state) {
        char path[] = "/tmp/test-tracker-XXXXXX";
        struct diag_set set = {};
        struct tracker *t, *u;
        char *buf, *digit;
        size_t len;
        int dir;

        (void) state;
        dir = make_dir(path);
        assert_int_equal(tracker_new(&t), 0);
        assert_int_equal(tracker_new(&u), 0);
        add(&set, 0xabcdef, TCP_CLOSE_WAIT, 0);
        add(&set, 77, TCP_CLOSE_WAIT, 0);
        observe(t, &set, 5000 * SEC);
        assert_int_equal(tracker_serialize(t, BOOT, &buf, &len), 0);

        for (size_t cut = 0; cut < len; cut++) {
                write_file(dir, "state", buf, cut);
                if (tracker_load(u, dir, "state", BOOT, 6000 * SEC, 0) != -EBADMSG)
                        fail_msg("cut at %zu of %zu: not refused", cut, len);
        }
        /* "abcdef 5000000000\n": make the first-seen time 1000 s earlier. */
        digit = strstr(buf, " 5000");
        assert_non_null(digit);
        digit[1] = '4';
        write_file(dir, "state", buf, len);
        assert_int_equal(tracker_load(u, dir, "state", BOOT, 6000 * SEC, 0), -EBADMSG);
        assert_int_equal(tracker_size(u), 0);

        digit[1] = '5';
        write_file(dir, "state", buf, len);
        assert_int_equal(tracker_load(u, dir, "state", BOOT, 6000 * SEC, 0), 2);
        /* ... but not by a clock that says the sockets were first seen in the future. */
        tracker_free(u);
        assert_int_equal(tracker_new(&u), 0);
        assert_int_equal(tracker_load(u, dir, "state", BOOT, 4000 * SEC, 0), -EBADMSG);

        free(buf);
        unlinkat(dir, "state", 0);
        close(dir);
        rmdir(path);
        diag_set_done(&set);
        tracker_free(t);
        tracker_free(u);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_bootstrap),
                cmocka_unit_test(test_ages_across_scans),
                cmocka_unit_test(test_forget_after_two_misses),
                cmocka_unit_test(test_churn),
                cmocka_unit_test(test_save_load),
                cmocka_unit_test(test_netns_key),
                cmocka_unit_test(test_load_corrupt),
                cmocka_unit_test(test_load_damaged),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
