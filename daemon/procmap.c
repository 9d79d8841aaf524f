/* procmap: socket inode -> holder processes, from /proc/PID/fd, cached across scans.
 *
 * State kept between calls: a process table (pid -> start time, the fd count and the socket fds
 * its last walk saw) and an index of every socket fd seen by any walk (inode -> pid, fd). A call
 *
 *  1. lists /proc: processes that are gone leave the table and the index; new pids are walked,
 *     so a fork that shares a socket is found;
 *  2. answers every wanted inode from the index, re-verifying each holder per process (its start
 *     time, read once per call), not per socket: a socket found once costs no /proc access. A
 *     holder whose pid now names another process (another start time) is walked as new; the
 *     start time of a process is read only when it matters (a holder, a process to walk again);
 *  3. re-walks the holders of wanted inodes whose fd count changed (a leaking process leaks
 *     more), listing a growing one only from the first fd number its last walk did not see;
 *     then, while some inode is missing, the other processes whose fd count changed. A re-walk
 *     reads the link of an fd only when its number did not hold a wanted socket before;
 *  4. if some inode is still missing: walks whole every process (the sweep), within a time
 *     budget per call (continued by the next call). An inode missing since before the sweep
 *     began that no process had when it was walked is left alone for a while (held by no
 *     process, in flight in SCM_RIGHTS, or by a process we may not read).
 *
 * A cached holder's fd is read again once in PM_VERIFY_SPREAD calls (step 2), so a number
 * closed and reused is seen in time even when the fd count does not change.
 *
 * Everything is addressed relative to one directory fd, so tests point it at a fake tree.
 *
 * Known weakness: the holders of a socket are what the walks saw. A process walked before it
 * got a socket another process already holds (SCM_RIGHTS, or the parent of a child that inherited
 * it) is not found while that other holder keeps it, unless its fd count changes while some
 * inode is missing. Every socket is attributed to at least one holder. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "container.h"
#include "procmap.h"
#include "strutil.h"
#include "util.h"

#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0
#endif

/* /proc/PID/stat is ~300 bytes, status ~1.5 KiB with Uid: on line 9, limits ~1.4 KiB. */
#define PM_FILE_MAX 4096
/* comm is at most 15 bytes plus the newline; a fake tree may hold more, which is cut here. */
#define PM_COMM_MAX 256
/* "socket:[4294967295]" is 19 bytes; a longer link target is not a socket. */
#define PM_LINK_MAX 64
/* "2147483647/task/2147483647/fd" and the like. */
#define PM_PATH_MAX 48

#define PM_UID_UNKNOWN UINT32_MAX

/* Step 4 stops after this much time in one call and goes on at the next: a host with millions of
 * fds never stalls the loop nor trips the watchdog. Steps 1-3 are not bounded: new processes must
 * be walked once, and re-walks read only what changed. */
#define PM_SWEEP_BUDGET_USEC (100 * USEC_PER_MSEC)
/* Step 2 reads the link of a cached holder's fd again once every this many calls. */
#define PM_VERIFY_SPREAD 16
/* An inode that a whole sweep did not find is searched again after this many calls. */
#define PM_ORPHAN_CALLS 60

/* A socket fd of a process, as its last walk saw it. */
struct pm_fd {
        int fd;
        uint32_t inode;
};

struct pm_proc {
        pid_t pid;
        bool walked;         /* fds listed once with start_time below */
        uint64_t start_time; /* start time when last walked */
        uint64_t seen_gen;   /* last call that listed it in /proc */
        uint64_t walked_gen; /* last call that walked its fds */
        uint64_t holds_gen;  /* last call in which the index gave it a wanted inode */
        uint64_t stat_gen;   /* call of stat_start/stat_err: stat is read once per call */
        uint64_t stat_start;
        int stat_err;
        uint64_t denied_gen;   /* counted in stats->denied in this call */
        bool unreadable;       /* its last whole walk was denied: counted in stats->unreadable */
        uint64_t vanished_gen; /* counted in stats->vanished in this call */
        uint64_t info_gen;     /* call whose info load was attempted */
        size_t info_idx;       /* with info_gen: index + 1 into infos, 0 when it vanished */
        uint64_t sweep;        /* the sweep (step 4) that last walked it */
        unsigned walk_fds;     /* fd entries its last walk saw */
        uint64_t count_gen;    /* call of count: pm_fd_count() */
        long count;
        unsigned long first_hole; /* the lowest fd number its last walk did not see */
        uint64_t tail_gen;        /* last call that walked only from first_hole (pm_walk_tail()) */
        unsigned long tail_from;  /* ... from which fd number */
        struct pm_fd *fds;        /* its socket fds at the last walk, ascending fd */
        size_t n_fds, cap_fds;
};

/* One socket fd in the index: a chained hash on inode, entries linked by index + 1. */
struct pm_entry {
        uint32_t inode; /* 0: a free entry */
        pid_t pid;
        int fd;
        uint32_t next;
};

struct pm_holder {
        uint32_t inode;
        pid_t pid;
        int fd;
        uint32_t want; /* index into wants */
        uint32_t proc; /* index into procs (stable from pm_list_procs() to the end of the call) */
        uint64_t start_time;
};

struct pm_want {
        uint32_t inode;
        uint32_t found; /* holders found in this call */
        bool orphan;    /* not searched in steps 3 and 4 */
        bool pending;   /* in pm->pending */
        size_t res_off; /* holders of the last resolve: res_pids[res_off .. +res_n] */
        size_t res_n;
};

struct pm_orphan {
        uint32_t inode;
        uint64_t until_gen; /* searched again from this call on */
};

struct pm_missing {
        uint32_t inode;
        uint64_t since_gen; /* the first call of a run of calls in which it was missing */
};

struct procmap {
        int proc_fd;
        pid_t self;      /* getpid(): its fd directory lists the one being read */
        bool proc_magic; /* real procfs: stat("PID/fd").st_size is the fd count */
        procmap_unit_fn get_unit;
        uint64_t gen;
        size_t walks;       /* processes walked in this call */
        uint64_t sweep;     /* the current sweep of step 4; a process with p->sweep == sweep is done */
        bool sweeping;      /* a sweep was begun and is not complete */
        uint64_t sweep_gen; /* the call that began it */
        usec_t sweep_budget;

        struct pm_proc *procs;
        size_t n_procs, cap_procs;
        uint32_t *proc_slots; /* open addressing: index + 1 into procs, 0 = empty */
        size_t cap_proc_slots;

        struct pm_entry *entries;
        size_t n_entries, cap_entries;
        uint32_t free_entry; /* index + 1 of the first free entry, chained through next */
        uint32_t *buckets;   /* index + 1 of the first entry of each chain */
        size_t cap_buckets;
        size_t n_indexed;

        struct pm_fd *scratch; /* the fds of the walk in progress */
        size_t n_scratch, cap_scratch;

        struct pm_holder *holders;
        size_t n_holders, cap_holders;

        struct pm_want *wants;
        size_t n_wants, cap_wants;
        uint32_t *want_slots; /* open addressing: index + 1 into wants, 0 = empty */
        size_t cap_want_slots;
        size_t missing; /* wants with found == 0 and not orphans */

        struct pm_orphan *orphans;
        size_t n_orphans, cap_orphans;
        struct pm_missing *pending; /* inodes missing at a sweep, kept while they are missing */
        size_t n_pending, cap_pending;

        pid_t *res_pids;
        size_t n_res, cap_res;

        struct proc_info *infos; /* sorted by pid */
        size_t n_infos, cap_infos;
};

static size_t pm_hash(uint32_t k, size_t cap) {
        /* Inodes and pids come in runs: multiplying by an odd constant (mod 2^32, wrapping on
         * purpose) spreads a run over the table, and any cap consecutive keys still land in
         * distinct slots. */
        uint32_t h = k * UINT32_C(2654435761);

        return (size_t) h & (cap - 1);
}

/* Power of two slot count for a table of n keys, at most half full. */
static int pm_slots_size(size_t n, size_t *ret) {
        size_t cap = 16;

        if (n > UINT32_MAX / 4)
                return -ENOMEM;
        while (cap < n * 2)
                cap *= 2;
        *ret = cap;
        return 0;
}

static bool pm_is_gone(int r) {
        return r == -ENOENT || r == -ESRCH;
}

static void pm_count_failure(struct procmap *pm, struct pm_proc *p, int r, struct procmap_stats *stats) {
        if (pm_is_gone(r)) {
                if (p->vanished_gen != pm->gen) {
                        p->vanished_gen = pm->gen;
                        stats->vanished++;
                }
        } else if (p->denied_gen != pm->gen) {
                /* EACCES/EPERM, or anything else that keeps its fds unreadable (a fake tree's
                 * "fd" that is not a directory gives ENOTDIR). */
                p->denied_gen = pm->gen;
                stats->denied++;
        }
}

/* Read at most size bytes of a file relative to dir_fd. Returns 0 and *len, or -errno. */
static int pm_read_file(int dir_fd, const char *path, char *buf, size_t size, size_t *len,
                        struct procmap_stats *stats) {
        int fd, r;

        *len = 0;
        stats->proc_entries++;
        fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        r = read_full(fd, buf, size, len);
        close(fd);
        return r;
}

static int pm_readlink(int dir_fd, const char *path, char *buf, size_t size, size_t *len, struct procmap_stats *stats) {
        ssize_t k;

        *len = 0;
        stats->proc_entries++;
        k = readlinkat(dir_fd, path, buf, size);
        if (k < 0)
                return -errno;
        *len = (size_t) k;
        return 0;
}

/* A directory entry named by a decimal number up to max, as procfs writes it: digits only, no
 * leading zero ("0" itself is fd 0). */
static bool pm_parse_name(const char *s, unsigned long max, unsigned long *ret) {
        unsigned long v = 0;

        if (s[0] < '0' || s[0] > '9' || (s[0] == '0' && s[1] != '\0'))
                return false;
        for (; *s; s++) {
                if (*s < '0' || *s > '9')
                        return false;
                v = v * 10 + (unsigned long) (*s - '0');
                if (v > max)
                        return false;
        }
        *ret = v;
        return true;
}

/* Parse the digits at buf[*pos..len) as an unsigned number no larger than max. At least one
 * digit; stops at the first non-digit, which the caller checks. */
static int pm_parse_u64(const char *buf, size_t len, size_t *pos, uint64_t max, uint64_t *ret) {
        size_t i = *pos;
        uint64_t v = 0;

        if (i >= len || buf[i] < '0' || buf[i] > '9')
                return -EBADMSG;
        for (; i < len && buf[i] >= '0' && buf[i] <= '9'; i++) {
                unsigned d = (unsigned) (buf[i] - '0');

                if (v > (max - d) / 10)
                        return -EBADMSG;
                v = v * 10 + d;
        }
        *pos = i;
        *ret = v;
        return 0;
}

static bool pm_is_blank(char c) {
        return c == ' ' || c == '\t';
}

/* True when position i ends a field: end of the buffer, a blank or a newline. */
static bool pm_field_end(const char *buf, size_t len, size_t i) {
        return i >= len || pm_is_blank(buf[i]) || buf[i] == '\n';
}

int proc_parse_stat_start_time(const char *buf, size_t len, uint64_t *ret) {
        size_t i, field = 2; /* the field that ends at the last ')' is comm, field 2 */
        bool found = false;

        /* comm may hold any byte but NUL, ')' included; no field after it can. */
        for (i = len; i > 0; i--)
                if (buf[i - 1] == ')') {
                        found = true;
                        break;
                }
        if (!found || i >= len || buf[i] != ' ')
                return -EBADMSG;

        while (i < len) {
                if (buf[i] == ' ') {
                        i++;
                        continue;
                }
                if (buf[i] == '\n')
                        break;
                field++;
                if (field == 22) {
                        uint64_t v;

                        if (pm_parse_u64(buf, len, &i, UINT64_MAX, &v) < 0 || !pm_field_end(buf, len, i))
                                return -EBADMSG;
                        *ret = v;
                        return 0;
                }
                while (i < len && buf[i] != ' ' && buf[i] != '\n')
                        i++;
        }
        return -EBADMSG;
}

/* The next line of buf[*pos..len): *start and *end (exclusive, no newline). False at the end. */
static bool pm_next_line(const char *buf, size_t len, size_t *pos, size_t *start, size_t *end) {
        size_t i = *pos;

        if (i >= len)
                return false;
        *start = i;
        while (i < len && buf[i] != '\n')
                i++;
        *end = i;
        *pos = i < len ? i + 1 : i;
        return true;
}

static bool pm_has_prefix(const char *buf, size_t start, size_t end, const char *prefix) {
        size_t n = strlen(prefix);

        return end - start >= n && memcmp(buf + start, prefix, n) == 0;
}

int proc_parse_limits_nofile(const char *buf, size_t len, int64_t *ret) {
        static const char key[] = "Max open files";
        size_t pos = 0, start, end;

        while (pm_next_line(buf, len, &pos, &start, &end)) {
                size_t i = start + sizeof(key) - 1;
                uint64_t v;

                if (!pm_has_prefix(buf, start, end, key) || i >= end || !pm_is_blank(buf[i]))
                        continue;
                while (i < end && pm_is_blank(buf[i]))
                        i++;
                if (end - i >= 9 && memcmp(buf + i, "unlimited", 9) == 0) {
                        if (!pm_field_end(buf, end, i + 9))
                                return -EBADMSG;
                        *ret = -1;
                        return 0;
                }
                if (pm_parse_u64(buf, end, &i, INT64_MAX, &v) < 0 || !pm_field_end(buf, end, i))
                        return -EBADMSG;
                *ret = (int64_t) v;
                return 0;
        }
        return -EBADMSG;
}

int proc_parse_status_uid(const char *buf, size_t len, uint32_t *ret) {
        size_t pos = 0, start, end;

        while (pm_next_line(buf, len, &pos, &start, &end)) {
                size_t i = start + 4;
                uint64_t v;

                if (!pm_has_prefix(buf, start, end, "Uid:"))
                        continue;
                while (i < end && pm_is_blank(buf[i]))
                        i++;
                if (pm_parse_u64(buf, end, &i, UINT32_MAX, &v) < 0 || !pm_field_end(buf, end, i))
                        return -EBADMSG;
                *ret = (uint32_t) v;
                return 0;
        }
        return -EBADMSG;
}

int proc_parse_socket_link(const char *buf, size_t len, uint32_t *ret) {
        static const char prefix[] = "socket:[";
        size_t i = sizeof(prefix) - 1;
        uint64_t v;

        if (len < i + 2 || memcmp(buf, prefix, i) != 0)
                return -EBADMSG;
        /* The kernel writes "%lu": a leading zero is not something it made. */
        if (buf[i] == '0' && buf[i + 1] != ']')
                return -EBADMSG;
        if (pm_parse_u64(buf, len, &i, UINT32_MAX, &v) < 0)
                return -EBADMSG;
        if (i + 1 != len || buf[i] != ']')
                return -EBADMSG;
        *ret = (uint32_t) v;
        return 0;
}

char *proc_comm_from_file(const char *buf, size_t len) {
        if (len > 0 && buf[len - 1] == '\n')
                len--;
        return str_escape(buf, len);
}

static struct pm_proc *pm_proc_find(const struct procmap *pm, pid_t pid) {
        size_t i;

        if (pm->cap_proc_slots == 0)
                return NULL;
        for (i = pm_hash((uint32_t) pid, pm->cap_proc_slots);; i = (i + 1) & (pm->cap_proc_slots - 1)) {
                uint32_t s = pm->proc_slots[i];

                if (s == 0)
                        return NULL;
                if (pm->procs[s - 1].pid == pid)
                        return &pm->procs[s - 1];
        }
}

static void pm_proc_slot_insert(struct procmap *pm, size_t idx) {
        size_t i = pm_hash((uint32_t) pm->procs[idx].pid, pm->cap_proc_slots);

        while (pm->proc_slots[i] != 0)
                i = (i + 1) & (pm->cap_proc_slots - 1);
        pm->proc_slots[i] = (uint32_t) idx + 1;
}

/* Rebuild the pid index for room_for entries (>= n_procs). */
static int pm_proc_rehash(struct procmap *pm, size_t room_for) {
        size_t cap;
        int r;

        r = pm_slots_size(room_for, &cap);
        if (r < 0)
                return r;
        if (cap != pm->cap_proc_slots) {
                uint32_t *s = realloc(pm->proc_slots, cap * sizeof(*s));

                if (!s)
                        return -ENOMEM;
                pm->proc_slots = s;
                pm->cap_proc_slots = cap;
        }
        memset(pm->proc_slots, 0, cap * sizeof(*pm->proc_slots));
        for (size_t i = 0; i < pm->n_procs; i++)
                pm_proc_slot_insert(pm, i);
        return 0;
}

static int pm_proc_get(struct procmap *pm, pid_t pid, struct pm_proc **ret) {
        struct pm_proc *p;
        int r;

        p = pm_proc_find(pm, pid);
        if (p) {
                *ret = p;
                return 0;
        }
        r = array_reserve((void **) &pm->procs, &pm->cap_procs, pm->n_procs + 1, sizeof(*pm->procs));
        if (r < 0)
                return r;
        if ((pm->n_procs + 1) * 2 > pm->cap_proc_slots) {
                r = pm_proc_rehash(pm, pm->n_procs + 1);
                if (r < 0)
                        return r;
        }
        p = &pm->procs[pm->n_procs];
        *p = (struct pm_proc){ .pid = pid };
        pm_proc_slot_insert(pm, pm->n_procs);
        pm->n_procs++;
        *ret = p;
        return 0;
}

/* ---- the index: inode -> (pid, fd) of every socket fd seen by a walk ---- */

static int pm_index_grow(struct procmap *pm) {
        size_t cap = pm->cap_buckets ? pm->cap_buckets * 2 : 1024;
        uint32_t *b;

        if (cap > UINT32_MAX / 2)
                return -ENOMEM;
        b = calloc(cap, sizeof(*b));
        if (!b)
                return -ENOMEM;
        free(pm->buckets);
        pm->buckets = b;
        pm->cap_buckets = cap;
        for (size_t i = 0; i < pm->n_entries; i++) {
                struct pm_entry *e = &pm->entries[i];
                size_t h;

                if (e->inode == 0)
                        continue;
                h = pm_hash(e->inode, cap);
                e->next = b[h];
                b[h] = (uint32_t) i + 1;
        }
        return 0;
}

static int pm_index_add(struct procmap *pm, uint32_t inode, pid_t pid, int fd) {
        struct pm_entry *e;
        size_t i, h;
        int r;

        if (pm->n_indexed + 1 > pm->cap_buckets) {
                r = pm_index_grow(pm);
                if (r < 0)
                        return r;
        }
        if (pm->free_entry != 0) {
                i = pm->free_entry - 1;
                pm->free_entry = pm->entries[i].next;
        } else {
                if (pm->n_entries >= UINT32_MAX - 1)
                        return -ENOMEM;
                r = array_reserve((void **) &pm->entries, &pm->cap_entries, pm->n_entries + 1, sizeof(*pm->entries));
                if (r < 0)
                        return r;
                i = pm->n_entries++;
        }
        h = pm_hash(inode, pm->cap_buckets);
        e = &pm->entries[i];
        *e = (struct pm_entry){ .inode = inode, .pid = pid, .fd = fd, .next = pm->buckets[h] };
        pm->buckets[h] = (uint32_t) i + 1;
        pm->n_indexed++;
        return 0;
}

static void pm_index_remove(struct procmap *pm, uint32_t inode, pid_t pid, int fd) {
        uint32_t *link;

        if (pm->cap_buckets == 0)
                return;
        for (link = &pm->buckets[pm_hash(inode, pm->cap_buckets)]; *link != 0; link = &pm->entries[*link - 1].next) {
                struct pm_entry *e = &pm->entries[*link - 1];
                uint32_t i = *link;

                if (e->inode != inode || e->pid != pid || e->fd != fd)
                        continue;
                *link = e->next;
                e->inode = 0;
                e->next = pm->free_entry;
                pm->free_entry = i;
                pm->n_indexed--;
                return;
        }
}

/* Forget what a process held: its index entries and its fd list. */
static void pm_proc_forget(struct procmap *pm, struct pm_proc *p) {
        for (size_t i = 0; i < p->n_fds; i++)
                pm_index_remove(pm, p->fds[i].inode, p->pid, p->fds[i].fd);
        p->n_fds = 0;
}

/* ---- wanted inodes ---- */

static struct pm_want *pm_want_find(const struct procmap *pm, uint32_t inode) {
        size_t i;

        if (inode == 0 || pm->cap_want_slots == 0)
                return NULL;
        for (i = pm_hash(inode, pm->cap_want_slots);; i = (i + 1) & (pm->cap_want_slots - 1)) {
                uint32_t s = pm->want_slots[i];

                if (s == 0)
                        return NULL;
                if (pm->wants[s - 1].inode == inode)
                        return &pm->wants[s - 1];
        }
}

/* A want found for the first time in this call. */
static void pm_want_found(struct procmap *pm, struct pm_want *w) {
        if (w->found++ == 0 && !w->orphan)
                pm->missing--;
}

/* The wanted set of this call: unique, non-zero inodes. Orphans that are no longer asked for or
 * whose time is up are dropped; the others mark their want. */
static int pm_wants_build(struct procmap *pm, const uint32_t *inodes, size_t n) {
        size_t cap, kept = 0;
        int r;

        pm->n_wants = 0;
        pm->missing = 0;
        r = pm_slots_size(n, &cap);
        if (r < 0)
                return r;
        if (cap > pm->cap_want_slots) {
                uint32_t *s = realloc(pm->want_slots, cap * sizeof(*s));

                if (!s)
                        return -ENOMEM;
                pm->want_slots = s;
                pm->cap_want_slots = cap;
        }
        /* Keep a large table from an earlier call: clearing it is cheaper than reallocating. */
        memset(pm->want_slots, 0, pm->cap_want_slots * sizeof(*pm->want_slots));
        r = array_reserve((void **) &pm->wants, &pm->cap_wants, n, sizeof(*pm->wants));
        if (r < 0)
                return r;

        for (size_t k = 0; k < n; k++) {
                size_t i;

                if (inodes[k] == 0)
                        continue;
                for (i = pm_hash(inodes[k], pm->cap_want_slots); pm->want_slots[i] != 0;
                     i = (i + 1) & (pm->cap_want_slots - 1))
                        if (pm->wants[pm->want_slots[i] - 1].inode == inodes[k])
                                break;
                if (pm->want_slots[i] != 0)
                        continue;
                pm->wants[pm->n_wants] = (struct pm_want){ .inode = inodes[k] };
                pm->want_slots[i] = (uint32_t) ++pm->n_wants;
        }

        for (size_t i = 0; i < pm->n_orphans; i++) {
                struct pm_want *w = pm_want_find(pm, pm->orphans[i].inode);

                if (!w || pm->orphans[i].until_gen <= pm->gen)
                        continue;
                w->orphan = true;
                pm->orphans[kept++] = pm->orphans[i];
        }
        pm->n_orphans = kept;

        for (size_t i = 0; i < pm->n_wants; i++)
                if (!pm->wants[i].orphan)
                        pm->missing++;
        return 0;
}

/* The start time of p, read from PID/stat at most once per call. 0 or -errno (counted). */
static int pm_proc_start(struct procmap *pm, struct pm_proc *p, struct procmap_stats *stats, uint64_t *ret) {
        char path[PM_PATH_MAX], buf[PM_FILE_MAX];
        size_t len;
        int r;

        if (p->stat_gen != pm->gen) {
                p->stat_gen = pm->gen;
                snprintf(path, sizeof(path), "%d/stat", (int) p->pid);
                r = pm_read_file(pm->proc_fd, path, buf, sizeof(buf), &len, stats);
                if (r >= 0)
                        r = proc_parse_stat_start_time(buf, len, &p->stat_start);
                p->stat_err = r < 0 ? r : 0;
                if (r < 0)
                        pm_count_failure(pm, p, r, stats);
        }
        if (p->stat_err < 0)
                return p->stat_err;
        *ret = p->stat_start;
        return 0;
}

/* Whether p is still the process its last walk saw: 1 yes; 0 when its pid now names another
 * process (*start is that one's start time, and p is marked unwalked so that step 1 walks it as
 * new); -errno when it is gone or unreadable. Only processes that matter to a call are checked:
 * reading every process's stat on every call was most of an idle host's scan. */
static int pm_proc_check(struct procmap *pm, struct pm_proc *p, struct procmap_stats *stats, uint64_t *start) {
        int r;

        if (!p->walked)
                return -ESRCH;
        r = pm_proc_start(pm, p, stats, start);
        if (r < 0)
                return r;
        if (*start == p->start_time)
                return 1;
        p->walked = false;
        return 0;
}

static int pm_holder_add(struct procmap *pm, const struct pm_want *w, const struct pm_proc *p, int fd) {
        int r;

        r = array_reserve((void **) &pm->holders, &pm->cap_holders, pm->n_holders + 1, sizeof(*pm->holders));
        if (r < 0)
                return r;
        pm->holders[pm->n_holders++] = (struct pm_holder){
                .inode = w->inode,
                .pid = p->pid,
                .fd = fd,
                .want = (uint32_t) (w - pm->wants),
                .proc = (uint32_t) (p - pm->procs),
                .start_time = p->start_time,
        };
        return 0;
}

static int pm_fd_cmp(const void *a, const void *b) {
        const struct pm_fd *x = a, *y = b;

        return (x->fd > y->fd) - (x->fd < y->fd);
}

/* The cached fd entry of p for fd, or NULL. */
static const struct pm_fd *pm_proc_fd(const struct pm_proc *p, int fd) {
        size_t lo = 0, hi = p->n_fds;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (p->fds[mid].fd == fd)
                        return &p->fds[mid];
                if (p->fds[mid].fd < fd)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return NULL;
}

/* Drop the socket fd of p at fd from its fd list and the index: it no longer holds inode. */
static void pm_proc_drop_fd(struct procmap *pm, struct pm_proc *p, int fd) {
        const struct pm_fd *f = pm_proc_fd(p, fd);
        size_t i;

        if (!f)
                return;
        i = (size_t) (f - p->fds);
        pm_index_remove(pm, f->inode, p->pid, fd);
        memmove(p->fds + i, p->fds + i + 1, (p->n_fds - i - 1) * sizeof(*p->fds));
        p->n_fds--;
}

/* Whether fd of p still holds inode, read from its link. A denial is counted. */
static bool pm_fd_holds(struct procmap *pm, struct pm_proc *p, int fd, uint32_t inode, struct procmap_stats *stats) {
        char path[PM_PATH_MAX], link[PM_LINK_MAX];
        uint32_t now;
        size_t len;
        int r;

        snprintf(path, sizeof(path), "%d/fd/%d", (int) p->pid, fd);
        stats->links_read++;
        r = pm_readlink(pm->proc_fd, path, link, sizeof(link), &len, stats);
        if (r == -EACCES || r == -EPERM)
                pm_count_failure(pm, p, r, stats);
        return r >= 0 && proc_parse_socket_link(link, len, &now) >= 0 && now == inode;
}

/* Step 2: the holders of every wanted inode, from the index. A holder counts when its process
 * is still the one walked. The fd link itself is read again only every PM_VERIFY_SPREAD calls
 * (for a different slice of the sockets each call): that bounds how long a change the fd count
 * does not show (an fd number closed and reused, a socket passed on) stays unseen. */
static int pm_lookup(struct procmap *pm, struct procmap_stats *stats) {
        struct pm_proc *last = NULL;
        bool last_alive = false;
        uint64_t start;
        int r;

        pm->n_holders = 0;
        if (pm->cap_buckets == 0)
                return 0;
        for (size_t i = 0; i < pm->n_wants; i++) {
                struct pm_want *w = &pm->wants[i];
                bool verify = (w->inode + pm->gen) % PM_VERIFY_SPREAD == 0;
                uint32_t k, next;

                for (k = pm->buckets[pm_hash(w->inode, pm->cap_buckets)]; k != 0; k = next) {
                        const struct pm_entry *e = &pm->entries[k - 1];
                        struct pm_proc *p;

                        next = e->next;
                        if (e->inode != w->inode)
                                continue;
                        /* Sockets of one process come in runs: look each up once per run. */
                        if (last && last->pid == e->pid)
                                p = last;
                        else {
                                p = pm_proc_find(pm, e->pid);
                                last = p;
                                last_alive = p && pm_proc_check(pm, p, stats, &start) > 0;
                        }
                        if (!p || !last_alive) {
                                stats->cache_stale++;
                                continue;
                        }
                        if (verify && !pm_fd_holds(pm, p, e->fd, w->inode, stats)) {
                                /* Unlinks e only: next was read before. */
                                stats->cache_stale++;
                                pm_proc_drop_fd(pm, p, e->fd);
                                continue;
                        }
                        r = pm_holder_add(pm, w, p, e->fd);
                        if (r < 0)
                                return r;
                        stats->cache_verified++;
                        p->holds_gen = pm->gen;
                        pm_want_found(pm, w);
                }
        }
        return 0;
}

/* List /proc: every numeric entry is a process. Drops processes that are gone from the table. */
static int pm_list_procs(struct procmap *pm, struct procmap_stats *stats) {
        struct dirent *de;
        size_t kept = 0;
        DIR *d = NULL;
        int fd, r = 0;

        /* A fresh open each call: rewinddir() on a shared fd would share the offset. */
        fd = openat(pm->proc_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                r = -errno;
                close(fd);
                return r;
        }

        for (;;) {
                unsigned long pid;
                struct pm_proc *p;

                errno = 0;
                de = readdir(d);
                if (!de) {
                        if (errno != 0)
                                r = -errno;
                        break;
                }
                stats->proc_entries++;
                if (!pm_parse_name(de->d_name, INT_MAX, &pid) || pid == 0)
                        continue;
                r = pm_proc_get(pm, (pid_t) pid, &p);
                if (r < 0)
                        goto finish;
                p->seen_gen = pm->gen;
        }
        if (r < 0)
                goto finish;

        for (size_t i = 0; i < pm->n_procs; i++) {
                struct pm_proc *p = &pm->procs[i];

                if (p->seen_gen == pm->gen) {
                        pm->procs[kept++] = *p;
                        continue;
                }
                pm_proc_forget(pm, p);
                free(p->fds);
        }
        if (kept != pm->n_procs) {
                pm->n_procs = kept;
                /* Same size: the table is only rebuilt, so this cannot fail and leave slots
                 * pointing past the compacted table. */
                r = pm_proc_rehash(pm, pm->cap_proc_slots / 2);
        }
finish:
        closedir(d);
        return r;
}

/* Read the fd entries of the directory d (an fd directory of p) into pm->scratch. With reuse,
 * an fd whose number held a wanted inode at the last walk is taken as unchanged without reading
 * its link. Every wanted inode seen makes p a holder of it. Closes d. Adds the number of fd
 * entries to *nfds; *hole, the fd number the listing begins at, becomes the first number it did
 * not see. */
static int pm_walk_dir(struct procmap *pm, struct pm_proc *p, DIR *d, bool reuse, struct procmap_stats *stats,
                       unsigned *nfds, unsigned long *hole) {
        struct dirent *de;
        bool dense = true;
        int r = 0;

        for (;;) {
                char link[PM_LINK_MAX];
                const struct pm_fd *old;
                unsigned long fdnum;
                struct pm_want *w;
                uint32_t inode;
                size_t len;
                int k;

                errno = 0;
                de = readdir(d);
                if (!de) {
                        /* The process exiting mid-listing ends it early, which is fine. */
                        if (errno != 0)
                                pm_count_failure(pm, p, -errno, stats);
                        break;
                }
                stats->proc_entries++;
                if (!pm_parse_name(de->d_name, INT_MAX, &fdnum))
                        continue;

                /* Walking our own fds, the directory being read is one of them, only for now. */
                if (p->pid == pm->self && (int) fdnum == dirfd(d))
                        continue;
                (*nfds)++;
                /* procfs lists in ascending order: the fds from where the listing began up to the
                 * first gap. */
                if (dense && fdnum == *hole)
                        (*hole)++;
                else if (fdnum > *hole)
                        dense = false;
                old = reuse ? pm_proc_fd(p, (int) fdnum) : NULL;
                w = old ? pm_want_find(pm, old->inode) : NULL;
                if (w)
                        inode = old->inode;
                else {
                        stats->links_read++;
                        k = pm_readlink(dirfd(d), de->d_name, link, sizeof(link), &len, stats);
                        if (k < 0) {
                                if (pm_is_gone(k))
                                        stats->vanished++; /* closed between readdir and readlink */
                                else {
                                        pm_count_failure(pm, p, k, stats);
                                        if (k == -EACCES || k == -EPERM)
                                                break;
                                }
                                continue;
                        }
                        if (proc_parse_socket_link(link, len, &inode) < 0)
                                continue;
                        w = pm_want_find(pm, inode);
                }

                r = array_reserve((void **) &pm->scratch, &pm->cap_scratch, pm->n_scratch + 1, sizeof(*pm->scratch));
                if (r < 0)
                        break;
                pm->scratch[pm->n_scratch++] = (struct pm_fd){ .fd = (int) fdnum, .inode = inode };
                if (!w)
                        continue;
                r = pm_holder_add(pm, w, p, (int) fdnum);
                if (r < 0)
                        break;
                pm_want_found(pm, w);
        }
        closedir(d);
        return r;
}

static DIR *pm_opendir(int dir_fd, const char *path) {
        int fd = openat(dir_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d;

        if (fd < 0)
                return NULL;
        d = fdopendir(fd);
        if (!d) {
                int saved = errno;

                close(fd);
                errno = saved;
        }
        return d;
}

/* A process whose main thread called pthread_exit() shows an empty /proc/PID/fd while its other
 * threads still hold every fd: read the table of the first live thread instead. */
static int pm_walk_threads(struct procmap *pm, struct pm_proc *p, bool reuse, struct procmap_stats *stats,
                           unsigned *nfds) {
        char path[PM_PATH_MAX];
        struct dirent *de;
        DIR *tasks;
        int r = 0;

        snprintf(path, sizeof(path), "%d/task", (int) p->pid);
        tasks = pm_opendir(pm->proc_fd, path);
        if (!tasks)
                return errno == ENOMEM ? -ENOMEM : 0;
        while (*nfds == 0 && r >= 0 && (de = readdir(tasks))) {
                unsigned long tid;
                DIR *d;

                stats->proc_entries++;
                if (!pm_parse_name(de->d_name, INT_MAX, &tid) || (pid_t) tid == p->pid)
                        continue;
                snprintf(path, sizeof(path), "%d/task/%lu/fd", (int) p->pid, tid);
                d = pm_opendir(pm->proc_fd, path);
                if (d) {
                        unsigned long hole = 0;

                        r = pm_walk_dir(pm, p, d, reuse, stats, nfds, &hole);
                        p->first_hole = hole;
                }
        }
        closedir(tasks);
        return r;
}

/* Replace the fd list of p with pm->scratch, updating the index by the difference (both lists
 * ascending by fd). On -ENOMEM the process is left unwalked, so that it is walked again. */
static int pm_proc_set_fds(struct procmap *pm, struct pm_proc *p) {
        size_t i = 0, j = 0;
        int r;

        for (size_t k = 1; k < pm->n_scratch; k++)
                if (pm->scratch[k - 1].fd >= pm->scratch[k].fd) {
                        /* A fake tree lists in any order; procfs lists ascending. */
                        qsort(pm->scratch, pm->n_scratch, sizeof(*pm->scratch), pm_fd_cmp);
                        break;
                }

        while (i < p->n_fds || j < pm->n_scratch) {
                const struct pm_fd *o = i < p->n_fds ? &p->fds[i] : NULL;
                const struct pm_fd *n = j < pm->n_scratch ? &pm->scratch[j] : NULL;

                if (o && n && o->fd == n->fd && o->inode == n->inode) {
                        i++, j++;
                } else if (o && (!n || o->fd <= n->fd)) {
                        pm_index_remove(pm, o->inode, p->pid, o->fd);
                        i++;
                } else if (n) { /* always, here: o is NULL or after n */
                        r = pm_index_add(pm, n->inode, p->pid, n->fd);
                        if (r < 0)
                                goto fail;
                        j++;
                }
        }
        r = array_reserve((void **) &p->fds, &p->cap_fds, pm->n_scratch, sizeof(*p->fds));
        if (r < 0)
                goto fail;
        if (pm->n_scratch > 0)
                memcpy(p->fds, pm->scratch, pm->n_scratch * sizeof(*p->fds));
        p->n_fds = pm->n_scratch;
        return 0;

fail:
        /* The index now holds a mix: drop every entry of this pid that either list names. */
        for (size_t k = 0; k < pm->n_scratch; k++)
                pm_index_remove(pm, pm->scratch[k].inode, p->pid, pm->scratch[k].fd);
        pm_proc_forget(pm, p);
        p->walked = false;
        return r;
}

/* fds are handed out lowest number first, so a process that only opened fds since its last walk
 * (a leak that grows) has them all at or above the first number that walk did not see: list from
 * there (procfs positions an fd directory at fd + 2) and keep the fds below as they were. Taken
 * only when the entries listed account for the whole fd count (count, from stat): the fds below
 * were first_hole many, all open. Else 0: the caller lists the whole directory. 1 when done.
 * What this cannot see, a number below closed and reused for a new socket, leaves that socket
 * missing: the sweep (step 4) walks the process whole. A number below that held a wanted socket
 * is read again by the verification of step 2. */
static int pm_walk_tail(struct procmap *pm, struct pm_proc *p, long count, struct procmap_stats *stats) {
        char path[PM_PATH_MAX];
        unsigned nfds = 0;
        unsigned long from = p->first_hole, hole = from;
        size_t n_keep = 0, n_holders = pm->n_holders;
        DIR *d;
        int fd, r;

        if (!pm->proc_magic || count <= (long) p->walk_fds || p->walk_fds == 0 || from > (unsigned long) count)
                return 0;
        snprintf(path, sizeof(path), "%d/fd", (int) p->pid);
        fd = openat(pm->proc_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        if (lseek(fd, (off_t) from + 2, SEEK_SET) < 0 || !(d = fdopendir(fd))) {
                close(fd);
                return 0;
        }

        while (n_keep < p->n_fds && (unsigned long) p->fds[n_keep].fd < from)
                n_keep++;
        r = array_reserve((void **) &pm->scratch, &pm->cap_scratch, n_keep, sizeof(*pm->scratch));
        if (r < 0) {
                closedir(d);
                return r;
        }
        if (n_keep > 0)
                memcpy(pm->scratch, p->fds, n_keep * sizeof(*p->fds));
        pm->n_scratch = n_keep;
        r = pm_walk_dir(pm, p, d, true, stats, &nfds, &hole);
        if (r < 0)
                return r;
        if ((long) from + (long) nfds != count) {
                /* Not only growth: undo and let the caller list everything. */
                pm->n_holders = n_holders;
                pm->n_scratch = 0;
                return 0;
        }
        /* Not a sweep's walk: numbers below from, closed and reused, were not read. */
        stats->pids_walked++;
        pm->walks++;
        p->walked_gen = pm->gen;
        p->tail_gen = pm->gen;
        p->tail_from = from;
        p->walk_fds = (unsigned) count;
        p->first_hole = hole;
        r = pm_proc_set_fds(pm, p);
        return r < 0 ? r : 1;
}

/* Walk the fds of p (a process whose start time is start): record it as holder of every wanted
 * inode it has open and replace its fd list. reuse: see pm_walk_dir(). */
static int pm_walk(struct procmap *pm, struct pm_proc *p, uint64_t start, bool reuse, struct procmap_stats *stats) {
        char path[PM_PATH_MAX];
        unsigned nfds = 0;
        DIR *d;
        int r;

        if (!p->walked || p->start_time != start) {
                /* Another process (or none yet): nothing of the old one is reused. */
                pm_proc_forget(pm, p);
                reuse = false;
        }
        p->walked = true;
        p->start_time = start;
        p->walked_gen = pm->gen;
        p->tail_gen = 0; /* read whole: every answer of the index for it is superseded */
        pm->walks++;
        p->sweep = pm->sweep;
        p->first_hole = 0;
        pm->n_scratch = 0;

        snprintf(path, sizeof(path), "%d/fd", (int) p->pid);
        d = pm_opendir(pm->proc_fd, path);
        if (!d) {
                r = -errno;
                if (r == -ENOMEM)
                        return r;
                /* Not walkable: still known, so that it is not retried as new on every call. */
                pm_count_failure(pm, p, r, stats);
                /* Not for a passing shortage (EMFILE, ENFILE): that is no lasting state. */
                p->unreadable = p->denied_gen == pm->gen && r != -EMFILE && r != -ENFILE;
                p->walk_fds = 0;
                return pm_proc_set_fds(pm, p);
        }
        stats->pids_walked++;

        r = pm_walk_dir(pm, p, d, reuse, stats, &nfds, &p->first_hole);
        if (r >= 0 && nfds == 0)
                r = pm_walk_threads(pm, p, reuse, stats, &nfds);
        p->unreadable = p->denied_gen == pm->gen;
        if (r < 0) {
                pm_proc_forget(pm, p);
                p->walked = false;
                return r;
        }
        p->walk_fds = nfds;
        return pm_proc_set_fds(pm, p);
}

/* fd entries of PID/fd (names that are fd numbers), for kernels whose procfs reports no size
 * (before 6.2) and fake trees. */
static unsigned pm_count_fds(struct procmap *pm, pid_t pid, struct procmap_stats *stats) {
        char path[PM_PATH_MAX];
        unsigned long fdnum;
        struct dirent *de;
        unsigned n = 0;
        DIR *d;
        int fd;

        snprintf(path, sizeof(path), "%d/fd", (int) pid);
        fd = openat(pm->proc_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return 0;
        }
        while ((de = readdir(d))) {
                stats->proc_entries++;
                if (pm_parse_name(de->d_name, INT_MAX, &fdnum))
                        n++;
        }
        closedir(d);
        return n;
}

/* The fd count of p: the size of PID/fd on procfs (Linux >= 6.2), -1 when procfs does not tell
 * it (older kernels report 0); a fake tree's entries are counted. */
static long pm_fd_count(struct procmap *pm, struct pm_proc *p, struct procmap_stats *stats) {
        char path[PM_PATH_MAX];
        struct stat st;

        if (p->count_gen == pm->gen)
                return p->count; /* read once per call: step 3 and the info of a holder */
        p->count_gen = pm->gen;
        if (!pm->proc_magic) {
                p->count = (long) pm_count_fds(pm, p->pid, stats);
                return p->count;
        }
        snprintf(path, sizeof(path), "%d/fd", (int) p->pid);
        stats->proc_entries++;
        /* proc_fd_getattr() reports the fd count as the size since Linux 6.2. */
        if (fstatat(pm->proc_fd, path, &st, 0) < 0)
                p->count = pm_is_gone(-errno) ? 0 : -1;
        else if (st.st_size <= 0)
                p->count = -1;
        else
                p->count = st.st_size > LONG_MAX ? LONG_MAX : (long) st.st_size;
        return p->count;
}

/* Step 1: walk every process never walked, or whose pid was reused. */
static int pm_walk_new(struct procmap *pm, struct procmap_stats *stats) {
        for (size_t i = 0; i < pm->n_procs; i++) {
                struct pm_proc *p = &pm->procs[i];
                uint64_t start;
                int r;

                /* A known pid is not checked here: see pm_proc_check(). One whose fds could not be
                 * read is tried again every PM_VERIFY_SPREAD calls: it may have become readable,
                 * or its pid another process's, and the degraded state must end then. */
                if ((p->walked && !(p->unreadable && pm->gen % PM_VERIFY_SPREAD == 0)) ||
                    pm_proc_start(pm, p, stats, &start) < 0)
                        continue;
                r = pm_walk(pm, p, start, false, stats);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Step 3: re-walk the processes whose fd count changed since their last walk. holders: those
 * that hold a wanted inode (always: they lose and gain the sockets that matter), else the others
 * (only while an inode is missing). */
static int pm_walk_changed(struct procmap *pm, bool holders, struct procmap_stats *stats) {
        for (size_t i = 0; i < pm->n_procs && (holders || pm->missing > 0); i++) {
                struct pm_proc *p = &pm->procs[i];
                uint64_t start;
                long count;
                int r, k;

                if (!p->walked || p->walked_gen == pm->gen || (p->holds_gen == pm->gen) != holders)
                        continue;
                count = pm_fd_count(pm, p, stats);
                if (count < 0 || (unsigned long) count == p->walk_fds)
                        continue;
                k = pm_proc_check(pm, p, stats, &start);
                if (k < 0)
                        continue;
                /* Another process under the same pid: walked whole, as new. */
                r = k > 0 && holders ? pm_walk_tail(pm, p, count, stats) : 0;
                if (r == 0)
                        r = pm_walk(pm, p, start, k > 0, stats);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int pm_orphan_add(struct procmap *pm, uint32_t inode) {
        int r;

        r = array_reserve((void **) &pm->orphans, &pm->cap_orphans, pm->n_orphans + 1, sizeof(*pm->orphans));
        if (r < 0)
                return r;
        pm->orphans[pm->n_orphans++] = (struct pm_orphan){ .inode = inode, .until_gen = pm->gen + PM_ORPHAN_CALLS };
        return 0;
}

/* Step 4: walk whole the processes this sweep has not walked, for as long as the budget allows;
 * the sweep goes on at the next call. An inode missing since before the sweep began, that no
 * process had when it was walked, is held by none we can read: when the sweep is complete it
 * becomes an orphan (left alone for PM_ORPHAN_CALLS calls). An inode that went missing after the
 * sweep began waits for the next sweep. */
static int pm_sweep(struct procmap *pm, struct procmap_stats *stats) {
        usec_t deadline = now_monotonic_usec() + pm->sweep_budget;
        size_t kept = 0, walked = 0;
        uint64_t start;
        int r;

        /* Since when each missing inode is missing. */
        for (size_t i = 0; i < pm->n_pending; i++) {
                struct pm_want *w = pm_want_find(pm, pm->pending[i].inode);

                if (!w || w->found > 0 || w->orphan)
                        continue;
                w->pending = true;
                pm->pending[kept++] = pm->pending[i];
        }
        pm->n_pending = kept;
        for (size_t i = 0; i < pm->n_wants; i++) {
                struct pm_want *w = &pm->wants[i];

                if (w->found > 0 || w->orphan || w->pending)
                        continue;
                r = array_reserve((void **) &pm->pending, &pm->cap_pending, pm->n_pending + 1, sizeof(*pm->pending));
                if (r < 0)
                        return r;
                pm->pending[pm->n_pending++] = (struct pm_missing){ .inode = w->inode, .since_gen = pm->gen };
                w->pending = true;
        }

        if (!pm->sweeping) {
                /* A new sweep: every process is walked again, whenever its last walk was. */
                pm->sweep++;
                pm->sweeping = true;
                pm->sweep_gen = pm->gen;
        }

        for (size_t i = 0; i < pm->n_procs && pm->missing > 0; i++) {
                struct pm_proc *p = &pm->procs[i];

                if (p->sweep == pm->sweep)
                        continue;
                /* At least one process per call, so that a sweep always ends. */
                if (walked > 0 && now_monotonic_usec() >= deadline)
                        return 0; /* the rest at the next call */
                walked++;
                p->sweep = pm->sweep;
                /* Read whole in this call already: as good as the sweep's own walk. */
                if ((p->walked_gen == pm->gen && p->tail_gen != pm->gen) || pm_proc_check(pm, p, stats, &start) < 0)
                        continue;
                r = pm_walk(pm, p, start, false, stats);
                if (r < 0)
                        return r;
        }
        pm->sweeping = false;
        if (pm->missing == 0)
                return 0;

        for (size_t i = 0; i < pm->n_pending; i++) {
                struct pm_want *w = pm_want_find(pm, pm->pending[i].inode);

                if (!w || w->found > 0 || w->orphan)
                        continue;
                if (pm->pending[i].since_gen > pm->sweep_gen)
                        continue; /* for the next sweep, which begins at the next call */
                r = pm_orphan_add(pm, w->inode);
                if (r < 0)
                        return r;
                w->orphan = true;
                pm->missing--;
        }
        return 0;
}

/* Drop the first n_looked_up holders (those from the index) of processes walked since: the walk
 * re-added what they still hold. Then count again which wants are found. Returns how many of the
 * first n_looked_up are kept (they stay first). */
static size_t pm_drop_rewalked(struct procmap *pm, size_t n_looked_up) {
        size_t kept = 0, kept_looked_up = 0;

        if (pm->walks == 0)
                return n_looked_up; /* nothing walked: the index's answer stands, counts too */

        for (size_t i = 0; i < pm->n_holders; i++) {
                if (i < n_looked_up) {
                        const struct pm_proc *p = &pm->procs[pm->holders[i].proc];

                        /* A tail walk re-added the fds from tail_from on: below, the index's
                         * answer stands. */
                        if (p->walked_gen == pm->gen &&
                            (p->tail_gen != pm->gen || (unsigned long) pm->holders[i].fd >= p->tail_from))
                                continue;
                        kept_looked_up++;
                }
                pm->holders[kept++] = pm->holders[i];
        }
        pm->n_holders = kept;

        pm->missing = 0;
        for (size_t i = 0; i < pm->n_wants; i++) {
                pm->wants[i].found = 0;
                if (!pm->wants[i].orphan)
                        pm->missing++;
        }
        for (size_t i = 0; i < pm->n_holders; i++)
                pm_want_found(pm, &pm->wants[pm->holders[i].want]);
        return kept_looked_up;
}

static int pm_info_cmp(const void *a, const void *b) {
        const struct proc_info *x = a, *y = b;

        return (x->pid > y->pid) - (x->pid < y->pid);
}

static void pm_info_clear(struct proc_info *info) {
        free(info->comm);
        free(info->exe);
        free(info->unit);
        free(info->container);
        free(info->pod);
        *info = (struct proc_info){};
}

static void pm_infos_clear(struct procmap *pm) {
        for (size_t i = 0; i < pm->n_infos; i++)
                pm_info_clear(&pm->infos[i]);
        pm->n_infos = 0;
}

static unsigned pm_open_fds(struct procmap *pm, struct pm_proc *p, struct procmap_stats *stats) {
        long n = pm_fd_count(pm, p, stats);

        if (n >= 0)
                return n > (long) UINT_MAX ? UINT_MAX : (unsigned) n;
        /* No count from procfs (before Linux 6.2): this call's walk counted, or list them. */
        if (p->walked_gen == pm->gen)
                return p->walk_fds;
        return pm_count_fds(pm, p->pid, stats);
}

/* Load the info of one holder into *info. 0, -ENOMEM, or -ESRCH when its stat is gone or shows
 * another start time (counted as vanished): the pid then holds nothing. */
static int pm_info_load(struct procmap *pm, struct pm_proc *p, uint64_t start, struct proc_info *info,
                        struct procmap_stats *stats) {
        char path[PM_PATH_MAX], buf[PM_FILE_MAX];
        struct stat st;
        uint64_t now_start;
        size_t len;
        int r;

        *info = (struct proc_info){
                .pid = p->pid,
                .start_time = start,
                .uid = PM_UID_UNKNOWN,
                .fd_limit = -1,
        };

        /* Read fresh rather than the scan's copy: a pid reused since the walk holds nothing. */
        snprintf(path, sizeof(path), "%d/stat", (int) p->pid);
        r = pm_read_file(pm->proc_fd, path, buf, sizeof(buf), &len, stats);
        if (r >= 0)
                r = proc_parse_stat_start_time(buf, len, &now_start);
        if (r >= 0 && now_start != start)
                r = -ESRCH;
        if (r < 0) {
                /* Gone, reused, or a stat that no longer parses: not the process walked. */
                pm_count_failure(pm, p, -ESRCH, stats);
                return -ESRCH;
        }

        /* From here on, a file that cannot be read leaves its field at the default: the stat
         * just read says the process lives, and one exiting now is as good as one exiting
         * right after this function. */
        snprintf(path, sizeof(path), "%d/comm", (int) p->pid);
        r = pm_read_file(pm->proc_fd, path, buf, PM_COMM_MAX, &len, stats);
        info->comm = r >= 0 ? proc_comm_from_file(buf, len) : strdup("");
        if (!info->comm)
                goto fail;

        snprintf(path, sizeof(path), "%d/exe", (int) p->pid);
        r = pm_readlink(pm->proc_fd, path, buf, sizeof(buf), &len, stats);
        if (r >= 0) {
                info->exe = str_escape(buf, len);
                if (!info->exe)
                        goto fail;
        }

        snprintf(path, sizeof(path), "%d/status", (int) p->pid);
        r = pm_read_file(pm->proc_fd, path, buf, sizeof(buf), &len, stats);
        /* A truncated read still has Uid: near the top; an unparsable file leaves it unknown. */
        if (r >= 0)
                (void) proc_parse_status_uid(buf, len, &info->uid);

        snprintf(path, sizeof(path), "%d/limits", (int) p->pid);
        r = pm_read_file(pm->proc_fd, path, buf, sizeof(buf), &len, stats);
        if (r >= 0)
                (void) proc_parse_limits_nofile(buf, len, &info->fd_limit);

        info->open_fds = pm_open_fds(pm, p, stats);

        /* The namespace the process lives in (its sockets may come from another: a socket keeps
         * the namespace it was made in). */
        snprintf(path, sizeof(path), "%d/ns/net", (int) p->pid);
        if (fstatat(pm->proc_fd, path, &st, 0) >= 0)
                info->netns = st.st_ino;

        /* The container and pod, from the cgroup path (4 KiB holds a cgroup v1 file of a dozen
         * hierarchies; a line cut short is ignored by the parser). */
        snprintf(path, sizeof(path), "%d/cgroup", (int) p->pid);
        r = pm_read_file(pm->proc_fd, path, buf, sizeof(buf), &len, stats);
        if (r >= 0) {
                struct container_id c;

                if (container_parse_cgroup(buf, len, &c) > 0) {
                        if (c.id[0]) {
                                info->container = strdup(c.id);
                                if (!info->container)
                                        goto fail;
                        }
                        if (c.pod[0]) {
                                info->pod = strdup(c.pod);
                                if (!info->pod)
                                        goto fail;
                        }
                }
        }

        if (pm->get_unit) {
                char *unit = NULL;

                r = pm->get_unit(p->pid, &unit);
                if (r == -ENOMEM)
                        goto fail;
                if (r >= 0 && unit) {
                        /* systemd validates unit names, but the name comes from a cgroup path
                         * that a delegated process may create: escape it like comm. */
                        info->unit = str_escape(unit, strlen(unit));
                        free(unit);
                        if (!info->unit)
                                goto fail;
                }
        }
        return 0;

fail:
        pm_info_clear(info);
        return -ENOMEM;
}

/* Load the info of each holder pid, drop the pids that vanished, and lay out the answer per
 * inode: res_pids[res_off..] ascending and unique. Linear in the holders (no sort of them: there
 * may be hundreds of thousands). */
static int pm_build_results(struct procmap *pm, struct procmap_stats *stats) {
        size_t off = 0;
        int r;

        for (size_t i = 0; i < pm->n_holders; i++) {
                const struct pm_holder *h = &pm->holders[i];
                struct proc_info *info;
                struct pm_proc *p;

                p = &pm->procs[h->proc];
                if (p->info_gen == pm->gen) /* loaded (or found gone) already */
                        continue;
                p->info_gen = pm->gen;
                p->info_idx = 0;
                r = array_reserve((void **) &pm->infos, &pm->cap_infos, pm->n_infos + 1, sizeof(*pm->infos));
                if (r < 0)
                        return r;
                info = &pm->infos[pm->n_infos];
                r = pm_info_load(pm, p, h->start_time, info, stats);
                if (r == -ENOMEM)
                        return r;
                if (r >= 0)
                        pm->n_infos++;
        }
        if (pm->n_infos > 1)
                qsort(pm->infos, pm->n_infos, sizeof(*pm->infos), pm_info_cmp);
        for (size_t i = 0; i < pm->n_infos; i++)
                pm_proc_find(pm, pm->infos[i].pid)->info_idx = i + 1;

        /* Count, place, then fill each inode's slice in ascending pid order. */
        for (size_t i = 0; i < pm->n_holders; i++)
                if (pm->procs[pm->holders[i].proc].info_idx != 0)
                        pm->wants[pm->holders[i].want].res_n++;
        for (size_t i = 0; i < pm->n_wants; i++) {
                pm->wants[i].res_off = off;
                off += pm->wants[i].res_n;
                pm->wants[i].res_n = 0;
        }
        r = array_reserve((void **) &pm->res_pids, &pm->cap_res, off, sizeof(*pm->res_pids));
        if (r < 0)
                return r;
        for (size_t i = 0; i < pm->n_holders; i++) {
                const struct pm_holder *h = &pm->holders[i];
                struct pm_want *w = &pm->wants[h->want];
                pid_t *slice;
                size_t k;

                if (pm->procs[h->proc].info_idx == 0)
                        continue; /* vanished: forget it */
                slice = pm->res_pids + w->res_off;
                for (k = w->res_n; k > 0 && slice[k - 1] > h->pid; k--)
                        ;
                if (k > 0 && slice[k - 1] == h->pid)
                        continue; /* two fds of one process on the same socket (dup) */
                memmove(slice + k + 1, slice + k, (w->res_n - k) * sizeof(*slice));
                slice[k] = h->pid;
                w->res_n++;
        }
        pm->n_res = off;

        for (size_t i = 0; i < pm->n_wants; i++)
                if (pm->wants[i].res_n == 0)
                        stats->unresolved++;
        return 0;
}

int procmap_new(const char *proc_path, procmap_unit_fn get_unit, struct procmap **ret) {
        struct procmap *pm;
        struct statfs sfs;
        int r;

        pm = calloc(1, sizeof(*pm));
        if (!pm)
                return -ENOMEM;
        pm->get_unit = get_unit;
        pm->self = getpid();
        pm->sweep_budget = PM_SWEEP_BUDGET_USEC;
        pm->proc_fd = open(proc_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (pm->proc_fd < 0) {
                r = -errno;
                free(pm);
                return r;
        }
        /* Decided once: a fake tree never reports fd counts as directory sizes. */
        pm->proc_magic = fstatfs(pm->proc_fd, &sfs) >= 0 && sfs.f_type == PROC_SUPER_MAGIC;
        *ret = pm;
        return 0;
}

struct procmap *procmap_free(struct procmap *pm) {
        if (!pm)
                return NULL;
        pm_infos_clear(pm);
        free(pm->infos);
        free(pm->res_pids);
        free(pm->orphans);
        free(pm->pending);
        free(pm->wants);
        free(pm->want_slots);
        free(pm->holders);
        free(pm->scratch);
        free(pm->entries);
        free(pm->buckets);
        for (size_t i = 0; i < pm->n_procs; i++)
                free(pm->procs[i].fds);
        free(pm->proc_slots);
        free(pm->procs);
        if (pm->proc_fd >= 0)
                close(pm->proc_fd);
        free(pm);
        return NULL;
}

/* Processes whose last whole walk was denied. Kept across calls, unlike stats->denied (which
 * counts only the processes read in one call): a process whose fds cannot be read is not read
 * again on every call, so stats->denied comes and goes with the walks. */
static unsigned long pm_count_unreadable(const struct procmap *pm) {
        unsigned long n = 0;

        for (size_t i = 0; i < pm->n_procs; i++)
                n += pm->procs[i].unreadable;
        return n;
}

int procmap_resolve(struct procmap *pm, const uint32_t *inodes, size_t n, struct procmap_stats *stats) {
        struct procmap_stats dummy = {};
        size_t n_looked_up;
        int r;

        if (!stats)
                stats = &dummy;

        pm->gen++;
        pm->walks = 0;
        pm_infos_clear(pm);
        pm->n_res = 0;
        pm->n_holders = 0;

        r = pm_wants_build(pm, inodes, n);
        if (r < 0)
                goto fail;
        if (pm->n_wants == 0) {
                stats->unreadable = pm_count_unreadable(pm);
                return 0; /* nothing asked: no /proc access at all */
        }

        r = pm_list_procs(pm, stats);
        if (r < 0)
                goto fail;
        r = pm_lookup(pm, stats);
        if (r < 0)
                goto fail;
        n_looked_up = pm->n_holders;
        r = pm_walk_new(pm, stats);
        if (r >= 0)
                r = pm_walk_changed(pm, true, stats);
        if (r < 0)
                goto fail;
        n_looked_up = pm_drop_rewalked(pm, n_looked_up);
        if (pm->missing > 0)
                r = pm_walk_changed(pm, false, stats);
        if (r >= 0 && pm->missing > 0)
                r = pm_sweep(pm, stats);
        else if (r >= 0) {
                /* Nothing missing: a sweep begun earlier would be stale by the next need. */
                pm->sweeping = false;
                pm->n_pending = 0;
        }
        if (r < 0)
                goto fail;
        (void) pm_drop_rewalked(pm, n_looked_up);

        r = pm_build_results(pm, stats);
        if (r < 0)
                goto fail;
        stats->unreadable = pm_count_unreadable(pm);
        return 0;

fail:
        /* Answer nothing rather than half: the wanted set is cleared, the caches stay valid. */
        pm_infos_clear(pm);
        pm->n_res = 0;
        pm->n_holders = 0;
        pm->n_wants = 0;
        if (pm->cap_want_slots > 0)
                memset(pm->want_slots, 0, pm->cap_want_slots * sizeof(*pm->want_slots));
        return r;
}

void procmap_set_sweep_budget(struct procmap *pm, usec_t budget) {
        pm->sweep_budget = budget;
}

size_t procmap_holders(const struct procmap *pm, uint32_t inode, const pid_t **ret) {
        const struct pm_want *w;

        w = pm_want_find(pm, inode);
        if (!w || w->res_n == 0) {
                *ret = NULL;
                return 0;
        }
        *ret = pm->res_pids + w->res_off;
        return w->res_n;
}

const struct proc_info *procmap_info(const struct procmap *pm, pid_t pid) {
        const struct pm_proc *p = pm_proc_find(pm, pid);

        if (!p || p->info_gen != pm->gen || p->info_idx == 0 || p->info_idx > pm->n_infos)
                return NULL;
        return &pm->infos[p->info_idx - 1];
}
