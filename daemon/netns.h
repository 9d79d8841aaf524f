/* netns: the network namespaces of the host, and a socket-diagnostics socket inside each.
 *
 * The kernel answers a NETLINK_SOCK_DIAG dump with the sockets of the namespace the netlink socket
 * was created in, so a container's CLOSE_WAIT sockets are invisible from the host's namespace
 * (and to ss), though its processes' fds are in /proc. Each scan finds the distinct namespaces:
 * those of every process (/proc/PID/ns/net) and those kept by name (/run/netns/NAME, ip-netns(8)).
 * A new one is entered by a short-lived thread (setns() needs CAP_SYS_ADMIN) that creates a diag
 * socket there; the socket keeps dumping that namespace after the thread is gone. A namespace
 * that no process and no name keeps any more has its socket closed: an open socket would pin it.
 *
 * The daemon's own namespace (the "host") is always there and needs no capability. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"

/* One namespace, identified by the inode of its nsfs file (the number in "net:[4026531840]"). */
struct netns_entry {
        uint64_t ino;
        bool own;          /* the daemon's own namespace */
        struct diag *diag; /* NULL: not open (not entered yet, or closed after a failed dump) */
        int error;         /* the last failure to enter or open it (-errno), 0 when none; -ESTALE:
                            * the pid it was found through is in another namespace now (not a
                            * failure: tried again, with every namespace read afresh, next time);
                            * -ENOENT, -ESRCH: the process exited since the walk (not a failure);
                            * -EINVAL: a /run/netns name of another kind of namespace (ignored) */
};

/* What one netns_refresh() found and did. */
struct netns_stats {
        unsigned long found;    /* distinct namespaces, the own one included */
        unsigned long opened;   /* diag sockets opened in namespaces new to this call */
        unsigned long closed;   /* namespaces gone (no process, no name) whose socket was closed */
        unsigned long failed;   /* namespaces that could not be entered (see netns_entry.error;
                                 * -ESTALE, -ENOENT, -ESRCH and -EINVAL are not counted) */
        unsigned long denied;   /* processes whose /proc/PID/ns/net could not be read (EACCES) */
        unsigned long vanished; /* processes gone mid-walk or before their namespace was entered */
};

struct netns_set;

/* Read the namespaces from the proc file system at proc_path and the names in run_netns_path
 * (NULL: none). Returns 0 and *ret, or -errno (proc_path cannot be opened, the own namespace
 * cannot be read, -ENOMEM). */
int netns_set_new(const char *proc_path, const char *run_netns_path, struct netns_set **ret);
/* Free, closing every socket; accepts NULL, returns NULL. */
struct netns_set *netns_set_free(struct netns_set *s);

/* Find the namespaces in use now. With enter, every one not open yet is entered and gets a diag
 * socket (a failure is kept in its entry's error and tried again at the next call); without, only
 * the own namespace is kept and the others are closed. The own namespace's socket is opened too
 * when it is not. Namespaces no longer found are closed and dropped. Returns 0, or -errno when
 * /proc cannot be listed or the own namespace's socket cannot be opened (the other entries are
 * up to date then), -ENOMEM. Per-process failures are counted in *stats (may be NULL). */
int netns_refresh(struct netns_set *s, bool enter, struct netns_stats *stats);

/* The entries, the own one first, the others by inode; valid until the next refresh. */
size_t netns_count(const struct netns_set *s);
struct netns_entry *netns_get(struct netns_set *s, size_t i);
/* The own namespace's inode. */
uint64_t netns_own(const struct netns_set *s);
/* Close the diag socket of e (after a failed dump); the next refresh opens a new one. */
void netns_reset(struct netns_entry *e);

/* Whether this process may enter other network namespaces: CAP_SYS_ADMIN in its effective set.
 * Returns 1, 0, or -errno when it cannot tell. */
int netns_can_enter(void);
