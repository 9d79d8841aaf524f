/* test-procmap: the /proc parsers on table-driven inputs, resolution and caching on a fake /proc
 * tree built in a temp dir (hostile comm names included), and one check against the real /proc
 * with a socket held by the test process itself. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <dirent.h>
#include <unistd.h>

#include <cmocka.h>

#include "procmap.h"
#include "strutil.h"

/* ---- fake /proc ---------------------------------------------------------------------------- */

struct fake {
        char root[64]; /* "/tmp/test-procmap-XXXXXX" */
};

static void fake_write(const struct fake *f, const char *rel, const char *data, size_t len) {
        char path[PATH_MAX];
        FILE *fp;

        snprintf(path, sizeof(path), "%s/%s", f->root, rel);
        fp = fopen(path, "we");
        assert_non_null(fp);
        assert_int_equal(fwrite(data, 1, len, fp), len);
        assert_int_equal(fclose(fp), 0);
}

static void fake_writef(const struct fake *f, const char *rel, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void fake_writef(const struct fake *f, const char *rel, const char *fmt, ...) {
        char buf[4096];
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        assert_true(n >= 0 && (size_t) n < sizeof(buf));
        fake_write(f, rel, buf, (size_t) n);
}

/* A stat line as the kernel writes it: start time is field 22. */
static void fake_stat(const struct fake *f, pid_t pid, const char *comm, size_t comm_len, uint64_t start) {
        char rel[64], buf[4096];
        int n;

        snprintf(rel, sizeof(rel), "%d/stat", (int) pid);
        n = snprintf(buf, sizeof(buf), "%d (", (int) pid);
        memcpy(buf + n, comm, comm_len);
        n += (int) comm_len;
        n += snprintf(buf + n, sizeof(buf) - (size_t) n,
                      ") S 1 %d %d 0 -1 4194560 100 0 0 0 3 4 0 0 20 0 1 0 %llu 12345678 300 "
                      "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n",
                      (int) pid, (int) pid, (unsigned long long) start);
        fake_write(f, rel, buf, (size_t) n);
}

static void fake_proc_raw(const struct fake *f, pid_t pid, const char *comm, size_t comm_len, uint64_t start,
                          uint32_t uid, bool with_limits) {
        char rel[64], path[PATH_MAX], buf[64];

        snprintf(path, sizeof(path), "%s/%d", f->root, (int) pid);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof(path), "%s/%d/fd", f->root, (int) pid);
        assert_int_equal(mkdir(path, 0755), 0);

        fake_stat(f, pid, comm, comm_len, start);

        snprintf(rel, sizeof(rel), "%d/comm", (int) pid);
        assert_true(comm_len + 1 < sizeof(buf));
        memcpy(buf, comm, comm_len);
        buf[comm_len] = '\n';
        fake_write(f, rel, buf, comm_len + 1);

        snprintf(rel, sizeof(rel), "%d/status", (int) pid);
        fake_writef(f, rel,
                    "Name:\tx\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t%d\nNgid:\t0\nPid:\t%d\n"
                    "PPid:\t1\nTracerPid:\t0\nUid:\t%u\t%u\t%u\t%u\nGid:\t0\t0\t0\t0\nFDSize:\t64\n",
                    (int) pid, (int) pid, uid, uid + 1, uid + 2, uid + 3);

        if (with_limits) {
                snprintf(rel, sizeof(rel), "%d/limits", (int) pid);
                fake_writef(f, rel,
                            "Limit                     Soft Limit           Hard Limit           Units     \n"
                            "Max cpu time              unlimited            unlimited            seconds   \n"
                            "Max open files            1024                 524288               files     \n"
                            "Max locked memory         8388608              8388608              bytes     \n");
        }

        snprintf(path, sizeof(path), "%s/%d/exe", f->root, (int) pid);
        assert_int_equal(symlink("/usr/bin/fake", path), 0);
}

static void fake_proc(const struct fake *f, pid_t pid, const char *comm, uint64_t start) {
        fake_proc_raw(f, pid, comm, strlen(comm), start, 1000, true);
}

static void fake_fd(const struct fake *f, pid_t pid, int fd, const char *target) {
        char path[PATH_MAX];

        snprintf(path, sizeof(path), "%s/%d/fd/%d", f->root, (int) pid, fd);
        (void) unlink(path);
        assert_int_equal(symlink(target, path), 0);
}

static void fake_socket(const struct fake *f, pid_t pid, int fd, uint32_t inode) {
        char target[64];

        snprintf(target, sizeof(target), "socket:[%u]", inode);
        fake_fd(f, pid, fd, target);
}

static void fake_rm(const struct fake *f, const char *rel) {
        char cmd[PATH_MAX];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s/%s'", f->root, rel);
        assert_int_equal(system(cmd), 0);
}

static int fake_setup(void **state) {
        struct fake *f = calloc(1, sizeof(*f));

        assert_non_null(f);
        snprintf(f->root, sizeof(f->root), "/tmp/test-procmap-XXXXXX");
        assert_non_null(mkdtemp(f->root));
        /* Not numeric: must be ignored like /proc/self, /proc/sys and friends. */
        {
                char path[PATH_MAX + 8];

                snprintf(path, sizeof(path), "%s/self", f->root);
                assert_int_equal(symlink("1", path), 0);
        }
        *state = f;
        return 0;
}

static int fake_teardown(void **state) {
        struct fake *f = *state;

        fake_rm(f, "");
        free(f);
        return 0;
}

static struct procmap *fake_map(const struct fake *f, procmap_unit_fn get_unit) {
        struct procmap *pm = NULL;

        assert_int_equal(procmap_new(f->root, get_unit, &pm), 0);
        assert_non_null(pm);
        return pm;
}

static size_t holders(const struct procmap *pm, uint32_t inode, const pid_t **ret) {
        return procmap_holders(pm, inode, ret);
}

/* ---- parsers ------------------------------------------------------------------------------- */

static void test_parse_stat(void **state) {
        static const struct {
                const char *in;
                int ret;
                uint64_t start;
        } t[] = {
                { "1 (init) S 0 1 1 0 -1 4194560 1 2 3 4 5 6 7 8 20 0 1 0 42 1000 10\n", 0, 42 },
                { "1 (init) S 0 1 1 0 -1 4194560 1 2 3 4 5 6 7 8 20 0 1 0 42", 0, 42 },
                { "7 (x) (y) R 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 9 1 1\n", 0, 9 },
                { "7 (a b c) S 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 18446744073709551615 1\n", 0, UINT64_MAX },
                { "7 (a\nb)) S 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 77 1\n", 0, 77 },
                { "7 ()) S 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 1\n", 0, 5 },
                /* errors */
                { "", -EBADMSG, 0 },
                { "7 (x S 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 9 1\n", -EBADMSG, 0 },
                { "7 (x) S 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0\n", -EBADMSG, 0 },
                { "7 (x) S 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 ", -EBADMSG, 0 },
                { "7 (x) S 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 18446744073709551616 1\n", -EBADMSG, 0 },
                { "7 (x) S 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 -9 1\n", -EBADMSG, 0 },
                { "7 (x) S 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 9x 1\n", -EBADMSG, 0 },
                { "7 (x)S 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 9 1\n", -EBADMSG, 0 },
                { ")", -EBADMSG, 0 },
                { "7 (x) S 0 1 1 0 -1 0 0\n0 0 0 0 0 0 0 20 0 1 0 9 1\n", -EBADMSG, 0 },
        };

        for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
                uint64_t v = 0xdead;
                int r = proc_parse_stat_start_time(t[i].in, strlen(t[i].in), &v);

                if (r != t[i].ret)
                        fail_msg("stat case %zu: got %d", i, r);
                if (r == 0)
                        assert_int_equal(v, t[i].start);
                else
                        assert_int_equal(v, 0xdead);
        }

        /* Not NUL-terminated, cut in the middle of the number: the length is honoured. */
        {
                const char *s = "1 (a) S 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 12345 1";
                const char *p = strstr(s, "12345");
                uint64_t v;

                assert_int_equal(proc_parse_stat_start_time(s, (size_t) (p - s) + 3, &v), 0);
                assert_int_equal(v, 123);
                assert_int_equal(proc_parse_stat_start_time(s, (size_t) (p - s), &v), -EBADMSG);
        }
}

static void test_parse_limits(void **state) {
        static const struct {
                const char *in;
                int ret;
                int64_t v;
        } t[] = {
                { "Limit   Soft Limit  Hard Limit  Units\n"
                  "Max open files            1024                 524288               files     \n",
                  0, 1024 },
                { "Max open files            unlimited            unlimited            files     \n", 0, -1 },
                { "Max open files 9223372036854775807 1 files\n", 0, INT64_MAX },
                { "Max open files\t7", 0, 7 },
                { "Max cpu time unlimited unlimited seconds\nMax open files 3 4 files\n", 0, 3 },
                /* errors */
                { "", -EBADMSG, 0 },
                { "Max open files\n", -EBADMSG, 0 },
                { "Max open files ", -EBADMSG, 0 },
                { "Max open files 9223372036854775808 1 files\n", -EBADMSG, 0 },
                { "Max open files unlimitedx 1\n", -EBADMSG, 0 },
                { "Max open files unlimite", -EBADMSG, 0 },
                { "Max open files 12abc 1\n", -EBADMSG, 0 },
                { "Max open filesx 12 1\n", -EBADMSG, 0 },
                { " Max open files 12 1\n", -EBADMSG, 0 },
                { "Max open fil", -EBADMSG, 0 },
                { "Max open files -1 1\n", -EBADMSG, 0 },
        };

        for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
                int64_t v = 0xdead;
                int r = proc_parse_limits_nofile(t[i].in, strlen(t[i].in), &v);

                if (r != t[i].ret)
                        fail_msg("limits case %zu: got %d", i, r);
                assert_int_equal(v, r == 0 ? t[i].v : 0xdead);
        }
}

static void test_parse_status(void **state) {
        static const struct {
                const char *in;
                int ret;
                uint32_t v;
        } t[] = {
                { "Name:\tbash\nUid:\t1000\t1001\t1002\t1003\nGid:\t0\n", 0, 1000 },
                { "Uid:\t0\t0\t0\t0\n", 0, 0 },
                { "Uid: 4294967295 1 1 1", 0, UINT32_MAX },
                { "Name:\tUid:\t5\nUid:\t6\t6\t6\t6\n", 0, 6 },
                { "Uid:\t7", 0, 7 },
                /* errors */
                { "", -EBADMSG, 0 },
                { "Gid:\t0\t0\t0\t0\n", -EBADMSG, 0 },
                { "Uid:\n", -EBADMSG, 0 },
                { "Uid:\t4294967296\t0\n", -EBADMSG, 0 },
                { "Uid:\t-1\t0\n", -EBADMSG, 0 },
                { "Uid:\t12a\t0\n", -EBADMSG, 0 },
                { "Uid", -EBADMSG, 0 },
                { " Uid:\t1\n", -EBADMSG, 0 },
        };

        for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
                uint32_t v = 0xdead;
                int r = proc_parse_status_uid(t[i].in, strlen(t[i].in), &v);

                if (r != t[i].ret)
                        fail_msg("status case %zu: got %d", i, r);
                assert_int_equal(v, r == 0 ? t[i].v : 0xdead);
        }
}

static void test_parse_socket_link(void **state) {
        static const struct {
                const char *in;
                int ret;
                uint32_t v;
        } t[] = {
                { "socket:[12345]", 0, 12345 },
                { "socket:[1]", 0, 1 },
                { "socket:[4294967295]", 0, UINT32_MAX },
                { "socket:[0]", 0, 0 }, /* well-formed; no socket has it, callers ignore 0 */
                /* errors */
                { "", -EBADMSG, 0 },
                { "socket:[]", -EBADMSG, 0 },
                { "socket:[", -EBADMSG, 0 },
                { "socket:[12", -EBADMSG, 0 },
                { "socket:[12]x", -EBADMSG, 0 },
                { "socket:[12]\n", -EBADMSG, 0 },
                { "socket:[4294967296]", -EBADMSG, 0 },
                { "socket:[99999999999999999999999]", -EBADMSG, 0 },
                { "socket:[-1]", -EBADMSG, 0 },
                { "socket:[ 1]", -EBADMSG, 0 },
                { "socket:[1 ]", -EBADMSG, 0 },
                { "socket:[0x10]", -EBADMSG, 0 },
                { "pipe:[12345]", -EBADMSG, 0 },
                { "anon_inode:[eventfd]", -EBADMSG, 0 },
                { "/dev/null", -EBADMSG, 0 },
                { "Socket:[1]", -EBADMSG, 0 },
                { "socket:[1]]", -EBADMSG, 0 },
                { "socket:[0123]", -EBADMSG, 0 },
                { "socket:[000000000000000123]", -EBADMSG, 0 },
                { "socket:[00]", -EBADMSG, 0 },
        };

        for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
                uint32_t v = 0xdead;
                int r = proc_parse_socket_link(t[i].in, strlen(t[i].in), &v);

                if (r != t[i].ret)
                        fail_msg("socket link case %zu (%s): got %d", i, t[i].in, r);
                assert_int_equal(v, r == 0 ? t[i].v : 0xdead);
        }

        /* The length is honoured: "socket:[12]" inside a longer buffer. */
        {
                uint32_t v;

                assert_int_equal(proc_parse_socket_link("socket:[12]34]", 11, &v), 0);
                assert_int_equal(v, 12);
                assert_int_equal(proc_parse_socket_link("socket:[12]", 10, &v), -EBADMSG);
        }
}

static void test_parse_comm(void **state) {
        static const struct {
                const char *in;
                size_t len;
                const char *out;
        } t[] = {
                { "bash\n", 5, "bash" },
                { "bash", 4, "bash" },
                { "a\n\n", 3, "a\\x0a" }, /* only one newline is the kernel's */
                { "\n", 1, "" },
                { "", 0, "" },
                { "%n%s\n", 5, "%n%s" },
                { "x) (y\n", 6, "x) (y" },
                { "a\\b\n", 4, "a\\\\b" },
                { "evil\x1b[31m\n", 10, "evil\\x1b[31m" },
                { "a\nb\n", 4, "a\\x0ab" },
                { "a\0b\n", 4, "a\\x00b" },
                { "\xff\xfe\n", 3, "\\xff\\xfe" },
        };

        for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
                char *s = proc_comm_from_file(t[i].in, t[i].len);

                assert_non_null(s);
                assert_string_equal(s, t[i].out);
                free(s);
        }
}

/* Every parser on every prefix of every byte string of a small alphabet: no crash, no read past
 * len (ASan catches it: each input is copied into an exactly sized heap buffer). */
static void test_parse_robust(void **state) {
        static const char alphabet[] = "socket:[]0123456789) (\nUid:Max open files unlimited\t\xff";
        unsigned seed = 1;

        for (int iter = 0; iter < 20000; iter++) {
                size_t len = (size_t) (rand_r(&seed) % 48);
                char *buf = malloc(len ? len : 1);
                uint64_t u64;
                int64_t i64;
                uint32_t u32;
                char *s;

                assert_non_null(buf);
                for (size_t i = 0; i < len; i++)
                        buf[i] = (char) (rand_r(&seed) % 8 == 0
                                                 ? rand_r(&seed)
                                                 : alphabet[(size_t) rand_r(&seed) % (sizeof(alphabet) - 1)]);
                (void) proc_parse_stat_start_time(buf, len, &u64);
                (void) proc_parse_limits_nofile(buf, len, &i64);
                (void) proc_parse_status_uid(buf, len, &u32);
                (void) proc_parse_socket_link(buf, len, &u32);
                s = proc_comm_from_file(buf, len);
                assert_non_null(s);
                free(s);
                free(buf);
        }
}

/* ---- resolution on a fake tree ------------------------------------------------------------- */

static void test_new_errors(void **state) {
        struct procmap *pm = (struct procmap *) 1;

        assert_int_equal(procmap_new("/nonexistent/proc", NULL, &pm), -ENOENT);
        assert_int_equal(procmap_new("/etc/hostname", NULL, &pm), -ENOTDIR);
        assert_null(procmap_free(NULL));
}

static void test_single_holder(void **state) {
        struct fake *f = *state;
        struct procmap_stats st = {};
        const struct proc_info *info;
        const uint32_t in[] = { 4242 };
        struct procmap *pm;
        const pid_t *p;

        fake_proc(f, 123, "nginx", 555);
        fake_fd(f, 123, 0, "/dev/null");
        fake_socket(f, 123, 3, 4242);
        fake_socket(f, 123, 4, 4343);

        pm = fake_map(f, NULL);
        assert_int_equal(procmap_resolve(pm, in, 1, &st), 0);
        assert_int_equal(holders(pm, 4242, &p), 1);
        assert_int_equal(p[0], 123);
        assert_int_equal(holders(pm, 4343, &p), 0); /* held, but not asked for */
        assert_int_equal(holders(pm, 0, &p), 0);

        info = procmap_info(pm, 123);
        assert_non_null(info);
        assert_int_equal(info->pid, 123);
        assert_int_equal(info->start_time, 555);
        assert_string_equal(info->comm, "nginx");
        assert_string_equal(info->exe, "/usr/bin/fake");
        assert_int_equal(info->uid, 1000);
        assert_null(info->unit);
        assert_int_equal(info->open_fds, 3);
        assert_int_equal(info->fd_limit, 1024);
        assert_null(procmap_info(pm, 124));

        assert_int_equal(st.pids_walked, 1);
        assert_int_equal(st.links_read, 3);
        assert_int_equal(st.unresolved, 0);
        assert_int_equal(st.denied, 0);
        assert_int_equal(st.vanished, 0);
        assert_true(st.proc_entries >= 4);

        /* NULL stats is allowed. */
        assert_int_equal(procmap_resolve(pm, in, 1, NULL), 0);
        assert_int_equal(holders(pm, 4242, &p), 1);
        procmap_free(pm);
}

/* Where a holder runs: its network namespace (the inode of PID/ns/net) and the container and pod
 * its cgroup names; nothing for a process on the host or without those files. */
static void test_container_and_netns(void **state) {
        static const char id[] = "4a3f1c2b9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a";
        struct fake *f = *state;
        const uint32_t in[] = { 700, 701, 702 };
        const struct proc_info *info;
        struct procmap *pm;
        struct stat st;
        char path[PATH_MAX];

        fake_proc(f, 10, "in-pod", 1);
        fake_socket(f, 10, 3, 700);
        snprintf(path, sizeof(path), "%s/10/ns", f->root);
        assert_int_equal(mkdir(path, 0755), 0);
        fake_write(f, "10/ns/net", "", 0);
        snprintf(path, sizeof(path), "%s/10/ns/net", f->root);
        assert_int_equal(stat(path, &st), 0);
        fake_writef(f, "10/cgroup",
                    "0::/kubepods.slice/kubepods-burstable.slice/"
                    "kubepods-burstable-pod0f1e2d3c_4b5a_6978_8a9b_0c1d2e3f4a5b.slice/cri-containerd-%s.scope\n",
                    id);
        fake_proc(f, 11, "on-host", 1);
        fake_socket(f, 11, 3, 701);
        fake_writef(f, "11/cgroup", "0::/system.slice/nginx.service\n");
        fake_proc(f, 12, "bare", 1); /* no cgroup, no ns files */
        fake_socket(f, 12, 3, 702);

        pm = fake_map(f, NULL);
        assert_int_equal(procmap_resolve(pm, in, ELEMENTSOF(in), NULL), 0);
        info = procmap_info(pm, 10);
        assert_non_null(info);
        assert_int_equal(info->netns, st.st_ino);
        assert_non_null(info->container);
        assert_string_equal(info->container, id);
        assert_non_null(info->pod);
        assert_string_equal(info->pod, "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b");
        info = procmap_info(pm, 11);
        assert_non_null(info);
        assert_null(info->container);
        assert_null(info->pod);
        info = procmap_info(pm, 12);
        assert_non_null(info);
        assert_int_equal(info->netns, 0);
        assert_null(info->container);
        assert_null(info->pod);
        procmap_free(pm);
}

static void test_shared_and_dup(void **state) {
        struct fake *f = *state;
        struct procmap_stats st = {};
        const uint32_t in[] = { 0, 7, 7, 8, 0, 7 };
        struct procmap *pm;
        const pid_t *p;

        /* A forked pair shares 7; 300 also holds it twice (dup) and 8 once. */
        fake_proc(f, 300, "worker", 10);
        fake_proc(f, 20, "master", 5);
        fake_proc(f, 1000, "other", 5);
        fake_socket(f, 300, 3, 7);
        fake_socket(f, 300, 9, 7);
        fake_socket(f, 300, 10, 8);
        fake_socket(f, 20, 3, 7);
        fake_socket(f, 1000, 3, 9);

        pm = fake_map(f, NULL);
        assert_int_equal(procmap_resolve(pm, in, sizeof(in) / sizeof(in[0]), &st), 0);
        assert_int_equal(holders(pm, 7, &p), 2);
        assert_int_equal(p[0], 20);
        assert_int_equal(p[1], 300);
        assert_int_equal(holders(pm, 8, &p), 1);
        assert_int_equal(p[0], 300);
        assert_int_equal(st.unresolved, 0);
        assert_non_null(procmap_info(pm, 20));
        assert_non_null(procmap_info(pm, 300));
        assert_null(procmap_info(pm, 1000)); /* not a holder */

        /* Again, from the cache: the dup'ed fds are verified separately, listed once. */
        memset(&st, 0, sizeof(st));
        assert_int_equal(procmap_resolve(pm, in, sizeof(in) / sizeof(in[0]), &st), 0);
        assert_int_equal(holders(pm, 7, &p), 2);
        assert_int_equal(p[0], 20);
        assert_int_equal(p[1], 300);
        assert_int_equal(st.cache_verified, 4);
        assert_int_equal(st.pids_walked, 0);
        procmap_free(pm);
}

static void test_non_socket_links(void **state) {
        struct fake *f = *state;
        struct procmap_stats st = {};
        const uint32_t in[] = { 4242, 5 };
        struct procmap *pm;
        const pid_t *p;

        fake_proc(f, 50, "x", 1);
        fake_fd(f, 50, 0, "pipe:[4242]");
        fake_fd(f, 50, 1, "/dev/null");
        fake_fd(f, 50, 2, "anon_inode:[eventfd]");
        fake_fd(f, 50, 3, "socket:[4242]x");
        fake_fd(f, 50, 4, "socket:[42420]");
        fake_fd(f, 50, 5, "/tmp/socket:[4242]");
        fake_socket(f, 50, 6, 5);
        /* Entries of an fd directory that are not fd numbers are not fds. */
        fake_fd(f, 50, 0, "pipe:[4242]");
        {
                char path[PATH_MAX];

                snprintf(path, sizeof(path), "%s/50/fd/x7", f->root);
                assert_int_equal(symlink("socket:[4242]", path), 0);
                snprintf(path, sizeof(path), "%s/50/fd/07", f->root);
                assert_int_equal(symlink("socket:[4242]", path), 0);
        }

        pm = fake_map(f, NULL);
        assert_int_equal(procmap_resolve(pm, in, 2, &st), 0);
        assert_int_equal(holders(pm, 4242, &p), 0);
        assert_int_equal(holders(pm, 5, &p), 1);
        assert_int_equal(st.unresolved, 1);
        assert_int_equal(st.links_read, 7);
        assert_int_equal(procmap_info(pm, 50)->open_fds, 7);
        procmap_free(pm);
}

static void test_unresolved_and_empty(void **state) {
        struct fake *f = *state;
        struct procmap_stats st = {};
        const uint32_t in[] = { 1, 2, 3 };
        struct procmap *pm;
        const pid_t *p;

        fake_proc(f, 2, "a", 1);
        fake_socket(f, 2, 3, 2);

        pm = fake_map(f, NULL);
        assert_int_equal(procmap_resolve(pm, in, 3, &st), 0);
        assert_int_equal(st.unresolved, 2);
        assert_int_equal(holders(pm, 2, &p), 1);
        assert_int_equal(holders(pm, 1, &p), 0);
        assert_null(p);

        /* Nothing asked: no /proc access, nothing answered. */
        memset(&st, 0, sizeof(st));
        assert_int_equal(procmap_resolve(pm, NULL, 0, &st), 0);
        assert_int_equal(st.proc_entries, 0);
        assert_int_equal(holders(pm, 2, &p), 0);
        assert_null(procmap_info(pm, 2));

        /* Only zeros: the same. */
        {
                const uint32_t zeros[] = { 0, 0 };

                assert_int_equal(procmap_resolve(pm, zeros, 2, &st), 0);
                assert_int_equal(st.proc_entries, 0);
        }

        /* And the cache was forgotten with it, so this walks again. */
        memset(&st, 0, sizeof(st));
        assert_int_equal(procmap_resolve(pm, in, 3, &st), 0);
        assert_int_equal(holders(pm, 2, &p), 1);
        assert_int_equal(st.pids_walked, 1);
        procmap_free(pm);
}

static void test_hostile_comm(void **state) {
        static const struct {
                const char *comm;
                size_t len;
        } t[] = {
                { "evil\x1b[31m", 9 },
                { "a\nb", 3 },
                { "%n%s", 4 },
                { "\xff\xfe", 2 },
                { "x) (y", 5 },
                { "a\\b", 3 },
                { ") 1 2 3 )", 9 },
                { "\xe2\x80\xae"
                  "gpj",
                  6 },
        };
        struct fake *f = *state;
        struct procmap *pm;
        uint32_t in[sizeof(t) / sizeof(t[0])];

        for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
                fake_proc_raw(f, (pid_t) (100 + i), t[i].comm, t[i].len, 1000 + i, 0, true);
                fake_socket(f, (pid_t) (100 + i), 3, (uint32_t) (9000 + i));
                in[i] = (uint32_t) (9000 + i);
        }

        pm = fake_map(f, NULL);
        assert_int_equal(procmap_resolve(pm, in, sizeof(in) / sizeof(in[0]), NULL), 0);
        for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
                const struct proc_info *info = procmap_info(pm, (pid_t) (100 + i));
                char *want = str_escape(t[i].comm, t[i].len);

                assert_non_null(info);
                /* The stat line with this comm in it still gives the right start time. */
                assert_int_equal(info->start_time, 1000 + i);
                assert_non_null(want);
                assert_string_equal(info->comm, want);
                for (const char *c = info->comm; *c; c++)
                        assert_true((unsigned char) *c >= 0x20 && *c != 0x7f);
                free(want);
        }
        assert_string_equal(procmap_info(pm, 100)->comm, "evil\\x1b[31m");
        assert_string_equal(procmap_info(pm, 101)->comm, "a\\x0ab");
        assert_string_equal(procmap_info(pm, 102)->comm, "%n%s");
        assert_string_equal(procmap_info(pm, 103)->comm, "\\xff\\xfe");
        assert_string_equal(procmap_info(pm, 104)->comm, "x) (y");
        assert_string_equal(procmap_info(pm, 105)->comm, "a\\\\b");
        procmap_free(pm);
}

static void test_missing_files(void **state) {
        struct fake *f = *state;
        const uint32_t in[] = { 11, 12 };
        const struct proc_info *info;
        struct procmap *pm;
        const pid_t *p;

        fake_proc_raw(f, 10, "nolimits", 8, 1, 0, false);
        fake_socket(f, 10, 3, 11);
        fake_proc(f, 20, "bare", 1);
        fake_socket(f, 20, 3, 12);
        fake_rm(f, "20/comm");
        fake_rm(f, "20/status");
        fake_rm(f, "20/limits");
        fake_rm(f, "20/exe");
        fake_write(f, "10/limits", "Max open files  unlimited  unlimited  files\n", 44);
        fake_rm(f, "10/limits");

        pm = fake_map(f, NULL);
        assert_int_equal(procmap_resolve(pm, in, 2, NULL), 0);
        assert_int_equal(holders(pm, 11, &p), 1);
        assert_int_equal(holders(pm, 12, &p), 1);

        info = procmap_info(pm, 10);
        assert_non_null(info);
        assert_int_equal(info->fd_limit, -1);
        assert_int_equal(info->uid, 0);
        assert_string_equal(info->comm, "nolimits");

        info = procmap_info(pm, 20);
        assert_non_null(info);
        assert_string_equal(info->comm, "");
        assert_null(info->exe);
        assert_int_equal(info->uid, UINT32_MAX);
        assert_int_equal(info->fd_limit, -1);
        assert_int_equal(info->open_fds, 1);
        procmap_free(pm);
}

static void test_limits_unlimited(void **state) {
        struct fake *f = *state;
        const uint32_t in[] = { 11 };
        struct procmap *pm;

        fake_proc(f, 10, "x", 1);
        fake_socket(f, 10, 3, 11);
        fake_writef(f, "10/limits",
                    "Limit                     Soft Limit           Hard Limit           Units     \n"
                    "Max open files            unlimited            unlimited            files     \n");

        pm = fake_map(f, NULL);
        assert_int_equal(procmap_resolve(pm, in, 1, NULL), 0);
        assert_int_equal(procmap_info(pm, 10)->fd_limit, -1);
        procmap_free(pm);
}

static void test_process_vanishes(void **state) {
        struct fake *f = *state;
        struct procmap_stats st = {};
        const uint32_t in[] = { 11, 12 };
        struct procmap *pm;
        const pid_t *p;

        fake_proc(f, 10, "a", 1);
        fake_socket(f, 10, 3, 11);
        fake_proc(f, 20, "b", 1);
        fake_socket(f, 20, 3, 12);

        pm = fake_map(f, NULL);
        assert_int_equal(procmap_resolve(pm, in, 2, &st), 0);
        assert_int_equal(holders(pm, 11, &p), 1);

        fake_rm(f, "10");
        memset(&st, 0, sizeof(st));
        assert_int_equal(procmap_resolve(pm, in, 2, &st), 0);
        assert_int_equal(holders(pm, 11, &p), 0);
        assert_null(procmap_info(pm, 10));
        assert_int_equal(holders(pm, 12, &p), 1);
        assert_int_equal(st.unresolved, 1);

        /* Gone with only its stat left (exiting): a vanished holder, never an error. */
        fake_rm(f, "20/fd");
        fake_rm(f, "20/comm");
        memset(&st, 0, sizeof(st));
        assert_int_equal(procmap_resolve(pm, in, 2, &st), 0);
        assert_int_equal(holders(pm, 12, &p), 0);
        assert_int_equal(st.unresolved, 2);
        assert_true(st.vanished >= 1);
        procmap_free(pm);
}

static void test_cache(void **state) {
        struct fake *f = *state;
        struct procmap_stats st1 = {}, st2 = {};
        unsigned long links = 0;
        uint32_t in[10];
        struct procmap *pm;
        const pid_t *p;

        /* 20 processes with 30 fds each; 10 sockets of interest in 5 of them. */
        for (int i = 0; i < 20; i++) {
                fake_proc(f, 100 + i, "svc", 1);
                for (int fd = 0; fd < 30; fd++)
                        fake_socket(f, 100 + i, fd, (uint32_t) (100000 + i * 100 + fd));
        }
        for (int k = 0; k < 10; k++)
                in[k] = (uint32_t) (100000 + (k / 2) * 400 + k);

        pm = fake_map(f, NULL);
        assert_int_equal(procmap_resolve(pm, in, 10, &st1), 0);
        assert_int_equal(st1.pids_walked, 20);
        assert_int_equal(st1.links_read, 600);
        assert_int_equal(st1.cache_verified, 0);
        assert_int_equal(st1.unresolved, 0);

        /* From the index: nothing walked, and each socket's link is read again once in 16 calls
         * (a different slice each call), never all of them at once. */
        for (int call = 0; call < 16; call++) {
                memset(&st2, 0, sizeof(st2));
                assert_int_equal(procmap_resolve(pm, in, 10, &st2), 0);
                assert_int_equal(st2.pids_walked, 0);
                assert_int_equal(st2.cache_verified, 10);
                assert_int_equal(st2.cache_stale, 0);
                assert_true(st2.proc_entries < st1.proc_entries / 3); /* fd counts are listed here, not stat()ed */
                links += st2.links_read;
        }
        assert_int_equal(links, 10);
        for (int k = 0; k < 10; k++) {
                assert_int_equal(holders(pm, in[k], &p), 1);
                assert_int_equal(p[0], 100 + (k / 2) * 4);
        }

        /* Any socket a walk saw is in the index, asked for or not: found without a walk. */
        in[0] = 100000 + 3 * 100 + 5;
        memset(&st2, 0, sizeof(st2));
        assert_int_equal(procmap_resolve(pm, in, 10, &st2), 0);
        assert_int_equal(holders(pm, in[0], &p), 1);
        assert_int_equal(p[0], 103);
        assert_int_equal(st2.pids_walked, 0);

        /* A new socket in a process that holds wanted ones: its fd count changed, so it is walked
         * again, reading only the links of fds that did not hold a wanted socket. */
        fake_socket(f, 104, 40, 555555);
        in[1] = 555555;
        memset(&st2, 0, sizeof(st2));
        assert_int_equal(procmap_resolve(pm, in, 10, &st2), 0);
        assert_int_equal(holders(pm, 555555, &p), 1);
        assert_int_equal(p[0], 104);
        assert_int_equal(st2.pids_walked, 1);
        assert_true(st2.links_read <= 31 - 2 + 1);
        assert_int_equal(st2.unresolved, 0);

        /* A new socket in a process holding nothing asked for: the processes whose fd count
         * changed are walked, not the others. */
        fake_socket(f, 117, 40, 666666);
        in[2] = 666666;
        memset(&st2, 0, sizeof(st2));
        assert_int_equal(procmap_resolve(pm, in, 10, &st2), 0);
        assert_int_equal(holders(pm, 666666, &p), 1);
        assert_int_equal(p[0], 117);
        assert_int_equal(st2.pids_walked, 1);
        assert_int_equal(st2.unresolved, 0);

        /* A socket no process holds: one sweep over every process, then left alone. */
        in[3] = 777777;
        memset(&st2, 0, sizeof(st2));
        assert_int_equal(procmap_resolve(pm, in, 10, &st2), 0);
        assert_int_equal(st2.unresolved, 1);
        assert_int_equal(st2.pids_walked, 20);
        memset(&st2, 0, sizeof(st2));
        assert_int_equal(procmap_resolve(pm, in, 10, &st2), 0);
        assert_int_equal(st2.unresolved, 1);
        assert_int_equal(st2.pids_walked, 0);
        procmap_free(pm);
}

static void test_stale_fd(void **state) {
        struct fake *f = *state;
        struct procmap_stats st = {};
        const uint32_t in[] = { 77 };
        struct procmap *pm;
        const pid_t *p;
        int calls;

        fake_proc(f, 10, "a", 1);
        fake_proc(f, 20, "b", 1);
        fake_fd(f, 10, 0, "/dev/null");
        fake_socket(f, 10, 3, 77);
        fake_socket(f, 20, 3, 78);

        pm = fake_map(f, NULL);
        assert_int_equal(procmap_resolve(pm, in, 1, &st), 0);
        assert_int_equal(holders(pm, 77, &p), 1);
        assert_int_equal(p[0], 10);

        /* 10 passed it to 20 (SCM_RIGHTS, fd 5) and closed it: both fd counts changed. */
        fake_rm(f, "10/fd/3");
        fake_socket(f, 20, 5, 77);
        memset(&st, 0, sizeof(st));
        assert_int_equal(procmap_resolve(pm, in, 1, &st), 0);
        assert_int_equal(holders(pm, 77, &p), 1);
        assert_int_equal(p[0], 20);
        assert_null(procmap_info(pm, 10));
        assert_int_equal(st.unresolved, 0);

        /* And back, onto another fd of 10. */
        fake_rm(f, "20/fd/5");
        fake_socket(f, 10, 8, 77);
        assert_int_equal(procmap_resolve(pm, in, 1, NULL), 0);
        assert_int_equal(holders(pm, 77, &p), 1);
        assert_int_equal(p[0], 10);

        /* The fd number now holds another socket, the fd count is the same: seen when the link
         * is read again, within 16 calls. */
        fake_socket(f, 10, 8, 79);
        for (calls = 1; calls <= 16; calls++) {
                memset(&st, 0, sizeof(st));
                assert_int_equal(procmap_resolve(pm, in, 1, &st), 0);
                if (holders(pm, 77, &p) == 0)
                        break;
        }
        assert_true(calls <= 16);
        assert_int_equal(st.cache_stale, 1);
        assert_int_equal(st.unresolved, 1);
        procmap_free(pm);
}

static void test_fork_after_cache(void **state) {
        struct fake *f = *state;
        struct procmap_stats st = {};
        const uint32_t in[] = { 77 };
        struct procmap *pm;
        const pid_t *p;

        fake_proc(f, 500, "parent", 1);
        fake_socket(f, 500, 3, 77);
        fake_proc(f, 600, "bystander", 1);
        fake_socket(f, 600, 3, 1);

        pm = fake_map(f, NULL);
        assert_int_equal(procmap_resolve(pm, in, 1, &st), 0);
        assert_int_equal(holders(pm, 77, &p), 1);

        /* A child appears: the cached holder is verified, yet the new process is walked. */
        fake_proc(f, 501, "child", 2);
        fake_socket(f, 501, 3, 77);
        memset(&st, 0, sizeof(st));
        assert_int_equal(procmap_resolve(pm, in, 1, &st), 0);
        assert_int_equal(st.cache_verified, 1);
        assert_int_equal(st.pids_walked, 1);
        assert_int_equal(holders(pm, 77, &p), 2);
        assert_int_equal(p[0], 500);
        assert_int_equal(p[1], 501);
        assert_string_equal(procmap_info(pm, 501)->comm, "child");

        /* Both cached now: nothing walked. */
        memset(&st, 0, sizeof(st));
        assert_int_equal(procmap_resolve(pm, in, 1, &st), 0);
        assert_int_equal(st.cache_verified, 2);
        assert_int_equal(st.pids_walked, 0);
        assert_int_equal(holders(pm, 77, &p), 2);
        procmap_free(pm);
}

static void test_pid_reuse(void **state) {
        struct fake *f = *state;
        struct procmap_stats st = {};
        const uint32_t in[] = { 77, 88 };
        struct procmap *pm;
        const pid_t *p;

        fake_proc(f, 500, "old", 1);
        fake_socket(f, 500, 3, 77);
        fake_proc(f, 600, "keeper", 1);
        fake_socket(f, 600, 3, 88);

        pm = fake_map(f, NULL);
        assert_int_equal(procmap_resolve(pm, in, 2, &st), 0);
        assert_int_equal(holders(pm, 77, &p), 1);

        /* 500 exits; a new process gets pid 500 and, at the same fd number, the same inode: the
         * cached entry still reads right but belongs to another process. */
        fake_stat(f, 500, "new", 3, 2);
        fake_write(f, "500/comm", "new\n", 4);
        fake_socket(f, 500, 4, 77);
        memset(&st, 0, sizeof(st));
        assert_int_equal(procmap_resolve(pm, in, 2, &st), 0);
        assert_int_equal(st.cache_stale, 1);
        assert_int_equal(st.cache_verified, 1);
        assert_int_equal(st.pids_walked, 1); /* 500 as new; 600 not again */
        assert_int_equal(holders(pm, 77, &p), 1);
        assert_int_equal(p[0], 500);
        assert_int_equal(procmap_info(pm, 500)->start_time, 2);
        assert_string_equal(procmap_info(pm, 500)->comm, "new");

        /* Reused again, now holding nothing asked for and with a new holder elsewhere. */
        fake_rm(f, "500/fd");
        fake_stat(f, 500, "newer", 5, 3);
        fake_socket(f, 600, 9, 77);
        memset(&st, 0, sizeof(st));
        assert_int_equal(procmap_resolve(pm, in, 2, &st), 0);
        assert_int_equal(holders(pm, 77, &p), 1);
        assert_int_equal(p[0], 600);
        procmap_free(pm);
}

/* The main thread called pthread_exit(): /proc/PID/fd is empty, another thread holds the fds. */
static void test_main_thread_exited(void **state) {
        struct fake *f = *state;
        struct procmap_stats st = {};
        const uint32_t in[] = { 7070 };
        char path[PATH_MAX], target[64];
        struct procmap *pm;
        const pid_t *p;

        fake_proc(f, 300, "threaded", 900);
        snprintf(path, sizeof(path), "%s/300/task", f->root);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof(path), "%s/300/task/300", f->root);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof(path), "%s/300/task/301", f->root);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof(path), "%s/300/task/301/fd", f->root);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof(path), "%s/300/task/301/fd/5", f->root);
        snprintf(target, sizeof(target), "socket:[%u]", 7070u);
        assert_int_equal(symlink(target, path), 0);

        pm = fake_map(f, NULL);
        assert_int_equal(procmap_resolve(pm, in, 1, &st), 0);
        assert_int_equal(holders(pm, 7070, &p), 1);
        assert_int_equal(p[0], 300);
        assert_int_equal(st.unresolved, 0);
        procmap_free(pm);
}

static void test_unreadable_fd_dir(void **state) {
        struct fake *f = *state;
        struct procmap_stats st = {};
        const uint32_t in[] = { 77, 88 };
        struct procmap *pm;
        const pid_t *p;

        /* We run as root, so chmod 000 would not deny: an "fd" that is not a directory stands in
         * for a process whose fds cannot be read. */
        fake_proc(f, 10, "locked", 1);
        fake_rm(f, "10/fd");
        fake_write(f, "10/fd", "", 0);
        fake_proc(f, 20, "open", 1);
        fake_socket(f, 20, 3, 88);

        pm = fake_map(f, NULL);
        assert_int_equal(procmap_resolve(pm, in, 2, &st), 0);
        assert_int_equal(st.denied, 1);
        assert_int_equal(st.unreadable, 1);
        assert_int_equal(st.unresolved, 1);
        assert_int_equal(holders(pm, 88, &p), 1);
        assert_int_equal(holders(pm, 77, &p), 0);

        /* Every process was walked and 77 was not found: left alone for a while, so the
         * locked process is not tried on every call. */
        memset(&st, 0, sizeof(st));
        assert_int_equal(procmap_resolve(pm, in, 2, &st), 0);
        assert_int_equal(st.denied, 0);
        assert_int_equal(st.unreadable, 1); /* still known unreadable: the state does not flap */
        assert_int_equal(st.unresolved, 1);
        assert_int_equal(st.cache_verified, 1);

        /* Nothing asked: no /proc access, the state stays. */
        memset(&st, 0, sizeof(st));
        assert_int_equal(procmap_resolve(pm, in, 0, &st), 0);
        assert_int_equal(st.unreadable, 1);

        /* Readable again (the "fd" a directory holding 77): tried again within PM_VERIFY_SPREAD
         * calls, found, and no longer counted. */
        {
                char path[PATH_MAX];
                int calls = 0;

                fake_rm(f, "10/fd");
                snprintf(path, sizeof(path), "%s/10/fd", f->root);
                assert_int_equal(mkdir(path, 0755), 0);
                fake_socket(f, 10, 4, 77);
                do {
                        memset(&st, 0, sizeof(st));
                        assert_int_equal(procmap_resolve(pm, in, 2, &st), 0);
                } while (st.unreadable > 0 && ++calls < 40);
                assert_int_equal(st.unreadable, 0);
                assert_int_equal(holders(pm, 77, &p), 1);
                assert_int_equal(p[0], 10);
                fake_rm(f, "10/fd");
                fake_write(f, "10/fd", "", 0);
        }

        /* Gone: no longer counted. */
        fake_rm(f, "10");
        memset(&st, 0, sizeof(st));
        assert_int_equal(procmap_resolve(pm, in, 2, &st), 0);
        assert_int_equal(st.unreadable, 0);
        procmap_free(pm);
}

static void test_garbage_entries(void **state) {
        struct fake *f = *state;
        struct procmap_stats st = {};
        const uint32_t in[] = { 77 };
        struct procmap *pm;
        const pid_t *p;

        /* Entries that are not processes, or processes with unusable stat, are skipped. */
        fake_write(f, "sys", "", 0);
        fake_write(f, "42", "", 0); /* numeric, but not a directory */
        fake_proc(f, 43, "badstat", 1);
        fake_write(f, "43/stat", "43 (badstat S 1\n", 16);
        fake_socket(f, 43, 3, 77);
        fake_proc(f, 44, "nostat", 1);
        fake_rm(f, "44/stat");
        fake_socket(f, 44, 3, 77);
        {
                char path[PATH_MAX];

                snprintf(path, sizeof(path), "%s/0", f->root);
                assert_int_equal(mkdir(path, 0755), 0);
                snprintf(path, sizeof(path), "%s/0045", f->root);
                assert_int_equal(mkdir(path, 0755), 0);
                snprintf(path, sizeof(path), "%s/99999999999999999999", f->root);
                assert_int_equal(mkdir(path, 0755), 0);
        }
        fake_proc(f, 45, "good", 1);
        fake_socket(f, 45, 3, 77);

        pm = fake_map(f, NULL);
        assert_int_equal(procmap_resolve(pm, in, 1, &st), 0);
        assert_int_equal(holders(pm, 77, &p), 1);
        assert_int_equal(p[0], 45);
        assert_int_equal(st.pids_walked, 1);
        procmap_free(pm);
}

static int unit_calls;

static int fake_unit(pid_t pid, char **ret) {
        unit_calls++;
        if (pid == 10) {
                *ret = strdup("web.service");
                return *ret ? 0 : -ENOMEM;
        }
        return -ENODATA;
}

static void test_get_unit(void **state) {
        struct fake *f = *state;
        const uint32_t in[] = { 11, 12 };
        struct procmap *pm;

        fake_proc(f, 10, "web", 1);
        fake_socket(f, 10, 3, 11);
        fake_proc(f, 20, "adhoc", 1);
        fake_socket(f, 20, 3, 12);

        unit_calls = 0;
        pm = fake_map(f, fake_unit);
        assert_int_equal(procmap_resolve(pm, in, 2, NULL), 0);
        assert_int_equal(unit_calls, 2);
        assert_string_equal(procmap_info(pm, 10)->unit, "web.service");
        assert_null(procmap_info(pm, 20)->unit);

        /* Fresh on every call. */
        assert_int_equal(procmap_resolve(pm, in, 2, NULL), 0);
        assert_int_equal(unit_calls, 4);
        assert_string_equal(procmap_info(pm, 10)->unit, "web.service");
        procmap_free(pm);
}

static void test_many(void **state) {
        struct fake *f = *state;
        struct procmap_stats st = {};
        static uint32_t in[2000];
        struct procmap *pm;
        const pid_t *p;

        /* 100 processes; each even inode held by two processes: the table grows and rehashes. */
        for (int i = 0; i < 100; i++)
                fake_proc(f, 1000 + i, "m", (uint64_t) i);
        for (int i = 0; i < 100; i++) {
                for (int k = 0; k < 20; k++) {
                        fake_socket(f, 1000 + i, k, (uint32_t) (1 + i * 20 + k));
                        if (k % 2 == 0)
                                fake_socket(f, 1000 + (i + 1) % 100, 100 + k, (uint32_t) (1 + i * 20 + k));
                }
        }
        for (uint32_t k = 0; k < 2000; k++)
                in[k] = 2000 - k;

        pm = fake_map(f, NULL);
        for (int round = 0; round < 2; round++) {
                memset(&st, 0, sizeof(st));
                assert_int_equal(procmap_resolve(pm, in, 2000, &st), 0);
                assert_int_equal(st.unresolved, 0);
                for (int i = 0; i < 100; i++)
                        for (int k = 0; k < 20; k++) {
                                size_t n = holders(pm, (uint32_t) (1 + i * 20 + k), &p);

                                if (k % 2 == 1) {
                                        assert_int_equal(n, 1);
                                        assert_int_equal(p[0], 1000 + i);
                                } else {
                                        assert_int_equal(n, 2);
                                        assert_true(p[0] < p[1]);
                                }
                        }
        }
        assert_int_equal(st.cache_verified, 3000);
        assert_true(st.links_read < 3000 / 8);
        procmap_free(pm);
}

/* A sweep spans calls (here one process per call): an inode that went missing after it began is
 * not made an orphan when it ends; the next sweep walks every process again and finds it. */
static void test_sweep_late_missing(void **state) {
        struct fake *f = *state;
        uint32_t want[2] = { 999 /* held by no process: keeps sweeps going */, 4242 };
        struct procmap_stats st = {};
        struct procmap *pm;
        struct dirent *de;
        const pid_t *p = NULL;
        pid_t first = 0;
        int found_at = 0;
        DIR *d;

        for (pid_t pid = 100; pid <= 300; pid += 100) {
                fake_proc(f, pid, "svc", 1);
                for (int fd = 0; fd < 4; fd++)
                        fake_socket(f, pid, fd, (uint32_t) (pid * 10 + fd));
        }
        /* The sweep goes in the order procmap first listed the processes: this directory's. */
        d = opendir(f->root);
        assert_non_null(d);
        while ((de = readdir(d)) && !first)
                first = de->d_name[0] >= '1' && de->d_name[0] <= '9' ? atoi(de->d_name) : 0;
        closedir(d);

        pm = fake_map(f, NULL);
        procmap_set_sweep_budget(pm, 0);
        assert_int_equal(procmap_resolve(pm, want, 1, &st), 0); /* all three walked as new */
        assert_int_equal(st.pids_walked, 3);
        memset(&st, 0, sizeof(st));
        assert_int_equal(procmap_resolve(pm, want, 1, &st), 0); /* a sweep begins: the first */
        assert_int_equal(st.pids_walked, 1);

        /* That process gets 4242 in place of a socket it closed: its fd count does not change. */
        fake_socket(f, first, 2, 4242);
        for (int call = 1; call <= 8 && !found_at; call++) {
                assert_int_equal(procmap_resolve(pm, want, 2, NULL), 0);
                if (procmap_holders(pm, 4242, &p) == 1)
                        found_at = call;
        }
        /* This sweep ends without it (2 calls), the next finds it (at most 3): not an orphan for
         * the next 60 calls. */
        assert_true(found_at >= 1 && found_at <= 5);
        assert_int_equal(p[0], first);
        procmap_free(pm);
}

/* ---- real /proc ---------------------------------------------------------------------------- */

static void test_real_proc(void **state) {
        struct procmap_stats st = {};
        const struct proc_info *info;
        struct procmap *pm = NULL;
        char comm[64], *want;
        struct rlimit rl;
        struct stat sst;
        uint32_t in[1];
        const pid_t *p;
        int sv[2], fd, child_ok = 0;
        ssize_t n;
        size_t k;

        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        assert_int_equal(fstat(sv[0], &sst), 0);
        in[0] = (uint32_t) sst.st_ino;

        fd = open("/proc/self/comm", O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        n = read(fd, comm, sizeof(comm));
        assert_true(n > 0);
        close(fd);
        want = proc_comm_from_file(comm, (size_t) n);
        assert_non_null(want);

        assert_int_equal(procmap_new("/proc", NULL, &pm), 0);
        assert_int_equal(procmap_resolve(pm, in, 1, &st), 0);
        k = procmap_holders(pm, in[0], &p);
        assert_int_equal(k, 1);
        assert_int_equal(p[0], getpid());

        info = procmap_info(pm, getpid());
        assert_non_null(info);
        assert_string_equal(info->comm, want);
        assert_int_equal(info->uid, getuid());
        assert_non_null(info->exe);
        assert_true(info->start_time > 0);
        assert_true(info->open_fds >= 5); /* stdio and the pair */
        assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
        if (rl.rlim_cur == RLIM_INFINITY)
                assert_int_equal(info->fd_limit, -1);
        else
                /* valgrind keeps a few fds for itself and lowers what getrlimit() reports, not
                 * what /proc/self/limits shows. */
                assert_in_range(info->fd_limit, (int64_t) rl.rlim_cur, (int64_t) rl.rlim_cur + 64);
        assert_int_equal(st.unresolved, 0);

        /* The second call verifies from the cache. */
        memset(&st, 0, sizeof(st));
        assert_int_equal(procmap_resolve(pm, in, 1, &st), 0);
        assert_int_equal(st.cache_verified, 1);
        assert_int_equal(procmap_holders(pm, in[0], &p), 1);

        /* A forked child shares the socket and is found as a new process. */
        {
                int ready[2];
                pid_t child;
                char c;

                assert_int_equal(pipe(ready), 0);
                child = fork();
                assert_true(child >= 0);
                if (child == 0) {
                        close(ready[0]);
                        (void) !write(ready[1], "x", 1);
                        pause();
                        _exit(0);
                }
                close(ready[1]);
                assert_int_equal(read(ready[0], &c, 1), 1);
                close(ready[0]);

                memset(&st, 0, sizeof(st));
                assert_int_equal(procmap_resolve(pm, in, 1, &st), 0);
                k = procmap_holders(pm, in[0], &p);
                for (size_t i = 0; i < k; i++)
                        if (p[i] == child)
                                child_ok = 1;
                assert_int_equal(k, 2);
                assert_true(p[0] < p[1]);
                kill(child, SIGKILL);
                waitpid(child, NULL, 0);
                assert_true(child_ok);

                /* Gone again. */
                assert_int_equal(procmap_resolve(pm, in, 1, &st), 0);
                assert_int_equal(procmap_holders(pm, in[0], &p), 1);
        }

        procmap_free(pm);
        free(want);
        close(sv[0]);
        close(sv[1]);
}

/* How many fds this process has open above fd, from /proc/self/fd. */
static int open_fds_above(int fd) {
        struct dirent *de;
        int n = 0;
        DIR *d = opendir("/proc/self/fd");

        assert_non_null(d);
        while ((de = readdir(d)))
                if (de->d_name[0] != '.' && atoi(de->d_name) > fd && atoi(de->d_name) != dirfd(d))
                        n++;
        closedir(d);
        return n;
}

/* A leak that grows: fds are handed out lowest first, so the holder is walked again from the
 * first fd number its last walk did not see, and every socket, old and new, is still found. */
static void test_real_proc_growth(void **state) {
        enum { OLD = 20, NEW = 10, TRIES = 5, ALL = OLD + NEW * TRIES };
        int sv[ALL][2], n = OLD, tail_ok = 0;
        uint32_t in[ALL];
        struct procmap_stats st = {};
        struct procmap *pm = NULL;
        struct stat sst;
        const pid_t *p;
        bool sizes;

        for (int i = 0; i < OLD; i++) {
                assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv[i]), 0);
                assert_int_equal(fstat(sv[i][0], &sst), 0);
                in[i] = (uint32_t) sst.st_ino;
        }
        assert_int_equal(procmap_new("/proc", NULL, &pm), 0);
        assert_int_equal(procmap_resolve(pm, in, OLD, &st), 0);
        assert_int_equal(st.unresolved, 0);
        assert_int_equal(stat("/proc/self/fd", &sst), 0);
        sizes = sst.st_size > 0;

        /* Processes that start meanwhile are walked too and read links of their own: a few tries
         * for one call that reads only ours. */
        for (int t = 0; t < TRIES && !tail_ok; t++) {
                int top = 0;
                unsigned long bound;

                for (int i = n; i < n + NEW; i++) {
                        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv[i]), 0);
                        assert_int_equal(fstat(sv[i][0], &sst), 0);
                        in[i] = (uint32_t) sst.st_ino;
                        top = sv[i][1] > top ? sv[i][1] : top;
                }
                n += NEW;
                memset(&st, 0, sizeof(st));
                assert_int_equal(procmap_resolve(pm, in, (size_t) n, &st), 0);
                assert_int_equal(st.unresolved, 0);
                for (int i = 0; i < n; i++) {
                        assert_int_equal(procmap_holders(pm, in[i], &p), 1);
                        assert_int_equal(p[0], getpid());
                }
                /* The new links (both ends of each pair), the fds above them (the runner's, or
                 * valgrind's own), and a few verifications; not the 40 old ones. */
                bound = 2 * NEW + (unsigned long) open_fds_above(top) + (unsigned long) n / 8 + 1;
                tail_ok = st.links_read <= bound;
        }
        /* With fd counts in procfs (Linux >= 6.2). */
        if (sizes)
                assert_true(tail_ok);
        else
                print_message("growth: no fd counts in this procfs: the tail walk does not apply\n");

        procmap_free(pm);
        for (int i = 0; i < n; i++) {
                close(sv[i][0]);
                close(sv[i][1]);
        }
}

static uint32_t fd_inode(int fd) {
        struct stat st;

        assert_int_equal(fstat(fd, &st), 0);
        return (uint32_t) st.st_ino;
}

/* The usual life of a server: it closes one fd and opens more; the first new socket takes the
 * freed, lower number, which a walk from the first free number does not list. The socket is
 * still found (by a sweep of every process), and keeps its holder while the process grows. */
static void test_real_proc_reused_number(void **state) {
        struct procmap_stats st = {};
        struct procmap *pm = NULL;
        int w[2], s[2], extra[8][2], filler, found_at = 0;
        uint32_t want[2];
        const pid_t *p;

        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, w), 0);
        filler = open("/dev/null", O_RDONLY | O_CLOEXEC);
        assert_true(filler >= 0);
        want[0] = fd_inode(w[0]);
        assert_int_equal(procmap_new("/proc", NULL, &pm), 0);
        assert_int_equal(procmap_resolve(pm, want, 1, &st), 0);
        assert_int_equal(procmap_holders(pm, want[0], &p), 1);

        close(filler);
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s), 0);
        want[1] = fd_inode(s[0]);
        for (int call = 0; call < 8; call++) {
                memset(&st, 0, sizeof(st));
                assert_int_equal(procmap_resolve(pm, want, 2, &st), 0);
                if (procmap_holders(pm, want[1], &p) == 1 && p[0] == getpid()) {
                        if (!found_at)
                                found_at = call + 1;
                } else
                        assert_int_equal(found_at, 0); /* once found, kept */
                assert_int_equal(procmap_holders(pm, want[0], &p), 1);
                /* Grows on: each call can take a walk from the first free number. */
                assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, extra[call]), 0);
        }
        /* Found in the first call, unless other processes (valgrind makes walks slow) ate the
         * sweep's budget; without the sweep, not before the 60 calls of an orphan. */
        assert_true(found_at >= 1 && found_at <= 8);

        procmap_free(pm);
        for (int i = 0; i < 8; i++) {
                close(extra[i][0]);
                close(extra[i][1]);
        }
        close(w[0]);
        close(w[1]);
        close(s[0]);
        close(s[1]);
}

/* A socket shared with a child, at a high fd of ours: we close it and grow by two fds (a walk
 * from the first free number lists the high numbers again); the child is its only holder. */
static void test_real_proc_shared_closed(void **state) {
        int sv[2], a[2], go[2], high;
        struct procmap *pm = NULL;
        const pid_t *p;
        uint32_t w;
        pid_t child;
        char c;

        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
        high = fcntl(sv[0], F_DUPFD, 200);
        if (high < 0) {
                skip(); /* no room up there (valgrind keeps the top for itself) */
        }
        close(sv[0]);
        w = fd_inode(high);
        assert_int_equal(pipe(go), 0);
        child = fork();
        assert_true(child >= 0);
        if (child == 0) {
                close(go[1]);
                (void) !read(go[0], &c, 1);
                _exit(0);
        }
        close(go[0]);

        assert_int_equal(procmap_new("/proc", NULL, &pm), 0);
        assert_int_equal(procmap_resolve(pm, &w, 1, NULL), 0);
        assert_int_equal(procmap_holders(pm, w, &p), 2);

        close(high);
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, a), 0);
        assert_int_equal(procmap_resolve(pm, &w, 1, NULL), 0);
        assert_int_equal(procmap_holders(pm, w, &p), 1);
        assert_int_equal(p[0], child);

        close(go[1]);
        waitpid(child, NULL, 0);
        procmap_free(pm);
        close(sv[1]);
        close(a[0]);
        close(a[1]);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_stat),
                cmocka_unit_test(test_parse_limits),
                cmocka_unit_test(test_parse_status),
                cmocka_unit_test(test_parse_socket_link),
                cmocka_unit_test(test_parse_comm),
                cmocka_unit_test(test_parse_robust),
                cmocka_unit_test(test_new_errors),
                cmocka_unit_test_setup_teardown(test_single_holder, fake_setup, fake_teardown),
                cmocka_unit_test_setup_teardown(test_container_and_netns, fake_setup, fake_teardown),
                cmocka_unit_test_setup_teardown(test_shared_and_dup, fake_setup, fake_teardown),
                cmocka_unit_test_setup_teardown(test_non_socket_links, fake_setup, fake_teardown),
                cmocka_unit_test_setup_teardown(test_unresolved_and_empty, fake_setup, fake_teardown),
                cmocka_unit_test_setup_teardown(test_hostile_comm, fake_setup, fake_teardown),
                cmocka_unit_test_setup_teardown(test_missing_files, fake_setup, fake_teardown),
                cmocka_unit_test_setup_teardown(test_limits_unlimited, fake_setup, fake_teardown),
                cmocka_unit_test_setup_teardown(test_process_vanishes, fake_setup, fake_teardown),
                cmocka_unit_test_setup_teardown(test_cache, fake_setup, fake_teardown),
                cmocka_unit_test_setup_teardown(test_stale_fd, fake_setup, fake_teardown),
                cmocka_unit_test_setup_teardown(test_fork_after_cache, fake_setup, fake_teardown),
                cmocka_unit_test_setup_teardown(test_pid_reuse, fake_setup, fake_teardown),
                cmocka_unit_test_setup_teardown(test_main_thread_exited, fake_setup, fake_teardown),
                cmocka_unit_test_setup_teardown(test_unreadable_fd_dir, fake_setup, fake_teardown),
                cmocka_unit_test_setup_teardown(test_garbage_entries, fake_setup, fake_teardown),
                cmocka_unit_test_setup_teardown(test_get_unit, fake_setup, fake_teardown),
                cmocka_unit_test_setup_teardown(test_many, fake_setup, fake_teardown),
                cmocka_unit_test_setup_teardown(test_sweep_late_missing, fake_setup, fake_teardown),
                cmocka_unit_test(test_real_proc),
                cmocka_unit_test(test_real_proc_growth),
                cmocka_unit_test(test_real_proc_reused_number),
                cmocka_unit_test(test_real_proc_shared_closed),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
