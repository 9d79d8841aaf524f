/* test-sandbox: the daemon's own filter, installed in a child process that then tries what must
 * fail with EPERM and what must keep working and reports back through a pipe made before the
 * filter; the same when the seccomp() call itself is refused (the unit's SystemCallFilter=); the
 * filter as built for other architectures; and the keeper, writing with the daemon's own
 * tracker_write_file() (so its filter is checked against what that function does): saves, its
 * errors, a keeper killed or stuck, signals it ignores, the fds it keeps, the end of the link;
 * and the keeper of two files, the state and the metrics (sandbox_write_readable()), each in its
 * own directory, with their modes, and what a write function may not do there.
 * Skips without seccomp. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/fs.h>
#include <linux/netlink.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <termios.h>
#include <unistd.h>

#include <cmocka.h>
#include <seccomp.h>
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif

#include "sandbox.h"
#include "tracker.h"
#include "util.h"

#define EXIT_SKIP 77

static bool seccomp_available(void) {
        return prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0;
}

/* ---- checks run in a child, reported through a pipe ------------------------------------ */

struct child {
        int out; /* the report pipe */
        int failures;
};

/* Record one check: ok, or a line "what: returned rv, errno E" into the report. */
static void check(struct child *c, bool ok, const char *what, long rv, int err) {
        char line[512];
        int n;

        if (ok)
                return;
        c->failures++;
        n = snprintf(line, sizeof(line), "%s: returned %ld, errno %d (%s)\n", what, rv, err, strerror(err));
        if (n > 0 && write(c->out, line, (size_t) n) < 0)
                _exit(3);
}

/* The call fails with this errno; the call succeeds (a result >= 0). */
#define EXPECT_ERRNO(c, e, call)                                                                                       \
        do {                                                                                                           \
                long rv_;                                                                                              \
                errno = 0;                                                                                             \
                rv_ = (long) (call);                                                                                   \
                check(c, rv_ == -1 && errno == (e), #call, rv_, errno);                                                \
        } while (0)
#define EXPECT_EPERM(c, call) EXPECT_ERRNO(c, EPERM, call)
/* A call by number that valgrind 3.19 does not know: it answers ENOSYS itself, before the
 * kernel (and the filter) see the call. */
#define EXPECT_EPERM_NEW(c, call) EXPECT_ERRNO(c, RUNNING_ON_VALGRIND ? ENOSYS : EPERM, call)
#define EXPECT_OK(c, call)                                                                                             \
        do {                                                                                                           \
                long rv_;                                                                                              \
                errno = 0;                                                                                             \
                rv_ = (long) (call);                                                                                   \
                check(c, rv_ >= 0, #call, rv_, errno);                                                                 \
        } while (0)

/* Run fn in a child; fail the test with the child's report, skip when it exits EXIT_SKIP. */
static void run_in_child(int (*fn)(struct child *c, void *arg), void *arg) {
        char report[8192];
        size_t len = 0;
        int p[2], status;
        pid_t pid;

        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                struct child c = { .out = p[1] };
                int r;

                close(p[0]);
                r = fn(&c, arg);
                _exit(r != 0 ? r : c.failures > 0 ? 1 : 0);
        }
        close(p[1]);
        for (;;) {
                ssize_t n = read(p[0], report + len, sizeof(report) - 1 - len);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                len += (size_t) n;
        }
        report[len] = '\0';
        close(p[0]);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (WIFEXITED(status) && WEXITSTATUS(status) == EXIT_SKIP)
                skip();
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                fail_msg("the child %s %d; its report:\n%s", WIFEXITED(status) ? "exited" : "was killed by signal",
                         WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), report);
}

/* A temporary directory with a file "f" ("hello") and a directory "d". */
struct scratch {
        char path[64];
        char f[96], d[96];
};

static void scratch_make(struct scratch *s) {
        int fd;

        snprintf(s->path, sizeof(s->path), "/tmp/test-sandbox-XXXXXX");
        assert_non_null(mkdtemp(s->path));
        snprintf(s->f, sizeof(s->f), "%s/f", s->path);
        snprintf(s->d, sizeof(s->d), "%s/d", s->path);
        fd = open(s->f, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(fchmod(fd, 0644), 0); /* whatever the umask (0077 in the unit) */
        assert_int_equal(write(fd, "hello", 5), 5);
        close(fd);
        assert_int_equal(mkdir(s->d, 0700), 0);
}

/* Remove what the scratch directory holds (one level of files, the "d" directory). */
static void scratch_remove(struct scratch *s) {
        DIR *dir = opendir(s->path);
        struct dirent *e;

        assert_non_null(dir);
        while ((e = readdir(dir)))
                if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                        unlinkat(dirfd(dir), e->d_name, strcmp(e->d_name, "d") == 0 ? AT_REMOVEDIR : 0);
        closedir(dir);
        assert_int_equal(rmdir(s->path), 0);
}

/* Unchanged: "f" still says hello, nothing was added. */
static void scratch_check_untouched(const struct scratch *s) {
        char buf[16] = "";
        struct stat st;
        DIR *dir;
        int fd, n = 0;

        fd = open(s->f, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(read(fd, buf, sizeof(buf) - 1), 5);
        assert_string_equal(buf, "hello");
        assert_int_equal(fstat(fd, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0644);
        close(fd);
        dir = opendir(s->path);
        assert_non_null(dir);
        while (readdir(dir))
                n++;
        closedir(dir);
        assert_int_equal(n, 4); /* ., .., f, d */
}

/* ---- sandbox_forbid_writes() ----------------------------------------------------------- */

struct forbid_args {
        const struct scratch *s;
        const struct sockaddr_un *journal; /* an abstract datagram socket bound by the parent */
        socklen_t journal_len;
};

static int forbidden_checks(struct child *c, const struct scratch *s) {
        struct open_how how = { .flags = O_RDONLY };
        uint32_t uring_params[30] = { 0 }; /* struct io_uring_params */
        struct flock lock = { .l_type = F_RDLCK, .l_whence = SEEK_SET };
        char byte = 'x';
        struct iovec local = { &byte, 1 }, remote = { &byte, 1 };
        unsigned flags = 0;
        int dfd, fd;

        dfd = open(s->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        fd = open(s->f, O_RDONLY | O_CLOEXEC);
        check(c, dfd >= 0 && fd >= 0, "opening the scratch directory and file read-only", dfd, errno);

        /* opening to write or create */
        EXPECT_EPERM(c, open(s->f, O_WRONLY | O_CLOEXEC));
        EXPECT_EPERM(c, open(s->f, O_RDWR | O_CLOEXEC));
        EXPECT_EPERM(c, openat(dfd, "f", O_WRONLY | O_TRUNC));
        EXPECT_EPERM(c, openat(dfd, "f", O_RDONLY | O_TRUNC));
        EXPECT_EPERM(c, openat(dfd, "f", O_RDONLY | O_APPEND));
        EXPECT_EPERM(c, openat(dfd, "new", O_RDONLY | O_CREAT, 0600));
        EXPECT_EPERM(c, openat(dfd, ".", O_TMPFILE | O_RDWR, 0600));
        EXPECT_EPERM(c, creat("/proc/self/cwd/new", 0600));
        EXPECT_EPERM(c, open("/proc/1/root/tmp/closewaitd-test-sandbox", O_WRONLY | O_CREAT, 0600));
        /* reopening an fd opened read-only, through /proc */
        {
                char path[64];

                snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
                EXPECT_EPERM(c, open(path, O_RDWR));
        }
#ifdef SYS_open
        EXPECT_EPERM(c, syscall(SYS_open, s->f, O_WRONLY, 0));
#endif
        EXPECT_ERRNO(c, ENOSYS, syscall(SYS_openat2, dfd, "f", &how, sizeof(how)));
        {
                struct file_handle *fh = calloc(1, sizeof(*fh) + MAX_HANDLE_SZ);

                check(c, fh != NULL, "calloc", 0, ENOMEM);
                if (fh) {
                        fh->handle_bytes = MAX_HANDLE_SZ;
                        EXPECT_EPERM(c, open_by_handle_at(dfd, fh, O_RDONLY));
                        free(fh);
                }
        }

        /* changing the tree */
        EXPECT_EPERM(c, rename(s->f, s->d));
        EXPECT_EPERM(c, renameat(dfd, "f", dfd, "g"));
        EXPECT_EPERM(c, syscall(SYS_renameat2, dfd, "f", dfd, "g", 0));
        EXPECT_EPERM(c, unlink(s->f));
        EXPECT_EPERM(c, unlinkat(dfd, "f", 0));
        EXPECT_EPERM(c, rmdir(s->d));
        EXPECT_EPERM(c, mkdir("/proc/self/cwd/new", 0700));
        EXPECT_EPERM(c, mkdirat(dfd, "new", 0700));
        EXPECT_EPERM(c, symlinkat("f", dfd, "s"));
        EXPECT_EPERM(c, linkat(dfd, "f", dfd, "l", 0));
        EXPECT_EPERM(c, mknodat(dfd, "p", S_IFIFO | 0600, 0));
        EXPECT_EPERM(c, truncate(s->f, 0));
        EXPECT_EPERM(c, ftruncate(fd, 0));
        EXPECT_EPERM(c, fallocate(fd, 0, 0, 4096));

        /* metadata, by path and by an fd opened read-only */
        EXPECT_EPERM(c, chmod(s->f, 0666));
        EXPECT_EPERM(c, fchmod(fd, 0666));
        EXPECT_EPERM(c, fchmodat(dfd, "f", 0666, 0));
        EXPECT_EPERM_NEW(c, syscall(452 /* fchmodat2 */, dfd, "f", 0666, 0));
        EXPECT_EPERM(c, chown(s->f, 1, 1));
        EXPECT_EPERM(c, fchown(fd, 1, 1));
        EXPECT_EPERM(c, lchown(s->f, 1, 1));
        EXPECT_EPERM(c, fchownat(dfd, "f", 1, 1, 0));
#ifdef SYS_utimes
        {
                struct timeval tv[2] = { 0 };

                EXPECT_EPERM(c, syscall(SYS_utimes, s->f, tv));
        }
#endif
        EXPECT_EPERM(c, utimensat(dfd, "f", NULL, 0));
        EXPECT_EPERM(c, futimens(fd, NULL));
        EXPECT_EPERM(c, setxattr(s->f, "user.test", "1", 1, 0));
        EXPECT_EPERM(c, fsetxattr(fd, "user.test", "1", 1, 0));
        EXPECT_EPERM(c, removexattr(s->f, "user.test"));
        EXPECT_EPERM(c, fremovexattr(fd, "user.test"));
        EXPECT_EPERM_NEW(c, syscall(463 /* setxattrat */, dfd, "f", 0, "user.test", NULL, 0));
        EXPECT_EPERM_NEW(c, syscall(469 /* file_setattr */, dfd, "f", NULL, 0, 0));
        EXPECT_EPERM(c, ioctl(fd, FS_IOC_SETFLAGS, &flags));
        EXPECT_EPERM(c, ioctl(fd, TIOCSTI, &byte));
        EXPECT_EPERM(c, flock(fd, LOCK_SH));
        EXPECT_EPERM(c, fcntl(fd, F_SETLK, &lock));
        EXPECT_EPERM(c, fcntl(fd, F_OFD_SETLKW, &lock));

        /* the system, other processes, io_uring */
        EXPECT_EPERM(c, mount("none", s->d, "tmpfs", 0, NULL));
        EXPECT_EPERM(c, umount2(s->d, 0));
        EXPECT_EPERM(c, chroot(s->d));
        EXPECT_EPERM_NEW(c, syscall(SYS_open_tree, dfd, "d", 0));
#if !SANDBOX_PTRACE_ALLOWED
        EXPECT_EPERM(c, ptrace(PTRACE_ATTACH, getppid(), NULL, NULL));
#endif
        EXPECT_EPERM(c, process_vm_writev(getppid(), &local, 1, &remote, 1, 0));
        EXPECT_EPERM_NEW(c, syscall(SYS_pidfd_getfd, 0, 0, 0));
        EXPECT_EPERM(c, syscall(SYS_io_uring_setup, 1, uring_params));

        /* sockets that reach other services */
        EXPECT_EPERM(c, socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        EXPECT_EPERM(c, socket(AF_UNIX, SOCK_SEQPACKET, 0));
        EXPECT_EPERM(c, socket(AF_INET, SOCK_STREAM, 0));
        EXPECT_EPERM(c, socket(AF_INET6, SOCK_DGRAM, 0));
        EXPECT_EPERM(c, socket(AF_PACKET, SOCK_RAW, 0));
        EXPECT_EPERM(c, socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE));
        EXPECT_EPERM(c, socket(40 /* AF_VSOCK */, SOCK_STREAM, 0));
        EXPECT_EPERM(c, syscall(SYS_socket, 0x100000000L | AF_INET, SOCK_STREAM, 0)); /* high bits set */

        /* a socket bound to a path is a new file; file-system ioctls through a read-only fd */
        {
                struct sockaddr_un sun = { .sun_family = AF_UNIX };
                int us = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

                snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/sock", s->path);
                EXPECT_EPERM(c, bind(us, (struct sockaddr *) &sun, sizeof(sun)));
                close(us);
        }
        EXPECT_EPERM(c, chdir(s->d));
        EXPECT_EPERM(c, fchdir(dfd));
        EXPECT_EPERM(c, ioctl(fd, _IOW('v', 2, long), &flags));                 /* FS_IOC_SETVERSION */
        EXPECT_EPERM(c, ioctl(fd, _IOW(0x94, 25, unsigned long long), &flags)); /* btrfs */
        close(fd);
        close(dfd);

        /* what CAP_SYS_ADMIN opens beyond entering network namespaces */
        {
                int uts = open("/proc/self/ns/uts", O_RDONLY | O_CLOEXEC);

                EXPECT_EPERM(c, setns(uts, CLONE_NEWUTS));
                EXPECT_EPERM(c, setns(uts, 0));
                close(uts);
        }
        EXPECT_EPERM(c, unshare(CLONE_NEWUTS));
        EXPECT_EPERM(c, unshare(CLONE_NEWNET));
        /* valgrind 3.19 runs a raw fork-like clone() itself (the child crashes on its stack) */
        if (!RUNNING_ON_VALGRIND) {
                EXPECT_EPERM(c, syscall(SYS_clone, CLONE_NEWUTS | SIGCHLD, 0, NULL, NULL, 0));
                EXPECT_EPERM(c, syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, NULL, NULL, 0));
        }
        EXPECT_ERRNO(c, ENOSYS, syscall(SYS_clone3, NULL, 0));
        {
                uint64_t attr[32] = {}; /* zeroed: valgrind reads what the kernel would */

                EXPECT_EPERM(c, syscall(SYS_bpf, 0 /* BPF_MAP_CREATE */, attr, sizeof(attr)));
                EXPECT_EPERM(c, syscall(SYS_perf_event_open, attr, 0, -1, -1, 0));
        }
        EXPECT_EPERM(c, syscall(SYS_fanotify_init, 0, 0));
        EXPECT_EPERM(c, syscall(SYS_keyctl, 0, 0, 0, 0, 0));
        EXPECT_EPERM(c, syscall(SYS_syslog, 10, NULL, 0));
        EXPECT_EPERM(c, sethostname("x", 1));
        /* on a pipe the kernel would say ENOTTY: EPERM is the filter's */
        EXPECT_EPERM(c, ioctl(c->out, TIOCVHANGUP));
        EXPECT_EPERM(c, ioctl(c->out, TIOCCONS));
        EXPECT_EPERM(c, ioctl(c->out, TIOCSCTTY, 1));
        EXPECT_EPERM(c, ioctl(c->out, _IO(0x12, 95))); /* BLKRRPART */
        EXPECT_EPERM(c, ioctl(c->out, 0x4C00, 0));     /* LOOP_SET_FD */
        return 0;
}

static void *thread_noop(void *arg) {
        return arg;
}

static int allowed_checks(struct child *c, const struct forbid_args *a) {
        const struct scratch *s = a->s;
        char buf[64] = "", path[64], target[64];
        sigset_t mask;
        DIR *proc;
        int fd, sv[2] = { -1, -1 }, nl, dg, mfd, efd, sfd, tfd, n;

        fd = open(s->f, O_RDONLY | O_CLOEXEC);
        check(c, fd >= 0 && read(fd, buf, sizeof(buf)) == 5 && memcmp(buf, "hello", 5) == 0, "open(O_RDONLY) and read",
              fd, errno);
        EXPECT_OK(c, fcntl(fd, F_GETFD));
        close(fd);
        EXPECT_OK(c, fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC));
        close(fd);
        proc = opendir("/proc");
        check(c, proc && readdir(proc), "opendir(/proc) and readdir", 0, errno);
        if (proc)
                closedir(proc);
        snprintf(path, sizeof(path), "/proc/self/fd/%d", c->out);
        n = (int) readlink(path, target, sizeof(target) - 1);
        check(c, n > 5 && memcmp(target, "pipe:", 5) == 0, "readlink(/proc/self/fd/<the report pipe>)", n, errno);
        if (fcntl(0, F_GETFD) >= 0)
                EXPECT_OK(c, readlink("/proc/self/fd/0", target, sizeof(target)));
        EXPECT_OK(c, readlinkat(AT_FDCWD, "/proc/self/exe", target, sizeof(target)));

        /* the socket diagnostics, sd_notify and the journal (a datagram to a named socket) */
        EXPECT_OK(c, nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
        {
                struct sockaddr_nl snl = { .nl_family = AF_NETLINK }; /* as mnl_socket_bind() does */

                EXPECT_OK(c, bind(nl, (struct sockaddr *) &snl, sizeof(snl)));
        }
        close(nl);
        EXPECT_OK(c, dg = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        {
                struct iovec iov = { (void *) "MESSAGE=sandboxed", 17 };
                struct msghdr mh = {
                        .msg_name = (void *) a->journal, .msg_namelen = a->journal_len, .msg_iov = &iov, .msg_iovlen = 1
                };

                EXPECT_OK(c, sendmsg(dg, &mh, MSG_NOSIGNAL));
        }
        close(dg);
        EXPECT_OK(c, socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv));
        EXPECT_OK(c, send(sv[0], "x", 1, 0));
        EXPECT_OK(c, recv(sv[1], buf, sizeof(buf), 0));
        close(sv[0]);
        close(sv[1]);

        /* sd_journal_send() of a large entry: a sealed memfd */
        EXPECT_OK(c, mfd = memfd_create("journal", MFD_CLOEXEC | MFD_ALLOW_SEALING));
        EXPECT_OK(c, write(mfd, "MESSAGE=big\n", 12));
        EXPECT_OK(c, fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL));
        close(mfd);

        /* the event loop */
        sigemptyset(&mask);
        sigaddset(&mask, SIGUSR1);
        EXPECT_OK(c, efd = epoll_create1(EPOLL_CLOEXEC));
        EXPECT_OK(c, sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
        EXPECT_OK(c, tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
        EXPECT_OK(c, epoll_ctl(efd, EPOLL_CTL_ADD, tfd, &(struct epoll_event){ .events = EPOLLIN }));
        close(tfd);
        close(sfd);
        close(efd);
        EXPECT_OK(c, ioctl(c->out, FIONREAD, &n) == 0 ? 0 : -1);
        EXPECT_OK(c, write(c->out, "", 0));

        /* entering a network namespace (netns.c: a thread, setns(CLONE_NEWNET)): the thread is
         * made with clone(), clone3() answering ENOSYS; setns() needs CAP_SYS_ADMIN besides */
        {
                pthread_t t;
                int r = pthread_create(&t, NULL, thread_noop, NULL);

                check(c, r == 0 && pthread_join(t, NULL) == 0, "pthread_create() and pthread_join()", r, r);
        }
        if (geteuid() == 0) {
                int net = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);

                EXPECT_OK(c, setns(net, CLONE_NEWNET));
                close(net);
        }
        return 0;
}

static int forbid_child(struct child *c, void *arg) {
        const struct forbid_args *a = arg;
        int r;

        r = sandbox_forbid_writes();
        if (r == -EINVAL || r == -ENOSYS)
                return EXIT_SKIP;
        check(c, r == 0, "sandbox_forbid_writes()", r, -r);
        if (r < 0)
                return 1;
        check(c, prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1, "PR_GET_NO_NEW_PRIVS", 0, errno);
        forbidden_checks(c, a->s);
        allowed_checks(c, a);
        return 0;
}

static int bind_abstract(struct sockaddr_un *sa, socklen_t *len) {
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

        assert_true(fd >= 0);
        *sa = (struct sockaddr_un){ .sun_family = AF_UNIX };
        /* An abstract name: no file to create or remove. */
        snprintf(sa->sun_path + 1, sizeof(sa->sun_path) - 1, "closewaitd-test-sandbox-%d", (int) getpid());
        *len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + 1 + strlen(sa->sun_path + 1));
        assert_int_equal(bind(fd, (struct sockaddr *) sa, *len), 0);
        return fd;
}

static void test_forbid_writes(void **state) {
        struct scratch s;
        struct forbid_args a = { .s = &s };
        struct sockaddr_un journal;
        char msg[64] = "";
        int fd;

        (void) state;
        if (!seccomp_available())
                skip();
        scratch_make(&s);
        fd = bind_abstract(&journal, &a.journal_len);
        a.journal = &journal;
        run_in_child(forbid_child, &a);
        /* What the child sent arrived; nothing in the directory changed. */
        assert_int_equal(recv(fd, msg, sizeof(msg) - 1, MSG_DONTWAIT), 17);
        assert_string_equal(msg, "MESSAGE=sandboxed");
        close(fd);
        scratch_check_untouched(&s);
        scratch_remove(&s);
}

/* Under the unit, SystemCallFilter= refuses seccomp() itself (it is in no group the unit allows):
 * libseccomp must fall back to prctl(PR_SET_SECCOMP). */
static int refused_child(struct child *c, void *arg) {
        const struct scratch *s = arg;
        struct sock_filter insns[] = {
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_seccomp, 0, 1),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog prog = { .len = ELEMENTSOF(insns), .filter = insns };
        int r, fd;

        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
                return EXIT_SKIP;
        /* (valgrind does not know seccomp(): ENOSYS there) */
        errno = 0;
        r = (int) syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &(uint32_t){ SECCOMP_RET_ALLOW });
        check(c, r == -1 && (errno == EPERM || errno == ENOSYS), "seccomp() refused", r, errno);
        r = sandbox_forbid_writes();
        check(c, r == 0, "sandbox_forbid_writes() with seccomp() refused", r, -r);
        EXPECT_EPERM(c, open(s->f, O_WRONLY | O_CLOEXEC));
        EXPECT_OK(c, fd = open(s->f, O_RDONLY | O_CLOEXEC));
        close(fd);
        return 0;
}

static void test_forbid_writes_seccomp_refused(void **state) {
        struct scratch s;

        (void) state;
        if (!seccomp_available())
                skip();
        scratch_make(&s);
        run_in_child(refused_child, &s);
        scratch_check_untouched(&s);
        scratch_remove(&s);
}

/* The filter as built for an architecture, as text. */
static char *export(uint32_t arch) {
        char *text;
        off_t size;
        int fd = memfd_create("pfc", MFD_CLOEXEC);

        assert_true(fd >= 0);
        assert_int_equal(sandbox_export_forbid_writes(arch, fd), 0);
        size = lseek(fd, 0, SEEK_END);
        assert_true(size > 0);
        text = calloc(1, (size_t) size + 1);
        assert_non_null(text);
        assert_int_equal(pread(fd, text, (size_t) size, 0), size);
        close(fd);
        return text;
}

/* Whether the filter text has a rule for the call (libseccomp's comment names it). */
static bool filters(const char *text, const char *call) {
        char want[64];

        snprintf(want, sizeof(want), "filter for syscall \"%s\"", call);
        return strstr(text, want) != NULL;
}

/* x86_64 and aarch64 (which has no open(), rename() or unlink(), only the *at() calls) build,
 * with the calls that matter on each; a foreign architecture is refused. */
static void test_architectures(void **state) {
        static const char *const common[] = {
                "openat",   "renameat2", "unlinkat",  "linkat",   "symlinkat", "mkdirat",           "mknodat",
                "fchmodat", "fchownat",  "utimensat", "setxattr", "mount",     "process_vm_writev", "io_uring_setup",
                "socket",   "ioctl",     "fcntl",     "openat2",  "fchmodat2"
        };
        char *native, *x86_64, *aarch64;

        (void) state;
        native = export(0);
        x86_64 = export(SCMP_ARCH_X86_64);
        aarch64 = export(SCMP_ARCH_AARCH64);
        for (size_t i = 0; i < ELEMENTSOF(common); i++) {
                if (!filters(x86_64, common[i]) || !filters(aarch64, common[i]))
                        fail_msg("no rule for %s: x86_64 %d, aarch64 %d", common[i], filters(x86_64, common[i]),
                                 filters(aarch64, common[i]));
        }
        assert_true(filters(x86_64, "open") && filters(x86_64, "rename") && filters(x86_64, "unlink") &&
                    filters(x86_64, "creat") && filters(x86_64, "chmod"));
        assert_false(filters(aarch64, "open") || filters(aarch64, "rename") || filters(aarch64, "unlink"));
        /* Each checks the architecture first, and kills a call of another one (the 32-bit calls
         * of a 64-bit process; libseccomp's x86_64 filter kills x32 calls too, in its BPF only);
         * the native one has the calls newer than this libseccomp too, by number (setxattrat). */
        assert_non_null(strstr(x86_64, "if ($arch == 3221225534)"));  /* AUDIT_ARCH_X86_64 */
        assert_non_null(strstr(aarch64, "if ($arch == 3221225655)")); /* AUDIT_ARCH_AARCH64 */
        assert_non_null(strstr(x86_64, "# invalid architecture action\naction KILL;"));
        if (seccomp_arch_native() == SCMP_ARCH_X86_64 || seccomp_arch_native() == SCMP_ARCH_AARCH64)
                assert_non_null(strstr(native, "if ($syscall == 463)"));
        free(native);
        free(x86_64);
        free(aarch64);
        assert_int_equal(sandbox_export_forbid_writes(0x12345678, -1), -EINVAL);
}

/* ---- the keeper ------------------------------------------------------------------------ */

static int open_dir(const struct scratch *s) {
        int fd = open(s->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        assert_true(fd >= 0);
        return fd;
}

static struct sandbox_keeper *start_keeper(int dir) {
        struct sandbox_keeper *k = NULL;

        const struct sandbox_keeper_file file = { dir, "state", tracker_write_file };

        assert_int_equal(sandbox_keeper_start(&file, 1, &k), 0);
        assert_non_null(k);
        assert_true(sandbox_keeper_pid(k) > 0);
        return k;
}

/* dir/state holds exactly size bytes of data, mode 0600, and no temporary file is left. */
static void check_state(int dir, const void *data, size_t size) {
        struct stat st;
        char *buf = malloc(size + 1);
        size_t len;
        int fd;

        assert_non_null(buf);
        fd = openat(dir, "state", O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(fstat(fd, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        assert_int_equal(read_full(fd, buf, size + 1, &len), 0);
        assert_int_equal(len, size);
        assert_memory_equal(buf, data, size);
        close(fd);
        free(buf);
        assert_int_equal(faccessat(dir, ".state.tmp", F_OK, 0), -1);
}

static void test_keeper_saves(void **state) {
        const size_t big_size = 3 << 20; /* more than 100k sockets take */
        struct sandbox_keeper *k;
        struct scratch s;
        char *big;
        pid_t pid;
        int dir;

        (void) state;
        if (!seccomp_available())
                skip();
        scratch_make(&s);
        dir = open_dir(&s);
        k = start_keeper(dir);
        pid = sandbox_keeper_pid(k);

        assert_int_equal(sandbox_keeper_save(k, 0, "one\n", 4), 0);
        check_state(dir, "one\n", 4);
        /* Replaced, not appended. */
        assert_int_equal(sandbox_keeper_save(k, 0, "two\n", 4), 0);
        check_state(dir, "two\n", 4);
        big = malloc(big_size);
        assert_non_null(big);
        for (size_t i = 0; i < big_size; i++)
                big[i] = (char) ('a' + i % 23);
        assert_int_equal(sandbox_keeper_save(k, 0, big, big_size), 0);
        check_state(dir, big, big_size);
        assert_int_equal(sandbox_keeper_save(k, 0, "", 0), 0);
        check_state(dir, "", 0);
        /* Too large: refused here, nothing sent, the keeper goes on. */
        assert_int_equal(sandbox_keeper_save(k, 0, big, SANDBOX_KEEPER_MAX_SIZE + 1), -EFBIG);
        assert_int_equal(sandbox_keeper_save(k, 0, "three\n", 6), 0);
        check_state(dir, "three\n", 6);
        free(big);

        /* The end of the link: it exits, and is reaped. */
        assert_null(sandbox_keeper_free(k));
        assert_int_equal(kill(pid, 0), -1);
        assert_int_equal(errno, ESRCH);
        check_state(dir, "three\n", 6);
        close(dir);
        scratch_remove(&s);
}

/* A failed write is the write function's error, and the keeper goes on. */
static void test_keeper_write_error(void **state) {
        struct sandbox_keeper *k;
        struct scratch s;
        int dir;

        (void) state;
        if (!seccomp_available())
                skip();
        scratch_make(&s);
        dir = open_dir(&s);
        k = start_keeper(dir);
        assert_int_equal(mkdirat(dir, ".state.tmp", 0700), 0); /* the temporary file cannot be opened */
        assert_int_equal(sandbox_keeper_save(k, 0, "one\n", 4), -EISDIR);
        assert_int_equal(faccessat(dir, "state", F_OK, 0), -1);
        assert_int_equal(unlinkat(dir, ".state.tmp", AT_REMOVEDIR), 0);
        assert_int_equal(sandbox_keeper_save(k, 0, "one\n", 4), 0);
        check_state(dir, "one\n", 4);
        sandbox_keeper_free(k);
        close(dir);
        scratch_remove(&s);
}

/* A keeper that died: -ECHILD, without SIGPIPE (which would kill this test), once and for all. */
static void test_keeper_killed(void **state) {
        struct sandbox_keeper *k;
        struct scratch s;
        char *big;
        int dir;

        (void) state;
        if (!seccomp_available())
                skip();
        assert_true(signal(SIGPIPE, SIG_DFL) != SIG_ERR);
        scratch_make(&s);
        dir = open_dir(&s);
        big = calloc(1, 1 << 20); /* more than a socket buffer: the send itself fails */
        assert_non_null(big);

        k = start_keeper(dir);
        assert_int_equal(kill(sandbox_keeper_pid(k), SIGKILL), 0);
        assert_int_equal(sandbox_keeper_save(k, 0, big, 1 << 20), -ECHILD);
        assert_int_equal(sandbox_keeper_pid(k), 0); /* reaped */
        assert_int_equal(sandbox_keeper_save(k, 0, "x", 1), -ECHILD);
        sandbox_keeper_free(k);

        k = start_keeper(dir);
        assert_int_equal(kill(sandbox_keeper_pid(k), SIGKILL), 0);
        assert_int_equal(sandbox_keeper_save(k, 0, "x", 1), -ECHILD); /* small: fails at the answer */
        sandbox_keeper_free(k);

        free(big);
        assert_int_equal(faccessat(dir, "state", F_OK, 0), -1);
        close(dir);
        scratch_remove(&s);
}

/* A keeper that does not answer (stopped here) is given SANDBOX_KEEPER_TIMEOUT_USEC, then killed:
 * the scans, and the watchdog that they feed, do not wait on it. */
static void test_keeper_stuck(void **state) {
        struct sandbox_keeper *k;
        struct scratch s;
        usec_t start;
        pid_t pid;
        int dir;

        (void) state;
        if (!seccomp_available())
                skip();
        scratch_make(&s);
        dir = open_dir(&s);
        k = start_keeper(dir);
        pid = sandbox_keeper_pid(k);
        assert_int_equal(kill(pid, SIGSTOP), 0);
        start = now_monotonic_usec();
        assert_int_equal(sandbox_keeper_save(k, 0, "x", 1), -ECHILD);
        assert_true(now_monotonic_usec() - start >= SANDBOX_KEEPER_TIMEOUT_USEC - USEC_PER_SEC);
        assert_int_equal(sandbox_keeper_pid(k), 0);
        assert_int_equal(kill(pid, 0), -1); /* killed and reaped */
        sandbox_keeper_free(k);
        close(dir);
        scratch_remove(&s);
}

/* Signals to the whole unit do not stop it: the daemon's last save comes after SIGTERM. */
static void test_keeper_ignores_signals(void **state) {
        struct sandbox_keeper *k;
        struct scratch s;
        int dir;

        (void) state;
        if (!seccomp_available())
                skip();
        scratch_make(&s);
        dir = open_dir(&s);
        k = start_keeper(dir);
        assert_int_equal(kill(sandbox_keeper_pid(k), SIGTERM), 0);
        assert_int_equal(kill(sandbox_keeper_pid(k), SIGINT), 0);
        assert_int_equal(kill(sandbox_keeper_pid(k), SIGHUP), 0);
        assert_int_equal(sandbox_keeper_save(k, 0, "last\n", 5), 0);
        check_state(dir, "last\n", 5);
        sandbox_keeper_free(k);
        close(dir);
        scratch_remove(&s);
}

/* It keeps stdio, the directory and the link, and runs under its own filter. */
static void test_keeper_confined(void **state) {
        struct sandbox_keeper *k;
        struct scratch s;
        char path[64], line[256];
        DIR *fds;
        struct dirent *e;
        FILE *f;
        bool seccomp = false, nnp = false;
        int dir, extra[2], kept = 0;

        (void) state;
        if (!seccomp_available())
                skip();
        scratch_make(&s);
        dir = open_dir(&s);
        assert_int_equal(pipe(extra), 0); /* not O_CLOEXEC, and still not inherited */
        k = start_keeper(dir);

        snprintf(path, sizeof(path), "/proc/%d/fd", (int) sandbox_keeper_pid(k));
        fds = opendir(path);
        assert_non_null(fds);
        /* (valgrind keeps fds of its own at the top of the range) */
        while ((e = readdir(fds)))
                if (e->d_name[0] != '.' && atoi(e->d_name) > 2 && atoi(e->d_name) < 1000)
                        kept++;
        closedir(fds);
        assert_int_equal(kept, 2);

        snprintf(path, sizeof(path), "/proc/%d/status", (int) sandbox_keeper_pid(k));
        f = fopen(path, "re");
        assert_non_null(f);
        while (fgets(line, sizeof(line), f)) {
                seccomp |= strcmp(line, "Seccomp:\t2\n") == 0;
                nnp |= strcmp(line, "NoNewPrivs:\t1\n") == 0;
        }
        assert_int_equal(fclose(f), 0);
        assert_true(seccomp);
        assert_true(nnp);

        sandbox_keeper_free(k);
        close(extra[0]);
        close(extra[1]);
        close(dir);
        scratch_remove(&s);
}

static void test_keeper_bad_name(void **state) {
        struct sandbox_keeper *k = NULL;
        char long_name[SANDBOX_KEEPER_NAME_MAX + 2];
        const struct sandbox_keeper_file bad[] = {
                { AT_FDCWD, "state", tracker_write_file },
                { 0, "", tracker_write_file },
                { 0, "../state", tracker_write_file },
                { 0, NULL, tracker_write_file },
                { 0, "state", NULL },
                { 0, long_name, tracker_write_file },
        };
        const struct sandbox_keeper_file many[SANDBOX_KEEPER_FILES_MAX + 1] = {};

        (void) state;
        memset(long_name, 'x', sizeof(long_name) - 1);
        long_name[sizeof(long_name) - 1] = '\0';
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(sandbox_keeper_start(&bad[i], 1, &k), -EINVAL);
        assert_int_equal(sandbox_keeper_start(bad, 0, &k), -EINVAL);
        assert_int_equal(sandbox_keeper_start(many, ELEMENTSOF(many), &k), -EINVAL);
        assert_null(k);
        assert_null(sandbox_keeper_free(NULL));
}

/* dir/name holds exactly the NUL-terminated text, with mode mode, and no temporary file is left. */
static void check_file(int dir, const char *name, const char *text, mode_t mode) {
        char buf[256], tmp[64];
        struct stat st;
        size_t len;
        int fd;

        fd = openat(dir, name, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(fstat(fd, &st), 0);
        assert_int_equal(st.st_mode & 07777, mode);
        assert_int_equal(read_full(fd, buf, sizeof(buf), &len), 0);
        assert_int_equal(len, strlen(text));
        assert_memory_equal(buf, text, len);
        close(fd);
        snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
        assert_int_equal(faccessat(dir, tmp, F_OK, 0), -1);
}

/* The state and the metrics, each in its own directory: the state 0600, the metrics 0644 for
 * node_exporter even under the unit's UMask=0077; each file goes where it belongs. */
static void test_keeper_two_files(void **state) {
        struct sandbox_keeper *k;
        struct scratch s, m;
        char path[64];
        DIR *fds;
        struct dirent *e;
        mode_t old_umask;
        int dir, mdir, kept = 0;

        (void) state;
        if (!seccomp_available())
                skip();
        scratch_make(&s);
        scratch_make(&m);
        dir = open_dir(&s);
        mdir = open_dir(&m);
        old_umask = umask(0077);
        {
                const struct sandbox_keeper_file files[] = {
                        { dir, "state", tracker_write_file },
                        { mdir, "closewaitd.prom", sandbox_write_readable },
                };

                assert_int_equal(sandbox_keeper_start(files, ELEMENTSOF(files), &k), 0);
        }
        umask(old_umask);

        assert_int_equal(sandbox_keeper_save(k, 1, "m 1\n", 4), 0);
        check_file(mdir, "closewaitd.prom", "m 1\n", 0644);
        assert_int_equal(faccessat(dir, "closewaitd.prom", F_OK, 0), -1);
        assert_int_equal(sandbox_keeper_save(k, 0, "state\n", 6), 0);
        check_file(dir, "state", "state\n", 0600);
        assert_int_equal(faccessat(mdir, "state", F_OK, 0), -1);
        /* Replaced, each on its own. */
        assert_int_equal(sandbox_keeper_save(k, 1, "m 2\n", 4), 0);
        check_file(mdir, "closewaitd.prom", "m 2\n", 0644);
        check_file(dir, "state", "state\n", 0600);
        /* A file it was not started with: refused here, the keeper goes on. */
        assert_int_equal(sandbox_keeper_save(k, 2, "x", 1), -EINVAL);
        assert_int_equal(sandbox_keeper_save(k, 1, "m 3\n", 4), 0);
        check_file(mdir, "closewaitd.prom", "m 3\n", 0644);

        /* It keeps both directories and the link. */
        snprintf(path, sizeof(path), "/proc/%d/fd", (int) sandbox_keeper_pid(k));
        fds = opendir(path);
        assert_non_null(fds);
        while ((e = readdir(fds)))
                if (e->d_name[0] != '.' && atoi(e->d_name) > 2 && atoi(e->d_name) < 1000)
                        kept++;
        closedir(fds);
        assert_int_equal(kept, 3);

        sandbox_keeper_free(k);
        close(dir);
        close(mdir);
        scratch_remove(&s);
        scratch_remove(&m);
}

/* What a write function may not do in the keeper, though both directories are open in it: move a
 * file from one directory to the other, open anything by absolute path, open for reading and
 * writing, make directories, links or symlinks, change modes. Run as the keeper's second file's
 * write function; returns 0, or -(100 + the number of the first check that did not fail with
 * EPERM). */
static int other_dir_fd = -1;

#define MUST_FAIL(n, call)                                                                                             \
        do {                                                                                                           \
                long rv_;                                                                                              \
                errno = 0;                                                                                             \
                rv_ = (long) (call);                                                                                   \
                if (rv_ >= 0 || errno != EPERM)                                                                        \
                        return -(100 + (n));                                                                           \
        } while (0)

static int hostile_write(int dir_fd, const char *name, const char *buf, size_t size) {
        int fd;

        (void) buf;
        (void) size;
        /* What it may do: make its file, in its directory. */
        fd = openat(dir_fd, name, SANDBOX_KEEPER_OPEN_FLAGS, 0644);
        if (fd < 0)
                return -errno;
        close(fd);
        MUST_FAIL(1, renameat(dir_fd, name, other_dir_fd, "moved"));
        MUST_FAIL(2, renameat(other_dir_fd, "state", dir_fd, "moved"));
        MUST_FAIL(3, openat(AT_FDCWD, "/tmp/closewaitd-hostile-write", SANDBOX_KEEPER_OPEN_FLAGS, 0644));
        MUST_FAIL(4, openat(dir_fd, "rw", O_RDWR | O_CREAT | O_CLOEXEC, 0644));
        MUST_FAIL(5, openat(dir_fd, "append", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
        MUST_FAIL(6, mkdirat(dir_fd, "dir", 0755));
        MUST_FAIL(7, symlinkat("/etc/shadow", dir_fd, "link"));
        MUST_FAIL(8, linkat(dir_fd, name, dir_fd, "hard", 0));
        MUST_FAIL(9, fchmodat(dir_fd, name, 04755, 0));
        MUST_FAIL(10, unlinkat(dir_fd, "d", AT_REMOVEDIR));
        MUST_FAIL(11, renameat2(dir_fd, name, dir_fd, "exchanged", RENAME_EXCHANGE));
        return 0;
}

static void test_keeper_two_dirs_confined(void **state) {
        struct sandbox_keeper *k;
        struct scratch s, m;
        int dir, mdir;

        (void) state;
        if (!seccomp_available())
                skip();
        scratch_make(&s);
        scratch_make(&m);
        dir = open_dir(&s);
        mdir = open_dir(&m);
        other_dir_fd = dir;
        {
                const struct sandbox_keeper_file files[] = {
                        { dir, "state", tracker_write_file },
                        { mdir, "x.prom", hostile_write },
                };

                assert_int_equal(sandbox_keeper_start(files, ELEMENTSOF(files), &k), 0);
        }
        assert_int_equal(sandbox_keeper_save(k, 0, "state\n", 6), 0);
        assert_int_equal(sandbox_keeper_save(k, 1, "", 0), 0);
        sandbox_keeper_free(k);
        assert_int_equal(faccessat(dir, "moved", F_OK, 0), -1);
        assert_int_equal(faccessat(mdir, "moved", F_OK, 0), -1);
        assert_int_equal(faccessat(AT_FDCWD, "/tmp/closewaitd-hostile-write", F_OK, 0), -1);
        check_file(dir, "state", "state\n", 0600);
        close(dir);
        close(mdir);
        scratch_remove(&s);
        scratch_remove(&m);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_forbid_writes),      cmocka_unit_test(test_forbid_writes_seccomp_refused),
                cmocka_unit_test(test_architectures),      cmocka_unit_test(test_keeper_saves),
                cmocka_unit_test(test_keeper_write_error), cmocka_unit_test(test_keeper_killed),
                cmocka_unit_test(test_keeper_stuck),       cmocka_unit_test(test_keeper_ignores_signals),
                cmocka_unit_test(test_keeper_confined),    cmocka_unit_test(test_keeper_bad_name),
                cmocka_unit_test(test_keeper_two_files),   cmocka_unit_test(test_keeper_two_dirs_confined),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
