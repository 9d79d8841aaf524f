/* conf: the configuration file (libconfig syntax) parsed and validated into a plain struct.
 *
 * No side effects: loading reads one file (or a string) and fills a struct; nothing is logged and
 * nothing global changes. Every problem is collected as "PATH:LINE: message" (all of them, not only
 * the first: libconfig stops at the first syntax error, but unknown keys, wrong types and values out
 * of range are all reported), and a struct is only returned when there were none, so a reload can
 * swap in a new configuration only when it is entirely valid. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* The thresholds a rule may override, per process. */
struct conf_thresholds {
        struct {
                unsigned count;  /* alert at this many stuck CLOSE_WAIT sockets in one process */
                usec_t age_usec; /* ... or when the oldest is this old; 0 = off */
                usec_t hold_usec;
        } close_wait;
        struct {
                unsigned count; /* alert at this many stuck unaccepted connections on one listener */
                usec_t hold_usec;
        } accept_backlog;
        struct {
                unsigned count; /* alert at this many TIME_WAIT sockets in one group */
                usec_t hold_usec;
        } time_wait;
        struct {
                double ratio; /* open fds / soft RLIMIT_NOFILE; 0 = off */
                usec_t hold_usec;
        } fd_pressure;
};

/* One entry of "rules". Globs are NULL when not given; at least one is given. */
struct conf_rule {
        char *comm;
        char *exe;
        char *unit;
        bool ignore;
        struct conf_thresholds t; /* the top-level sections with this rule's keys laid over them */
};

struct conf {
        usec_t interval_usec;
        struct conf_thresholds t; /* the top-level sections */
        double clear_ratio;
        usec_t repeat_usec; /* 0 = never */
        struct conf_rule *rules;
        size_t n_rules;
        bool netns;         /* watch every network namespace (needs CAP_SYS_ADMIN) */
        char *metrics_file; /* Prometheus textfile to write after each scan; NULL = none */
};

/* The problems found while loading: "PATH:LINE: message" strings (or "PATH: message" when no line
 * applies, e.g. a file that cannot be read), in file order. */
struct conf_errors {
        char **msgs;
        size_t n;
};

/* Fill c with the built-in defaults (INTERFACE.md) and no rules. */
void conf_defaults(struct conf *c);

/* Load the file at path into *ret (which is overwritten, not freed). A file that does not exist is
 * the defaults when missing_ok (the default path), an error otherwise (a path given with --config).
 * Returns 0 and a valid *ret; -EINVAL with every problem appended to errs and *ret untouched;
 * -ENOMEM. */
int conf_load_file(const char *path, bool missing_ok, struct conf *ret, struct conf_errors *errs);

/* As conf_load_file(), from text in memory; path is only used in the messages.
 * For tests and fuzzing. */
int conf_load_string(const char *text, const char *path, struct conf *ret, struct conf_errors *errs);

/* Free what c owns and reset it to the defaults. */
void conf_done(struct conf *c);

/* Free the messages; leaves errs empty. */
void conf_errors_done(struct conf_errors *errs);

/* The thresholds for a process: the first rule whose given globs (fnmatch, no flags) all match,
 * else the top-level ones. NULL strings match no glob (a process without a unit never matches a
 * unit rule). *ret_ignore (may be NULL) says whether the process is to be ignored entirely.
 * The pointer is into c. */
const struct conf_thresholds *conf_match(const struct conf *c, const char *comm, const char *exe, const char *unit,
                                         bool *ret_ignore);
