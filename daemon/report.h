/* report: one scan's sockets rolled up into what closewaitd reports.
 *
 * Classification (pure: no kernel, no /proc, no clock):
 *  - CLOSE_WAIT with an inode: a leaked fd of every process holding it (a socket shared after
 *    fork counts for each holder, and once in the totals);
 *  - CLOSE_WAIT with inode 0: never accepted, so in the accept backlog of the listener on the
 *    same local address and port (or the wildcard address of that port) in the same network
 *    namespace;
 *  - TIME_WAIT: the listener's process when its local port has a listener in its namespace
 *    (server side), else grouped by namespace and remote ip:port (client side). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "diag.h"
#include "procmap.h"
#include "util.h"

/* Who holds what: procmap in the daemon, a table in tests. */
struct report_owners {
        size_t (*holders)(const void *userdata, uint32_t inode, const pid_t **ret);
        const struct proc_info *(*info)(const void *userdata, pid_t pid);
        const void *userdata;
};

/* report_owners backed by a resolved procmap. */
struct report_owners report_owners_procmap(const struct procmap *pm);

struct report_peer {
        struct diag_addr remote;
        unsigned count;
};

/* How many of a process's peers are put in order (the JSON report shows them). */
#define REPORT_TOP_PEERS 10

struct report_proc {
        const struct proc_info *info; /* borrowed from the owners */
        unsigned close_wait;          /* CLOSE_WAIT sockets held (each counted once per process) */
        unsigned unread;              /* ... of which the application never read the EOF (Recv-Q > 0) */
        usec_t oldest_age_usec;
        const usec_t *ages;        /* the age of each of its close_wait sockets, oldest first */
        struct report_peer *peers; /* distinct remote endpoints: the REPORT_TOP_PEERS largest
                                    * first (count, then address), the rest in no order */
        size_t n_peers;
};

struct report_backlog {
        uint64_t netns;               /* the listener's network namespace (inode) */
        struct diag_addr local;       /* the listener's address */
        const struct proc_info *info; /* listener's owner (lowest pid holding it, PID 1 only when
                                       * alone), NULL if unknown */
        const pid_t *pids;            /* every process holding the listener, ascending (borrowed) */
        size_t n_pids;
        unsigned close_wait;
        usec_t oldest_age_usec;
        const usec_t *ages; /* the age of each of its close_wait connections, oldest first */
};

struct report_tw {
        bool server;    /* true: addr is a listener's local address; false: remote */
        uint64_t netns; /* the network namespace (inode) of the group's sockets */
        struct diag_addr addr;
        const struct proc_info *info; /* the listener's owner when server, NULL otherwise */
        const pid_t *pids;            /* when server: every process holding the listener (borrowed) */
        size_t n_pids;
        unsigned count;
        usec_t oldest_age_usec; /* 60 s minus the timer left, for the oldest */
};

struct report {
        unsigned total_close_wait; /* CLOSE_WAIT sockets with an inode (deduplicated) */
        unsigned total_time_wait;
        unsigned total_accept_backlog; /* CLOSE_WAIT sockets with inode 0 */
        unsigned unowned_close_wait;   /* CLOSE_WAIT with an inode but no readable holder */

        struct report_proc *procs; /* largest close_wait first, then by pid */
        size_t n_procs;
        struct report_peer *peer_pool;   /* the storage of every procs[i].peers */
        usec_t *age_pool;                /* the storage of every procs[i].ages */
        usec_t *backlog_age_pool;        /* the storage of every backlogs[i].ages */
        struct report_backlog *backlogs; /* largest first */
        size_t n_backlogs;
        struct report_tw *tw; /* largest first */
        size_t n_tw;
        /* Network namespaces found but not dumped by this scan (not entered, or the dump failed):
         * what lives there is unknown this time, not gone. Set by the caller of report_build()
         * (borrowed; report_done() forgets it). */
        const uint32_t *unseen_netns;
        size_t n_unseen_netns;
};

/* The TIME_WAIT length the kernel uses (TCP_TIMEWAIT_LEN). */
#define REPORT_TIME_WAIT_USEC (60 * USEC_PER_SEC)

/* Build the report from the deduplicated sockets of a scan. age_usec[i] is the CLOSE_WAIT age of
 * set->socks[i] (ignored for other states); the TIME_WAIT age comes from the timer.
 * Returns 0 or -ENOMEM. *out must be zeroed or freed before. */
int report_build(const struct diag_set *set, const usec_t *age_usec, const struct report_owners *owners,
                 struct report *out);

/* A summary of a process's peers for people: an endpoint with several sockets is a destination
 * the program talks to (a database, a backend) and stays as it is; endpoints with one socket each
 * are the ephemeral ports of a server's clients, which say nothing one by one, so those of one
 * host are summed (any_port). */
struct report_peer_group {
        struct diag_addr addr; /* the endpoint, or the host (with its first port) when any_port */
        unsigned count;
        bool any_port;
};

/* The groups of p's peers, largest count first (ties by address). Returns 0 with *ret (caller
 * frees; NULL when there are no peers) and *ret_n, or -ENOMEM. */
int report_peer_groups(const struct report_proc *p, struct report_peer_group **ret, size_t *ret_n);

/* "10.0.0.5:5432", or "10.0.0.6:*" for any_port. buf must hold DIAG_ADDR_STRLEN bytes. */
const char *report_peer_group_format(const struct report_peer_group *g, char *buf, size_t size);

/* How many of ages (oldest first, n of them; NULL: none) are at least min: the index of the first
 * younger one. "Stuck" sockets, as the policy and the metrics count them. */
unsigned report_count_at_least(const usec_t *ages, unsigned n, usec_t min);

/* Free the report's arrays; leaves it zeroed. */
void report_done(struct report *r);
