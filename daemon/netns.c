/* netns: finding the network namespaces in use and keeping one diag socket inside each.
 *
 * A refresh lists the candidates (every process's /proc/PID/ns/net, every nsfs file in
 * /run/netns), sorts them by inode, and lays the entries of the last refresh over them: a
 * namespace still found keeps its socket, a new one is entered, one not found is closed. The
 * candidates carry how to reach the namespace (a pid or a name) only for the refresh that found
 * them: a pid may be gone by the next.
 *
 * Reading a process's namespace (stat of /proc/PID/ns/net, ~3 us: a ptrace access check and a
 * path walk into nsfs) for every process at every scan would double the cost of an idle scan, so
 * the namespace of each pid is remembered: a refresh lists /proc (~0.5 us a pid) and reads the
 * namespace of the pids it has not seen before, and of every pid at every NETNS_FULL_EVERY-th
 * refresh. A process that moves to another namespace after it was first seen (setns(),
 * unshare()) or a pid reused between two scans is thus seen in its new namespace within that many
 * scans; a namespace only such a process lives in is found that late. */
#define _GNU_SOURCE 1 /* setns(), CLONE_NEWNET */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "netns.h"
#include "util.h"

/* Every this many refreshes, the namespace of every process is read again. */
#define NETNS_FULL_EVERY 16

/* The namespace a pid was in when it was last read. */
struct pid_ns {
        pid_t pid;
        uint64_t ino;
};

/* A namespace found by this refresh, and one way to open it. */
struct candidate {
        uint64_t ino;
        pid_t pid;   /* > 0: through /proc/PID/ns/net */
        size_t name; /* else: /run/netns/NAME, NAME at this offset in names */
};

struct netns_set {
        int proc_fd;
        char *run_netns_path;
        uint64_t own_ino;
        dev_t nsfs_dev;              /* every namespace file lives on the one nsfs */
        struct netns_entry *entries; /* [0]: the own namespace; then by inode */
        size_t n, cap;
        struct netns_entry *spare; /* the next refresh's entries, swapped with entries */
        size_t cap_spare;
        struct candidate *cands;
        size_t n_cands, cap_cands;
        char *names; /* the /run/netns names of this refresh, NUL-separated */
        size_t len_names, cap_names;
        struct pid_ns *known; /* the last refresh's processes, by pid */
        size_t n_known, cap_known;
        struct pid_ns *next_known; /* this refresh's, swapped with known at its end */
        size_t n_next_known, cap_next_known;
        unsigned long refreshes;
        bool full; /* read every process's namespace at the next refresh */
};

int netns_can_enter(void) {
        struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};

        if (syscall(SYS_capget, &h, data) < 0)
                return -errno;
        return (int) ((data[CAP_SYS_ADMIN / 32].effective >> (CAP_SYS_ADMIN % 32)) & 1u);
}

int netns_set_new(const char *proc_path, const char *run_netns_path, struct netns_set **ret) {
        struct netns_set *s;
        struct stat st;
        int r;

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->proc_fd = open(proc_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (s->proc_fd < 0) {
                r = -errno;
                goto fail;
        }
        if (fstatat(s->proc_fd, "self/ns/net", &st, 0) < 0) {
                r = -errno;
                goto fail;
        }
        s->own_ino = st.st_ino;
        s->nsfs_dev = st.st_dev;
        if (run_netns_path) {
                s->run_netns_path = strdup(run_netns_path);
                if (!s->run_netns_path) {
                        r = -ENOMEM;
                        goto fail;
                }
        }
        r = array_reserve((void **) &s->entries, &s->cap, 1, sizeof(*s->entries));
        if (r < 0)
                goto fail;
        s->entries[0] = (struct netns_entry){ .ino = s->own_ino, .own = true };
        s->n = 1;
        *ret = s;
        return 0;
fail:
        netns_set_free(s);
        return r;
}

struct netns_set *netns_set_free(struct netns_set *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n; i++)
                diag_close(s->entries[i].diag);
        if (s->proc_fd >= 0)
                close(s->proc_fd);
        free(s->run_netns_path);
        free(s->entries);
        free(s->spare);
        free(s->cands);
        free(s->names);
        free(s->known);
        free(s->next_known);
        free(s);
        return NULL;
}

size_t netns_count(const struct netns_set *s) {
        return s->n;
}

struct netns_entry *netns_get(struct netns_set *s, size_t i) {
        return i < s->n ? &s->entries[i] : NULL;
}

uint64_t netns_own(const struct netns_set *s) {
        return s->own_ino;
}

void netns_reset(struct netns_entry *e) {
        e->diag = diag_close(e->diag);
}

static int candidate_push(struct netns_set *s, uint64_t ino, pid_t pid, size_t name) {
        if (ino == s->own_ino)
                return 0;
        /* Processes of one container come in runs: skip a repeat of the last one cheaply. */
        if (s->n_cands > 0 && s->cands[s->n_cands - 1].ino == ino)
                return 0;
        if (array_reserve((void **) &s->cands, &s->cap_cands, s->n_cands + 1, sizeof(*s->cands)) < 0)
                return -ENOMEM;
        s->cands[s->n_cands++] = (struct candidate){ .ino = ino, .pid = pid, .name = name };
        return 0;
}

static bool parse_pid(const char *name, pid_t *ret) {
        long v = 0;

        if (*name == '\0')
                return false;
        for (const char *p = name; *p; p++) {
                if (*p < '0' || *p > '9' || v > 4194304) /* PID_MAX_LIMIT */
                        return false;
                v = v * 10 + (*p - '0');
        }
        if (v <= 0)
                return false;
        *ret = (pid_t) v;
        return true;
}

static int pid_ns_compare(const void *a, const void *b) {
        const struct pid_ns *x = a, *y = b;

        return (x->pid > y->pid) - (x->pid < y->pid);
}

/* The namespace of pid as the last refresh read it, or 0. */
static uint64_t known_ino(const struct netns_set *s, pid_t pid) {
        struct pid_ns key = { .pid = pid };
        const struct pid_ns *k;

        if (s->n_known == 0)
                return 0;
        k = bsearch(&key, s->known, s->n_known, sizeof(*s->known), pid_ns_compare);

        return k ? k->ino : 0;
}

/* Every process's namespace. Threads may sit in other namespaces than their process (setns() is
 * per thread); a thread's own namespace is found only through a process living in it. */
static int find_in_proc(struct netns_set *s, bool full, struct netns_stats *stats) {
        struct dirent *de;
        bool sorted = true;
        DIR *dir;
        int fd, r = 0;

        fd = openat(s->proc_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        dir = fdopendir(fd);
        if (!dir) {
                r = -errno;
                close(fd);
                return r;
        }
        while ((errno = 0, de = readdir(dir))) {
                char path[32];
                struct stat st;
                uint64_t ino;
                pid_t pid;

                if (!parse_pid(de->d_name, &pid))
                        continue;
                ino = full ? 0 : known_ino(s, pid);
                if (ino == 0) {
                        snprintf(path, sizeof(path), "%d/ns/net", (int) pid);
                        if (fstatat(s->proc_fd, path, &st, 0) < 0) {
                                if (errno == EACCES || errno == EPERM)
                                        stats->denied++;
                                else /* ENOENT, ESRCH: gone */
                                        stats->vanished++;
                                continue;
                        }
                        ino = st.st_ino;
                }
                r = array_reserve((void **) &s->next_known, &s->cap_next_known, s->n_next_known + 1,
                                  sizeof(*s->next_known));
                if (r < 0)
                        break;
                if (s->n_next_known > 0 && s->next_known[s->n_next_known - 1].pid >= pid)
                        sorted = false;
                s->next_known[s->n_next_known++] = (struct pid_ns){ .pid = pid, .ino = ino };
                r = candidate_push(s, ino, pid, 0);
                if (r < 0)
                        break;
        }
        if (r == 0 && errno != 0)
                r = -errno;
        closedir(dir);
        if (r < 0)
                return r;
        /* /proc lists pids in ascending order; sorted anyway should it not. */
        if (!sorted)
                qsort(s->next_known, s->n_next_known, sizeof(*s->next_known), pid_ns_compare);
        {
                struct pid_ns *swap = s->known;
                size_t cap = s->cap_known;

                s->known = s->next_known;
                s->n_known = s->n_next_known;
                s->cap_known = s->cap_next_known;
                s->next_known = swap;
                s->cap_next_known = cap;
                s->n_next_known = 0;
        }
        return 0;
}

/* The namespaces kept by name (ip netns add), which may have no process in them. Only nsfs files
 * count: a leftover plain file in /run/netns is no namespace. */
static int find_in_run(struct netns_set *s) {
        struct dirent *de;
        DIR *dir;
        int r = 0;

        if (!s->run_netns_path)
                return 0;
        dir = opendir(s->run_netns_path);
        if (!dir)
                return 0; /* no /run/netns: nobody named a namespace */
        while ((errno = 0, de = readdir(dir))) {
                size_t len = strlen(de->d_name) + 1;
                struct stat st;

                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (fstatat(dirfd(dir), de->d_name, &st, 0) < 0 || st.st_dev != s->nsfs_dev)
                        continue;
                r = array_reserve((void **) &s->names, &s->cap_names, s->len_names + len, 1);
                if (r < 0)
                        break;
                memcpy(s->names + s->len_names, de->d_name, len);
                r = candidate_push(s, st.st_ino, 0, s->len_names);
                s->len_names += len;
                if (r < 0)
                        break;
        }
        closedir(dir);
        return r;
}

static int candidate_compare(const void *a, const void *b) {
        const struct candidate *x = a, *y = b;

        return (x->ino > y->ino) - (x->ino < y->ino);
}

struct enter_args {
        int ns_fd;
        struct diag *diag;
        int r;
};

/* In a thread of its own, so that the daemon's thread never leaves its namespace. */
static void *enter_thread(void *userdata) {
        struct enter_args *a = userdata;

        if (setns(a->ns_fd, CLONE_NEWNET) < 0)
                a->r = -errno;
        else
                a->r = diag_open(&a->diag);
        return NULL;
}

/* An fd of the namespace file c names, or -errno. */
static int open_ns(const struct netns_set *s, const struct candidate *c) {
        char path[32];
        int dir, fd, r = 0;

        if (c->pid > 0) {
                snprintf(path, sizeof(path), "%d/ns/net", (int) c->pid);
                fd = openat(s->proc_fd, path, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        return -errno;
                return fd;
        }
        dir = open(s->run_netns_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0)
                return -errno;
        /* A symbolic link is followed (ln -s /var/run/docker/netns/X /run/netns/X is common);
         * enter() checks that the file opened is the namespace found. */
        fd = openat(dir, s->names + c->name, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                r = -errno;
        close(dir);
        if (r < 0)
                return r; // cppcheck-suppress resourceLeak ; r < 0 only when openat() failed: no fd
        return fd;
}

/* Open a diag socket inside the namespace c names. -ESTALE when the pid or name now leads to
 * another namespace (a pid reused since the walk): tried again at the next refresh. */
static int enter(struct netns_set *s, const struct candidate *c, struct diag **ret) {
        struct enter_args a = { .r = -EIO };
        struct stat st;
        pthread_t t;
        int r;

        a.ns_fd = open_ns(s, c);
        if (a.ns_fd < 0)
                return a.ns_fd;
        if (fstat(a.ns_fd, &st) < 0 || st.st_ino != c->ino || st.st_dev != s->nsfs_dev) {
                close(a.ns_fd);
                return -ESTALE;
        }
        r = -pthread_create(&t, NULL, enter_thread, &a);
        if (r == 0)
                r = -pthread_join(t, NULL);
        close(a.ns_fd);
        if (r < 0)
                return r;
        if (a.r < 0)
                return a.r;
        *ret = a.diag;
        return 0;
}

/* The entry for ino among the last refresh's others (sorted), or NULL. */
static struct netns_entry *entry_find(struct netns_entry *entries, size_t n, uint64_t ino) {
        size_t lo = 1, hi = n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (entries[mid].ino == ino)
                        return &entries[mid];
                if (entries[mid].ino < ino)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return NULL;
}

int netns_refresh(struct netns_set *s, bool enter_others, struct netns_stats *stats) {
        struct netns_stats dummy = {};
        struct netns_entry *next, *swap;
        size_t n_next = 1;
        int r = 0;

        if (!stats)
                stats = &dummy;
        s->n_cands = 0;
        s->len_names = 0;
        if (!enter_others)
                s->full = true; /* what is remembered goes stale while nothing is read */
        else {
                bool full = s->full || s->refreshes % NETNS_FULL_EVERY == 0;

                s->refreshes++;
                s->full = false;
                s->n_next_known = 0;
                r = find_in_proc(s, full, stats);
                if (r >= 0)
                        r = find_in_run(s);
                if (r < 0)
                        return r;
        }
        if (s->n_cands > 1)
                qsort(s->cands, s->n_cands, sizeof(*s->cands), candidate_compare);

        r = array_reserve((void **) &s->spare, &s->cap_spare, s->n_cands + 1, sizeof(*s->spare));
        if (r < 0)
                return r;
        next = s->spare;
        next[0] = s->entries[0];
        for (size_t i = 0, end; i < s->n_cands; i = end) {
                uint64_t ino = s->cands[i].ino;
                struct netns_entry *e = &next[n_next++], *old = entry_find(s->entries, s->n, ino);

                for (end = i; end < s->n_cands && s->cands[end].ino == ino;)
                        end++;
                if (old) {
                        *e = *old;
                        old->diag = NULL; /* moved */
                } else
                        *e = (struct netns_entry){ .ino = ino };
                if (e->diag)
                        continue;
                /* Every way found to reach it, until one works: the first pid may have exited. */
                for (size_t k = i; k < end && !e->diag && e->error != -ENOMEM; k++)
                        e->error = enter(s, &s->cands[k], &e->diag);
                if (e->error == -ENOMEM) {
                        r = -ENOMEM;
                        e->error = 0;
                } else if (e->error == -ESTALE)
                        s->full = true; /* a remembered pid moved on: read them all again */
                else if (e->error == -ENOENT || e->error == -ESRCH)
                        stats->vanished++; /* it exited since the walk: not a failure */
                else if (e->error == -EINVAL)
                        ; /* a /run/netns name bound to another kind of namespace: none of ours */
                else if (e->error < 0)
                        stats->failed++;
                else
                        stats->opened++;
        }
        /* What was not moved over is gone: no process, no name. */
        for (size_t i = 1; i < s->n; i++)
                if (s->entries[i].diag) {
                        s->entries[i].diag = diag_close(s->entries[i].diag);
                        stats->closed++;
                }

        swap = s->entries;
        s->entries = next;
        s->spare = swap;
        {
                size_t c = s->cap;

                s->cap = s->cap_spare;
                s->cap_spare = c;
        }
        s->n = n_next;
        stats->found = n_next;

        if (!s->entries[0].diag) {
                int k = diag_open(&s->entries[0].diag);

                s->entries[0].error = k < 0 ? k : 0;
                if (k < 0 && r == 0)
                        r = k;
        }
        return r;
}
