/* procmap: socket inode -> the processes holding it, from /proc/PID/fd, and what is known about
 * each holder (comm, exe, uid, unit, open fds, fd limit).
 *
 * The walk of /proc is the expensive part of a scan, so the map is built to be repeated every few
 * seconds: every socket fd a walk sees is indexed (inode -> pid, fd), holders are re-verified per
 * process (start time), and /proc is walked again only for what changed: new processes, holders
 * whose fd count changed, and the other processes while some inode has no holder (procmap.c tells
 * the steps). Processes that vanish mid-walk (ENOENT, ESRCH) or deny access (EACCES, EPERM) are
 * skipped and counted, never fatal. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util.h"

/* What is known about one process holding a socket. Strings are escaped for display. */
struct proc_info {
        pid_t pid;
        uint64_t start_time; /* field 22 of /proc/PID/stat (clock ticks after boot); with pid, the
                              * identity of a process: a reused pid has another start time */
        char *comm;          /* escaped; never NULL ("" when unreadable) */
        char *exe;           /* escaped; NULL when unreadable (kernel thread, denied) */
        uint32_t uid;        /* real uid, from the Uid: line of /proc/PID/status; UINT32_MAX if unknown */
        char *unit;          /* systemd unit, NULL when none */
        uint64_t netns;      /* inode of its network namespace (/proc/PID/ns/net); 0 when unknown */
        char *container;     /* container id from /proc/PID/cgroup (docker, containerd, CRI-O,
                              * podman), NULL when none */
        char *pod;           /* Kubernetes pod uid from a kubepods cgroup, NULL when none */
        unsigned open_fds;   /* entries of /proc/PID/fd */
        int64_t fd_limit;    /* soft "Max open files" of /proc/PID/limits; -1 = unlimited/unknown */
};

/* What one procmap_resolve() call cost and skipped. Counters add up (the caller zeroes them). */
struct procmap_stats {
        unsigned long proc_entries;   /* /proc entries read: directory entries, files and links */
        unsigned long pids_walked;    /* processes whose fd directory was listed */
        unsigned long links_read;     /* readlinkat() calls on fd entries */
        unsigned long cache_verified; /* holders answered from the index (process still the same) */
        unsigned long cache_stale;    /* index entries dropped: process gone or reused, fd changed */
        unsigned long vanished;       /* processes or fds gone mid-walk (ENOENT, ESRCH) */
        unsigned long denied;         /* processes whose fds could not be read (EACCES, EPERM) */
        unsigned long unreadable;     /* processes known now whose fds could not be read at their
                                       * last walk (set, not added: the state after the call) */
        unsigned long unresolved;     /* inodes asked for and held by no readable process */
};

/* Looks up the systemd unit of a process: 0 and a malloc'd string in *ret, or -errno (-ENODATA:
 * no unit). sd_pid_get_unit() in the daemon; tests inject their own. */
typedef int (*procmap_unit_fn)(pid_t pid, char **ret);

struct procmap;

/* Create a map reading the proc filesystem mounted at proc_path ("/proc" in the daemon, a fake
 * tree in tests). get_unit may be NULL (no units). Returns 0 and *ret, or -errno (-ENOMEM, or the
 * error of opening proc_path). */
int procmap_new(const char *proc_path, procmap_unit_fn get_unit, struct procmap **ret);

/* Free; accepts NULL, returns NULL. */
struct procmap *procmap_free(struct procmap *pm);

/* Find every process holding each of the n inodes (0 entries and repeats are ignored) and load
 * the proc_info of every holder (fresh on each call: fds, comm and limits change).
 *
 * Holders come from the index of every socket fd seen, checked per process (start time); new
 * processes are always walked (a fork shares its parent's sockets), holders whose fd count changed
 * are walked again, and every process is walked while some inode has no holder (see procmap.c).
 * Returns 0, or -ENOMEM / -errno when /proc itself cannot be read. Per-process failures are
 * counted in *stats (which may be NULL). */
int procmap_resolve(struct procmap *pm, const uint32_t *inodes, size_t n, struct procmap_stats *stats);

/* How long one call may spend walking every process for inodes still missing (the sweep, which
 * goes on at the next call; at least one process per call). 100 ms by default; tests set 0. */
void procmap_set_sweep_budget(struct procmap *pm, usec_t budget);

/* After procmap_resolve(): the pids holding inode, ascending and unique, in *ret. Returns how
 * many (0 when none or not asked for). Valid until the next procmap_resolve(). */
size_t procmap_holders(const struct procmap *pm, uint32_t inode, const pid_t **ret);

/* After procmap_resolve(): the info of a holder, or NULL. Valid until the next procmap_resolve(). */
const struct proc_info *procmap_info(const struct procmap *pm, pid_t pid);

/* Pure parsers of /proc files, exported for tests and fuzzing. Each takes the raw bytes read
 * (not NUL-terminated) and returns 0 or -EBADMSG. */

/* /proc/PID/stat: the start time (field 22, counted after the last ')' since comm may hold
 * spaces and parentheses). */
int proc_parse_stat_start_time(const char *buf, size_t len, uint64_t *ret);

/* /proc/PID/limits: the soft "Max open files" value; "unlimited" gives -1. */
int proc_parse_limits_nofile(const char *buf, size_t len, int64_t *ret);

/* /proc/PID/status: the real uid (first number of the "Uid:" line). */
int proc_parse_status_uid(const char *buf, size_t len, uint32_t *ret);

/* An fd link target: "socket:[12345]" gives 12345; anything else -EBADMSG (not a socket). */
int proc_parse_socket_link(const char *buf, size_t len, uint32_t *ret);

/* /proc/PID/comm content: strips exactly one trailing newline (the kernel's), keeps any other
 * byte, and returns the escaped string (caller frees) or NULL on -ENOMEM. */
char *proc_comm_from_file(const char *buf, size_t len);
