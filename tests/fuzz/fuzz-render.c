/* fuzz-render: the writers of what leaves closewaitd (the JSON report, the table, journal
 * entries) on any process strings: comm, exe and unit with control bytes, ANSI escapes, invalid
 * UTF-8, bidirectional overrides, "%n".
 *
 * The input is read as a report built by hand (processes with their peers and ages, accept
 * backlogs, TIME_WAIT groups, totals, scan figures), a policy event with its subject, a daemon
 * message, and a tail of raw bytes. Properties (issue 5, point 3):
 *  - render_json() writes one valid JSON text (json-check.c, strict) ending in a newline, with no
 *    raw control byte; with the strings escaped as procmap escapes them, nothing unsafe at all;
 *    with raw strings (a caller that forgot to escape) still valid JSON without control bytes;
 *  - render_table() writes lines of safe text: no control byte but the newlines;
 *  - alert_format_event(), alert_format_message() and alert_format_suppressed() make entries of
 *    KEY=value fields, each key once, every value safe (MESSAGE included), whatever the strings;
 *  - str_escape() makes safe text that unescapes to its input; json_put_string() makes a JSON
 *    string that decodes to its input with invalid UTF-8 replaced by U+FFFD. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>

#include "alert.h"
#include "fuzz.h"
#include "json-check.h"
#include "policy.h"
#include "render.h"
#include "report.h"
#include "strutil.h"

#define MAX_PROCS    4
#define MAX_PEERS    8
#define MAX_AGES     64
#define MAX_BACKLOGS 3
#define MAX_TW       12 /* more than the table shows (10) */

/* Raw strings as the input gives them, and as procmap would store them. */
struct proc_strings {
        char *comm, *exe, *unit;
};

struct world {
        struct proc_strings raw[MAX_PROCS], esc[MAX_PROCS];
        struct proc_info info[MAX_PROCS];
        struct report_proc procs[MAX_PROCS];
        struct report_peer peers[MAX_PROCS][MAX_PEERS];
        usec_t ages[MAX_PROCS][MAX_AGES];
        pid_t pids[MAX_PROCS];
        struct report_backlog backlogs[MAX_BACKLOGS];
        usec_t backlog_ages[MAX_BACKLOGS][MAX_AGES];
        struct report_tw tw[MAX_TW];
        struct report report;
        struct procmap_stats stats;
        struct render_scan scan;
        struct policy_subject subject;
        struct policy_event event;
};

static struct diag_addr read_addr(struct fuzz_input *in) {
        struct diag_addr a = {};
        uint8_t f = fuzz_u8(in);

        /* Mostly real families; sometimes a byte no socket has, which formats as "?". */
        a.family = f < 0x70 ? AF_INET : f < 0xe0 ? AF_INET6 : f;
        a.port = fuzz_u8(in);
        a.port |= (uint16_t) (fuzz_u8(in) << 8);
        if (a.family == AF_INET)
                for (size_t i = 0; i < sizeof(a.v4); i++)
                        ((uint8_t *) &a.v4)[i] = fuzz_u8(in);
        else if (a.family == AF_INET6)
                for (size_t i = 0; i < sizeof(a.v6); i++)
                        a.v6.s6_addr[i] = fuzz_u8(in);
        return a;
}

/* n ages, oldest first, from an oldest age (shifted right: small ones are the usual) and a step.
 * One read per statement here and below: the order C evaluates operands in is unspecified, and
 * gcc and clang must decode an input alike. */
static void read_ages(struct fuzz_input *in, usec_t *ages, size_t n) {
        usec_t age = fuzz_u64(in), step;

        age >>= fuzz_u8(in) % 64;
        step = fuzz_u32(in);

        for (size_t i = 0; i < n; i++) {
                ages[i] = age;
                age = age > step ? age - step : 0;
        }
}

/* A string of the input, or NULL when the flag bit says so. */
static char *read_opt_str(struct fuzz_input *in, bool present) {
        char *s = fuzz_str(in);

        if (!present) {
                free(s);
                return NULL;
        }
        return s;
}

static char *escape(const char *s) {
        return s ? str_escape(s, strlen(s)) : NULL;
}

/* The world the input describes. Returns false on -ENOMEM. */
static bool read_world(struct fuzz_input *in, struct world *w) {
        uint8_t flags = fuzz_u8(in);
        struct report *r = &w->report;

        r->n_procs = fuzz_u8(in) % (MAX_PROCS + 1);
        for (size_t i = 0; i < r->n_procs; i++) {
                struct proc_info *info = &w->info[i];
                struct report_proc *p = &w->procs[i];
                uint8_t pf = fuzz_u8(in);

                info->pid = (pid_t) fuzz_u32(in);
                w->pids[i] = info->pid;
                info->start_time = fuzz_u64(in);
                /* Real uids mostly (the table looks the name up), any number sometimes. */
                info->uid = pf & 1 ? fuzz_u32(in) : fuzz_u8(in) % 4;
                info->open_fds = fuzz_u32(in);
                info->fd_limit = (int64_t) fuzz_u64(in);
                w->raw[i].comm = fuzz_str(in);
                w->raw[i].exe = read_opt_str(in, pf & 2);
                w->raw[i].unit = read_opt_str(in, pf & 4);
                if (!w->raw[i].comm)
                        return false;
                /* What procmap stores: comm as proc_comm_from_file() leaves it, exe and unit
                 * through str_escape(). */
                w->esc[i].comm = proc_comm_from_file(w->raw[i].comm, strlen(w->raw[i].comm));
                w->esc[i].exe = escape(w->raw[i].exe);
                w->esc[i].unit = escape(w->raw[i].unit);
                if (!w->esc[i].comm || (w->raw[i].exe && !w->esc[i].exe) || (w->raw[i].unit && !w->esc[i].unit))
                        return false;

                p->info = info;
                p->close_wait = fuzz_u8(in) % (MAX_AGES + 1);
                p->unread = fuzz_u8(in);
                read_ages(in, w->ages[i], p->close_wait);
                p->ages = w->ages[i];
                p->oldest_age_usec = p->close_wait > 0 ? w->ages[i][0] : 0;
                p->n_peers = fuzz_u8(in) % (MAX_PEERS + 1);
                for (size_t k = 0; k < p->n_peers; k++) {
                        w->peers[i][k].remote = read_addr(in);
                        w->peers[i][k].count = fuzz_u8(in) % 4 == 0 ? fuzz_u32(in) : 1;
                }
                p->peers = w->peers[i];
                r->total_close_wait += p->close_wait;
        }

        r->n_backlogs = fuzz_u8(in) % (MAX_BACKLOGS + 1);
        for (size_t i = 0; i < r->n_backlogs; i++) {
                struct report_backlog *b = &w->backlogs[i];
                uint8_t owner = fuzz_u8(in);

                b->local = read_addr(in);
                b->info = owner < r->n_procs ? &w->info[owner] : NULL;
                b->pids = w->pids;
                b->n_pids = b->info ? fuzz_u8(in) % (r->n_procs + 1) : 0;
                b->close_wait = fuzz_u8(in) % (MAX_AGES + 1);
                read_ages(in, w->backlog_ages[i], b->close_wait);
                b->ages = w->backlog_ages[i];
                b->oldest_age_usec = b->close_wait > 0 ? w->backlog_ages[i][0] : 0;
                r->total_accept_backlog += b->close_wait;
        }
        r->backlogs = w->backlogs;

        r->n_tw = fuzz_u8(in) % (MAX_TW + 1);
        for (size_t i = 0; i < r->n_tw; i++) {
                struct report_tw *t = &w->tw[i];
                uint8_t owner = fuzz_u8(in);

                t->server = owner & 0x80;
                t->addr = read_addr(in);
                t->info = t->server && (owner & 0x7f) < r->n_procs ? &w->info[owner & 0x7f] : NULL;
                t->pids = w->pids;
                t->n_pids = t->info ? fuzz_u8(in) % (r->n_procs + 1) : 0;
                t->count = fuzz_u32(in);
                t->oldest_age_usec = fuzz_u64(in) % (61 * USEC_PER_SEC);
                r->total_time_wait += t->count;
        }
        r->tw = w->tw;
        r->procs = w->procs;
        r->unowned_close_wait = fuzz_u32(in);

        w->scan.wall.tv_sec = (time_t) fuzz_u64(in);
        w->scan.duration_usec = fuzz_u64(in);
        w->scan.cpu_usec = fuzz_u64(in);
        w->stats.proc_entries = fuzz_u32(in);
        w->stats.vanished = fuzz_u32(in);
        w->scan.proc = flags & 1 ? &w->stats : NULL;
        w->scan.diag_duplicates = fuzz_u32(in);
        w->scan.diag_malformed = fuzz_u32(in);

        /* The event: its subject's strings are a snapshot of escaped strings in the daemon, but
         * alert.c escapes again what is unsafe, so they are given raw here. */
        {
                struct policy_subject *s = &w->subject;
                struct policy_event *ev = &w->event;
                uint8_t ef = fuzz_u8(in), which = fuzz_u8(in);
                uint64_t bits;

                s->kind = (ef & 7) % (_POLICY_KIND_MAX + 1); /* one past: -EINVAL */
                s->pid = (pid_t) fuzz_u32(in);
                s->start_time = fuzz_u64(in);
                s->server = ef & 0x80;
                s->addr = read_addr(in);
                s->comm = read_opt_str(in, ef & 0x08);
                s->exe = read_opt_str(in, ef & 0x10);
                s->unit = read_opt_str(in, ef & 0x20);
                ev->subject = s;
                ev->type = fuzz_u8(in) % 4; /* one past the last */
                ev->reason = fuzz_u8(in) % 4;
                ev->count = fuzz_u32(in);
                bits = fuzz_u64(in);
                memcpy(&ev->threshold, &bits, sizeof(bits)); /* NaN and infinities too */
                ev->oldest_age_usec = fuzz_u64(in);
                ev->fds = fuzz_u32(in);
                ev->fd_limit = (int64_t) fuzz_u64(in);
                ev->duration_usec = fuzz_u64(in);
                ev->proc = (which & 3) < r->n_procs ? &w->procs[which & 3] : NULL;
                ev->backlog = ((which >> 2) & 3) < r->n_backlogs ? &w->backlogs[(which >> 2) & 3] : NULL;
                ev->tw = (which >> 4) < r->n_tw ? &w->tw[which >> 4] : NULL;
        }
        return true;
}

/* Point the proc_infos at the raw or the escaped strings. */
static void use_strings(struct world *w, bool escaped) {
        for (size_t i = 0; i < w->report.n_procs; i++) {
                const struct proc_strings *s = escaped ? &w->esc[i] : &w->raw[i];

                w->info[i].comm = s->comm;
                w->info[i].exe = s->exe;
                w->info[i].unit = s->unit;
        }
}

static void world_done(struct world *w) {
        for (size_t i = 0; i < MAX_PROCS; i++) {
                free(w->raw[i].comm);
                free(w->raw[i].exe);
                free(w->raw[i].unit);
                free(w->esc[i].comm);
                free(w->esc[i].exe);
                free(w->esc[i].unit);
        }
        free(w->subject.comm);
        free(w->subject.exe);
        free(w->subject.unit);
}

/* No byte below 0x20 but '\n', no DEL. */
static bool no_control_bytes(const char *s, size_t len) {
        for (size_t i = 0; i < len; i++)
                if (((unsigned char) s[i] < 0x20 && s[i] != '\n') || s[i] == 0x7f)
                        return false;
        return true;
}

/* Each line of s[0..len) is safe text. */
static bool lines_are_safe(const char *s, size_t len) {
        size_t start = 0;

        for (size_t i = 0; i <= len; i++)
                if (i == len || s[i] == '\n') {
                        if (!text_is_safe(s + start, i - start))
                                return false;
                        start = i + 1;
                }
        return true;
}

typedef int (*render_fn)(FILE *f, const struct report *r, const struct render_scan *scan);

/* What fn writes, in a new buffer (caller frees), or NULL on -ENOMEM. */
static char *render_to_buffer(render_fn fn, const struct world *w, size_t *ret_len) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f;
        int r;

        f = open_memstream(&buf, &len);
        if (!f)
                return NULL;
        r = fn(f, &w->report, &w->scan);
        FUZZ_CHECK(r == 0);
        if (fclose(f) != 0) {
                free(buf);
                return NULL;
        }
        *ret_len = len;
        return buf;
}

static void check_json_report(const struct world *w, bool escaped) {
        size_t len;
        char *out = render_to_buffer(render_json, w, &len);

        if (!out)
                return;
        FUZZ_CHECK(len > 0 && out[len - 1] == '\n' && strlen(out) == len);
        FUZZ_CHECK(no_control_bytes(out, len - 1) && memchr(out, '\n', len - 1) == NULL);
        FUZZ_CHECK(json_check(out, len));
        if (escaped)
                FUZZ_CHECK(text_is_safe(out, len - 1));
        free(out);
}

static void check_table(const struct world *w) {
        size_t len;
        char *out = render_to_buffer(render_table, w, &len);

        if (!out)
                return;
        FUZZ_CHECK(strlen(out) == len && no_control_bytes(out, len));
        FUZZ_CHECK(lines_are_safe(out, len));
        free(out);
}

static void check_entry(const struct alert_entry *e) {
        const char *v;
        char prio[16];

        FUZZ_CHECK(e->n >= 3 && e->n <= ALERT_MAX_FIELDS);
        FUZZ_CHECK(e->priority >= LOG_EMERG && e->priority <= LOG_DEBUG);
        for (size_t i = 0; i < e->n; i++) {
                const char *f = e->fields[i], *eq = strchr(f, '=');
                size_t klen;

                FUZZ_CHECK(eq && eq > f && f[0] >= 'A' && f[0] <= 'Z');
                klen = (size_t) (eq - f);
                for (const char *k = f; k < eq; k++)
                        FUZZ_CHECK((*k >= 'A' && *k <= 'Z') || (*k >= '0' && *k <= '9') || *k == '_');
                FUZZ_CHECK(text_is_safe(eq + 1, strlen(eq + 1)));
                for (size_t j = 0; j < i; j++)
                        FUZZ_CHECK(strncmp(e->fields[j], f, klen + 1) != 0);
        }
        v = alert_entry_get(e, "MESSAGE");
        FUZZ_CHECK(v != NULL);
        v = alert_entry_get(e, "SYSLOG_IDENTIFIER");
        FUZZ_CHECK(v && strcmp(v, "closewaitd") == 0);
        snprintf(prio, sizeof(prio), "%d", e->priority);
        v = alert_entry_get(e, "PRIORITY");
        FUZZ_CHECK(v && strcmp(v, prio) == 0);
}

static void check_event(const struct world *w) {
        struct alert_entry e;
        int r;

        r = alert_format_event(&w->event, &e);
        if (w->subject.kind >= _POLICY_KIND_MAX)
                FUZZ_CHECK(r == -EINVAL && e.n == 0);
        else
                FUZZ_CHECK(r == 0 || r == -ENOMEM);
        if (r == 0)
                check_entry(&e);
        alert_entry_done(&e);
}

static void check_messages(struct fuzz_input *in) {
        struct alert_entry e;
        uint64_t suppressed, max_events;
        char *message;
        int r, priority;

        suppressed = fuzz_u64(in);
        max_events = fuzz_u64(in);
        r = alert_format_suppressed(suppressed, max_events, &e);
        FUZZ_CHECK(r == 0 || r == -ENOMEM);
        if (r == 0)
                check_entry(&e);
        alert_entry_done(&e);

        priority = (int) (int8_t) fuzz_u8(in);
        message = fuzz_str(in);
        if (!message)
                return;
        r = alert_format_message(priority, priority & 1 ? ALERT_MID_DEGRADED : NULL, message, &e);
        FUZZ_CHECK(r == 0 || r == -ENOMEM);
        if (r == 0)
                check_entry(&e);
        alert_entry_done(&e);
        free(message);
}

/* str_escape() and json_put_string() on the bytes left. */
static void check_strings(const uint8_t *data, size_t size) {
        char *s, *esc, *raw, *out = NULL, *decoded, *want;
        size_t len, raw_len, out_len = 0, decoded_len, want_len;
        FILE *f;
        int r;

        esc = str_escape((const char *) data, size);
        if (esc) {
                FUZZ_CHECK(text_is_safe(esc, strlen(esc)));
                r = text_unescape(esc, &raw, &raw_len);
                FUZZ_CHECK(r == 0 || r == -ENOMEM);
                if (r == 0) {
                        FUZZ_CHECK(raw_len == size && memcmp(raw, data, size) == 0);
                        free(raw);
                }
                free(esc);
        }

        /* json_put_string() takes a C string: the bytes up to the first NUL. */
        len = strnlen((const char *) data, size);
        s = malloc(len + 1);
        if (!s)
                return;
        memcpy(s, data, len);
        s[len] = '\0';
        f = open_memstream(&out, &out_len);
        if (f) {
                json_put_string(f, s);
                if (fclose(f) == 0) {
                        FUZZ_CHECK(no_control_bytes(out, out_len) && !memchr(out, '\n', out_len));
                        r = json_string_decode(out, out_len, &decoded, &decoded_len);
                        FUZZ_CHECK(r == 0 || r == -ENOMEM);
                        want = utf8_replace_invalid(s, len, &want_len);
                        if (r == 0 && want)
                                FUZZ_CHECK(decoded_len == want_len && memcmp(decoded, want, want_len) == 0);
                        if (r == 0)
                                free(decoded);
                        free(want);
                }
                free(out);
        }
        free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct fuzz_input in = { data, size };
        struct world *w = calloc(1, sizeof(*w));

        if (!w)
                return 0;
        if (read_world(&in, w)) {
                use_strings(w, false);
                check_json_report(w, false);
                check_event(w);
                use_strings(w, true);
                check_json_report(w, true);
                check_table(w);
                check_event(w);
                check_messages(&in);
        }
        check_strings(in.p, in.n);
        world_done(w);
        free(w);
        return 0;
}
