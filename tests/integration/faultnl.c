/* faultnl: an LD_PRELOAD library that makes netlink fail on demand, for the integration tests
 * (test_daemon_netlink_fail.py). The seam lives here, in the test, not in the daemon.
 *
 * While the file named by $FAULTNL_FILE exists, socket(AF_NETLINK, ...) fails, and so do
 * send/sendto/sendmsg/recv/recvfrom/recvmsg on a socket whose SO_DOMAIN is AF_NETLINK, with the
 * errno written in the file as a decimal number (EIO when the file holds none). Everything else
 * goes to the real functions (dlsym(RTLD_NEXT)), so the daemon's sd_notify and journal sockets
 * (AF_UNIX) are untouched. Without $FAULTNL_FILE, or while the file is missing, the library does
 * nothing but forward. The file is looked at on every call: the test turns the fault on and off
 * while the daemon runs. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#ifndef AF_NETLINK
#define AF_NETLINK 16
#endif

/* The errno to fail with, or 0 when no fault is on. Keeps the caller's errno. */
static int fault_errno(void) {
        const char *path = getenv("FAULTNL_FILE");
        char buf[32];
        int saved = errno, fd, e = EIO;
        ssize_t n;

        if (!path || !*path)
                return 0;
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                errno = saved;
                return 0;
        }
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n > 0) {
                char *end;
                long v;

                buf[n] = '\0';
                v = strtol(buf, &end, 10);
                if (end != buf && v > 0 && v < 4096)
                        e = (int) v;
        }
        errno = saved;
        return e;
}

static int is_netlink(int fd) {
        int domain = 0, saved = errno;
        socklen_t len = sizeof(domain);
        int r = getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len);

        errno = saved;
        return r == 0 && domain == AF_NETLINK;
}

/* The fault for an I/O call on fd: 0 (go on) or the errno to fail with. */
static int io_fault(int fd) {
        int e = fault_errno();

        return e != 0 && is_netlink(fd) ? e : 0;
}

static void *next(const char *name) {
        void *f = dlsym(RTLD_NEXT, name);

        if (!f)
                abort(); /* no such function below us: nothing sensible to forward to */
        return f;
}

/* real_NAME: the next definition of NAME (libc's, or a sanitizer's interceptor), looked up once. */
#define REAL(name)                                                                                                     \
        static __typeof__(&(name)) real_##name;                                                                        \
        real_##name = real_##name ? real_##name : (__typeof__(&(name))) next(#name)

int socket(int domain, int type, int protocol) {
        REAL(socket);
        if (domain == AF_NETLINK) {
                int e = fault_errno();

                if (e != 0) {
                        errno = e;
                        return -1;
                }
        }
        return real_socket(domain, type, protocol);
}

ssize_t send(int fd, const void *buf, size_t len, int flags) {
        int e = io_fault(fd);

        REAL(send);
        if (e != 0) {
                errno = e;
                return -1;
        }
        return real_send(fd, buf, len, flags);
}

ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *addr, socklen_t addrlen) {
        int e = io_fault(fd);

        REAL(sendto);
        if (e != 0) {
                errno = e;
                return -1;
        }
        return real_sendto(fd, buf, len, flags, addr, addrlen);
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags) {
        int e = io_fault(fd);

        REAL(sendmsg);
        if (e != 0) {
                errno = e;
                return -1;
        }
        return real_sendmsg(fd, msg, flags);
}

ssize_t recv(int fd, void *buf, size_t len, int flags) {
        int e = io_fault(fd);

        REAL(recv);
        if (e != 0) {
                errno = e;
                return -1;
        }
        return real_recv(fd, buf, len, flags);
}

ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *addr, socklen_t *addrlen) {
        int e = io_fault(fd);

        REAL(recvfrom);
        if (e != 0) {
                errno = e;
                return -1;
        }
        return real_recvfrom(fd, buf, len, flags, addr, addrlen);
}

ssize_t recvmsg(int fd, struct msghdr *msg, int flags) {
        int e = io_fault(fd);

        REAL(recvmsg);
        if (e != 0) {
                errno = e;
                return -1;
        }
        return real_recvmsg(fd, msg, flags);
}
