/* sandbox: the daemon's own seccomp filter, and the keeper process that writes the state file
 * and the metrics file for it (the split of OpenBSD's ntpd: the part that reads the world cannot
 * write to it).
 *
 * The link to the keeper is a stream socketpair, one message being a header (a 64-bit length and
 * the number of the file) and that many bytes, answered by an int32 (0 or -errno). Not SOCK_SEQPACKET: an AF_UNIX
 * packet must fit in the sender's SO_SNDBUF, at most net.core.wmem_max (208 KiB by default; more takes CAP_NET_ADMIN),
 * and the state of 100k sockets is 2.2 to 3.8 MB. */
#define _GNU_SOURCE /* close_range(), F_OFD_SETLK */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/netlink.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <seccomp.h>

#include "sandbox.h"
#include "util.h"

/* ---- the daemon's filter ---------------------------------------------------------------- */

/* The calls forbidden outright, one array per kind, each ending in NULL. Names this libseccomp or
 * this architecture does not know are skipped, or filtered by number (new_calls). */

/* create, rename, link, remove, truncate */
static const char *const forbidden_tree[] = {
        "creat",     "open_by_handle_at", "rename",    "renameat", "renameat2", "link",
        "linkat",    "symlink",           "symlinkat", "unlink",   "unlinkat",  "rmdir",
        "mkdir",     "mkdirat",           "mknod",     "mknodat",  "truncate",  "truncate64",
        "ftruncate", "ftruncate64",       "fallocate", NULL
};
/* metadata and locks: these work on an fd opened read-only too, and uid 0 owns most files */
static const char *const forbidden_meta[] = {
        "chmod",     "fchmod",      "fchmodat",         "fchmodat2",    "chown",    "chown32",
        "fchown",    "fchown32",    "fchownat",         "lchown",       "lchown32", "utime",
        "utimes",    "utimensat",   "utimensat_time64", "futimesat",    "setxattr", "lsetxattr",
        "fsetxattr", "removexattr", "lremovexattr",     "fremovexattr", "flock",    NULL
};
/* mounts and the system */
static const char *const forbidden_system[] = { "mount",      "umount",          "umount2",      "pivot_root",
                                                "chroot",     "move_mount",      "open_tree",    "fsopen",
                                                "fsconfig",   "fsmount",         "fspick",       "mount_setattr",
                                                "swapon",     "swapoff",         "quotactl",     "quotactl_fd",
                                                "acct",       "init_module",     "finit_module", "delete_module",
                                                "kexec_load", "kexec_file_load", "reboot",       NULL };
/* With CAP_SYS_PTRACE these write into any process; io_uring's requests (IORING_OP_OPENAT, ...)
 * never pass through a seccomp filter. */
static const char *const forbidden_reach[] = { "process_vm_writev",
                                               "pidfd_getfd",
                                               "io_uring_setup",
                                               "io_uring_enter",
                                               "io_uring_register",
#if !SANDBOX_PTRACE_ALLOWED
                                               "ptrace",
#endif
                                               NULL };
/* What CAP_SYS_ADMIN (granted for setns() into network namespaces) also opens and the daemon never
 * uses: new namespaces (setns() is limited to network namespaces, and clone() to no new ones,
 * below), BPF and perf programs that read kernel memory, fanotify, keyrings, the kernel log, the
 * host name. */
static const char *const forbidden_admin[] = { "unshare",       "bpf",         "perf_event_open", "fanotify_init",
                                               "fanotify_mark", "keyctl",      "add_key",         "request_key",
                                               "syslog",        "sethostname", "setdomainname",   NULL };
/* Every way to change a file by path or by fd, and the calls that reach past the file system. */
static const char *const *const forbidden_calls[] = { forbidden_tree, forbidden_meta, forbidden_system, forbidden_reach,
                                                      forbidden_admin };

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080 /* Linux 5.6; not in every libc's <sched.h> */
#endif

/* clone() flags of new namespaces: one masked compare each (a set bit anywhere refuses). */
static const unsigned long forbidden_clone_flags[] = { CLONE_NEWNS,   CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,
                                                       CLONE_NEWUSER, CLONE_NEWPID,    CLONE_NEWNET, CLONE_NEWTIME };

/* Calls newer than libseccomp 2.5.4 (Debian 12), by number. Since Linux 5.1 every architecture
 * libseccomp knows but mips numbers new calls as asm-generic's table does; listed here are the
 * common ones, where these numbers have been checked. */
static const struct {
        const char *name;
        int nr;
} new_calls[] = {
        { "fchmodat2", 452 },      /* Linux 6.6 */
        { "setxattrat", 463 },     /* Linux 6.13 */
        { "removexattrat", 466 },  /* Linux 6.13 */
        { "open_tree_attr", 467 }, /* Linux 6.15 */
        { "file_setattr", 469 },   /* Linux 6.17: FS_IOC_FSSETXATTR by path */
};

static bool generic_numbers(uint32_t arch) {
        return arch == SCMP_ARCH_X86_64 || arch == SCMP_ARCH_AARCH64 || arch == SCMP_ARCH_X86 ||
               arch == SCMP_ARCH_ARM || arch == SCMP_ARCH_RISCV64;
}

/* Linux/fs.h's FS_IOC32_SETFLAGS: the 32-bit compat number, which some file systems also take. */
#define SANDBOX_FS_IOC32_SETFLAGS _IOW('f', 2, int)

/* File attributes (chattr) through an fd opened read-only; TIOCSTI and TIOCLINUX type into a
 * terminal: commands for the shell that reads it; with CAP_SYS_ADMIN, a terminal reopened
 * read-only through /proc/PID/fd can be hung up (TIOCVHANGUP), made the console (TIOCCONS), taken
 * as the controlling terminal (TIOCSCTTY) or given another line discipline (TIOCSETD). */
static const unsigned long forbidden_ioctls[] = { FS_IOC_SETFLAGS,   SANDBOX_FS_IOC32_SETFLAGS,
                                                  FS_IOC_FSSETXATTR, TIOCSTI,
                                                  TIOCLINUX,         TIOCVHANGUP,
                                                  TIOCCONS,          TIOCSCTTY,
                                                  TIOCSETD };

/* Whole ioctl families (the type byte of the request) of file systems: many of their requests
 * check only that the caller owns the file and that the mount is writable, not that the fd was
 * opened for writing: FS_IOC_SETVERSION ('v') rewrote an ext4 inode's generation through a
 * read-only fd; btrfs (0x94) could make the root subvolume read-only or create subvolumes;
 * FS_IOC_ENABLE_VERITY ('f') makes a file unwritable for good; 'X' freezes and trims; f2fs (0xf5).
 * With CAP_SYS_ADMIN, a block device opened read-only takes partition table changes and discards
 * (0x12: BLKPG, BLKRRPART, BLKDISCARD) and a loop device a new backing file ('L').
 * The daemon makes none of them (isatty() and FIONREAD are type 'T'). */
static const unsigned forbidden_ioctl_types[] = { 'f', 'v', 'X', 0x94, 0xf5, 0x12, 'L' };

static const int forbidden_fcntls[] = { F_SETLK, F_SETLKW, F_OFD_SETLK, F_OFD_SETLKW, F_SETLEASE };

/* open()'s flags that write or create; one rule each, as a masked compare tests one bit set. */
static const int write_open_flags[] = { O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_APPEND };

/* Add a rule for action on the call named name to ctx, built for arch. A call that arch lacks
 * (open() on aarch64) or that this libseccomp does not know is skipped: libseccomp would add a
 * rule for a negative "pseudo" number that no real call has. */
static int add_rule(scmp_filter_ctx ctx, uint32_t arch, uint32_t action, const char *name, unsigned n_args,
                    const struct scmp_arg_cmp *args) {
        if (seccomp_syscall_resolve_name_arch(arch, name) < 0)
                return 0;
        /* Rules take the native number, which libseccomp translates for each architecture. */
        return seccomp_rule_add_array(ctx, action, seccomp_syscall_resolve_name(name), n_args, args);
}

static int add_socket_rules(scmp_filter_ctx ctx, uint32_t arch, uint32_t deny) {
        int r;

        /* Families other than AF_UNIX (1) and AF_NETLINK (16), in comparisons of one argument
         * each (a rule takes one per argument): 0, 2..15, and above 16. */
        for (int family = 0; family < AF_NETLINK; family++) {
                if (family == AF_UNIX)
                        continue;
                r = add_rule(ctx, arch, deny, "socket", 1, (struct scmp_arg_cmp[]){ SCMP_A0(SCMP_CMP_EQ, family, 0) });
                if (r < 0)
                        return r;
        }
        r = add_rule(ctx, arch, deny, "socket", 1, (struct scmp_arg_cmp[]){ SCMP_A0(SCMP_CMP_GT, AF_NETLINK, 0) });
        if (r < 0)
                return r;
        /* The type's low bits; the high ones are SOCK_CLOEXEC and SOCK_NONBLOCK. */
        for (int i = 0; i < 2; i++) {
                int type = i == 0 ? SOCK_STREAM : SOCK_SEQPACKET;

                r = add_rule(ctx, arch, deny, "socket", 2,
                             (struct scmp_arg_cmp[]){ SCMP_A0(SCMP_CMP_EQ, AF_UNIX, 0),
                                                      SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, type) });
                if (r < 0)
                        return r;
        }
        return add_rule(ctx, arch, deny, "socket", 2,
                        (struct scmp_arg_cmp[]){ SCMP_A0(SCMP_CMP_EQ, AF_NETLINK, 0),
                                                 SCMP_A2(SCMP_CMP_NE, NETLINK_SOCK_DIAG, 0) });
}

/* A new filter context with default action def. Both filters load at libseccomp's API level 1:
 * through prctl(PR_SET_SECCOMP), not seccomp(), which the unit's SystemCallFilter= refuses (it
 * is in no group the unit allows) and valgrind 3.19 does not know. Nothing here needs more (no
 * thread sync, logging or notification); the level also spares libseccomp its probes. */
static scmp_filter_ctx filter_new(uint32_t def) {
        (void) seccomp_api_set(1);
        return seccomp_init(def);
}

/* The filter of sandbox_forbid_writes(), for arch (0: native). */
static int build_forbid_writes(uint32_t arch, scmp_filter_ctx *ret) {
        const uint32_t deny = SCMP_ACT_ERRNO(EPERM);
        const uint32_t native = seccomp_arch_native();
        scmp_filter_ctx ctx;
        int r;

        if (arch == 0)
                arch = native;

        ctx = filter_new(SCMP_ACT_ALLOW);
        if (!ctx)
                return -ENOMEM;
        /* The kernel's errno from seccomp_load(), not libseccomp's -ECANCELED. */
        r = seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1);
        if (r >= 0 && arch != native) {
                r = seccomp_arch_add(ctx, arch);
                if (r >= 0)
                        r = seccomp_arch_remove(ctx, SCMP_ARCH_NATIVE);
        }
        if (r < 0)
                goto finish;

        for (size_t i = 0; i < ELEMENTSOF(write_open_flags); i++) {
                int flag = write_open_flags[i];

                r = add_rule(ctx, arch, deny, "open", 1,
                             (struct scmp_arg_cmp[]){ SCMP_A1(SCMP_CMP_MASKED_EQ, flag, flag) });
                if (r >= 0)
                        r = add_rule(ctx, arch, deny, "openat", 1,
                                     (struct scmp_arg_cmp[]){ SCMP_A2(SCMP_CMP_MASKED_EQ, flag, flag) });
                if (r < 0)
                        goto finish;
        }
        /* openat2() takes its flags in a struct the filter cannot read: "not implemented" sends
         * callers (none in the daemon today) back to openat(). */
        r = add_rule(ctx, arch, SCMP_ACT_ERRNO(ENOSYS), "openat2", 0, NULL);
        if (r < 0)
                goto finish;
        for (size_t i = 0; i < ELEMENTSOF(forbidden_calls); i++)
                for (const char *const *name = forbidden_calls[i]; *name; name++) {
                        r = add_rule(ctx, arch, deny, *name, 0, NULL);
                        if (r < 0)
                                goto finish;
                }
        for (size_t i = 0; i < ELEMENTSOF(new_calls); i++) {
                if (seccomp_syscall_resolve_name(new_calls[i].name) != __NR_SCMP_ERROR || arch != native ||
                    !generic_numbers(native))
                        continue; /* known (filtered above), or no number to trust */
                r = seccomp_rule_add(ctx, deny, new_calls[i].nr, 0);
                if (r < 0)
                        goto finish;
        }
        /* The request is an unsigned int: compare its low 32 bits only, as the kernel reads it. */
        for (size_t i = 0; i < ELEMENTSOF(forbidden_ioctls); i++) {
                r = add_rule(ctx, arch, deny, "ioctl", 1,
                             (struct scmp_arg_cmp[]){ SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, forbidden_ioctls[i]) });
                if (r < 0)
                        goto finish;
        }
        for (size_t i = 0; i < ELEMENTSOF(forbidden_ioctl_types); i++) {
                r = add_rule(ctx, arch, deny, "ioctl", 1,
                             (struct scmp_arg_cmp[]){
                                     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xff00u, (uint64_t) forbidden_ioctl_types[i] << 8) });
                if (r < 0)
                        goto finish;
        }
        /* bind() of an AF_UNIX socket to a path creates a file (a socket), anywhere /proc/PID/root
         * leads. The only bind the daemon makes is its netlink socket's (a struct sockaddr_nl);
         * a shorter or longer address is refused, and so is chdir(), so that the 10 bytes of path
         * an address of that size holds cannot be relative to a directory of another process. */
        r = add_rule(ctx, arch, deny, "bind", 1,
                     (struct scmp_arg_cmp[]){ SCMP_A2(SCMP_CMP_NE, sizeof(struct sockaddr_nl), 0) });
        if (r >= 0)
                r = add_rule(ctx, arch, deny, "chdir", 0, NULL);
        if (r >= 0)
                r = add_rule(ctx, arch, deny, "fchdir", 0, NULL);
        if (r < 0)
                goto finish;
        for (size_t i = 0; i < ELEMENTSOF(forbidden_fcntls); i++) {
                struct scmp_arg_cmp cmd = SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, forbidden_fcntls[i]);

                r = add_rule(ctx, arch, deny, "fcntl", 1, &cmd);
                if (r >= 0)
                        r = add_rule(ctx, arch, deny, "fcntl64", 1, &cmd);
                if (r < 0)
                        goto finish;
        }
        r = add_socket_rules(ctx, arch, deny);
        if (r < 0)
                goto finish;
        /* setns() into a network namespace only (netns.c enters them to open a diag socket);
         * nstype 0 ("any") would let an fd of another kind through. */
        r = add_rule(ctx, arch, deny, "setns", 1, (struct scmp_arg_cmp[]){ SCMP_A1(SCMP_CMP_NE, CLONE_NEWNET, 0) });
        if (r < 0)
                goto finish;
        /* clone() with new namespaces. clone3() takes its flags in a struct the filter cannot read:
         * "not implemented" sends glibc's pthread_create() back to clone(). On s390 the flags are
         * clone()'s second argument, not its first; a rule on the first would refuse threads (a
         * stack address) there. No clone() rule on s390 (untested: the whole filter does not build
         * for s390x with libseccomp 2.5.4, EDOM, since before this rule); the unit's
         * RestrictNamespaces= stands alone there. */
        for (size_t i = 0; i < ELEMENTSOF(forbidden_clone_flags) && arch != SCMP_ARCH_S390 && arch != SCMP_ARCH_S390X;
             i++) {
                unsigned long f = forbidden_clone_flags[i];

                r = add_rule(ctx, arch, deny, "clone", 1, (struct scmp_arg_cmp[]){ SCMP_A0(SCMP_CMP_MASKED_EQ, f, f) });
                if (r < 0)
                        goto finish;
        }
        r = add_rule(ctx, arch, SCMP_ACT_ERRNO(ENOSYS), "clone3", 0, NULL);
        if (r < 0)
                goto finish;
        *ret = ctx;
        ctx = NULL;
        r = 0;
finish:
        seccomp_release(ctx);
        return r;
}

int sandbox_forbid_writes(void) {
        scmp_filter_ctx ctx = NULL;
        int r;

        r = build_forbid_writes(0, &ctx);
        if (r < 0)
                return r;
        /* libseccomp sets PR_SET_NO_NEW_PRIVS itself by default (SCMP_FLTATR_CTL_NNP); said
         * here so that no change of defaults can drop it. */
        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1);
        if (r >= 0)
                r = seccomp_load(ctx);
        seccomp_release(ctx);
        return r;
}

int sandbox_export_forbid_writes(uint32_t arch, int fd) {
        scmp_filter_ctx ctx = NULL;
        int r;

        r = build_forbid_writes(arch, &ctx);
        if (r < 0)
                return r;
        r = seccomp_export_pfc(ctx, fd);
        seccomp_release(ctx);
        return r;
}

/* ---- the keeper ------------------------------------------------------------------------- */

struct sandbox_keeper {
        int sock;  /* -1: gone */
        pid_t pid; /* 0: reaped */
        size_t n_files;
};

/* The link's header: the size of the data that follows, and which file it is for. */
struct keeper_header {
        uint64_t size;
        uint32_t file;
        /* cppcheck-suppress unusedStructMember ; 0, so that no padding goes out uninitialised */
        uint32_t reserved;
};

/* What the keeper needs to know, all of it set before the fork. */
struct keeper_args {
        int sock;
        struct sandbox_keeper_file files[SANDBOX_KEEPER_FILES_MAX];
        size_t n_files;
};

/* Send or receive exactly size bytes, retrying on EINTR and short transfers. Returns 0, -EPIPE
 * when the peer closed (or was gone before the first byte), or -errno (-EAGAIN: the timeout). */
static int send_full(int fd, const void *buf, size_t size) {
        const char *p = buf;

        while (size > 0) {
                ssize_t n = send(fd, p, size, MSG_NOSIGNAL);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                p += n;
                size -= (size_t) n;
        }
        return 0;
}

static int recv_full(int fd, void *buf, size_t size) {
        char *p = buf;

        while (size > 0) {
                ssize_t n = recv(fd, p, size, MSG_WAITALL);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return -EPIPE;
                p += n;
                size -= (size_t) n;
        }
        return 0;
}

static int int_cmp(const void *a, const void *b) {
        int x = *(const int *) a, y = *(const int *) b;

        return (x > y) - (x < y);
}

/* Close every fd above stderr but the n in keep (n <= SANDBOX_KEEPER_FILES_MAX + 1): the netlink
 * socket, /proc, the journal's socket and whatever else the daemon had open are none of the
 * keeper's business. */
static void close_all_but(const int *keep, size_t n) {
        int sorted[SANDBOX_KEEPER_FILES_MAX + 1];
        struct rlimit rl;
        unsigned next = 3;
        bool ok = true;

        memcpy(sorted, keep, n * sizeof(*keep));
        qsort(sorted, n, sizeof(*sorted), int_cmp);
        /* The gaps between the kept ones; empty ranges are skipped: close_range() refuses first > last. */
        for (size_t i = 0; ok && i < n; i++) {
                if (sorted[i] < (int) next)
                        continue;
                if ((unsigned) sorted[i] > next)
                        ok = close_range(next, (unsigned) sorted[i] - 1, 0) == 0;
                next = (unsigned) sorted[i] + 1;
        }
        if (ok && close_range(next, ~0u, 0) == 0)
                return;
        /* Before Linux 5.9. */
        if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur > 65536)
                rl.rlim_cur = 65536;
        for (int fd = 3; fd < (int) rl.rlim_cur; fd++) {
                bool kept = false;

                for (size_t i = 0; i < n; i++)
                        kept |= fd == keep[i];
                if (!kept)
                        close(fd);
        }
}

/* The rules that let the write functions work in one directory: open with the one set of flags,
 * rename within it, remove within it. */
static int allow_dir(scmp_filter_ctx ctx, uint32_t arch, int dir_fd) {
        const uint32_t allow = SCMP_ACT_ALLOW;
        const struct scmp_arg_cmp in_dir0 = SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t) dir_fd, 0);
        const struct scmp_arg_cmp in_dir2 = SCMP_A2(SCMP_CMP_EQ, (scmp_datum_t) dir_fd, 0);
        int r;

        /* The exact flags of the write function's openat(), low 32 bits as the kernel reads them. */
        r = add_rule(ctx, arch, allow, "openat", 2,
                     (struct scmp_arg_cmp[]){ in_dir0,
                                              /* glibc adds O_LARGEFILE on 32-bit targets (0 on 64-bit) */
                                              SCMP_A2(SCMP_CMP_MASKED_EQ, 0xffffffffu & ~(unsigned) O_LARGEFILE,
                                                      SANDBOX_KEEPER_OPEN_FLAGS) });
        /* From this directory into the same one: never from one file's directory to another's. */
        if (r >= 0)
                r = add_rule(ctx, arch, allow, "renameat", 2, (struct scmp_arg_cmp[]){ in_dir0, in_dir2 });
        /* aarch64 has renameat2() only; the C library's renameat() calls it with flags 0. */
        if (r >= 0)
                r = add_rule(ctx, arch, allow, "renameat2", 3,
                             (struct scmp_arg_cmp[]){ in_dir0, in_dir2, SCMP_A4(SCMP_CMP_EQ, 0, 0) });
        if (r >= 0)
                r = add_rule(ctx, arch, allow, "unlinkat", 2,
                             (struct scmp_arg_cmp[]){ in_dir0, SCMP_A2(SCMP_CMP_EQ, 0, 0) });
        return r;
}

/* Allow what keeper_loop() and its write functions need, and a few calls that cost nothing and
 * that the C library, valgrind or ASan (the tests run the daemon under both) make on their own;
 * fail anything else with EPERM. EPERM rather than a kill: a call outside the list is refused all
 * the same, and a tool's own call gets an error it can survive. The dirfd checks cannot stop an
 * absolute path (openat() then ignores dirfd): the keeper takes no path from the daemon, only the
 * bytes of a file and which of its files they are for. */
static int keeper_filter(const struct keeper_args *a) {
        static const char *const plain[] = {
                "read",          "write",          "close",           "fsync",           "exit",    "exit_group",
                "brk",           "mmap",           "munmap",          "mremap",          "madvise", "mprotect",
                "rt_sigreturn",  "rt_sigprocmask", "rt_sigtimedwait", "restart_syscall", "getpid",  "gettid",
                "clock_gettime", "sched_yield",    "futex",           "sigaltstack",
        };
        static const char *const on_link[] = { "recvfrom", "recvmsg", "sendto", "sendmsg" };
        const uint32_t allow = SCMP_ACT_ALLOW, arch = seccomp_arch_native();
        scmp_filter_ctx ctx;
        int r = 0;

        ctx = filter_new(SCMP_ACT_ERRNO(EPERM));
        if (!ctx)
                return -ENOMEM;
        r = seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1);
        if (r >= 0)
                r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1);
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(plain); i++)
                r = add_rule(ctx, arch, allow, plain[i], 0, NULL);
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(on_link); i++)
                r = add_rule(ctx, arch, allow, on_link[i], 1,
                             (struct scmp_arg_cmp[]){ SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t) a->sock, 0) });
        for (size_t i = 0; r >= 0 && i < a->n_files; i++) {
                bool seen = false;

                /* Two files in one directory fd: its rules once. */
                for (size_t j = 0; j < i; j++)
                        seen |= a->files[j].dir_fd == a->files[i].dir_fd;
                if (!seen)
                        r = allow_dir(ctx, arch, a->files[i].dir_fd);
        }
        if (r >= 0)
                r = seccomp_load(ctx);
        seccomp_release(ctx);
        return r;
}

/* Read and drop size bytes: data that could not be held, so that the link stays in step. */
static int recv_drop(int fd, uint64_t size) {
        char buf[4096];
        int r = 0;

        while (r >= 0 && size > 0) {
                size_t n = size < sizeof(buf) ? (size_t) size : sizeof(buf);

                r = recv_full(fd, buf, n);
                size -= n;
        }
        return r;
}

/* Serve the daemon until it closes the link. Returns the exit status of the keeper. */
static int keeper_loop(const struct keeper_args *a) {
        for (;;) {
                const struct sandbox_keeper_file *f;
                struct keeper_header h;
                char *buf;
                int32_t result;
                int r;

                r = recv_full(a->sock, &h, sizeof(h));
                if (r == -EPIPE)
                        return EXIT_SUCCESS; /* the daemon is done, or gone */
                /* The daemon checks both: this is not it talking. */
                if (r < 0 || h.size > SANDBOX_KEEPER_MAX_SIZE || h.file >= a->n_files)
                        return EXIT_FAILURE;
                f = &a->files[h.file];
                buf = malloc(h.size > 0 ? (size_t) h.size : 1);
                r = buf ? recv_full(a->sock, buf, (size_t) h.size) : recv_drop(a->sock, h.size);
                if (r < 0) {
                        /* Cut short: the file keeps its last complete content. */
                        free(buf);
                        return r == -EPIPE ? EXIT_SUCCESS : EXIT_FAILURE;
                }
                result = buf ? f->write_file(f->dir_fd, f->name, buf, (size_t) h.size) : -ENOMEM;
                free(buf);
                if (send_full(a->sock, &result, sizeof(result)) < 0)
                        return EXIT_FAILURE;
        }
}

/* The keeper's life after the fork. _exit(), not exit(): the daemon's atexit handlers and stdio
 * buffers, copied by the fork, are the daemon's to run and flush. */
static _Noreturn void keeper_main(const struct keeper_args *a) {
        static const int ignored[] = { SIGTERM, SIGINT, SIGHUP, SIGPIPE };
        int keep[SANDBOX_KEEPER_FILES_MAX + 1];
        sigset_t none;
        int32_t ready;
        int status;

        /* Ignored, then unblocked (the daemon blocks them for its signalfd): one that came
         * between the fork and here is dropped. */
        for (size_t i = 0; i < ELEMENTSOF(ignored); i++)
                sigaction(ignored[i], &(struct sigaction){ .sa_handler = SIG_IGN }, NULL);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        keep[0] = a->sock;
        for (size_t i = 0; i < a->n_files; i++)
                keep[i + 1] = a->files[i].dir_fd;
        close_all_but(keep, a->n_files + 1);
        /* The unit's UMask=0077 would make the metrics 0600, which node_exporter (its own user)
         * cannot read; every file made here is made with the mode its write function names. */
        umask(0);
        (void) prctl(PR_SET_NAME, "closewaitd-keep");
        ready = keeper_filter(a);
        if (send_full(a->sock, &ready, sizeof(ready)) < 0 || ready < 0)
                _exit(EXIT_FAILURE);
        status = keeper_loop(a);
        _exit(status);
}

/* The keeper's answer as -errno: anything but 0 or an errno is not the keeper talking. */
static int keeper_result(int32_t result) {
        return result <= 0 && result >= -4095 ? result : -EIO;
}

/* The keeper is gone, or must be: close the link, kill it (a keeper that timed out may still run;
 * one that died is a zombie until reaped, so its pid cannot have been reused), reap it. */
static void keeper_gone(struct sandbox_keeper *k) {
        if (k->sock >= 0)
                close(k->sock);
        k->sock = -1;
        if (k->pid > 0) {
                (void) kill(k->pid, SIGKILL);
                while (waitpid(k->pid, NULL, 0) < 0 && errno == EINTR)
                        ;
        }
        k->pid = 0;
}

static bool file_valid(const struct sandbox_keeper_file *f) {
        return f->dir_fd >= 0 && f->name && f->name[0] && !strchr(f->name, '/') &&
               strlen(f->name) <= SANDBOX_KEEPER_NAME_MAX && f->write_file;
}

int sandbox_keeper_start(const struct sandbox_keeper_file *files, size_t n, struct sandbox_keeper **ret) {
        const struct timeval timeout = {
                .tv_sec = (time_t) (SANDBOX_KEEPER_TIMEOUT_USEC / USEC_PER_SEC),
                .tv_usec = (suseconds_t) (SANDBOX_KEEPER_TIMEOUT_USEC % USEC_PER_SEC),
        };
        struct keeper_args a = { .n_files = n };
        struct sandbox_keeper *k;
        int sv[2], r;
        int32_t ready;
        pid_t pid;

        if (n == 0 || n > SANDBOX_KEEPER_FILES_MAX)
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                if (!file_valid(&files[i]))
                        return -EINVAL;
                a.files[i] = files[i];
        }
        k = calloc(1, sizeof(*k));
        if (!k)
                return -ENOMEM;
        k->sock = -1;
        k->n_files = n;
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
                r = -errno;
                goto fail;
        }
        k->sock = sv[0];
        a.sock = sv[1];
        if (setsockopt(k->sock, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout)) < 0 ||
            setsockopt(k->sock, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)) < 0) {
                r = -errno;
                close(a.sock);
                goto fail;
        }
        pid = fork();
        if (pid < 0) {
                r = -errno;
                close(a.sock);
                goto fail;
        }
        if (pid == 0) {
                close(k->sock);
                free(k);
                keeper_main(&a);
        }
        close(a.sock);
        k->pid = pid;

        /* It answers once its filter is in place (or failed: then it exits). */
        r = recv_full(k->sock, &ready, sizeof(ready));
        r = r < 0 ? -ECHILD : keeper_result(ready);
        if (r < 0)
                goto fail;
        *ret = k;
        return 0;
fail:
        keeper_gone(k);
        free(k);
        return r;
}

int sandbox_keeper_save(struct sandbox_keeper *k, size_t file, const void *data, size_t size) {
        struct keeper_header h = { .size = size, .file = (uint32_t) file };
        int32_t result;
        int r;

        if (k->sock < 0)
                return -ECHILD;
        if (file >= k->n_files)
                return -EINVAL;
        if (size > SANDBOX_KEEPER_MAX_SIZE)
                return -EFBIG;
        r = send_full(k->sock, &h, sizeof(h));
        if (r >= 0)
                r = send_full(k->sock, data, size);
        if (r >= 0)
                r = recv_full(k->sock, &result, sizeof(result));
        if (r < 0) {
                /* Dead (EPIPE, ECONNRESET), or stuck (EAGAIN): either way the link is out of step. */
                keeper_gone(k);
                return -ECHILD;
        }
        return keeper_result(result);
}

pid_t sandbox_keeper_pid(const struct sandbox_keeper *k) {
        return k->pid;
}

struct sandbox_keeper *sandbox_keeper_free(struct sandbox_keeper *k) {
        if (!k)
                return NULL;
        if (k->sock >= 0)
                close(k->sock);
        k->sock = -1;
        /* It exits at the end of the link, having answered every save. */
        while (k->pid > 0 && waitpid(k->pid, NULL, 0) < 0 && errno == EINTR)
                ;
        free(k);
        return NULL;
}

int sandbox_write_readable(int dir_fd, const char *name, const char *buf, size_t len) {
        /* node_exporter reads every "*.prom" of the directory; ".NAME.tmp" is not one. */
        return write_file_atomic(dir_fd, name, buf, len, 0644, false);
}
