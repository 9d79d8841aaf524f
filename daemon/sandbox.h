/* sandbox: what the daemon gives up once it has started.
 *
 * The daemon runs as uid 0 with CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH, which it needs to read
 * /proc/PID/fd of every process. With them /proc/PID/root leads into the file system of any
 * process, past every mount the unit sets up (ProtectSystem=strict, InaccessiblePaths=): reading
 * is the job, but writing is not. After startup the daemon writes its state and, when asked to, the
 * Prometheus metrics file, so the work is split as OpenBSD's ntpd splits it:
 *
 *  - the keeper, a child process forked at startup, owns the state directory (and the directory
 *    of the metrics file, when there is one) and writes those files, and nothing else: a strict
 *    allowlist seccomp filter of its own;
 *  - the daemon then forbids itself every way to write, create, rename, remove or change the
 *    metadata of a file, to mount, to ptrace, and to open a socket other than a datagram one to
 *    the journal and sd_notify or the socket diagnostics (sandbox_forbid_writes()).
 *
 * The filters are built with libseccomp for the native architecture; a system call of another
 * (a 32-bit or x32 call from an x86_64 process) kills the thread making it (the daemon and the
 * keeper have one each). */
#pragma once

#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The largest state file the keeper takes, in bytes. A saved socket is one line: its cookie in
 * hex, its first-seen time in decimal microseconds. Measured with tracker_serialize(), 100k CLOSE_WAIT
 * sockets make 2.2 MB (cookies near 2^24, 30 days after boot) to 2.5 MB (2^32, a year), 3.8 MB
 * with the largest numbers there are; 64 MiB holds 1.7 million sockets at worst. */
#define SANDBOX_KEEPER_MAX_SIZE ((size_t) 64 << 20)

/* How long the daemon waits for the keeper to take or answer one message. A keeper slower than
 * that is stuck (the state directory is a tmpfs): it is killed rather than let hold up the scans
 * and, through them, the watchdog. */
#define SANDBOX_KEEPER_TIMEOUT_USEC (10 * 1000000ULL)

/* LeakSanitizer stops the world at exit by ptrace()-ing the process from a clone of itself: in
 * builds with AddressSanitizer, sandbox_forbid_writes() leaves ptrace() allowed. */
#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_PTRACE_ALLOWED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(leak_sanitizer)
#define SANDBOX_PTRACE_ALLOWED 1
#endif
#endif
#ifndef SANDBOX_PTRACE_ALLOWED
#define SANDBOX_PTRACE_ALLOWED 0
#endif

/* Install, for the rest of the life of this process and of every process it starts, a seccomp
 * filter that makes these fail with EPERM:
 *  - open()/openat() with O_WRONLY, O_RDWR, O_CREAT, O_TRUNC or O_APPEND (O_TMPFILE needs one
 *    of the first two), creat(), open_by_handle_at(); openat2() fails with ENOSYS, so that a
 *    caller falls back to openat();
 *  - creating, renaming, linking, removing and truncating files (rename*, link*, symlink*,
 *    unlink*, rmdir, mkdir*, mknod*, truncate, ftruncate, fallocate);
 *  - metadata, also through an fd opened read-only: chmod, chown, utimes, xattr families,
 *    file_setattr, and the ioctls FS_IOC_SETFLAGS, FS_IOC_FSSETXATTR, TIOCSTI, TIOCLINUX,
 *    TIOCVHANGUP, TIOCCONS, TIOCSCTTY, TIOCSETD, and the families of file systems, block and
 *    loop devices;
 *  - locks on files (flock, fcntl F_SETLK*, F_OFD_SETLK*, F_SETLEASE): a read lock is enough to
 *    stop another program (apt) that wants a write lock;
 *  - mount and friends, chroot, pivot_root, swap, quotas, acct, modules, kexec, reboot;
 *  - ptrace (unless SANDBOX_PTRACE_ALLOWED), process_vm_writev, pidfd_getfd: with
 *    CAP_SYS_PTRACE they write into any process;
 *  - io_uring, whose requests open and write files past this filter;
 *  - what CAP_SYS_ADMIN (for setns() into network namespaces) opens besides: setns() with any
 *    nstype but CLONE_NEWNET, unshare(), clone() with a CLONE_NEW* flag (clone3() fails with
 *    ENOSYS, so that glibc makes threads with clone()), bpf, perf_event_open, fanotify, keyrings,
 *    syslog, sethostname/setdomainname;
 *  - socket() of any family but AF_UNIX and AF_NETLINK, of AF_UNIX stream and seqpacket sockets
 *    (connecting as uid 0 to systemd's private socket or the system bus is as good as root), and
 *    of netlink sockets other than NETLINK_SOCK_DIAG.
 * Everything else stays allowed: reading files and /proc, readlinkat, the sockets that are open,
 * new AF_UNIX datagram sockets (sd_journal_send(), sd_notify()) and NETLINK_SOCK_DIAG sockets,
 * memfd_create() (sd_journal_send() of a large entry), write() to open fds, signalfd, timerfd,
 * epoll, fork and exec. Sets PR_SET_NO_NEW_PRIVS first (needed without CAP_SYS_ADMIN).
 * Returns 0, -ENOMEM, or -errno from the kernel (-EINVAL, -ENOSYS: no seccomp filters here;
 * -EACCES, -EPERM: a filter already loaded refuses it). */
int sandbox_forbid_writes(void);

/* Write the filter of sandbox_forbid_writes() as built for the libseccomp architecture arch
 * (SCMP_ARCH_*; 0: the native one) to fd, as pseudo-C (seccomp_export_pfc()), to read or test
 * it. System calls unknown to this libseccomp are filtered only on the native architecture.
 * Returns 0, -EINVAL (unknown arch), -ENOMEM, or -errno from writing. */
int sandbox_export_forbid_writes(uint32_t arch, int fd);

struct sandbox_keeper;

/* The flags of the one kind of open() the keeper's filter allows. */
#define SANDBOX_KEEPER_OPEN_FLAGS (O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW)

/* The longest file name the keeper takes: ".NAME.tmp", its temporary file, must fit NAME_MAX. */
#define SANDBOX_KEEPER_NAME_MAX 200

/* How many files one keeper writes at most (the state, the metrics). */
#define SANDBOX_KEEPER_FILES_MAX 4

/* How the keeper writes size bytes of buf as dir_fd/name (tracker_write_file() for the state,
 * sandbox_write_readable() for the metrics); returns 0 or -errno. It runs under the keeper's
 * filter: it may openat() at dir_fd with SANDBOX_KEEPER_OPEN_FLAGS (with any mode: the keeper's
 * umask is 0, so the mode given is the mode the file gets), write(), fsync(), close(),
 * renameat() and unlinkat() within dir_fd, and allocate memory; anything else fails with EPERM. */
typedef int (*sandbox_write_fn)(int dir_fd, const char *name, const char *buf, size_t size);

/* One file the keeper writes: name (no '/', at most SANDBOX_KEEPER_NAME_MAX bytes) in the
 * directory dir_fd, with write_file. */
struct sandbox_keeper_file {
        int dir_fd;
        const char *name;
        sandbox_write_fn write_file;
};

/* Fork the keeper of the n files (1 .. SANDBOX_KEEPER_FILES_MAX; file i is the i of
 * sandbox_keeper_save()). Call it before sandbox_forbid_writes(), from a process without threads.
 * The keeper:
 *  - ignores SIGTERM, SIGINT and SIGHUP (systemd signals the whole unit at stop, and the daemon
 *    sends its last state after that), and exits when the daemon closes the link or dies;
 *  - closes every fd but stdin, stdout, stderr, the files' directories and its end of the link;
 *  - sets its umask to 0: each write function names the mode of what it creates (the state 0600,
 *    the metrics 0644 for node_exporter, whatever the unit's UMask=);
 *  - runs under a seccomp filter that allows only what writing the files needs (openat() at one
 *    of their directories with fixed flags, write, fsync, renameat() and unlinkat() within one
 *    directory, its end of the link, memory, exit); any other system call fails with EPERM.
 * The directory fds stay open here: the caller closes them. Returns 0 and *ret once the keeper
 * runs under its filter, or -errno: -EINVAL (no files, too many, a bad name or fd), socketpair()
 * or fork() failures, -ENOMEM, or the error of the keeper's own filter (as
 * sandbox_forbid_writes(); the keeper does not run unconfined). */
int sandbox_keeper_start(const struct sandbox_keeper_file *files, size_t n, struct sandbox_keeper **ret);

/* Have the keeper write data (size bytes) as file number file, and wait for its answer. Returns
 * 0; -EFBIG when size > SANDBOX_KEEPER_MAX_SIZE, -EINVAL for a file it was not started with
 * (nothing is sent); the -errno of its write function (it goes on); or -ECHILD when the keeper is
 * gone: it died, the link failed, or it did not answer within SANDBOX_KEEPER_TIMEOUT_USEC (it is
 * killed then). After -ECHILD every call returns -ECHILD at once. Never raises SIGPIPE. */
int sandbox_keeper_save(struct sandbox_keeper *k, size_t file, const void *data, size_t size);

/* The process id of the keeper, or 0 once it is gone. */
pid_t sandbox_keeper_pid(const struct sandbox_keeper *k);

/* Close the link: the keeper, done with every save it answered, exits; wait for it. Accepts
 * NULL, returns NULL. */
struct sandbox_keeper *sandbox_keeper_free(struct sandbox_keeper *k);

/* A sandbox_write_fn for a file other users read (the metrics, read by node_exporter, which runs
 * as its own user): len bytes of buf as dir_fd/name, atomically (".NAME.tmp", then renamed over
 * it; readers see the old file or the new one, never a part), mode 0644. Not fsync'd: the file
 * is rewritten after every scan and worth nothing after a crash, while an fsync on a busy disk
 * would hold up the scan, and the keeper's answer, for as long as the disk takes. Returns 0 or
 * -errno; no temporary file is left behind. */
int sandbox_write_readable(int dir_fd, const char *name, const char *buf, size_t len);
