/* conf: closewaitd.conf (libconfig syntax) read, checked against a table of keys and ranges, and
 * turned into a plain struct conf.
 *
 * Loading happens in four steps, each adding "PATH:LINE: message" problems to one list that is
 * put in file order at the end: (1) the file is read here, not by libconfig, so that a missing,
 * unreadable or oversized file is told apart exactly (errno from our own open()/read()); (2) a
 * small pre-scan of the text, mirroring libconfig 1.5's scanner, finds what libconfig itself would
 * get wrong silently (an @include that it would open relative to the working directory, integer
 * literals beyond 32 bits that 1.5 truncates); (3) libconfig parses, stopping at the first syntax
 * error; (4) the tree is walked against the key tables, reporting every unknown key, wrong type
 * and out-of-range value, not only the first. Nothing is logged and nothing global is touched;
 * *ret is written only when the list stays empty.
 *
 * Choices where INTERFACE.md is silent:
 *  - Durations and ratios accept integer literals too ("interval = 5;"); counts accept only
 *    integers (50.0 is refused rather than guessed at).
 *  - alert.clear_ratio is 0 <= x < 1: an alert raised at its threshold must fall below the
 *    threshold to clear; at 1 a value sitting exactly at the threshold would both raise and clear.
 *  - @include is refused: libconfig 1.5 would resolve it against the daemon's working directory,
 *    and one file is what --check-config and a reload check.
 *  - A rule with ignore = true may still carry threshold overrides; they are checked like any
 *    other and have no effect.
 *  - Only regular files are read (not /dev/null, not a FIFO), of at most 1 MiB and 65535 lines.
 *  - metrics_file must be an absolute path (the daemon opens its directory once, at start, and
 *    its working directory is nobody's business), end in ".prom" (node_exporter's textfile
 *    collector reads nothing else) after a name, with a file name short enough for the keeper
 *    (SANDBOX_KEEPER_NAME_MAX) and no control characters; "" means no metrics, as leaving it out
 *    does. A NUL cannot get in: libconfig 1.5 drops a "\x00" escape from a string.
 *
 * Known weakness: libconfig 1.5 does not check its own allocations, so -ENOMEM is returned for
 * every allocation made here, but an allocation failure inside config_read_string() crashes. */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libconfig.h>

#include "conf.h"
#include "sandbox.h"
#include "util.h"

#define COUNT_MAX    10000000
#define HOLD_MAX     86400.0    /* a day */
#define YEAR         31536000.0 /* age and repeat: 365 days */
#define FILE_MAX     (1024 * 1024)
#define LINE_MAX_LC  65535 /* libconfig 1.5 keeps line numbers in an unsigned short */
#define NAME_CHARS   "-ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_*"
#define DIGITS       "0123456789"
#define HEX_DIGITS   "0123456789abcdefABCDEF"
#define BLANKS       " \t"
#define INCLUDE_WORD "@include"

/* How a key's value is stored: unsigned count, usec_t from seconds, or a plain double. */
enum kind {
        KIND_COUNT,
        KIND_SECONDS,
        KIND_RATIO,
};

/* One numeric key. Values must lie in [min, max] (or [min, max) with below_max). min_note says
 * what the minimum means when it is special ("off", "never"). */
struct key {
        const char *name;
        enum kind kind;
        double min, max;
        bool below_max;
        const char *min_note;
        const char *unit;
        size_t offset; /* in struct conf_thresholds for per-rule sections, else in struct conf */
};

/* sec names a member inside offsetof(), where parentheses are not allowed. */
/* NOLINTBEGIN(bugprone-macro-parentheses) */
#define COUNT_KEY(sec)                                                                                                 \
        { "count", KIND_COUNT, 1, COUNT_MAX, false, "", "", offsetof(struct conf_thresholds, sec.count) }
#define HOLD_KEY(sec)                                                                                                  \
        { "hold", KIND_SECONDS, 0, HOLD_MAX, false, "", " seconds", offsetof(struct conf_thresholds, sec.hold_usec) }
/* NOLINTEND(bugprone-macro-parentheses) */

static const struct key close_wait_keys[] = {
        COUNT_KEY(close_wait),
        { "age", KIND_SECONDS, 0, YEAR, false, " (off)", " seconds",
          offsetof(struct conf_thresholds, close_wait.age_usec) },
        HOLD_KEY(close_wait),
};
static const struct key accept_backlog_keys[] = { COUNT_KEY(accept_backlog), HOLD_KEY(accept_backlog) };
static const struct key time_wait_keys[] = { COUNT_KEY(time_wait), HOLD_KEY(time_wait) };
static const struct key fd_pressure_keys[] = {
        { "ratio", KIND_RATIO, 0, 1, false, " (off)", "", offsetof(struct conf_thresholds, fd_pressure.ratio) },
        HOLD_KEY(fd_pressure),
};
static const struct key alert_keys[] = {
        { "clear_ratio", KIND_RATIO, 0, 1, true, "", "", offsetof(struct conf, clear_ratio) },
        { "repeat", KIND_SECONDS, 0, YEAR, false, " (never)", " seconds", offsetof(struct conf, repeat_usec) },
};
static const struct key interval_key = {
        "interval", KIND_SECONDS, 0.1, 3600, false, "", " seconds", offsetof(struct conf, interval_usec),
};

struct section {
        const char *name;
        const struct key *keys;
        size_t n_keys;
        const char *expected; /* the key names, for "unknown key" messages */
        bool per_rule;        /* offsets are into struct conf_thresholds, and rules may set it */
};

static const struct section sections[] = {
        { "close_wait", close_wait_keys, ELEMENTSOF(close_wait_keys), "count, age, hold", true },
        { "accept_backlog", accept_backlog_keys, ELEMENTSOF(accept_backlog_keys), "count, hold", true },
        { "time_wait", time_wait_keys, ELEMENTSOF(time_wait_keys), "count, hold", true },
        { "fd_pressure", fd_pressure_keys, ELEMENTSOF(fd_pressure_keys), "ratio, hold", true },
        { "alert", alert_keys, ELEMENTSOF(alert_keys), "clear_ratio, repeat", false },
};

#define TOP_EXPECTED  "interval, netns, metrics_file, close_wait, accept_backlog, time_wait, fd_pressure, alert, rules"
#define RULE_EXPECTED "comm, exe, unit, ignore, close_wait, accept_backlog, time_wait, fd_pressure"

static const struct {
        const char *name;
        size_t offset;
} globs[] = {
        { "comm", offsetof(struct conf_rule, comm) },
        { "exe", offsetof(struct conf_rule, exe) },
        { "unit", offsetof(struct conf_rule, unit) },
};

/* One problem, with its line (0: about the whole file) and discovery order, so that problems
 * found by different steps can be sorted into file order. */
struct problem {
        unsigned line;
        size_t seq;
        char *msg;
};

/* Where an integer literal beyond 32 bits was, and the int libconfig 1.5 makes of it. */
struct wide {
        unsigned line;
        int truncated;
};

struct parser {
        const char *path;
        struct problem *problems;
        size_t n_problems, cap_problems;
        struct wide *wide; /* integer literals beyond 32 bits, already reported */
        size_t n_wide, cap_wide;
        bool refuse; /* libconfig must not see the text (@include, too many lines) */
        bool oom;
};

void conf_defaults(struct conf *c) {
        *c = (struct conf){
                .interval_usec = 5 * USEC_PER_SEC,
                .t = {
                        .close_wait = { .count = 50, .age_usec = 300 * USEC_PER_SEC, .hold_usec = 15 * USEC_PER_SEC },
                        .accept_backlog = { .count = 10, .hold_usec = 15 * USEC_PER_SEC },
                        .time_wait = { .count = 10000, .hold_usec = 30 * USEC_PER_SEC },
                        .fd_pressure = { .ratio = 0.8, .hold_usec = 15 * USEC_PER_SEC },
                },
                .clear_ratio = 0.5,
                .repeat_usec = 3600 * USEC_PER_SEC,
                .netns = true,
        };
}

void conf_done(struct conf *c) {
        if (!c)
                return;
        for (size_t i = 0; i < c->n_rules; i++) {
                free(c->rules[i].comm);
                free(c->rules[i].exe);
                free(c->rules[i].unit);
        }
        free(c->rules);
        free(c->metrics_file);
        conf_defaults(c);
}

void conf_errors_done(struct conf_errors *errs) {
        if (!errs)
                return;
        for (size_t i = 0; i < errs->n; i++)
                free(errs->msgs[i]);
        free(errs->msgs);
        *errs = (struct conf_errors){};
}

__attribute__((format(printf, 1, 0))) static char *vformat(const char *fmt, va_list ap) {
        va_list aq;
        char *s;
        int n;

        va_copy(aq, ap);
        n = vsnprintf(NULL, 0, fmt, aq);
        va_end(aq);
        if (n < 0)
                return NULL;
        s = malloc((size_t) n + 1);
        if (!s)
                return NULL;
        vsnprintf(s, (size_t) n + 1, fmt, ap);
        return s;
}

__attribute__((format(printf, 1, 2))) static char *format(const char *fmt, ...) {
        va_list ap;
        char *s;

        va_start(ap, fmt);
        s = vformat(fmt, ap);
        va_end(ap);
        return s;
}

/* Record "PATH:LINE: message" (or "PATH: message" for line 0). Allocation failure is remembered
 * in p->oom and turns the whole load into -ENOMEM. */
__attribute__((format(printf, 3, 4))) static void problem(struct parser *p, unsigned line, const char *fmt, ...) {
        va_list ap;
        char *body, *msg;

        if (p->oom)
                return;
        va_start(ap, fmt);
        body = vformat(fmt, ap);
        va_end(ap);
        if (!body)
                goto oom;
        msg = line > 0 ? format("%s:%u: %s", p->path, line, body) : format("%s: %s", p->path, body);
        free(body);
        if (!msg)
                goto oom;
        if (array_reserve((void **) &p->problems, &p->cap_problems, p->n_problems + 1, sizeof(*p->problems)) < 0) {
                free(msg);
                goto oom;
        }
        p->problems[p->n_problems] = (struct problem){ .line = line, .seq = p->n_problems, .msg = msg };
        p->n_problems++;
        return;
oom:
        p->oom = true;
}

static void parser_done(struct parser *p) {
        for (size_t i = 0; i < p->n_problems; i++)
                free(p->problems[i].msg);
        free(p->problems);
        free(p->wide);
}

static int problem_cmp(const void *a, const void *b) {
        const struct problem *x = a, *y = b;

        if (x->line != y->line)
                return x->line < y->line ? -1 : 1;
        return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Sort the problems into file order and move them to the end of errs. */
static int problems_move(struct parser *p, struct conf_errors *errs) {
        char **msgs;

        qsort(p->problems, p->n_problems, sizeof(*p->problems), problem_cmp);
        msgs = realloc(errs->msgs, (errs->n + p->n_problems) * sizeof(*msgs));
        if (!msgs)
                return -ENOMEM;
        errs->msgs = msgs;
        for (size_t i = 0; i < p->n_problems; i++) {
                errs->msgs[errs->n++] = p->problems[i].msg;
                p->problems[i].msg = NULL;
        }
        p->n_problems = 0;
        return 0;
}

/* ---- step 2: the pre-scan ---------------------------------------------------------------------
 * It follows the rules of libconfig 1.5's scanner.l (flex, longest match) only as far as needed
 * to know whether a character is in a comment, a string, a name or a number. Getting that wrong
 * would report a literal inside a comment or string, or miss one; test_not_confused and the
 * table in tests/test-conf.c hold it to the cases that matter. */

/* Byte classes as flex's [0-9], [A-Fa-f] and [A-Za-z] see them, whatever the locale. */
static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

static bool is_xdigit(char c) {
        return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_alpha(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* s is just past the opening quote. Backslash escapes only "\\" and "\"" matter here: any other
 * backslash is one character in libconfig too. Returns the character after the closing quote. */
static const char *skip_string(const char *s, unsigned *line) {
        for (; *s; s++) {
                if (*s == '\\' && (s[1] == '\\' || s[1] == '"'))
                        s++;
                else if (*s == '"')
                        return s + 1;
                else if (*s == '\n')
                        (*line)++;
        }
        return s;
}

static const char *skip_block_comment(const char *s, unsigned *line) {
        for (s += 2; *s; s++) {
                if (s[0] == '*' && s[1] == '/')
                        return s + 2;
                if (*s == '\n')
                        (*line)++;
        }
        return s;
}

static void note_wide(struct parser *p, unsigned line, const char *start, const char *end, int truncated) {
        problem(p, line, "integer %.*s is out of range: no setting takes a number that large", (int) (end - start),
                start);
        if (array_reserve((void **) &p->wide, &p->cap_wide, p->n_wide + 1, sizeof(*p->wide)) < 0) {
                p->oom = true;
                return;
        }
        p->wide[p->n_wide++] = (struct wide){ .line = line, .truncated = truncated };
}

/* One number token, by the longest match among libconfig's hex, float, integer and integer64
 * patterns. libconfig 1.5 reads a decimal or hex literal without an L suffix with atoi() or
 * strtoul() into an int: 4294967346 silently becomes 50. No key takes a value beyond 32 bits, so
 * such a literal is always an error; it is reported here, and the walk stays quiet about the int
 * it finds on that line with the truncated value (glibc's atoi() is (int) strtol(), which
 * saturates at LONG_MAX before the cast keeps the low 32 bits). */
static const char *scan_number(struct parser *p, const char *s, unsigned line) {
        const char *start = s, *digits;
        unsigned long u;
        long v;

        if (*s == '-' || *s == '+')
                s++;
        if (s == start && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && is_xdigit(s[2])) {
                s += 2 + strspn(s + 2, HEX_DIGITS);
                if (*s == 'L')
                        return s + (s[1] == 'L' ? 2 : 1);
                errno = 0;
                u = strtoul(start, NULL, 16);
                if (errno == ERANGE || u > INT_MAX)
                        note_wide(p, line, start, s, (int) (uint32_t) u);
                return s;
        }
        digits = s;
        s += strspn(s, DIGITS);
        if (*s == '.' || ((*s == 'e' || *s == 'E') && s > digits &&
                          (is_digit(s[1]) || ((s[1] == '+' || s[1] == '-') && is_digit(s[2]))))) {
                if (*s == '.')
                        s = s + 1 + strspn(s + 1, DIGITS);
                if ((*s == 'e' || *s == 'E') && (is_digit(s[1]) || ((s[1] == '+' || s[1] == '-') && is_digit(s[2]))))
                        s = s + 2 + strspn(s + 2, DIGITS);
                return s;
        }
        if (s == digits)
                return s;
        if (*s == 'L')
                return s + (s[1] == 'L' ? 2 : 1);
        errno = 0;
        v = strtol(start, NULL, 10);
        if (errno == ERANGE || v < INT_MIN || v > INT_MAX)
                note_wide(p, line, start, s, (int) (uint32_t) v);
        return s;
}

/* libconfig's rule is "^[ \t]*@include[ \t]+\"", outside comments and strings. */
static bool is_include(const char *s) {
        s += strspn(s, BLANKS);
        if (strncmp(s, INCLUDE_WORD, strlen(INCLUDE_WORD)) != 0)
                return false;
        s += strlen(INCLUDE_WORD);
        if (*s != ' ' && *s != '\t')
                return false;
        s += strspn(s, BLANKS);
        return *s == '"';
}

static void prescan(struct parser *p, const char *s) {
        unsigned line = 1;
        bool bol = true;

        while (*s) {
                if (bol && is_include(s)) {
                        problem(p, line, "@include is not supported: keep the whole configuration in this one file");
                        p->refuse = true;
                }
                bol = false;
                if (*s == '\n') {
                        line++;
                        bol = true;
                        s++;
                } else if (*s == '"')
                        s = skip_string(s + 1, &line);
                else if (*s == '#' || (s[0] == '/' && s[1] == '/'))
                        s += strcspn(s, "\n");
                else if (s[0] == '/' && s[1] == '*')
                        s = skip_block_comment(s, &line);
                else if (is_alpha(*s) || *s == '*')
                        s += strspn(s, NAME_CHARS);
                else if (is_digit(*s) || *s == '.' || ((*s == '-' || *s == '+') && (is_digit(s[1]) || s[1] == '.')))
                        s = scan_number(p, s, line);
                else
                        s++;
        }
        if (line > LINE_MAX_LC) {
                problem(p, 0, "the configuration has more than %u lines, which libconfig cannot number", LINE_MAX_LC);
                p->refuse = true;
        }
}

/* ---- step 4: the walk over libconfig's tree -------------------------------------------------- */

static const char *type_name(const config_setting_t *s) {
        switch (config_setting_type(s)) {
        case CONFIG_TYPE_GROUP:
                return "a group";
        case CONFIG_TYPE_INT:
        case CONFIG_TYPE_INT64:
                return "an integer";
        case CONFIG_TYPE_FLOAT:
                return "a float";
        case CONFIG_TYPE_STRING:
                return "a string";
        case CONFIG_TYPE_BOOL:
                return "a boolean";
        case CONFIG_TYPE_ARRAY:
                return "an array";
        case CONFIG_TYPE_LIST:
                return "a list";
        default:
                return "nothing";
        }
}

/* %.15g gives back what was written for any literal of up to 15 digits; a float keeps its ".0"
 * so that "not a float (50.0)" shows what the user wrote. */
static void show_float(char *buf, size_t size, double v) {
        snprintf(buf, size, "%.15g", v);
        if (isfinite(v) && !strpbrk(buf, ".e"))
                strncat(buf, ".0", size - strlen(buf) - 1);
}

static unsigned line_of(const config_setting_t *s) {
        return config_setting_source_line(s);
}

static bool is_wide(const struct parser *p, const config_setting_t *s) {
        if (config_setting_type(s) != CONFIG_TYPE_INT)
                return false;
        for (size_t i = 0; i < p->n_wide; i++)
                if (p->wide[i].line == line_of(s) && p->wide[i].truncated == config_setting_get_int(s))
                        return true;
        return false;
}

/* Check one numeric setting against k and store it at base + k->offset. name is the full dotted
 * name for messages ("close_wait.count", "rules[2].close_wait.count"). */
static void parse_number(struct parser *p, const config_setting_t *s, const struct key *k, const char *name,
                         void *base) {
        char shown[64];
        long long i = 0;
        double v;
        bool ok;

        switch (config_setting_type(s)) {
        case CONFIG_TYPE_INT:
        case CONFIG_TYPE_INT64:
                /* Already reported by the pre-scan; the value libconfig kept is not what was written. */
                if (is_wide(p, s))
                        return;
                i = config_setting_get_int64(s);
                v = (double) i;
                snprintf(shown, sizeof(shown), "%lld", i);
                break;
        case CONFIG_TYPE_FLOAT:
                v = config_setting_get_float(s);
                show_float(shown, sizeof(shown), v);
                if (k->kind == KIND_COUNT) {
                        problem(p, line_of(s), "%s must be an integer, not a float (%s)", name, shown);
                        return;
                }
                break;
        default:
                problem(p, line_of(s), "%s must be %s, not %s", name, k->kind == KIND_COUNT ? "an integer" : "a number",
                        type_name(s));
                return;
        }

        /* isfinite() first: NaN compares false with everything, and 1e999 is read as inf. */
        ok = isfinite(v) && v >= k->min && (k->below_max ? v < k->max : v <= k->max);
        if (!ok) {
                if (k->below_max)
                        problem(p, line_of(s), "%s must be at least %.15g%s and below %.15g%s, not %s", name, k->min,
                                k->min_note, k->max, k->unit, shown);
                else
                        problem(p, line_of(s), "%s must be between %.15g%s and %.15g%s, not %s", name, k->min,
                                k->min_note, k->max, k->unit, shown);
                return;
        }

        switch (k->kind) {
        case KIND_COUNT:
                *(unsigned *) ((char *) base + k->offset) = (unsigned) i;
                break;
        case KIND_SECONDS:
                /* v >= 0 here, so adding 0.5 rounds to the nearest microsecond. */
                *(usec_t *) ((char *) base + k->offset) = (usec_t) (v * (double) USEC_PER_SEC + 0.5);
                break;
        case KIND_RATIO:
                /* cppcheck-suppress invalidPointerCast ; k->offset is the offsetof() of a double */
                *(double *) ((char *) base + k->offset) = v;
                break;
        }
}

/* A section group: each member must be one of sec's keys. prefix is "" or "rules[N]." */
static void parse_section(struct parser *p, const config_setting_t *s, const struct section *sec, const char *prefix,
                          void *base) {
        char name[128];

        if (!config_setting_is_group(s)) {
                problem(p, line_of(s), "%s%s must be a group { ... }, not %s", prefix, sec->name, type_name(s));
                return;
        }
        for (int j = 0; j < config_setting_length(s); j++) {
                const config_setting_t *m = config_setting_get_elem(s, (unsigned) j);
                const struct key *k = NULL;

                for (size_t i = 0; i < sec->n_keys; i++)
                        if (strcmp(config_setting_name(m), sec->keys[i].name) == 0)
                                k = &sec->keys[i];
                if (!k) {
                        problem(p, line_of(m), "unknown key \"%s\" in section \"%s%s\" (expected %s)",
                                config_setting_name(m), prefix, sec->name, sec->expected);
                        continue;
                }
                snprintf(name, sizeof(name), "%s%s.%s", prefix, sec->name, k->name);
                parse_number(p, m, k, name, base);
        }
}

static const struct section *section_by_name(const char *name, bool per_rule) {
        for (size_t i = 0; i < ELEMENTSOF(sections); i++)
                if (strcmp(name, sections[i].name) == 0 && (sections[i].per_rule || !per_rule))
                        return &sections[i];
        return NULL;
}

/* One element of "rules", into r, whose t already holds the top-level thresholds. The globs r owns
 * are freed by conf_done() even when the rule turns out to be bad. */
static void parse_rule(struct parser *p, const config_setting_t *s, size_t index, struct conf_rule *r) {
        char prefix[48];
        bool has_matcher = false;

        snprintf(prefix, sizeof(prefix), "rules[%zu].", index);
        for (int j = 0; j < config_setting_length(s); j++) {
                const config_setting_t *m = config_setting_get_elem(s, (unsigned) j);
                const char *key = config_setting_name(m);
                const struct section *sec;
                bool done = false;

                for (size_t g = 0; g < ELEMENTSOF(globs); g++) {
                        char **field = (char **) ((char *) r + globs[g].offset);
                        const char *v;

                        if (strcmp(key, globs[g].name) != 0)
                                continue;
                        done = has_matcher = true;
                        if (config_setting_type(m) != CONFIG_TYPE_STRING) {
                                problem(p, line_of(m), "%s%s must be a string (a shell glob), not %s", prefix, key,
                                        type_name(m));
                                break;
                        }
                        v = config_setting_get_string(m);
                        if (!v || !*v) {
                                problem(p, line_of(m),
                                        "%s%s must not be empty (the glob that matches anything is \"*\")", prefix,
                                        key);
                                break;
                        }
                        *field = strdup(v);
                        if (!*field)
                                p->oom = true;
                }
                if (done)
                        continue;
                if (strcmp(key, "ignore") == 0) {
                        if (config_setting_type(m) == CONFIG_TYPE_BOOL)
                                r->ignore = config_setting_get_bool(m);
                        else
                                problem(p, line_of(m), "%signore must be a boolean (true or false), not %s", prefix,
                                        type_name(m));
                } else if ((sec = section_by_name(key, true)))
                        parse_section(p, m, sec, prefix, &r->t);
                else
                        problem(p, line_of(m), "unknown key \"%s\" in rules[%zu] (expected %s)", key, index,
                                RULE_EXPECTED);
        }
        if (!has_matcher)
                problem(p, line_of(s), "rules[%zu] needs at least one of comm, exe, unit", index);
}

/* Run after the top-level sections are final, so that every rule starts from them wherever
 * "rules" sits in the file. */
static void parse_rules(struct parser *p, const config_setting_t *s, struct conf *c) {
        int n = config_setting_length(s);

        if (!config_setting_is_list(s)) {
                problem(p, line_of(s), "rules must be a list of groups, ( { ... }, { ... } ), not %s", type_name(s));
                return;
        }
        if (n == 0)
                return;
        c->rules = calloc((size_t) n, sizeof(*c->rules));
        if (!c->rules) {
                p->oom = true;
                return;
        }
        for (int j = 0; j < n; j++) {
                const config_setting_t *m = config_setting_get_elem(s, (unsigned) j);
                struct conf_rule *r = &c->rules[c->n_rules];

                if (!config_setting_is_group(m)) {
                        problem(p, line_of(m), "rules[%d] must be a group { ... }, not %s", j, type_name(m));
                        continue;
                }
                /* Counted before parsing, so that conf_done() frees the globs even of a bad rule. */
                c->n_rules++;
                r->t = c->t;
                parse_rule(p, m, (size_t) j, r);
        }
}

static void parse_bool(struct parser *p, const config_setting_t *s, const char *name, bool *ret) {
        if (config_setting_type(s) == CONFIG_TYPE_BOOL)
                *ret = config_setting_get_bool(s);
        else
                problem(p, line_of(s), "%s must be a boolean (true or false), not %s", name, type_name(s));
}

#define METRICS_SUFFIX ".prom"

/* v for a message: printable ASCII as it is, any other byte as \xNN (a message is one line of
 * plain text, whatever bytes a path holds), cut to fit buf. */
static const char *quote_value(const char *v, char *buf, size_t size) {
        size_t n = 0;

        for (const unsigned char *q = (const unsigned char *) v; *q && n + 5 < size; q++) {
                if (*q >= 0x20 && *q < 0x7f && *q != '\\')
                        buf[n++] = (char) *q;
                else
                        n += (size_t) snprintf(buf + n, size - n, "\\x%02x", *q);
        }
        buf[n] = '\0';
        return buf;
}

static void parse_metrics_file(struct parser *p, const config_setting_t *s, struct conf *c) {
        const char *v, *base;
        char quoted[256];
        size_t len;

        if (config_setting_type(s) != CONFIG_TYPE_STRING) {
                problem(p, line_of(s),
                        "metrics_file must be a string (an absolute path ending in \"" METRICS_SUFFIX "\"), not %s",
                        type_name(s));
                return;
        }
        v = config_setting_get_string(s);
        if (!v || !*v)
                return; /* off */
        len = strlen(v);
        /* Before anything quotes the value back: a newline would forge a second log line. */
        for (const char *q = v; *q; q++)
                if ((unsigned char) *q < 0x20 || *q == 0x7f) {
                        problem(p, line_of(s), "metrics_file must not contain control characters (a newline, a tab)");
                        return;
                }
        if (v[0] != '/') {
                problem(p, line_of(s), "metrics_file must be an absolute path, not \"%s\"",
                        quote_value(v, quoted, sizeof(quoted)));
                return;
        }
        base = strrchr(v, '/') + 1;
        if (len >= PATH_MAX)
                problem(p, line_of(s), "metrics_file must be shorter than %d bytes", PATH_MAX);
        else if (strlen(base) < strlen(METRICS_SUFFIX) ||
                 strcmp(base + strlen(base) - strlen(METRICS_SUFFIX), METRICS_SUFFIX) != 0)
                problem(p, line_of(s),
                        "metrics_file must end in \"" METRICS_SUFFIX
                        "\" (node_exporter's textfile collector reads only those), not \"%s\"",
                        quote_value(v, quoted, sizeof(quoted)));
        else if (strlen(base) == strlen(METRICS_SUFFIX))
                problem(p, line_of(s), "metrics_file needs a file name before \"" METRICS_SUFFIX "\", not \"%s\"",
                        quote_value(v, quoted, sizeof(quoted)));
        else if (strlen(base) > SANDBOX_KEEPER_NAME_MAX)
                problem(p, line_of(s), "metrics_file's file name must be at most %d bytes, not %zu",
                        SANDBOX_KEEPER_NAME_MAX, strlen(base));
        else {
                free(c->metrics_file);
                c->metrics_file = strdup(v);
                if (!c->metrics_file)
                        p->oom = true;
        }
}

static void parse_root(struct parser *p, const config_setting_t *root, struct conf *c) {
        const config_setting_t *rules = NULL;

        for (int j = 0; j < config_setting_length(root); j++) {
                const config_setting_t *m = config_setting_get_elem(root, (unsigned) j);
                const char *key = config_setting_name(m);
                const struct section *sec;

                if (strcmp(key, "interval") == 0)
                        parse_number(p, m, &interval_key, key, c);
                else if (strcmp(key, "netns") == 0)
                        parse_bool(p, m, key, &c->netns);
                else if (strcmp(key, "metrics_file") == 0)
                        parse_metrics_file(p, m, c);
                else if (strcmp(key, "rules") == 0)
                        rules = m;
                else if ((sec = section_by_name(key, false)))
                        parse_section(p, m, sec, "", sec->per_rule ? (void *) &c->t : (void *) c);
                else
                        problem(p, line_of(m), "unknown key \"%s\" (expected %s)", key, TOP_EXPECTED);
        }
        if (rules)
                parse_rules(p, rules, c);
}

/* Steps 2 to 4 on text, into c. Problems go to p. */
static void parse_text(struct parser *p, const char *text, struct conf *c) {
        config_t lc;

        prescan(p, text);
        if (p->refuse || p->oom)
                return;

        config_init(&lc);
        if (config_read_string(&lc, text) != CONFIG_TRUE) {
                unsigned line = config_error_line(&lc) > 0 ? (unsigned) config_error_line(&lc) : 0;

                /* Pre-scan problems past the syntax error would be guesses about text libconfig
                 * never understood. */
                while (p->n_problems > 0 && line > 0 && p->problems[p->n_problems - 1].line > line)
                        free(p->problems[--p->n_problems].msg);
                if (config_error_type(&lc) == CONFIG_ERR_PARSE)
                        problem(p, line, "%s", config_error_text(&lc) ? config_error_text(&lc) : "syntax error");
                else /* CONFIG_ERR_FILE_IO: only includes read files, and those were refused */
                        problem(p, line, "cannot read the configuration: %s",
                                config_error_text(&lc) ? config_error_text(&lc) : "I/O error");
        } else
                parse_root(p, config_root_setting(&lc), c);
        config_destroy(&lc);
}

int conf_load_string(const char *text, const char *path, struct conf *ret, struct conf_errors *errs) {
        struct parser p = { .path = path ? path : "<string>" };
        struct conf c;
        int r;

        conf_defaults(&c);
        parse_text(&p, text ? text : "", &c);
        if (p.oom)
                r = -ENOMEM;
        else if (p.n_problems > 0) {
                r = problems_move(&p, errs);
                if (r == 0)
                        r = -EINVAL;
        } else {
                *ret = c;
                c = (struct conf){};
                r = 0;
        }
        conf_done(&c);
        parser_done(&p);
        return r;
}

/* ---- step 1: reading the file ------------------------------------------------------------------ */

/* Read a regular file of at most FILE_MAX bytes into a NUL-terminated string. Returns 0, or a
 * -errno for the message (-EFBIG: too large, -EBADFD: not a regular file). */
static int read_text(const char *path, char **ret) {
        struct stat st;
        char *buf = NULL;
        size_t n = 0, cap = 0;
        int fd, r;

        /* O_NONBLOCK: opening a FIFO by mistake must not hang the daemon; fstat() then refuses it. */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0) {
                r = -errno;
                goto finish;
        }
        if (S_ISDIR(st.st_mode)) {
                r = -EISDIR;
                goto finish;
        }
        if (!S_ISREG(st.st_mode)) {
                r = -EBADFD;
                goto finish;
        }
        for (;;) {
                ssize_t k;

                if (array_reserve((void **) &buf, &cap, n + 4096 + 1, 1) < 0) {
                        r = -ENOMEM;
                        goto finish;
                }
                k = read(fd, buf + n, cap - n - 1);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        r = -errno;
                        goto finish;
                }
                if (k == 0)
                        break;
                n += (size_t) k;
                if (n > FILE_MAX) {
                        r = -EFBIG;
                        goto finish;
                }
        }
        if (!buf && array_reserve((void **) &buf, &cap, 1, 1) < 0) {
                r = -ENOMEM;
                goto finish;
        }
        buf[n] = '\0';
        /* config_read_string() would stop at a NUL byte and silently drop the rest of the file. */
        if (strlen(buf) != n) {
                r = -EILSEQ;
                goto finish;
        }
        *ret = buf;
        buf = NULL;
        r = 0;
finish:
        free(buf);
        close(fd);
        return r;
}

int conf_load_file(const char *path, bool missing_ok, struct conf *ret, struct conf_errors *errs) {
        struct parser p = { .path = path };
        char *text = NULL;
        int r;

        r = read_text(path, &text);
        if (r == -ENOENT && missing_ok) {
                conf_defaults(ret);
                return 0;
        }
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                char reason[128];

                if (r == -EBADFD)
                        snprintf(reason, sizeof(reason), "not a regular file");
                else if (r == -EFBIG)
                        snprintf(reason, sizeof(reason), "larger than %d bytes", FILE_MAX);
                else if (r == -EILSEQ)
                        snprintf(reason, sizeof(reason), "it contains a NUL byte");
                else
                        snprintf(reason, sizeof(reason), "%s", strerror(-r));
                problem(&p, 0, "cannot read the configuration: %s", reason);
                r = p.oom ? -ENOMEM : problems_move(&p, errs);
                parser_done(&p);
                return r < 0 ? r : -EINVAL;
        }
        r = conf_load_string(text, path, ret, errs);
        free(text);
        return r;
}

const struct conf_thresholds *conf_match(const struct conf *c, const char *comm, const char *exe, const char *unit,
                                         bool *ret_ignore) {
        for (size_t i = 0; i < c->n_rules; i++) {
                const struct conf_rule *r = &c->rules[i];

                if (r->comm && (!comm || fnmatch(r->comm, comm, 0) != 0))
                        continue;
                if (r->exe && (!exe || fnmatch(r->exe, exe, 0) != 0))
                        continue;
                if (r->unit && (!unit || fnmatch(r->unit, unit, 0) != 0))
                        continue;
                if (ret_ignore)
                        *ret_ignore = r->ignore;
                return &r->t;
        }
        if (ret_ignore)
                *ret_ignore = false;
        return &c->t;
}
