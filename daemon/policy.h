/* policy: when to raise, repeat and resolve alerts. Pure: the report of a scan, the configuration
 * and the time go in, events come out; the state carried from scan to scan lives in struct policy.
 *
 * Four kinds of alert, each keyed by what it is about:
 *  - close_wait (per process, keyed by pid and start time so a reused pid is a new process):
 *    raised when at least close_wait.count of its CLOSE_WAIT sockets are each at least
 *    close_wait.hold old (reason "count"), or when its oldest is at least close_wait.age old
 *    (reason "age"; 0 = off). Busy programs hold many CLOSE_WAIT sockets for milliseconds: only
 *    sockets older than hold count, so they never alert.
 *  - accept_backlog (per listener: network namespace and address): at least
 *    accept_backlog.count unaccepted CLOSE_WAIT connections, each at least accept_backlog.hold old.
 *  - time_wait (per group: a namespace and a listener's local address, or a remote address): at
 *    least time_wait.count sockets, continuously for time_wait.hold.
 *  - fd_pressure (per process holding CLOSE_WAIT sockets): open fds / soft limit at least
 *    fd_pressure.ratio (0 = off), continuously for fd_pressure.hold.
 * The thresholds of a process come from conf_match() on its comm, exe and unit; an ignored
 * process raises nothing. Listener and server-side TIME_WAIT groups use their owner's rule;
 * groups without an owner use the top-level thresholds.
 *
 * A raised alert is repeated every alert.repeat (0 = never) while it holds, and resolved once
 * when every enabled reason has fallen to clear_ratio x its threshold or less, or its subject is
 * gone (the process exited, the listener closed); the resolved event says how long it lasted. A
 * subject missing from a report because its network namespace was not dumped (report.h:
 * unseen_netns) is not gone: its alert stays as it was until a scan sees it again. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "conf.h"
#include "diag.h"
#include "report.h"
#include "util.h"

enum policy_kind {
        POLICY_CLOSE_WAIT,
        POLICY_ACCEPT_BACKLOG,
        POLICY_TIME_WAIT,
        POLICY_FD_PRESSURE,
        _POLICY_KIND_MAX,
};

enum policy_reason {
        POLICY_REASON_COUNT, /* close_wait, accept_backlog, time_wait */
        POLICY_REASON_AGE,   /* close_wait */
        POLICY_REASON_RATIO, /* fd_pressure */
};

enum policy_event_type {
        POLICY_RAISE,
        POLICY_REPEAT,
        POLICY_RESOLVE,
};

/* What an alert is about: a snapshot taken when it was raised and kept while it lives, so that
 * the resolved event can still name a process that has exited. */
struct policy_subject {
        enum policy_kind kind;
        pid_t pid;             /* 0 when there is no process (client-side TIME_WAIT, unknown owner) */
        uint64_t start_time;   /* with pid, the identity of the process */
        bool server;           /* time_wait: addr is a listener's local address, else a remote one */
        uint64_t netns;        /* accept_backlog, time_wait: the namespace of the sockets (part of
                                * the key); close_wait, fd_pressure: the process's; 0 = unknown */
        struct diag_addr addr; /* accept_backlog: the listener; time_wait: the group's address */
        char *comm;            /* escaped copies from the proc_info; NULL when unknown */
        char *exe;
        char *unit;
        char *container; /* container id and Kubernetes pod uid, NULL when none */
        char *pod;
};

struct policy_event {
        enum policy_event_type type;
        enum policy_reason reason; /* RESOLVE: the reason it was raised for */
        const struct policy_subject *subject;

        /* The values of this scan (on RESOLVE: the values that cleared it, zero when gone). */
        unsigned count;         /* close_wait: stuck sockets; accept_backlog: stuck connections;
                                 * time_wait: sockets in the group; fd_pressure: the process's
                                 * CLOSE_WAIT sockets */
        double threshold;       /* of the reason: a count, an age in seconds, or a ratio */
        usec_t oldest_age_usec; /* of the sockets counted */
        unsigned fds;           /* close_wait, fd_pressure: open fds; 0 when unknown */
        int64_t fd_limit;       /* soft RLIMIT_NOFILE; -1 when unlimited or unknown */
        usec_t duration_usec;   /* REPEAT, RESOLVE: how long the alert has been raised */

        /* The subject in this scan's report, for details (peers, pids); NULL when gone. */
        const struct report_proc *proc;       /* close_wait, fd_pressure */
        const struct report_backlog *backlog; /* accept_backlog */
        const struct report_tw *tw;           /* time_wait */
};

struct policy;

/* Returns 0 and *ret, or -ENOMEM. */
int policy_new(struct policy **ret);

/* Free; accepts NULL, returns NULL. */
struct policy *policy_free(struct policy *p);

/* Evaluate one scan taken at now (CLOCK_MONOTONIC) against c.
 *
 * At most max_events events are returned, most urgent first (fd_pressure, close_wait,
 * accept_backlog, time_wait; larger counts first; resolves after raises). An event beyond the cap
 * is not lost: its state does not advance, so it comes out at a later scan; *ret_suppressed says
 * how many were held back this time, for one summary line.
 *
 * *ret_events (n in *ret_n) and the subjects they point to are owned by p and stay valid until the
 * next policy_evaluate() or policy_free(); the report must outlive their use too.
 * Returns 0 or -ENOMEM (the state is then as before the call). */
int policy_evaluate(struct policy *p, const struct conf *c, const struct report *r, usec_t now, size_t max_events,
                    const struct policy_event **ret_events, size_t *ret_n, size_t *ret_suppressed);

/* How many alerts are raised now, per kind (counts has _POLICY_KIND_MAX entries). Returns the sum. */
size_t policy_active(const struct policy *p, unsigned *counts);

/* Stable names, as in the CLOSEWAITD_KIND and CLOSEWAITD_REASON fields. */
const char *policy_kind_name(enum policy_kind k);
const char *policy_reason_name(enum policy_reason r);
