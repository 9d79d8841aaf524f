/* alert: turning policy events (and the daemon's own messages) into journal entries, and writing
 * them to a sink: the journal, stderr, or a capturing sink in tests.
 *
 * Formatting is pure (an event in, fields out). Writing goes to the primary sink and falls back to
 * the secondary one (stderr) when the primary fails, e.g. while journald is down
 * (sd_journal_sendv() returns -ECONNREFUSED): an alert is never dropped and never fatal. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/uio.h>

#include "policy.h"

/* MESSAGE_IDs (INTERFACE.md), as the 32 hex digits journald expects. */
#define ALERT_MID_CLOSE_WAIT     "fd90960cbac74d8d928e85956d41cad2"
#define ALERT_MID_ACCEPT_BACKLOG "17353e799a934f2889f044f6c273ad8c"
#define ALERT_MID_TIME_WAIT      "7f6e0a4999384f6cbd5132003a53b366"
#define ALERT_MID_FD_PRESSURE    "2de4c1457c69400a989b55c82dadf085"
#define ALERT_MID_RESOLVED       "14f5b9873616466aaa8faa39c2ba4566"
#define ALERT_MID_DEGRADED       "fb00b5d9cfdf403ea21f70fcf92990b3"

#define ALERT_MAX_FIELDS 32

/* One journal entry: fields "KEY=value" (no NUL inside a value, no newline except in MESSAGE,
 * which has none either: every process string is escaped). Always includes MESSAGE, PRIORITY and
 * SYSLOG_IDENTIFIER=closewaitd. The strings are owned by the entry. */
struct alert_entry {
        char *fields[ALERT_MAX_FIELDS];
        size_t n;
        int priority; /* LOG_ERR .. LOG_DEBUG, also in the PRIORITY field */
};

/* Free the fields; leaves e empty. Accepts an empty entry. */
void alert_entry_done(struct alert_entry *e);

/* The value of field key ("MESSAGE", "CLOSEWAITD_PID", ...) in e, or NULL. */
const char *alert_entry_get(const struct alert_entry *e, const char *key);

/* Format a policy event: MESSAGE_ID of its kind (RESOLVE: the resolved id), PRIORITY, every
 * CLOSEWAITD_* field that applies, OBJECT_PID for a process that is still alive, and a MESSAGE
 * that names the process and unit, the count against the threshold, the oldest age, the fds
 * against the limit, the top peers, and whether the application is not reading (Recv-Q > 0) or
 * read EOF and never closed. Returns 0 or -ENOMEM (e is then empty). */
int alert_format_event(const struct policy_event *ev, struct alert_entry *e);

/* Format the line that stands for suppressed events held back by the per-scan cap.
 * Returns 0 or -ENOMEM. */
int alert_format_suppressed(size_t suppressed, size_t max_events, struct alert_entry *e);

/* Format one of the daemon's own messages (startup, reload, errors); message_id may be NULL
 * (ALERT_MID_DEGRADED for "monitoring degraded"). Returns 0 or -ENOMEM. */
int alert_format_message(int priority, const char *message_id, const char *message, struct alert_entry *e);

/* Where entries are written. write returns 0 or -errno. */
struct alert_sink {
        int (*write)(void *userdata, const struct alert_entry *e);
        void *userdata;
};

/* The journal (sd_journal_sendv()). */
struct alert_sink alert_sink_journal(void);

/* Whether the journal's socket exists (what --log-target auto decides on). */
bool alert_journal_available(void);

/* A stream (stderr): one line per entry, "<priority>MESSAGE" when prefix_priority (what systemd
 * parses from a service's stderr), else "closewaitd: MESSAGE". f must outlive the sink. */
struct alert_sink alert_sink_stream(FILE *f, bool prefix_priority);

struct alert;

/* primary gets every entry; when it fails, fallback (may have write == NULL: none) gets it, and
 * the switch is reported once through the fallback (and once more when the primary works again).
 * min_priority: entries less urgent than this (a larger number) are dropped (LOG_INFO normally,
 * LOG_DEBUG with -v). Returns 0 and *ret, or -ENOMEM. */
int alert_new(struct alert_sink primary, struct alert_sink fallback, int min_priority, struct alert **ret);

/* Free; accepts NULL, returns NULL. */
struct alert *alert_free(struct alert *a);

/* Write e. Returns 0 when a sink took it, -errno of the last failure otherwise (the caller has
 * nothing more to do about it: counting is enough). */
int alert_emit(struct alert *a, const struct alert_entry *e);

/* Format and emit a message of the daemon's own (printf-style). Failures are swallowed: logging
 * never stops the daemon. */
void alert_log(struct alert *a, int priority, const char *message_id, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

/* How many entries could not be written anywhere (both sinks failed). */
unsigned long alert_lost(const struct alert *a);
