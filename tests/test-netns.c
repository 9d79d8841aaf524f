/* Unit tests of netns: finding namespaces in a fake /proc tree, where "namespaces" are plain files
 * told apart by their inodes. Entering them fails (they are not nsfs files), which the set counts;
 * entering real namespaces is the integration tests' (test_netns.py, test_daemon_netns.py). */
#include <errno.h>
#include <fcntl.h>
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

#include "netns.h"

struct tree {
        char root[64];
        char path[128];
};

static void tree_make(struct tree *t) {
        snprintf(t->root, sizeof(t->root), "/tmp/test-netns-XXXXXX");
        assert_non_null(mkdtemp(t->root));
}

/* root/name/ns/net: a new file (a new inode) each call. Returns its inode. */
static uint64_t tree_ns(struct tree *t, const char *name) {
        struct stat st;
        int fd;

        snprintf(t->path, sizeof(t->path), "%s/%s", t->root, name);
        (void) mkdir(t->path, 0755);
        snprintf(t->path, sizeof(t->path), "%s/%s/ns", t->root, name);
        (void) mkdir(t->path, 0755);
        snprintf(t->path, sizeof(t->path), "%s/%s/ns/net", t->root, name);
        (void) unlink(t->path);
        fd = open(t->path, O_WRONLY | O_CREAT | O_EXCL, 0644);
        assert_true(fd >= 0);
        assert_int_equal(fstat(fd, &st), 0);
        close(fd);
        return st.st_ino;
}

/* root/name/ns/net a hard link to from's: the same namespace. */
static void tree_ns_same(struct tree *t, const char *name, const char *from) {
        char src[128];

        tree_ns(t, name);
        snprintf(src, sizeof(src), "%s/%s/ns/net", t->root, from);
        snprintf(t->path, sizeof(t->path), "%s/%s/ns/net", t->root, name);
        assert_int_equal(unlink(t->path), 0);
        assert_int_equal(link(src, t->path), 0);
}

static void tree_gone(struct tree *t, const char *name) {
        char cmd[256];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s/%s'", t->root, name);
        assert_int_equal(system(cmd), 0);
}

static void tree_done(struct tree *t) {
        char cmd[128];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->root);
        assert_int_equal(system(cmd), 0);
}

static bool has(struct netns_set *s, uint64_t ino) {
        for (size_t i = 0; i < netns_count(s); i++)
                if (netns_get(s, i)->ino == ino)
                        return true;
        return false;
}

/* Namespaces are found per distinct inode, the own one first; those not entered are counted and
 * tried again; those no process keeps are dropped; without enter only the own one is kept. */
static void test_find(void **state) {
        struct netns_stats st = {};
        struct netns_set *s;
        struct tree t;
        uint64_t own, a, b;

        (void) state;
        tree_make(&t);
        own = tree_ns(&t, "self");
        tree_ns_same(&t, "1", "self");
        a = tree_ns(&t, "100");
        tree_ns_same(&t, "101", "100");
        b = tree_ns(&t, "200");
        tree_ns_same(&t, "300", "self");
        tree_ns(&t, "notapid"); /* not a process */

        assert_int_equal(netns_set_new(t.root, NULL, &s), 0);
        assert_int_equal(netns_own(s), own);
        assert_int_equal(netns_count(s), 1);

        /* The own namespace's diag socket is a real one (in this process's namespace). */
        assert_int_equal(netns_refresh(s, true, &st), 0);
        assert_int_equal(netns_count(s), 3);
        assert_int_equal(st.found, 3);
        assert_int_equal(st.failed, 2); /* plain files cannot be entered */
        assert_int_equal(st.opened, 0);
        assert_true(netns_get(s, 0)->own);
        assert_int_equal(netns_get(s, 0)->ino, own);
        assert_non_null(netns_get(s, 0)->diag);
        assert_true(has(s, a) && has(s, b));
        assert_true(netns_get(s, 1)->ino < netns_get(s, 2)->ino);
        assert_null(netns_get(s, 1)->diag);
        assert_true(netns_get(s, 1)->error < 0);
        assert_null(netns_get(s, 3));

        /* 200 exits: its namespace is dropped; 100 and 101 share one, which stays. */
        tree_gone(&t, "200");
        tree_gone(&t, "101");
        st = (struct netns_stats){};
        assert_int_equal(netns_refresh(s, true, &st), 0);
        assert_int_equal(netns_count(s), 2);
        assert_true(has(s, a));
        assert_false(has(s, b));
        assert_int_equal(st.failed, 1);

        /* Without enter: the own namespace only, and no /proc walk. */
        st = (struct netns_stats){};
        assert_int_equal(netns_refresh(s, false, &st), 0);
        assert_int_equal(netns_count(s), 1);
        assert_int_equal(st.failed, 0);
        assert_int_equal(st.found, 1);

        netns_set_free(s);
        tree_done(&t);
}

/* The namespace of a pid is read when the pid is new, and again for every pid every 16th
 * refresh: a process that moved to a new namespace is found by then. */
static void test_remembered(void **state) {
        struct netns_set *s;
        struct tree t;
        uint64_t moved;
        int calls = 2;

        (void) state;
        tree_make(&t);
        tree_ns(&t, "self");
        tree_ns_same(&t, "50", "self");
        assert_int_equal(netns_set_new(t.root, NULL, &s), 0);
        assert_int_equal(netns_refresh(s, true, NULL), 0);
        assert_int_equal(netns_count(s), 1);

        moved = tree_ns(&t, "50"); /* pid 50 unshare()s */
        tree_ns(&t, "60");         /* a new process: read at once */
        assert_int_equal(netns_refresh(s, true, NULL), 0);
        assert_int_equal(netns_count(s), 2);
        assert_false(has(s, moved));
        while (!has(s, moved) && calls < 40) {
                assert_int_equal(netns_refresh(s, true, NULL), 0);
                calls++;
        }
        assert_true(has(s, moved));
        assert_int_equal(calls, 17); /* the 17th refresh, the second full one, read it */

        netns_set_free(s);
        tree_done(&t);
}

/* /run/netns: only files on the namespace file system count, so the fake tree's are refused; a
 * directory that does not exist is no error. */
static void test_run_netns(void **state) {
        struct netns_stats st = {};
        struct netns_set *s;
        struct tree t;
        char run[128];

        (void) state;
        tree_make(&t);
        tree_ns(&t, "self");
        snprintf(run, sizeof(run), "%s/run", t.root);
        assert_int_equal(mkdir(run, 0755), 0);
        snprintf(t.path, sizeof(t.path), "%s/run/named", t.root);
        close(open(t.path, O_WRONLY | O_CREAT, 0644));
        assert_int_equal(netns_set_new(t.root, run, &s), 0);
        assert_int_equal(netns_refresh(s, true, &st), 0);
        /* The fake "self" is no nsfs file either, but it sets the device the others must be on:
         * the file in run/ is on the same file system here, so it is taken (and not entered),
         * while a name on another file system is not (/proc/self/ns/net, not in the fake tree). */
        assert_int_equal(netns_count(s), 2);
        assert_int_equal(st.failed, 1);
        netns_set_free(s);

        snprintf(run, sizeof(run), "%s/nonexistent", t.root);
        assert_int_equal(netns_set_new(t.root, run, &s), 0);
        assert_int_equal(netns_refresh(s, true, &st), 0);
        assert_int_equal(netns_count(s), 1);
        netns_set_free(s);
        tree_done(&t);
}

/* A proc tree without self/ns/net cannot say which namespace is the own one. */
static void test_no_self(void **state) {
        struct netns_set *s = NULL;
        struct tree t;

        (void) state;
        tree_make(&t);
        assert_int_equal(netns_set_new(t.root, NULL, &s), -ENOENT);
        assert_null(s);
        assert_int_equal(netns_set_new("/nonexistent-proc", NULL, &s), -ENOENT);
        tree_done(&t);
}

/* This process's view: CAP_SYS_ADMIN when root with full capabilities. */
static void test_can_enter(void **state) {
        int r = netns_can_enter();

        (void) state;
        assert_true(r == 0 || r == 1);
        if (geteuid() != 0)
                assert_int_equal(r, 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_find),    cmocka_unit_test(test_remembered), cmocka_unit_test(test_run_netns),
                cmocka_unit_test(test_no_self), cmocka_unit_test(test_can_enter),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
