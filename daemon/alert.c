/* alert: policy events and the daemon's own messages as journal entries, and the sinks that write
 * them (the journal through sd_journal_sendv(), a stream such as stderr).
 *
 * Formatting is pure: an event in, "KEY=value" fields out, one readable MESSAGE line that names
 * the process, the numbers against the threshold and what the numbers mean for the application.
 * Every value is checked before it enters an entry: strings from processes arrive escaped
 * (str_escape()), and one that still carries a control byte is escaped once more, so no log line
 * can be forged through a comm or exe.
 *
 * Fields beyond INTERFACE.md (all optional for consumers):
 *   CLOSEWAITD_EVENT      raise | repeat | resolve (| suppressed for the cap summary)
 *   CLOSEWAITD_UNREAD     close_wait, fd_pressure: sockets whose peer's EOF was never read (Recv-Q > 0)
 *   CLOSEWAITD_HELD       close_wait, fd_pressure: every CLOSE_WAIT socket the process holds,
 *                         stuck or not (CLOSEWAITD_COUNT of close_wait counts the stuck ones only)
 *   CLOSEWAITD_FD_RATIO   fd_pressure: open fds / soft limit, 2 decimals
 *   CLOSEWAITD_PIDS       accept_backlog, server time_wait: every pid holding the listener, ascending
 *   CLOSEWAITD_NETNS      the network namespace (inode) of the process, or of the group's sockets
 *   CLOSEWAITD_CONTAINER  the container id from the process's cgroup (docker, containerd, CRI-O,
 *                         podman), when it runs in one
 *   CLOSEWAITD_POD        the Kubernetes pod uid, when its cgroup is under kubepods
 * CLOSEWAITD_TOP_PEERS lists the first 5 peers exactly as the JSON report has them, "ip:port=N",
 * largest first, so scripts can parse it; the MESSAGE sums the client ports of one host, one
 * socket each, as "ip:*=N" (a leaking server's peers are its clients' ephemeral ports).
 *   CLOSEWAITD_SUPPRESSED, CLOSEWAITD_MAX_EVENTS  the per-scan cap summary
 * Number formats: counts as integers; ages and durations in seconds with one decimal ("412.5");
 * ratios with two decimals ("0.80"); CLOSEWAITD_THRESHOLD in the unit of its reason (a count,
 * seconds with one decimal, or a ratio). CLOSEWAITD_FD_LIMIT is omitted when the limit is
 * unlimited or unknown (-1), so the field is always a number when present. */
#include "alert.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <syslog.h>
/* Without this, sd_journal_sendv() is a macro adding CODE_FILE/CODE_LINE/CODE_FUNC of this file's
 * journal_write() to every alert: noise that points at the logger, not at the leak. */
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "diag.h"
#include "procmap.h"
#include "report.h"
#include "strutil.h"
#include "util.h"

/* At most this many peers in CLOSEWAITD_TOP_PEERS and the MESSAGE: enough to name the
 * destinations that matter, short enough to read on one line. */
#define ALERT_TOP_PEERS 5

/* Where sd_journal_sendv() sends: a fixed path in libsystemd. */
#define ALERT_JOURNAL_SOCKET "/run/systemd/journal/socket"

/* A growing string. An allocation failure is sticky and reported once at the end. */
struct sbuf {
        char *s;
        size_t len, cap;
        bool oom;
};

static void sbuf_vprintf(struct sbuf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void sbuf_vprintf(struct sbuf *b, const char *fmt, va_list ap) {
        va_list aq;
        size_t want;
        int n;

        if (b->oom)
                return;
        va_copy(aq, ap);
        n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, aq);
        va_end(aq);
        if (n < 0) {
                b->oom = true; /* an encoding error: nothing sensible to append */
                return;
        }
        if (n == 0)
                return; /* nothing to append: allocating here would leak when "len > 0" decides the take */
        want = b->len + (size_t) n + 1;
        if (want > b->cap) {
                size_t cap = b->cap * 2 > want ? b->cap * 2 : want;
                char *s;

                if (cap < 256)
                        cap = 256;
                s = realloc(b->s, cap);
                if (!s) {
                        b->oom = true;
                        return;
                }
                b->s = s;
                b->cap = cap;
                vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
        }
        b->len += (size_t) n;
}

static void sbuf_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sbuf_printf(struct sbuf *b, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        sbuf_vprintf(b, fmt, ap);
        va_end(ap);
}

/* The text, owned by the caller, or NULL on -ENOMEM (the buffer is freed either way). */
static char *sbuf_take(struct sbuf *b) {
        char *s = b->s;

        if (b->oom) {
                free(s);
                s = NULL;
        } else if (!s)
                s = strdup("");
        *b = (struct sbuf){};
        return s;
}

/* True when esc is what str_escape() makes of s because s was already safe: the same bytes, with
 * every backslash doubled. Escaped text keeps its backslashes ("\x1b" as four characters), so
 * comparing this way tells "already escaped" from "needs escaping" without escaping twice. */
static bool same_but_backslashes(const char *s, const char *esc) {
        while (*s) {
                if (*s == '\\') {
                        if (esc[0] != '\\' || esc[1] != '\\')
                                return false;
                        esc += 2;
                } else if (*s != *esc)
                        return false;
                else
                        esc++;
                s++;
        }
        return *esc == '\0';
}

/* A copy of s that is safe in a journal field and on a terminal. Process strings arrive escaped,
 * so this is normally a plain copy; a string that still holds a control byte, DEL, invalid UTF-8
 * or a bidirectional override (a caller that forgot str_escape()) is escaped here. NULL on -ENOMEM. */
static char *safe_dup(const char *s) {
        bool high = false;
        size_t len = strlen(s);
        char *esc;

        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                if (*p < 0x20 || *p == 0x7f)
                        return str_escape(s, len);
                if (*p >= 0x80)
                        high = true;
        }
        if (!high)
                return strdup(s);

        /* Non-ASCII: only str_escape() knows which UTF-8 it keeps. */
        esc = str_escape(s, len);
        if (!esc || !same_but_backslashes(s, esc))
                return esc;
        free(esc);
        return strdup(s);
}

static int clamp_priority(int priority) {
        if (priority < LOG_EMERG)
                return LOG_EMERG;
        if (priority > LOG_DEBUG)
                return LOG_DEBUG;
        return priority;
}

void alert_entry_done(struct alert_entry *e) {
        if (!e)
                return;
        for (size_t i = 0; i < e->n && i < ALERT_MAX_FIELDS; i++)
                free(e->fields[i]);
        *e = (struct alert_entry){};
}

const char *alert_entry_get(const struct alert_entry *e, const char *key) {
        size_t klen = strlen(key);

        for (size_t i = 0; i < e->n; i++)
                if (strncmp(e->fields[i], key, klen) == 0 && e->fields[i][klen] == '=')
                        return e->fields[i] + klen + 1;
        return NULL;
}

/* Append KEY=value, value made safe. -ENOMEM; -E2BIG when the entry is full (a bug here: the
 * largest entry has fewer than ALERT_MAX_FIELDS fields). */
static int entry_add(struct alert_entry *e, const char *key, const char *value) {
        size_t klen, vlen;
        char *v, *f;

        if (e->n >= ALERT_MAX_FIELDS)
                return -E2BIG;
        v = safe_dup(value);
        if (!v)
                return -ENOMEM;
        klen = strlen(key);
        vlen = strlen(v);
        f = malloc(klen + 1 + vlen + 1);
        if (!f) {
                free(v);
                return -ENOMEM;
        }
        memcpy(f, key, klen);
        f[klen] = '=';
        memcpy(f + klen + 1, v, vlen + 1);
        free(v);
        e->fields[e->n++] = f;
        return 0;
}

static int entry_addf(struct alert_entry *e, const char *key, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static int entry_addf(struct alert_entry *e, const char *key, const char *fmt, ...) {
        struct sbuf b = {};
        va_list ap;
        char *v;
        int r;

        va_start(ap, fmt);
        sbuf_vprintf(&b, fmt, ap);
        va_end(ap);
        v = sbuf_take(&b);
        if (!v)
                return -ENOMEM;
        r = entry_add(e, key, v);
        free(v);
        return r;
}

/* MESSAGE, PRIORITY and SYSLOG_IDENTIFIER, first in every entry; message may be NULL (-ENOMEM
 * while building it). */
static int entry_start(struct alert_entry *e, int priority, const char *message_id, const char *message) {
        int r;

        *e = (struct alert_entry){ .priority = clamp_priority(priority) };
        if (!message)
                return -ENOMEM;
        r = entry_add(e, "MESSAGE", message);
        if (r >= 0) {
                /* Not entry_addf(): clang-analyzer does not follow variadic calls, and after one it
                 * loses track of the fields it must see freed (a false "potential leak"). */
                char prio[12];

                snprintf(prio, sizeof(prio), "%d", e->priority);
                r = entry_add(e, "PRIORITY", prio);
        }
        if (r >= 0)
                r = entry_add(e, "SYSLOG_IDENTIFIER", "closewaitd");
        if (r >= 0 && message_id)
                r = entry_add(e, "MESSAGE_ID", message_id);
        return r;
}

/* "10.0.0.5:5432=40 10.0.0.6:*=3", the first ALERT_TOP_PEERS groups. */
static void put_peer_groups(struct sbuf *b, const struct report_peer_group *g, size_t n) {
        for (size_t i = 0; i < n && i < ALERT_TOP_PEERS; i++) {
                char a[DIAG_ADDR_STRLEN];

                sbuf_printf(b, "%s%s=%u", i > 0 ? " " : "", report_peer_group_format(&g[i], a, sizeof(a)), g[i].count);
        }
}

/* Everything the text of an event needs, gathered once. Strings are safe copies. */
struct subject_text {
        const struct policy_event *ev;
        const struct policy_subject *s;
        const struct proc_info *live; /* the subject's process in this scan, NULL when gone */
        pid_t pid;                    /* 0: no process */
        char *comm, *exe, *unit;      /* NULL when unknown */
        const char *container, *pod;  /* borrowed from live or the snapshot; NULL when none */
        uint64_t netns;               /* the process's, or the group's sockets' namespace; 0 unknown */
        char *name;                   /* "nginx[1234]", "pid 1234", or NULL */
        char *detail;                 /* "/usr/bin/python3.11, app.service" (exe when useful), or NULL */
        char addr[DIAG_ADDR_STRLEN];  /* accept_backlog, time_wait */
        const pid_t *pids;            /* accept_backlog, time_wait: every holder of the listener */
        size_t n_pids;
        struct report_peer_group *peer_groups; /* close_wait, fd_pressure: the peers summarised */
        size_t n_peer_groups;
};

static void subject_text_done(struct subject_text *t) {
        free(t->comm);
        free(t->exe);
        free(t->unit);
        free(t->name);
        free(t->detail);
        free(t->peer_groups);
}

static const char *basename_of(const char *path) {
        const char *slash = strrchr(path, '/');

        return slash ? slash + 1 : path;
}

/* The exe says something the comm does not: another program name (an interpreter running a
 * script, a renamed thread), or " (deleted)", a process still running a binary that was upgraded
 * or removed. comm is at most 15 bytes, so a prefix match counts as the same name. */
static bool exe_is_useful(const char *exe, const char *comm) {
        const char *base = basename_of(exe);

        if (strstr(exe, " (deleted)"))
                return true;
        return !comm || !*comm || strncmp(base, comm, strlen(comm)) != 0;
}

static int dup_opt(const char *s, char **ret) {
        *ret = NULL;
        if (!s)
                return 0;
        *ret = safe_dup(s);
        return *ret ? 0 : -ENOMEM;
}

static int subject_text_init(struct subject_text *t, const struct policy_event *ev) {
        const struct policy_subject *s = ev->subject;
        const struct proc_info *live = NULL;
        struct sbuf b = {};
        int r;

        *t = (struct subject_text){ .ev = ev, .s = s };

        switch (s->kind) {
        case POLICY_CLOSE_WAIT:
        case POLICY_FD_PRESSURE:
                if (ev->proc) {
                        r = report_peer_groups(ev->proc, &t->peer_groups, &t->n_peer_groups);
                        if (r < 0)
                                return r;
                        live = ev->proc->info;
                }
                break;
        case POLICY_ACCEPT_BACKLOG:
                if (ev->backlog) {
                        live = ev->backlog->info;
                        t->pids = ev->backlog->pids;
                        t->n_pids = ev->backlog->n_pids;
                }
                diag_addr_format(&s->addr, t->addr, sizeof(t->addr));
                break;
        case POLICY_TIME_WAIT:
                if (ev->tw) {
                        live = ev->tw->info;
                        t->pids = ev->tw->pids;
                        t->n_pids = ev->tw->n_pids;
                }
                diag_addr_format(&s->addr, t->addr, sizeof(t->addr));
                break;
        default:
                break;
        }
        if (live && live->pid <= 0)
                live = NULL;
        t->live = live;

        /* What this scan sees wins over the snapshot taken at raise: a listener may have a new
         * owner, a process may have exec()ed. The snapshot names what is gone. One or the other,
         * never a mix: the pid and its strings must describe the same process. */
        t->pid = live ? live->pid : s->pid;
        if (t->pid < 0)
                t->pid = 0;
        r = dup_opt(live ? live->comm : s->comm, &t->comm);
        if (r >= 0)
                r = dup_opt(live ? live->exe : s->exe, &t->exe);
        if (r >= 0)
                r = dup_opt(live ? live->unit : s->unit, &t->unit);
        if (r < 0)
                return r;
        /* The parser lets only [0-9a-f-] into these: nothing to escape. */
        t->container = live ? live->container : s->container;
        t->pod = live ? live->pod : s->pod;
        if (s->kind == POLICY_CLOSE_WAIT || s->kind == POLICY_FD_PRESSURE)
                t->netns = live ? live->netns : s->netns;
        else
                t->netns = s->netns;
        if (t->comm && !*t->comm) {
                free(t->comm); /* "" = unreadable comm */
                t->comm = NULL;
        }

        if (t->pid > 0 && t->comm)
                sbuf_printf(&b, "%s[%d]", t->comm, (int) t->pid);
        else if (t->pid > 0)
                sbuf_printf(&b, "pid %d", (int) t->pid);
        else if (t->comm)
                sbuf_printf(&b, "%s", t->comm);
        if (b.len > 0 || b.oom) {
                t->name = sbuf_take(&b);
                if (!t->name)
                        return -ENOMEM;
        }

        if (t->exe && exe_is_useful(t->exe, t->comm))
                sbuf_printf(&b, "%s", t->exe);
        if (t->unit)
                sbuf_printf(&b, "%s%s", b.len > 0 ? ", " : "", t->unit);
        if (t->container)
                sbuf_printf(&b, "%scontainer %.12s", b.len > 0 ? ", " : "", t->container);
        else if (t->pod)
                sbuf_printf(&b, "%spod %s", b.len > 0 ? ", " : "", t->pod);
        if (b.len > 0 || b.oom) {
                t->detail = sbuf_take(&b);
                if (!t->detail)
                        return -ENOMEM;
        }
        return 0;
}

/* "nginx[1234] (nginx.service)" */
static void put_name(struct sbuf *b, const struct subject_text *t) {
        sbuf_printf(b, "%s", t->name ? t->name : "an unknown process");
        if (t->detail)
                sbuf_printf(b, " (%s)", t->detail);
}

/* A threshold in seconds as people write it: "900s", "90.5s". */
static void put_seconds_threshold(struct sbuf *b, double sec) {
        if (sec >= 0 && sec < 1e15 && sec == (double) (uint64_t) sec)
                sbuf_printf(b, "%.0fs", sec);
        else
                sbuf_printf(b, "%.1fs", sec);
}

static void put_fds(struct sbuf *b, const struct policy_event *ev) {
        if (ev->fds == 0)
                return; /* unknown */
        if (ev->fd_limit >= 0)
                sbuf_printf(b, "; fds %u/%lld", ev->fds, (long long) ev->fd_limit);
        else
                sbuf_printf(b, "; fds %u", ev->fds);
}

/* Which of the two CLOSE_WAIT bugs it is. Recv-Q > 0 on a CLOSE_WAIT socket: the FIN (and maybe
 * data) was never read, so the application stopped reading the connection; Recv-Q 0: it read the
 * EOF (recv() returned 0) and then did not close() the fd. */
static void put_reading(struct sbuf *b, const struct policy_event *ev) {
        const struct report_proc *p = ev->proc;
        unsigned unread, closed;

        if (!p || p->close_wait == 0)
                return;
        unread = p->unread < p->close_wait ? p->unread : p->close_wait;
        closed = p->close_wait - unread;
        sbuf_printf(b, "; ");
        if (p->close_wait != ev->count)
                sbuf_printf(b, "of all %u held: ", p->close_wait);
        if (unread > 0)
                sbuf_printf(b, "%u not reading (Recv-Q > 0: the application never read the peer's EOF)", unread);
        if (unread > 0 && closed > 0)
                sbuf_printf(b, "; ");
        if (closed > 0)
                sbuf_printf(b, "%u read EOF and never called close()", closed);
}

/* The age of the youngest of the n oldest sockets: each of them is at least this old. */
static bool youngest_of(const usec_t *ages, size_t n_ages, unsigned n, usec_t *ret) {
        if (!ages || n == 0 || n > n_ages)
                return false;
        *ret = ages[n - 1];
        return true;
}

static void format_close_wait(struct sbuf *b, const struct subject_text *t) {
        const struct policy_event *ev = t->ev;
        usec_t youngest;

        if (ev->type == POLICY_RESOLVE) {
                sbuf_printf(b, "resolved: CLOSE_WAIT leak in ");
                put_name(b, t);
                sbuf_printf(b, " cleared after %.1fs", usec_to_sec(ev->duration_usec));
                if (!ev->proc)
                        sbuf_printf(b, " (it holds no CLOSE_WAIT socket any more, or it exited)");
                else if (ev->count > 0)
                        sbuf_printf(b, " (now %u sockets stuck, oldest %.1fs)", ev->count,
                                    usec_to_sec(ev->oldest_age_usec));
                else
                        sbuf_printf(b, " (now none stuck, %u in CLOSE_WAIT)", ev->proc->close_wait);
                return;
        }

        sbuf_printf(b, "%sCLOSE_WAIT leak suspected in ", ev->type == POLICY_REPEAT ? "still: " : "");
        put_name(b, t);
        if (ev->reason == POLICY_REASON_AGE) {
                sbuf_printf(b, ": oldest CLOSE_WAIT socket is %.1fs old (threshold ", usec_to_sec(ev->oldest_age_usec));
                put_seconds_threshold(b, ev->threshold);
                sbuf_printf(b, "); %u sockets stuck in CLOSE_WAIT", ev->count);
        } else {
                sbuf_printf(b, ": %u sockets stuck in CLOSE_WAIT", ev->count);
                if (ev->proc && youngest_of(ev->proc->ages, ev->proc->close_wait, ev->count, &youngest))
                        sbuf_printf(b, " for >= %.1fs", usec_to_sec(youngest));
                sbuf_printf(b, " (threshold %.0f), oldest %.1fs", ev->threshold, usec_to_sec(ev->oldest_age_usec));
        }
        put_fds(b, ev);
        if (t->n_peer_groups > 0) {
                sbuf_printf(b, "; top peers ");
                put_peer_groups(b, t->peer_groups, t->n_peer_groups);
                if (t->n_peer_groups > ALERT_TOP_PEERS)
                        sbuf_printf(b, " (+%zu more)", t->n_peer_groups - ALERT_TOP_PEERS);
        }
        put_reading(b, ev);
        if (ev->type == POLICY_REPEAT)
                sbuf_printf(b, "; raised %.1fs ago", usec_to_sec(ev->duration_usec));
}

/* " (redis-server[99] and 2 more processes)" */
static void put_listener_owner(struct sbuf *b, const struct subject_text *t) {
        if (!t->name)
                return;
        sbuf_printf(b, " (");
        put_name(b, t);
        if (t->n_pids > 1)
                sbuf_printf(b, " and %zu more process%s", t->n_pids - 1, t->n_pids > 2 ? "es" : "");
        sbuf_printf(b, ")");
}

static void format_accept_backlog(struct sbuf *b, const struct subject_text *t) {
        const struct policy_event *ev = t->ev;
        usec_t youngest;

        if (ev->type == POLICY_RESOLVE) {
                sbuf_printf(b, "resolved: accept backlog on %s", t->addr);
                put_listener_owner(b, t);
                sbuf_printf(b, " cleared after %.1fs", usec_to_sec(ev->duration_usec));
                if (!ev->backlog)
                        sbuf_printf(b, " (no stuck connection left, or the listener closed)");
                else
                        sbuf_printf(b, " (now %u stuck connections)", ev->count);
                return;
        }

        sbuf_printf(b, "%saccept backlog on %s", ev->type == POLICY_REPEAT ? "still: " : "", t->addr);
        put_listener_owner(b, t);
        sbuf_printf(b, ": %u connections died unaccepted in the queue", ev->count);
        if (ev->backlog && youngest_of(ev->backlog->ages, ev->backlog->close_wait, ev->count, &youngest))
                sbuf_printf(b, ", each waiting >= %.1fs", usec_to_sec(youngest));
        sbuf_printf(b, " (threshold %.0f), oldest %.1fs: the listener is not calling accept()", ev->threshold,
                    usec_to_sec(ev->oldest_age_usec));
        if (ev->type == POLICY_REPEAT)
                sbuf_printf(b, "; raised %.1fs ago", usec_to_sec(ev->duration_usec));
}

static void format_time_wait(struct sbuf *b, const struct subject_text *t) {
        const struct policy_event *ev = t->ev;
        const char *where = t->s->server ? "on" : "towards";

        if (ev->type == POLICY_RESOLVE) {
                sbuf_printf(b, "resolved: TIME_WAIT pile-up %s %s", where, t->addr);
                if (t->s->server)
                        put_listener_owner(b, t);
                sbuf_printf(b, " cleared after %.1fs (now %u sockets)", usec_to_sec(ev->duration_usec), ev->count);
                return;
        }

        sbuf_printf(b, "%sTIME_WAIT pile-up %s %s", ev->type == POLICY_REPEAT ? "still: " : "", where, t->addr);
        if (t->s->server)
                put_listener_owner(b, t);
        sbuf_printf(b, ": %u sockets (threshold %.0f)", ev->count, ev->threshold);
        /* TIME_WAIT sits on the side that closed first. */
        if (t->s->server)
                sbuf_printf(b, ": heavy connection churn, the server closes first; consider keep-alive");
        else
                sbuf_printf(b, ": this host opens and closes many short connections to it, ephemeral ports may "
                               "run out; reuse connections (pooling, keep-alive)");
        if (ev->type == POLICY_REPEAT)
                sbuf_printf(b, "; raised %.1fs ago", usec_to_sec(ev->duration_usec));
}

static void format_fd_pressure(struct sbuf *b, const struct subject_text *t) {
        const struct policy_event *ev = t->ev;

        if (ev->type == POLICY_RESOLVE) {
                sbuf_printf(b, "resolved: fd pressure in ");
                put_name(b, t);
                sbuf_printf(b, " cleared after %.1fs", usec_to_sec(ev->duration_usec));
                if (!ev->proc)
                        sbuf_printf(b, " (it holds no CLOSE_WAIT socket any more, or it exited)");
                else if (ev->fd_limit > 0)
                        sbuf_printf(b, " (now %u of %lld open files, %.0f%%)", ev->fds, (long long) ev->fd_limit,
                                    100.0 * ev->fds / (double) ev->fd_limit);
                else
                        sbuf_printf(b, " (now %u open files)", ev->fds);
                return;
        }

        sbuf_printf(b, "%sfd pressure in ", ev->type == POLICY_REPEAT ? "still: " : "");
        put_name(b, t);
        if (ev->fd_limit > 0)
                sbuf_printf(b, ": %u of %lld open files (%.0f%%, threshold %.0f%%)", ev->fds, (long long) ev->fd_limit,
                            100.0 * ev->fds / (double) ev->fd_limit, 100.0 * ev->threshold);
        else
                sbuf_printf(b, ": %u open files (threshold %.0f%% of the limit)", ev->fds, 100.0 * ev->threshold);
        sbuf_printf(b, " while holding %u CLOSE_WAIT sockets: \"Too many open files\" is near", ev->count);
        if (ev->type == POLICY_REPEAT)
                sbuf_printf(b, "; raised %.1fs ago", usec_to_sec(ev->duration_usec));
}

static const char *event_type_name(enum policy_event_type type) {
        switch (type) {
        case POLICY_RAISE:
                return "raise";
        case POLICY_REPEAT:
                return "repeat";
        case POLICY_RESOLVE:
                return "resolve";
        }
        return "unknown";
}

static const struct {
        const char *message_id;
        int priority;
} kind_table[_POLICY_KIND_MAX] = {
        [POLICY_CLOSE_WAIT] = { ALERT_MID_CLOSE_WAIT, LOG_WARNING },
        [POLICY_ACCEPT_BACKLOG] = { ALERT_MID_ACCEPT_BACKLOG, LOG_WARNING },
        [POLICY_TIME_WAIT] = { ALERT_MID_TIME_WAIT, LOG_WARNING },
        [POLICY_FD_PRESSURE] = { ALERT_MID_FD_PRESSURE, LOG_ERR },
};

/* policy_*_name() return NULL for a value out of range. */
static const char *name_or_unknown(const char *name) {
        return name ? name : "unknown";
}

/* The CLOSEWAITD_* fields (and OBJECT_PID) after the MESSAGE. */
static int add_event_fields(struct alert_entry *e, const struct subject_text *t) {
        const struct policy_event *ev = t->ev;
        enum policy_kind kind = t->s->kind;
        const struct report_proc *p = ev->proc;
        int r;

        /* journald honours OBJECT_PID only for a live process, and the pid of one that exited may
         * be someone else's by now. Without it (a resolve after the fix or the exit), the unit of
         * the snapshot is given directly: from uid 0, OBJECT_SYSTEMD_UNIT is what puts the entry
         * into "journalctl -u <unit>" beside the alert it resolves. */
        if (t->live)
                r = entry_addf(e, "OBJECT_PID", "%d", (int) t->live->pid);
        else
                r = t->unit ? entry_add(e, "OBJECT_SYSTEMD_UNIT", t->unit) : 0;
        if (r >= 0)
                r = entry_add(e, "CLOSEWAITD_EVENT", event_type_name(ev->type));
        if (r >= 0)
                r = entry_add(e, "CLOSEWAITD_KIND", name_or_unknown(policy_kind_name(kind)));
        if (r >= 0)
                r = entry_add(e, "CLOSEWAITD_REASON", name_or_unknown(policy_reason_name(ev->reason)));
        if (r >= 0 && t->pid > 0)
                r = entry_addf(e, "CLOSEWAITD_PID", "%d", (int) t->pid);
        if (r >= 0 && t->comm)
                r = entry_add(e, "CLOSEWAITD_COMM", t->comm);
        if (r >= 0 && t->exe)
                r = entry_add(e, "CLOSEWAITD_EXE", t->exe);
        if (r >= 0 && t->unit)
                r = entry_add(e, "CLOSEWAITD_UNIT", t->unit);
        if (r >= 0 && t->netns)
                r = entry_addf(e, "CLOSEWAITD_NETNS", "%llu", (unsigned long long) t->netns);
        if (r >= 0 && t->container)
                r = entry_add(e, "CLOSEWAITD_CONTAINER", t->container);
        if (r >= 0 && t->pod)
                r = entry_add(e, "CLOSEWAITD_POD", t->pod);
        if (r >= 0)
                r = entry_addf(e, "CLOSEWAITD_COUNT", "%u", ev->count);
        if (r >= 0) {
                if (ev->reason == POLICY_REASON_RATIO)
                        r = entry_addf(e, "CLOSEWAITD_THRESHOLD", "%.2f", ev->threshold);
                else if (ev->reason == POLICY_REASON_AGE)
                        r = entry_addf(e, "CLOSEWAITD_THRESHOLD", "%.1f", ev->threshold);
                else
                        r = entry_addf(e, "CLOSEWAITD_THRESHOLD", "%.0f", ev->threshold);
        }
        if (r >= 0)
                r = entry_addf(e, "CLOSEWAITD_OLDEST_AGE_S", "%.1f", usec_to_sec(ev->oldest_age_usec));
        if (r >= 0 && (kind == POLICY_CLOSE_WAIT || kind == POLICY_FD_PRESSURE) && ev->fds > 0) {
                r = entry_addf(e, "CLOSEWAITD_FDS", "%u", ev->fds);
                if (r >= 0 && ev->fd_limit >= 0)
                        r = entry_addf(e, "CLOSEWAITD_FD_LIMIT", "%lld", (long long) ev->fd_limit);
                if (r >= 0 && kind == POLICY_FD_PRESSURE && ev->fd_limit > 0)
                        r = entry_addf(e, "CLOSEWAITD_FD_RATIO", "%.2f", (double) ev->fds / (double) ev->fd_limit);
        }
        if (r >= 0 && (kind == POLICY_ACCEPT_BACKLOG || (kind == POLICY_TIME_WAIT && t->s->server)))
                r = entry_add(e, "CLOSEWAITD_LOCAL", t->addr);
        if (r >= 0 && kind == POLICY_TIME_WAIT && !t->s->server)
                r = entry_add(e, "CLOSEWAITD_REMOTE", t->addr);
        if (r >= 0 && p && (kind == POLICY_CLOSE_WAIT || kind == POLICY_FD_PRESSURE)) {
                r = entry_addf(e, "CLOSEWAITD_HELD", "%u", p->close_wait);
                if (r >= 0)
                        r = entry_addf(e, "CLOSEWAITD_UNREAD", "%u", p->unread);
                if (r >= 0 && p->n_peers > 0) {
                        struct sbuf b = {};
                        char *peers;

                        for (size_t i = 0; i < p->n_peers && i < ALERT_TOP_PEERS; i++) {
                                char a[DIAG_ADDR_STRLEN];

                                struct diag_addr remote = diag_addr_unmap(&p->peers[i].remote);

                                diag_addr_format(&remote, a, sizeof(a));
                                sbuf_printf(&b, "%s%s=%u", i > 0 ? " " : "", a, p->peers[i].count);
                        }
                        peers = sbuf_take(&b);
                        r = peers ? entry_add(e, "CLOSEWAITD_TOP_PEERS", peers) : -ENOMEM;
                        free(peers);
                }
        }
        if (r >= 0 && t->n_pids > 0) {
                struct sbuf b = {};
                char *pids;

                for (size_t i = 0; i < t->n_pids; i++)
                        sbuf_printf(&b, "%s%d", i > 0 ? " " : "", (int) t->pids[i]);
                pids = sbuf_take(&b);
                r = pids ? entry_add(e, "CLOSEWAITD_PIDS", pids) : -ENOMEM;
                free(pids);
        }
        if (r >= 0 && ev->type != POLICY_RAISE)
                r = entry_addf(e, "CLOSEWAITD_DURATION_S", "%.1f", usec_to_sec(ev->duration_usec));
        return r;
}

int alert_format_event(const struct policy_event *ev, struct alert_entry *e) {
        struct subject_text t;
        struct sbuf b = {};
        const char *mid;
        char *message;
        int priority, r;

        *e = (struct alert_entry){};
        if (!ev || !ev->subject || (int) ev->subject->kind < 0 || ev->subject->kind >= _POLICY_KIND_MAX)
                return -EINVAL;

        r = subject_text_init(&t, ev);
        if (r < 0)
                goto finish;

        switch (ev->subject->kind) {
        case POLICY_CLOSE_WAIT:
                format_close_wait(&b, &t);
                break;
        case POLICY_ACCEPT_BACKLOG:
                format_accept_backlog(&b, &t);
                break;
        case POLICY_TIME_WAIT:
                format_time_wait(&b, &t);
                break;
        case POLICY_FD_PRESSURE:
                format_fd_pressure(&b, &t);
                break;
        default:
                break;
        }
        message = sbuf_take(&b);

        if (ev->type == POLICY_RESOLVE) {
                mid = ALERT_MID_RESOLVED;
                priority = LOG_NOTICE;
        } else {
                mid = kind_table[ev->subject->kind].message_id;
                priority = kind_table[ev->subject->kind].priority;
        }
        r = entry_start(e, priority, mid, message);
        free(message);
        if (r >= 0)
                r = add_event_fields(e, &t);

finish:
        subject_text_done(&t);
        if (r < 0)
                alert_entry_done(e);
        return r;
}

int alert_format_suppressed(size_t suppressed, size_t max_events, struct alert_entry *e) {
        struct sbuf b = {};
        char *message;
        int r;

        /* No MESSAGE_ID: nothing is lost (held-back events come out at the next scans), so this
         * is neither an alert nor "monitoring degraded". */
        sbuf_printf(&b, "%zu more alert%s held back this scan (at most %zu per scan); %s at the next scans", suppressed,
                    suppressed == 1 ? "" : "s", max_events, suppressed == 1 ? "it follows" : "they follow");
        message = sbuf_take(&b);
        r = entry_start(e, LOG_WARNING, NULL, message);
        free(message);
        if (r >= 0)
                r = entry_add(e, "CLOSEWAITD_EVENT", "suppressed");
        if (r >= 0)
                r = entry_addf(e, "CLOSEWAITD_SUPPRESSED", "%zu", suppressed);
        if (r >= 0)
                r = entry_addf(e, "CLOSEWAITD_MAX_EVENTS", "%zu", max_events);
        if (r < 0)
                alert_entry_done(e);
        return r;
}

int alert_format_message(int priority, const char *message_id, const char *message, struct alert_entry *e) {
        int r;

        r = entry_start(e, priority, message_id, message ? message : "");
        if (r < 0)
                alert_entry_done(e);
        return r;
}

static int journal_write(void *userdata, const struct alert_entry *e) {
        struct iovec iov[ALERT_MAX_FIELDS];
        size_t n = e->n < ALERT_MAX_FIELDS ? e->n : ALERT_MAX_FIELDS;
        int r;

        /* sd_journal_sendv() returns 0 when the socket does not exist (libsystemd's journal-send.c:
         * "fail silently if the journal is not available"): the entry would vanish without a
         * fallback. Ask first; one access() per entry is nothing next to an alert's rarity. */
        if (!alert_journal_available())
                return -errno;
        for (size_t i = 0; i < n; i++)
                iov[i] = (struct iovec){ .iov_base = e->fields[i], .iov_len = strlen(e->fields[i]) };
        /* -ECONNREFUSED while journald is stopped (the socket file stays behind). */
        r = sd_journal_sendv(iov, (int) n);
        return r < 0 ? r : 0;
}

bool alert_journal_available(void) {
        return access(ALERT_JOURNAL_SOCKET, F_OK) == 0;
}

struct alert_sink alert_sink_journal(void) {
        return (struct alert_sink){ .write = journal_write };
}

static int stream_write(FILE *f, bool prefix_priority, const struct alert_entry *e) {
        const char *m = alert_entry_get(e, "MESSAGE");
        int r;

        if (!m)
                m = "";
        if (prefix_priority)
                r = fprintf(f, "<%d>%s\n", e->priority, m);
        else
                r = fprintf(f, "closewaitd: %s\n", m);
        /* Flush per line: a daemon's stderr is a pipe to journald or a terminal, and a line held
         * in a buffer is a line lost when the daemon dies. */
        if (r < 0 || fflush(f) != 0) {
                clearerr(f); /* let a later line try again (a full pipe may drain) */
                return -EIO;
        }
        return 0;
}

static int stream_write_prefixed(void *userdata, const struct alert_entry *e) {
        return stream_write(userdata, true, e);
}

static int stream_write_plain(void *userdata, const struct alert_entry *e) {
        return stream_write(userdata, false, e);
}

struct alert_sink alert_sink_stream(FILE *f, bool prefix_priority) {
        return (struct alert_sink){
                .write = prefix_priority ? stream_write_prefixed : stream_write_plain,
                .userdata = f,
        };
}

struct alert {
        struct alert_sink primary;
        struct alert_sink fallback;
        int min_priority;
        bool on_fallback;             /* the primary failed: the switch was announced */
        unsigned long since_switch;   /* entries the fallback took since the switch */
        unsigned long lost_at_switch; /* lost when the switch happened */
        unsigned long lost;
};

int alert_new(struct alert_sink primary, struct alert_sink fallback, int min_priority, struct alert **ret) {
        struct alert *a;

        a = calloc(1, sizeof(*a));
        if (!a)
                return -ENOMEM;
        /* Without a primary the fallback is the only sink: no switch to announce. */
        if (!primary.write) {
                primary = fallback;
                fallback = (struct alert_sink){};
        }
        a->primary = primary;
        a->fallback = fallback;
        a->min_priority = clamp_priority(min_priority);
        *ret = a;
        return 0;
}

struct alert *alert_free(struct alert *a) {
        free(a);
        return NULL;
}

static int sink_write(const struct alert_sink *s, const struct alert_entry *e) {
        int r;

        if (!s->write)
                return -ENOTCONN;
        r = s->write(s->userdata, e);
        return r < 0 ? r : 0;
}

/* Through the fallback, once per outage. Not subject to min_priority: it explains a gap in the
 * journal. */
static void announce_switch(struct alert *a, int error) {
        struct alert_entry e;
        struct sbuf b = {};
        char *message;

        sbuf_printf(&b, "journal unreachable (%s), logging to stderr", strerror(-error));
        message = sbuf_take(&b);
        if (alert_format_message(LOG_WARNING, ALERT_MID_DEGRADED, message, &e) >= 0) {
                (void) sink_write(&a->fallback, &e);
                alert_entry_done(&e);
        }
        free(message);
}

/* Through the primary: the line is the probe, so that it precedes the entry that follows it.
 * Returns what the primary said. */
static int announce_recovery(struct alert *a) {
        struct alert_entry e;
        struct sbuf b = {};
        char *message;
        int r;

        sbuf_printf(&b, "journal reachable again");
        if (a->fallback.write)
                sbuf_printf(&b, "; %lu entries were written to stderr meanwhile", a->since_switch);
        if (a->lost > a->lost_at_switch)
                sbuf_printf(&b, "; %lu could not be written anywhere", a->lost - a->lost_at_switch);
        message = sbuf_take(&b);
        r = alert_format_message(LOG_NOTICE, NULL, message, &e);
        free(message);
        if (r < 0)
                return r;
        r = sink_write(&a->primary, &e);
        alert_entry_done(&e);
        return r;
}

int alert_emit(struct alert *a, const struct alert_entry *e) {
        int r = -ENOTCONN;

        if (!a || !e)
                return -EINVAL;
        if (e->priority > a->min_priority)
                return 0;

        if (a->on_fallback) {
                r = announce_recovery(a);
                if (r >= 0)
                        a->on_fallback = false;
        }
        if (!a->on_fallback) {
                r = sink_write(&a->primary, e);
                if (r >= 0)
                        return 0;
                a->on_fallback = true;
                a->since_switch = 0;
                a->lost_at_switch = a->lost;
                announce_switch(a, r);
        }

        if (a->fallback.write) {
                r = sink_write(&a->fallback, e);
                if (r >= 0) {
                        a->since_switch++;
                        return 0;
                }
        }
        a->lost++;
        return r; /* the fallback's error, or the primary's when there is no fallback */
}

void alert_log(struct alert *a, int priority, const char *message_id, const char *fmt, ...) {
        struct alert_entry e;
        char buf[1024], *big = NULL;
        const char *message = buf;
        va_list ap;
        int n;

        if (!a || clamp_priority(priority) > a->min_priority)
                return;

        va_start(ap, fmt);
        n = vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        if ((size_t) n >= sizeof(buf)) {
                /* Long messages (a list of configuration errors) are kept whole when memory allows,
                 * else the truncated text is better than nothing. */
                big = malloc((size_t) n + 1);
                if (big) {
                        va_start(ap, fmt);
                        vsnprintf(big, (size_t) n + 1, fmt, ap);
                        va_end(ap);
                        message = big;
                }
        }

        if (alert_format_message(priority, message_id, message, &e) >= 0) {
                (void) alert_emit(a, &e);
                alert_entry_done(&e);
        } else
                a->lost++;
        free(big);
}

unsigned long alert_lost(const struct alert *a) {
        return a ? a->lost : 0;
}
