/* Unit tests of netns: finding namespaces in a fake /proc tree, where "namespaces" are plain files
 * told apart by their inodes. Entering them fails (they are not nsfs files), which the set counts;
 * entering real namespaces is the integration tests' (test_netns.py, test_daemon_netns.py). */
#define _GNU_SOURCE 1 /* unshare(), CLONE_NEWNET */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
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
        /* Plain files are no namespaces: setns() says EINVAL, which is no failure to report. */
        assert_int_equal(st.failed, 0);
        assert_int_equal(st.opened, 0);
        assert_true(netns_get(s, 0)->own);
        assert_int_equal(netns_get(s, 0)->ino, own);
        assert_non_null(netns_get(s, 0)->diag);
        assert_true(has(s, a) && has(s, b));
        assert_true(netns_get(s, 1)->ino < netns_get(s, 2)->ino);
        assert_null(netns_get(s, 1)->diag);
        assert_int_equal(netns_get(s, 1)->error, -EINVAL);
        assert_null(netns_get(s, 3));

        /* 200 exits: its namespace is dropped; 100 and 101 share one, which stays. */
        tree_gone(&t, "200");
        tree_gone(&t, "101");
        st = (struct netns_stats){};
        assert_int_equal(netns_refresh(s, true, &st), 0);
        assert_int_equal(netns_count(s), 2);
        assert_true(has(s, a));
        assert_false(has(s, b));
        assert_int_equal(st.failed, 0);

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
        /* A name that is a symbolic link (ln -s /var/run/docker/netns/X /run/netns/X) is
         * followed, to the file it names. */
        {
                char target[128], link_path[160];

                snprintf(target, sizeof(target), "%s/elsewhere", t.root);
                close(open(target, O_WRONLY | O_CREAT, 0644));
                snprintf(link_path, sizeof(link_path), "%s/run/linked", t.root);
                assert_int_equal(symlink(target, link_path), 0);
        }
        assert_int_equal(netns_set_new(t.root, run, &s), 0);
        assert_int_equal(netns_refresh(s, true, &st), 0);
        /* The fake "self" is no nsfs file either, but it sets the device the others must be on:
         * the file in run/ is on the same file system here, so it is taken (and not entered),
         * while a name on another file system is not (/proc/self/ns/net, not in the fake tree). */
        assert_int_equal(netns_count(s), 3);
        /* Opened, both (not ELOOP), and found to be no network namespace. */
        assert_int_equal(netns_get(s, 1)->error, -EINVAL);
        assert_int_equal(netns_get(s, 2)->error, -EINVAL);
        assert_int_equal(st.failed, 0);
        netns_set_free(s);

        snprintf(run, sizeof(run), "%s/nonexistent", t.root);
        assert_int_equal(netns_set_new(t.root, run, &s), 0);
        assert_int_equal(netns_refresh(s, true, &st), 0);
        assert_int_equal(netns_count(s), 1);
        netns_set_free(s);
        tree_done(&t);
}

/* A real namespace that cannot be entered (no CAP_SYS_ADMIN in this child) is a failure, counted
 * and kept in its entry; one that can is opened. Root only: it makes a namespace. */
static void test_real_namespace(void **state) {
        struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct caps[_LINUX_CAPABILITY_U32S_3] = {};
        int ready[2], status;
        pid_t holder, child;
        char c;

        (void) state;
        if (geteuid() != 0 || netns_can_enter() != 1)
                skip(); /* needs root with CAP_SYS_ADMIN */
        assert_int_equal(pipe(ready), 0);
        holder = fork();
        assert_true(holder >= 0);
        if (holder == 0) {
                /* A namespace of its own, kept while it sleeps. */
                c = unshare(CLONE_NEWNET) == 0 ? 'y' : 'n';
                (void) !write(ready[1], &c, 1);
                pause();
                _exit(0);
        }
        assert_int_equal(read(ready[0], &c, 1), 1);
        close(ready[0]);
        close(ready[1]);
        if (c != 'y') {
                kill(holder, SIGKILL);
                waitpid(holder, NULL, 0);
                skip(); /* cannot make a network namespace here */
        }

        child = fork();
        assert_true(child >= 0);
        if (child == 0) {
                char path[64];
                struct netns_stats st = {};
                struct netns_set *s;
                struct stat nst;
                const struct netns_entry *e = NULL;
                int ok = 1;

                snprintf(path, sizeof(path), "/proc/%d/ns/net", (int) holder);
                ok &= stat(path, &nst) == 0;
                /* With the capability: entered. */
                ok &= netns_set_new("/proc", NULL, &s) == 0 && netns_refresh(s, true, &st) == 0;
                for (size_t i = 0; ok && i < netns_count(s); i++)
                        if (netns_get(s, i)->ino == nst.st_ino)
                                e = netns_get(s, i);
                ok &= e && e->diag && e->error == 0;
                netns_set_free(s);
                /* Without: refused, counted, tried again. */
                ok &= syscall(SYS_capget, &h, caps) == 0;
                caps[CAP_SYS_ADMIN / 32].effective &= ~(1u << (CAP_SYS_ADMIN % 32));
                ok &= syscall(SYS_capset, &h, caps) == 0 && netns_can_enter() == 0;
                st = (struct netns_stats){};
                e = NULL;
                ok &= netns_set_new("/proc", NULL, &s) == 0 && netns_refresh(s, true, &st) == 0;
                for (size_t i = 0; ok && i < netns_count(s); i++)
                        if (netns_get(s, i)->ino == nst.st_ino)
                                e = netns_get(s, i);
                ok &= e && !e->diag && e->error == -EPERM && st.failed >= 1;
                ok &= netns_get(s, 0)->own && netns_get(s, 0)->diag != NULL;
                netns_set_free(s);
                _exit(ok ? 0 : 1);
        }
        assert_int_equal(waitpid(child, &status, 0), child);
        kill(holder, SIGKILL);
        waitpid(holder, NULL, 0);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
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
                cmocka_unit_test(test_find),      cmocka_unit_test(test_remembered),
                cmocka_unit_test(test_run_netns), cmocka_unit_test(test_real_namespace),
                cmocka_unit_test(test_no_self),   cmocka_unit_test(test_can_enter),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
