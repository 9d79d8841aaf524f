/* Unit tests of metrics: the Prometheus text rendered from reports built in the test. Every output
 * goes through check_exposition(), a strict reader of the text format (0.0.4): HELP then TYPE once
 * per family, its samples right after and nowhere else, label values with only the format's
 * escapes and valid UTF-8, no series twice. Then: label escaping of hostile strings, the top-N
 * bound (and the urgent ones first), the thresholds of rules and ignored processes, what is left
 * out without a report or when stopping, and the values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test-util.h"

#include "conf.h"
#include "config.h"
#include "metrics.h"
#include "strutil.h"

/* ---- a strict reader of the text format -------------------------------------------------- */

#define MAX_FAMILIES 64
#define MAX_SERIES   1024

struct exposition {
        char families[MAX_FAMILIES][96];
        size_t n_families;
        char *series[MAX_SERIES]; /* "name{labels}" as written */
        size_t n_series;
};

static bool name_char(char c, bool first) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (!first && c >= '0' && c <= '9');
}

/* A label set at *p ("{...}"), checked: names, '=', quoted values with only \\ \" \n escapes and
 * valid UTF-8 without control bytes. Moves *p past it. */
static void check_labels(const char **p, const char *line) {
        const char *s = *p;

        if (*s != '{')
                return;
        s++;
        while (*s != '}') {
                if (!name_char(*s, true))
                        fail_msg("bad label name in: %s", line);
                while (name_char(*s, false))
                        s++;
                if (s[0] != '=' || s[1] != '"')
                        fail_msg("no =\" after a label name in: %s", line);
                s += 2;
                while (*s != '"') {
                        size_t n;

                        if (*s == '\0' || *s == '\n')
                                fail_msg("unterminated label value in: %s", line);
                        if (*s == '\\') {
                                if (s[1] != '\\' && s[1] != '"' && s[1] != 'n')
                                        fail_msg("bad escape \\%c in: %s", s[1], line);
                                s += 2;
                                continue;
                        }
                        if ((unsigned char) *s < 0x20 || *s == 0x7f)
                                fail_msg("control byte in a label value: %s", line);
                        n = str_utf8_char(s, strlen(s));
                        if (n == 0)
                                fail_msg("invalid UTF-8 in a label value: %s", line);
                        s += n;
                }
                s++;
                if (*s == ',')
                        s++;
                else if (*s != '}')
                        fail_msg("no , or } after a label value in: %s", line);
        }
        *p = s + 1;
}

/* Read text into e, failing the test on anything the format does not allow. */
static void check_exposition(const char *text, size_t size, struct exposition *e) {
        char family[96] = "", type[16] = "";
        const char *line = text;
        bool help_seen = false;

        assert_int_equal(strlen(text), size);
        assert_true(size > 0 && text[size - 1] == '\n');
        *e = (struct exposition){};
        while (*line) {
                const char *end = strchr(line, '\n'), *p = line;
                char buf[1024];

                assert_non_null(end);
                assert_true((size_t) (end - line) < sizeof(buf));
                memcpy(buf, line, (size_t) (end - line));
                buf[end - line] = '\0';

                if (strncmp(buf, "# HELP ", 7) == 0) {
                        char name[96];

                        assert_int_equal(sscanf(buf + 7, "%95s", name), 1);
                        for (size_t i = 0; i < e->n_families; i++)
                                if (strcmp(e->families[i], name) == 0)
                                        fail_msg("family %s twice", name);
                        assert_true(e->n_families < MAX_FAMILIES);
                        snprintf(e->families[e->n_families++], sizeof(e->families[0]), "%s", name);
                        snprintf(family, sizeof(family), "%s", name);
                        assert_true(strlen(buf) > 7 + strlen(name) + 1); /* a help text */
                        type[0] = '\0';
                        help_seen = true;
                } else if (strncmp(buf, "# TYPE ", 7) == 0) {
                        char name[96];

                        assert_true(help_seen);
                        assert_int_equal(sscanf(buf + 7, "%95s %15s", name, type), 2);
                        assert_string_equal(name, family);
                        assert_true(strcmp(type, "gauge") == 0 || strcmp(type, "counter") == 0);
                        /* The naming rules: counters and only counters end in _total. */
                        assert_int_equal(strcmp(type, "counter") == 0,
                                         strlen(name) > 6 && strcmp(name + strlen(name) - 6, "_total") == 0);
                        assert_true(strncmp(name, "closewaitd_", 11) == 0);
                        help_seen = false;
                } else {
                        char *series, *v;
                        double value;

                        assert_true(buf[0] != '#');
                        if (!type[0])
                                fail_msg("a sample before its family's TYPE: %s", buf);
                        while (name_char(*p, p == line))
                                p++;
                        if ((size_t) (p - line) != strlen(family) || strncmp(line, family, strlen(family)) != 0)
                                fail_msg("sample %s outside its family %s", buf, family);
                        check_labels(&p, buf);
                        if (*p != ' ')
                                fail_msg("no value in: %s", buf);
                        value = strtod(p + 1, &v);
                        if (v == p + 1 || *v != '\n')
                                fail_msg("bad value in: %s", buf);
                        (void) value;
                        series = strndup(line, (size_t) (p - line));
                        assert_non_null(series);
                        for (size_t i = 0; i < e->n_series; i++)
                                if (strcmp(e->series[i], series) == 0)
                                        fail_msg("series twice: %s", series);
                        assert_true(e->n_series < MAX_SERIES);
                        e->series[e->n_series++] = series;
                }
                line = end + 1;
        }
}

static void exposition_done(struct exposition *e) {
        for (size_t i = 0; i < e->n_series; i++)
                free(e->series[i]);
        *e = (struct exposition){};
}

static bool has_family(const struct exposition *e, const char *name) {
        for (size_t i = 0; i < e->n_families; i++)
                if (strcmp(e->families[i], name) == 0)
                        return true;
        return false;
}

static size_t count_series(const struct exposition *e, const char *name) {
        size_t n = 0, len = strlen(name);

        for (size_t i = 0; i < e->n_series; i++)
                if (strncmp(e->series[i], name, len) == 0 && (e->series[i][len] == '{' || e->series[i][len] == '\0'))
                        n++;
        return n;
}

/* The line of text that starts with prefix (a series as written and a space), or fail. */
static const char *find_line(const char *text, const char *prefix) {
        for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
                if (strncmp(p, prefix, strlen(prefix)) == 0)
                        return p;
        fail_msg("no line starting with %s in:\n%s", prefix, text);
        return NULL;
}

static double value_of(const char *text, const char *series) {
        char prefix[1024];
        const char *line;

        snprintf(prefix, sizeof(prefix), "%s ", series);
        line = find_line(text, prefix);
        return strtod(line + strlen(prefix), NULL);
}

/* ---- reports built here ------------------------------------------------------------------ */

static const struct metrics_counters counters = {
        .scans = 42,
        .scan_errors = 3,
        .scan_usec = 1234567,
        .last_wall = { .tv_sec = 1795000000, .tv_nsec = 250000000 },
        .last_duration_usec = 1500,
        .interval_usec = 5 * USEC_PER_SEC,
        .netns = 1,
};

/* ages for n sockets, oldest first: the first `stuck` ones old, the others young. */
static usec_t *make_ages(unsigned n, unsigned stuck, usec_t old, usec_t young) {
        usec_t *a = calloc(n > 0 ? n : 1, sizeof(*a));

        assert_non_null(a);
        for (unsigned i = 0; i < n; i++)
                a[i] = i < stuck ? old : young;
        return a;
}

struct fixture {
        struct proc_info infos[64];
        struct report_proc procs[64];
        usec_t *ages[64];
        struct report_backlog backlogs[4];
        usec_t *backlog_ages[4];
        struct report_tw tw[4];
        struct report r;
};

static struct proc_info *add_proc(struct fixture *fx, pid_t pid, const char *comm, unsigned count, unsigned stuck) {
        size_t i = fx->r.n_procs++;

        fx->infos[i] = (struct proc_info){
                .pid = pid,
                .comm = (char *) comm,
                .exe = (char *) "/usr/bin/x",
                .uid = 0,
                .open_fds = 100,
                .fd_limit = 1024,
        };
        fx->ages[i] = make_ages(count, stuck, 60 * USEC_PER_SEC, USEC_PER_SEC);
        fx->procs[i] = (struct report_proc){
                .info = &fx->infos[i],
                .close_wait = count,
                .unread = count / 2,
                .oldest_age_usec = count > 0 ? fx->ages[i][0] : 0,
                .ages = fx->ages[i],
        };
        fx->r.procs = fx->procs;
        fx->r.total_close_wait += count;
        return &fx->infos[i];
}

static void fixture_done(struct fixture *fx) {
        for (size_t i = 0; i < fx->r.n_procs; i++)
                free(fx->ages[i]);
        for (size_t i = 0; i < fx->r.n_backlogs; i++)
                free(fx->backlog_ages[i]);
}

/* One process, one listener with stuck connections, one server-side and one client-side
 * TIME_WAIT group, in network namespace 4026531840. */
static void fixture_small(struct fixture *fx) {
        struct proc_info *p;

        *fx = (struct fixture){};
        p = add_proc(fx, 1234, "redis-server", 60, 55);
        p->unit = (char *) "redis-server.service";
        p->container = (char *) "0123abcd";
        p->pod = (char *) "pod-uid-1";
        p->netns = 4026531840;
        fx->backlog_ages[0] = make_ages(12, 11, 20 * USEC_PER_SEC, USEC_PER_SEC);
        fx->backlogs[0] = (struct report_backlog){
                .netns = 4026531840,
                .local = test_addr("127.0.0.1", 6379),
                .info = p,
                .close_wait = 12,
                .oldest_age_usec = 20 * USEC_PER_SEC,
                .ages = fx->backlog_ages[0],
        };
        fx->r.backlogs = fx->backlogs;
        fx->r.n_backlogs = 1;
        fx->tw[0] = (struct report_tw){
                .server = true,
                .netns = 4026531840,
                .addr = test_addr("::", 80),
                .info = p,
                .count = 12000,
                .oldest_age_usec = 59 * USEC_PER_SEC,
        };
        fx->tw[1] = (struct report_tw){
                .server = false,
                .addr = test_addr("10.0.0.9", 5432),
                .count = 1000,
                .oldest_age_usec = 30500000,
        };
        fx->r.tw = fx->tw;
        fx->r.n_tw = 2;
        fx->r.total_time_wait = 13000;
        fx->r.total_accept_backlog = 12;
        fx->r.unowned_close_wait = 2;
}

static char *render(const struct report *r, const unsigned *active, const struct conf *c, struct exposition *e) {
        char *text = NULL;
        size_t size = 0;

        assert_int_equal(metrics_render(r, active, c, &counters, &text, &size), 0);
        assert_non_null(text);
        check_exposition(text, size, e);
        return text;
}

/* ---- tests ------------------------------------------------------------------------------- */

#define PROC_LABELS                                                                                                    \
        "{pid=\"1234\",comm=\"redis-server\",unit=\"redis-server.service\",container=\"0123abcd\",pod=\"pod-uid-1\","  \
        "netns=\"4026531840\"}"

static void test_values(void **state) {
        const unsigned active[_POLICY_KIND_MAX] = { 1, 0, 2, 0 };
        struct exposition e;
        struct fixture fx;
        struct conf c;
        char *text;

        (void) state;
        conf_defaults(&c);
        fixture_small(&fx);
        text = render(&fx.r, active, &c, &e);

        assert_non_null(strstr(text, "closewaitd_build_info{version=\"" CLOSEWAITD_VERSION "\"} 1\n"));
        assert_non_null(strstr(text, "\nclosewaitd_scans_total 42\n"));
        assert_non_null(strstr(text, "\nclosewaitd_scan_errors_total 3\n"));
        assert_non_null(strstr(text, "\nclosewaitd_scan_duration_seconds_total 1.234567\n"));
        assert_non_null(strstr(text, "\nclosewaitd_last_scan_timestamp_seconds 1795000000.250000\n"));
        assert_non_null(strstr(text, "\nclosewaitd_last_scan_duration_seconds 0.001500\n"));
        assert_non_null(strstr(text, "\nclosewaitd_scan_interval_seconds 5.000000\n"));
        assert_non_null(strstr(text, "\nclosewaitd_network_namespaces 1\n"));
        assert_non_null(strstr(text, "# TYPE closewaitd_scans_total counter\n"));
        assert_non_null(strstr(text, "# TYPE closewaitd_process_close_wait_sockets gauge\n"));

        assert_true(value_of(text, "closewaitd_alerts_active{kind=\"close_wait\"}") == 1);
        assert_true(value_of(text, "closewaitd_alerts_active{kind=\"accept_backlog\"}") == 0);
        assert_true(value_of(text, "closewaitd_alerts_active{kind=\"time_wait\"}") == 2);
        assert_true(value_of(text, "closewaitd_alerts_active{kind=\"fd_pressure\"}") == 0);
        assert_true(value_of(text, "closewaitd_close_wait_sockets") == 60);
        assert_true(value_of(text, "closewaitd_close_wait_unowned_sockets") == 2);
        assert_true(value_of(text, "closewaitd_accept_backlog_sockets") == 12);
        assert_true(value_of(text, "closewaitd_time_wait_sockets") == 13000);
        assert_true(value_of(text, "closewaitd_close_wait_processes") == 1);
        assert_true(value_of(text, "closewaitd_accept_backlog_listeners") == 1);
        assert_true(value_of(text, "closewaitd_time_wait_groups") == 2);

        assert_true(value_of(text, "closewaitd_process_close_wait_sockets" PROC_LABELS) == 60);
        assert_true(value_of(text, "closewaitd_process_close_wait_stuck_sockets" PROC_LABELS) == 55);
        assert_true(value_of(text, "closewaitd_process_close_wait_unread_sockets" PROC_LABELS) == 30);
        assert_true(value_of(text, "closewaitd_process_close_wait_oldest_age_seconds" PROC_LABELS) == 60);
        assert_true(value_of(text, "closewaitd_process_open_fds" PROC_LABELS) == 100);
        assert_true(value_of(text, "closewaitd_process_max_fds" PROC_LABELS) == 1024);
        assert_true(value_of(text, "closewaitd_process_close_wait_threshold_sockets" PROC_LABELS) == 50);
        assert_true(value_of(text, "closewaitd_process_close_wait_threshold_age_seconds" PROC_LABELS) == 300);
        assert_true(value_of(text, "closewaitd_process_fd_pressure_threshold_ratio" PROC_LABELS) == 0.8);

#define LISTENER_LABELS                                                                                                \
        "{address=\"127.0.0.1:6379\",netns=\"4026531840\",pid=\"1234\",comm=\"redis-server\","                         \
        "unit=\"redis-server.service\",container=\"0123abcd\",pod=\"pod-uid-1\"}"
        assert_true(value_of(text, "closewaitd_listener_accept_backlog_sockets" LISTENER_LABELS) == 12);
        assert_true(value_of(text, "closewaitd_listener_accept_backlog_stuck_sockets" LISTENER_LABELS) == 11);
        assert_true(value_of(text, "closewaitd_listener_accept_backlog_oldest_age_seconds" LISTENER_LABELS) == 20);
        assert_true(value_of(text, "closewaitd_listener_accept_backlog_threshold_sockets" LISTENER_LABELS) == 10);

#define TW_SERVER                                                                                                      \
        "{side=\"server\",address=\"[::]:80\",netns=\"4026531840\",pid=\"1234\",comm=\"redis-server\","                \
        "unit=\"redis-server.service\",container=\"0123abcd\",pod=\"pod-uid-1\"}"
#define TW_CLIENT                                                                                                      \
        "{side=\"client\",address=\"10.0.0.9:5432\",netns=\"\",pid=\"\",comm=\"\",unit=\"\",container=\"\","           \
        "pod=\"\"}"
        assert_true(value_of(text, "closewaitd_time_wait_group_sockets" TW_SERVER) == 12000);
        assert_true(value_of(text, "closewaitd_time_wait_group_sockets" TW_CLIENT) == 1000);
        assert_true(value_of(text, "closewaitd_time_wait_group_oldest_age_seconds" TW_CLIENT) == 30.5);
        assert_true(value_of(text, "closewaitd_time_wait_group_threshold_sockets" TW_SERVER) == 10000);
        assert_true(value_of(text, "closewaitd_time_wait_group_threshold_sockets" TW_CLIENT) == 10000);

        /* Every family once, all of them here. */
        assert_int_equal(e.n_families, 8 + 1 + 7 + 9 + 4 + 3);
        exposition_done(&e);
        free(text);
        fixture_done(&fx);
}

/* Label values hold whatever comm, unit and container hold: the format's escapes for backslash,
 * double quote and newline; control bytes and invalid UTF-8 as the text \xNN; valid UTF-8 kept. */
static void test_escaping(void **state) {
        static const struct {
                const char *in, *out;
        } cases[] = {
                { "plain", "plain" },
                { "a\"b", "a\\\"b" },
                { "back\\slash", "back\\\\slash" },
                { "two\nlines", "two\\nlines" },
                { "esc\x1b[31m", "esc\\\\x1b[31m" },
                { "del\x7f", "del\\\\x7f" },
                { "tab\tcr\r", "tab\\\\x09cr\\\\x0d" },
                { "caf\xc3\xa9 \xe2\x82\xac", "caf\xc3\xa9 \xe2\x82\xac" },
                { "bad\xff\xfe", "bad\\\\xff\\\\xfe" },
                { "cut\xe2\x82", "cut\\\\xe2\\\\x82" },
                { "overlong\xc0\xaf", "overlong\\\\xc0\\\\xaf" },
                { "surrogate\xed\xa0\x80", "surrogate\\\\xed\\\\xa0\\\\x80" },
                { "", "" },
        };
        struct exposition e;
        struct fixture fx;
        struct conf c;

        (void) state;
        conf_defaults(&c);
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char want[256], *text;
                struct proc_info *p;

                fx = (struct fixture){};
                p = add_proc(&fx, 7, cases[i].in, 3, 3);
                p->unit = (char *) cases[i].in;
                p->container = (char *) cases[i].in;
                text = render(&fx.r, NULL, &c, &e);
                snprintf(want, sizeof(want),
                         "closewaitd_process_close_wait_sockets{pid=\"7\",comm=\"%s\",unit=\"%s\",container=\"%s\","
                         "pod=\"\",netns=\"\"} 3\n",
                         cases[i].out, cases[i].out, cases[i].out);
                if (!strstr(text, want))
                        fail_msg("case %zu: wanted\n%s\nin\n%s", i, want, text);
                exposition_done(&e);
                free(text);
                fixture_done(&fx);
        }
}

/* 50 processes, all with stuck sockets: 20 get series, the largest; one that would alert beyond
 * rank 20 (a rule gives it a low threshold) is among them, in place of the 20th. Processes
 * without a stuck socket get none. */
static void test_top(void **state) {
        struct conf_errors errs = {};
        struct exposition e;
        struct fixture fx;
        struct conf c;
        char *text, series[256];

        (void) state;
        assert_int_equal(conf_load_string("rules = ( { comm = \"urgent\"; close_wait = { count = 2; }; } );", "t.conf",
                                          &c, &errs),
                         0);
        fx = (struct fixture){};
        for (int i = 0; i < 50; i++)
                add_proc(&fx, 1000 + i, i == 45 ? "urgent" : "p", (unsigned) (100 - i), i == 10 ? 0 : 3);
        text = render(&fx.r, NULL, &c, &e);
        assert_int_equal(count_series(&e, "closewaitd_process_close_wait_sockets"), METRICS_TOP);
        assert_int_equal(count_series(&e, "closewaitd_process_close_wait_threshold_sockets"), METRICS_TOP);
        assert_true(value_of(text, "closewaitd_close_wait_processes") == 50);
        /* The urgent one, and the largest 19 with a stuck socket: 1000..1019 but 1010. */
        snprintf(series, sizeof(series),
                 "closewaitd_process_close_wait_threshold_sockets{pid=\"1045\",comm=\"urgent\",unit=\"\","
                 "container=\"\",pod=\"\",netns=\"\"} 2\n");
        assert_non_null(strstr(text, series));
        for (int i = 0; i < 50; i++) {
                bool want = (i < 20 && i != 10) || i == 45;

                snprintf(series, sizeof(series), "closewaitd_process_close_wait_sockets{pid=\"%d\",", 1000 + i);
                if ((strstr(text, series) != NULL) != want)
                        fail_msg("pid %d: series %s, wanted %s", 1000 + i, strstr(text, series) ? "present" : "absent",
                                 want ? "present" : "absent");
        }
        /* In the report's order: largest first, the urgent one last. */
        assert_true(strstr(text, "closewaitd_process_close_wait_sockets{pid=\"1000\"") <
                    strstr(text, "closewaitd_process_close_wait_sockets{pid=\"1019\""));
        assert_true(strstr(text, "closewaitd_process_close_wait_sockets{pid=\"1019\"") <
                    strstr(text, "closewaitd_process_close_wait_sockets{pid=\"1045\""));
        exposition_done(&e);
        free(text);
        fixture_done(&fx);
        conf_done(&c);
}

/* The same pid, listener or group twice in a report (which report_build() never makes) is one
 * series, not an invalid file. */
static void test_no_duplicates(void **state) {
        struct exposition e;
        struct fixture fx;
        struct conf c;
        char *text;

        (void) state;
        conf_defaults(&c);
        fixture_small(&fx);
        add_proc(&fx, 1234, "redis-server", 5, 5);
        fx.infos[1] = fx.infos[0];
        fx.backlogs[1] = fx.backlogs[0];
        fx.backlog_ages[1] = NULL;
        fx.r.n_backlogs = 2;
        fx.tw[2] = fx.tw[1];
        fx.r.n_tw = 3;
        text = render(&fx.r, NULL, &c, &e);
        assert_int_equal(count_series(&e, "closewaitd_process_close_wait_sockets"), 1);
        assert_int_equal(count_series(&e, "closewaitd_listener_accept_backlog_sockets"), 1);
        assert_int_equal(count_series(&e, "closewaitd_time_wait_group_sockets"), 2);
        exposition_done(&e);
        free(text);
        fixture_done(&fx);
}

/* Thresholds are the process's own: a rule's count and hold (the stuck count follows the rule's
 * hold); an ignored process keeps its values but has no threshold series. A small TIME_WAIT group
 * and a listener without stuck connections get no series. */
static void test_rules(void **state) {
        struct conf_errors errs = {};
        struct exposition e;
        struct fixture fx;
        struct conf c;
        char *text;

        (void) state;
        assert_int_equal(
                conf_load_string("rules = (\n"
                                 "  { comm = \"redis*\"; close_wait = { count = 500; age = 0; hold = 30.0; };\n"
                                 "    fd_pressure = { ratio = 0.5; }; },\n"
                                 "  { comm = \"quiet\"; ignore = true; }\n"
                                 ");\n",
                                 "t.conf", &c, &errs),
                0);
        fixture_small(&fx);
        add_proc(&fx, 99, "quiet", 80, 80);
        fx.tw[1].count = 999; /* below a tenth of 10000 */
        text = render(&fx.r, NULL, &c, &e);
        assert_true(value_of(text, "closewaitd_process_close_wait_threshold_sockets" PROC_LABELS) == 500);
        assert_true(value_of(text, "closewaitd_process_close_wait_threshold_age_seconds" PROC_LABELS) == 0);
        assert_true(value_of(text, "closewaitd_process_fd_pressure_threshold_ratio" PROC_LABELS) == 0.5);
        /* 55 sockets 60 s old, 5 of 1 s: with hold 30 s, 55 stuck. */
        assert_true(value_of(text, "closewaitd_process_close_wait_stuck_sockets" PROC_LABELS) == 55);
        assert_non_null(strstr(text, "closewaitd_process_close_wait_sockets{pid=\"99\",comm=\"quiet\""));
        assert_null(strstr(text, "closewaitd_process_close_wait_threshold_sockets{pid=\"99\""));
        assert_null(strstr(text, "closewaitd_process_close_wait_threshold_age_seconds{pid=\"99\""));
        assert_null(strstr(text, "closewaitd_process_fd_pressure_threshold_ratio{pid=\"99\""));
        assert_int_equal(count_series(&e, "closewaitd_time_wait_group_sockets"), 1);
        assert_true(value_of(text, "closewaitd_time_wait_groups") == 2);
        exposition_done(&e);
        free(text);

        /* The listener's stuck connections follow its owner's hold too: 11 are 20 s old. */
        conf_done(&c);
        assert_int_equal(conf_load_string("rules = ( { comm = \"redis*\"; accept_backlog = { hold = 25.0; }; } );",
                                          "t.conf", &c, &errs),
                         0);
        text = render(&fx.r, NULL, &c, &e);
        assert_int_equal(count_series(&e, "closewaitd_listener_accept_backlog_sockets"), 0);
        assert_true(value_of(text, "closewaitd_accept_backlog_listeners") == 1);
        exposition_done(&e);
        free(text);
        fixture_done(&fx);
        conf_done(&c);
}

/* After a failed scan: the daemon's families and the alert counts, no totals, no series of
 * processes; once stopping, no alert counts either. */
static void test_without_report(void **state) {
        const unsigned active[_POLICY_KIND_MAX] = { 1, 0, 0, 0 };
        static const char *const absent[] = {
                "closewaitd_close_wait_sockets",
                "closewaitd_time_wait_sockets",
                "closewaitd_close_wait_processes",
                "closewaitd_process_close_wait_sockets",
                "closewaitd_listener_accept_backlog_sockets",
                "closewaitd_time_wait_group_sockets",
        };
        struct exposition e;
        struct conf c;
        char *text;

        (void) state;
        conf_defaults(&c);
        text = render(NULL, active, &c, &e);
        assert_true(has_family(&e, "closewaitd_scans_total"));
        assert_true(has_family(&e, "closewaitd_scan_errors_total"));
        assert_true(has_family(&e, "closewaitd_alerts_active"));
        for (size_t i = 0; i < ELEMENTSOF(absent); i++)
                assert_false(has_family(&e, absent[i]));
        assert_int_equal(e.n_families, 9);
        exposition_done(&e);
        free(text);

        text = render(NULL, NULL, &c, &e);
        assert_false(has_family(&e, "closewaitd_alerts_active"));
        assert_int_equal(e.n_families, 8);
        exposition_done(&e);
        free(text);

        /* An empty report: the totals at 0, no per-series family at all (not even HELP). */
        {
                struct report empty = {};

                text = render(&empty, NULL, &c, &e);
                assert_true(value_of(text, "closewaitd_close_wait_sockets") == 0);
                assert_false(has_family(&e, "closewaitd_process_close_wait_sockets"));
                assert_null(strstr(text, "closewaitd_process_"));
                exposition_done(&e);
                free(text);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_values), cmocka_unit_test(test_escaping),
                cmocka_unit_test(test_top),    cmocka_unit_test(test_no_duplicates),
                cmocka_unit_test(test_rules),  cmocka_unit_test(test_without_report),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
