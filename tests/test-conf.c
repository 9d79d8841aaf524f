/* Unit tests of conf: defaults, a complete valid file, rule overlay and matching, reading real
 * files (missing, unreadable, a directory), and a table of malformed configurations, each with the
 * exact "PATH:LINE: " of every error it must produce. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"

#define PATH "/etc/closewaitd/closewaitd.conf"

static const char full_text[] = "# every key, none at its default\n"
                                "interval = 2.5;\n"
                                "netns = false;\n"
                                "metrics_file = \"/var/lib/prometheus/node-exporter/closewaitd.prom\";\n"
                                "close_wait: {\n"
                                "  count = 7;\n"
                                "  age = 600.0;\n"
                                "  hold = 1.5;\n"
                                "};\n"
                                "accept_backlog: { count = 3; hold = 2.0; };\n"
                                "time_wait: { count = 500; hold = 60.0; };\n"
                                "fd_pressure: { ratio = 0.9; hold = 5.0; };\n"
                                "alert: { clear_ratio = 0.25; repeat = 120.0; };\n"
                                "rules = (\n"
                                "  { unit = \"nginx.service\"; close_wait = { count = 500; }; },\n"
                                "  { comm = \"java*\"; exe = \"/usr/lib/jvm/*\";\n"
                                "    close_wait = { age = 900.0; hold = 0.0; };\n"
                                "    accept_backlog = { count = 4; hold = 3.0; };\n"
                                "    time_wait = { count = 20; hold = 1.0; };\n"
                                "    fd_pressure = { ratio = 0.0; hold = 9.0; }; },\n"
                                "  { exe = \"/usr/sbin/haproxy\"; ignore = true; }\n"
                                ");\n";

/* Field by field: struct copies need not preserve padding, so memcmp() would be wrong. */
static void assert_thresholds_equal(const struct conf_thresholds *a, const struct conf_thresholds *b) {
        assert_int_equal(a->close_wait.count, b->close_wait.count);
        assert_int_equal(a->close_wait.age_usec, b->close_wait.age_usec);
        assert_int_equal(a->close_wait.hold_usec, b->close_wait.hold_usec);
        assert_int_equal(a->accept_backlog.count, b->accept_backlog.count);
        assert_int_equal(a->accept_backlog.hold_usec, b->accept_backlog.hold_usec);
        assert_int_equal(a->time_wait.count, b->time_wait.count);
        assert_int_equal(a->time_wait.hold_usec, b->time_wait.hold_usec);
        assert_true(a->fd_pressure.ratio == b->fd_pressure.ratio);
        assert_int_equal(a->fd_pressure.hold_usec, b->fd_pressure.hold_usec);
}

static void assert_conf_equal(const struct conf *a, const struct conf *b) {
        assert_int_equal(a->interval_usec, b->interval_usec);
        assert_thresholds_equal(&a->t, &b->t);
        assert_true(a->clear_ratio == b->clear_ratio);
        assert_int_equal(a->repeat_usec, b->repeat_usec);
        assert_int_equal(a->netns, b->netns);
        assert_ptr_equal(a->metrics_file, b->metrics_file);
        assert_ptr_equal(a->rules, b->rules);
        assert_int_equal(a->n_rules, b->n_rules);
}

/* A configuration with a rule, used as the "before" of failed loads: they must not touch it. */
static void load_sentinel(struct conf *c) {
        struct conf_errors errs = {};

        assert_int_equal(conf_load_string(full_text, PATH, c, &errs), 0);
        assert_int_equal(errs.n, 0);
}

static void test_defaults(void **state) {
        struct conf c;

        conf_defaults(&c);
        assert_int_equal(c.interval_usec, 5 * USEC_PER_SEC);
        assert_int_equal(c.t.close_wait.count, 50);
        assert_int_equal(c.t.close_wait.age_usec, 300 * USEC_PER_SEC);
        assert_int_equal(c.t.close_wait.hold_usec, 15 * USEC_PER_SEC);
        assert_int_equal(c.t.accept_backlog.count, 10);
        assert_int_equal(c.t.accept_backlog.hold_usec, 15 * USEC_PER_SEC);
        assert_int_equal(c.t.time_wait.count, 10000);
        assert_int_equal(c.t.time_wait.hold_usec, 30 * USEC_PER_SEC);
        assert_true(c.t.fd_pressure.ratio == 0.8);
        assert_int_equal(c.t.fd_pressure.hold_usec, 15 * USEC_PER_SEC);
        assert_true(c.clear_ratio == 0.5);
        assert_int_equal(c.repeat_usec, 3600 * USEC_PER_SEC);
        assert_true(c.netns);
        assert_null(c.metrics_file);
        assert_null(c.rules);
        assert_int_equal(c.n_rules, 0);
}

/* An empty file and one of only comments are the defaults. */
static void test_empty(void **state) {
        struct conf_errors errs = {};
        struct conf c, d;

        conf_defaults(&d);
        assert_int_equal(conf_load_string("", PATH, &c, &errs), 0);
        assert_conf_equal(&c, &d);
        assert_int_equal(conf_load_string("# nothing\n/* at all */\n// here\n", PATH, &c, &errs), 0);
        assert_conf_equal(&c, &d);
        assert_int_equal(conf_load_string("rules = ();\n", PATH, &c, &errs), 0);
        assert_int_equal(c.n_rules, 0);
        assert_int_equal(errs.n, 0);
}

static void test_full(void **state) {
        struct conf c;
        const struct conf_rule *r;

        load_sentinel(&c);
        assert_int_equal(c.interval_usec, 2500 * USEC_PER_MSEC);
        assert_int_equal(c.t.close_wait.count, 7);
        assert_int_equal(c.t.close_wait.age_usec, 600 * USEC_PER_SEC);
        assert_int_equal(c.t.close_wait.hold_usec, 1500 * USEC_PER_MSEC);
        assert_int_equal(c.t.accept_backlog.count, 3);
        assert_int_equal(c.t.accept_backlog.hold_usec, 2 * USEC_PER_SEC);
        assert_int_equal(c.t.time_wait.count, 500);
        assert_int_equal(c.t.time_wait.hold_usec, 60 * USEC_PER_SEC);
        assert_true(c.t.fd_pressure.ratio == 0.9);
        assert_int_equal(c.t.fd_pressure.hold_usec, 5 * USEC_PER_SEC);
        assert_true(c.clear_ratio == 0.25);
        assert_int_equal(c.repeat_usec, 120 * USEC_PER_SEC);
        assert_false(c.netns);
        assert_string_equal(c.metrics_file, "/var/lib/prometheus/node-exporter/closewaitd.prom");
        assert_int_equal(c.n_rules, 3);

        r = &c.rules[0];
        assert_null(r->comm);
        assert_null(r->exe);
        assert_string_equal(r->unit, "nginx.service");
        assert_false(r->ignore);
        assert_int_equal(r->t.close_wait.count, 500);
        assert_int_equal(r->t.close_wait.age_usec, 600 * USEC_PER_SEC); /* from the section */
        assert_int_equal(r->t.close_wait.hold_usec, 1500 * USEC_PER_MSEC);
        assert_int_equal(r->t.time_wait.count, 500);

        r = &c.rules[1];
        assert_string_equal(r->comm, "java*");
        assert_string_equal(r->exe, "/usr/lib/jvm/*");
        assert_null(r->unit);
        assert_int_equal(r->t.close_wait.count, 7);
        assert_int_equal(r->t.close_wait.age_usec, 900 * USEC_PER_SEC);
        assert_int_equal(r->t.close_wait.hold_usec, 0);
        assert_int_equal(r->t.accept_backlog.count, 4);
        assert_int_equal(r->t.accept_backlog.hold_usec, 3 * USEC_PER_SEC);
        assert_int_equal(r->t.time_wait.count, 20);
        assert_int_equal(r->t.time_wait.hold_usec, 1 * USEC_PER_SEC);
        assert_true(r->t.fd_pressure.ratio == 0.0);
        assert_int_equal(r->t.fd_pressure.hold_usec, 9 * USEC_PER_SEC);

        r = &c.rules[2];
        assert_string_equal(r->exe, "/usr/sbin/haproxy");
        assert_true(r->ignore);
        assert_thresholds_equal(&r->t, &c.t);

        conf_done(&c);
        assert_null(c.rules);
        assert_int_equal(c.n_rules, 0);
        assert_int_equal(c.interval_usec, 5 * USEC_PER_SEC);
        assert_null(c.metrics_file);
        assert_true(c.netns);
}

/* metrics_file: the paths node_exporter reads, "" for none; netns both ways. */
static void test_metrics_file(void **state) {
        static const struct {
                const char *text;
                const char *want; /* NULL: off */
        } good[] = {
                { "metrics_file = \"/run/closewaitd.prom\";", "/run/closewaitd.prom" },
                { "metrics_file = \"/a.prom\";", "/a.prom" },
                { "metrics_file = \"/var/lib/node exporter/x y.prom\";", "/var/lib/node exporter/x y.prom" },
                { "metrics_file = \"/var/lib/prometheus/node-exporter/\" \"closewaitd.prom\";",
                  "/var/lib/prometheus/node-exporter/closewaitd.prom" },
                { "metrics_file = \"\";", NULL },
                { "netns = true; metrics_file = \"\";", NULL },
        };
        struct conf_errors errs = {};
        struct conf c;

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                if (conf_load_string(good[i].text, PATH, &c, &errs) != 0)
                        fail_msg("case %zu: %s: %s", i, good[i].text, errs.n > 0 ? errs.msgs[0] : "?");
                if (good[i].want)
                        assert_string_equal(c.metrics_file, good[i].want);
                else
                        assert_null(c.metrics_file);
                conf_done(&c);
        }
        assert_int_equal(conf_load_string("netns = false;", PATH, &c, &errs), 0);
        assert_false(c.netns);
        assert_int_equal(conf_load_string("netns = true;", PATH, &c, &errs), 0);
        assert_true(c.netns);
        assert_int_equal(errs.n, 0);
}

/* Users write "interval = 5;": integer literals (also 64-bit ones and hex) are accepted wherever
 * a number of seconds or a ratio is, and the bounds themselves are valid. */
static void test_int_for_float(void **state) {
        struct conf_errors errs = {};
        struct conf c;

        assert_int_equal(conf_load_string("interval = 3600;\n"
                                          "close_wait: { age = 0; hold = 86400; count = 10000000; };\n"
                                          "accept_backlog: { hold = 7L; count = 0x10; };\n"
                                          "time_wait: { count = 1; hold = 0; };\n"
                                          "fd_pressure: { ratio = 1; };\n"
                                          "alert: { clear_ratio = 0; repeat = 0; };\n",
                                          PATH, &c, &errs),
                         0);
        assert_int_equal(errs.n, 0);
        assert_int_equal(c.interval_usec, 3600 * USEC_PER_SEC);
        assert_int_equal(c.t.close_wait.age_usec, 0);
        assert_int_equal(c.t.close_wait.hold_usec, 86400 * USEC_PER_SEC);
        assert_int_equal(c.t.close_wait.count, 10000000);
        assert_int_equal(c.t.accept_backlog.hold_usec, 7 * USEC_PER_SEC);
        assert_int_equal(c.t.accept_backlog.count, 16);
        assert_int_equal(c.t.time_wait.count, 1);
        assert_int_equal(c.t.time_wait.hold_usec, 0);
        assert_true(c.t.fd_pressure.ratio == 1.0);
        assert_true(c.clear_ratio == 0.0);
        assert_int_equal(c.repeat_usec, 0);

        assert_int_equal(conf_load_string("interval = 0.1; alert: { repeat = 31536000; clear_ratio = 0.999; };", PATH,
                                          &c, &errs),
                         0);
        assert_int_equal(c.interval_usec, 100 * USEC_PER_MSEC);
        assert_int_equal(c.repeat_usec, 31536000 * USEC_PER_SEC);
        assert_true(c.clear_ratio == 0.999);
}

/* A rule starts from the top-level sections as finally parsed, even when "rules" comes first. */
static void test_overlay(void **state) {
        struct conf_errors errs = {};
        struct conf c;

        assert_int_equal(conf_load_string("rules = ( { comm = \"redis*\"; close_wait = { age = 60; }; "
                                          "time_wait = { hold = 1; }; } );\n"
                                          "close_wait: { count = 99; hold = 4; };\n"
                                          "time_wait: { count = 77; };\n"
                                          "fd_pressure: { ratio = 0.5; };\n",
                                          PATH, &c, &errs),
                         0);
        assert_int_equal(c.n_rules, 1);
        assert_int_equal(c.rules[0].t.close_wait.count, 99);
        assert_int_equal(c.rules[0].t.close_wait.hold_usec, 4 * USEC_PER_SEC);
        assert_int_equal(c.rules[0].t.close_wait.age_usec, 60 * USEC_PER_SEC);
        assert_int_equal(c.rules[0].t.time_wait.count, 77);
        assert_int_equal(c.rules[0].t.time_wait.hold_usec, 1 * USEC_PER_SEC);
        assert_true(c.rules[0].t.fd_pressure.ratio == 0.5);
        assert_int_equal(c.rules[0].t.accept_backlog.count, 10); /* default, untouched by anything */
        /* The top level is not changed by the rule. */
        assert_int_equal(c.t.close_wait.age_usec, 300 * USEC_PER_SEC);
        assert_int_equal(c.t.time_wait.hold_usec, 30 * USEC_PER_SEC);
        conf_done(&c);
}

static void test_match(void **state) {
        struct conf_errors errs = {};
        struct conf c;
        const struct conf_thresholds *t;
        bool ignore = true;

        assert_int_equal(
                conf_load_string("rules = (\n"
                                 "  { comm = \"nginx\"; unit = \"web-*.service\"; close_wait = { count = 1; }; },\n"
                                 "  { comm = \"ng*\"; close_wait = { count = 2; }; },\n"
                                 "  { exe = \"/opt/*/bin/[a-c]*\"; ignore = true; },\n"
                                 "  { unit = \"*\"; close_wait = { count = 4; }; }\n"
                                 ");\n",
                                 PATH, &c, &errs),
                0);
        assert_int_equal(c.n_rules, 4);

        /* Both globs of rule 0 match. */
        t = conf_match(&c, "nginx", "/usr/sbin/nginx", "web-1.service", &ignore);
        assert_ptr_equal(t, &c.rules[0].t);
        assert_false(ignore);
        assert_int_equal(t->close_wait.count, 1);

        /* Only one of rule 0's globs matches: rule 1 (first match among the rest). */
        t = conf_match(&c, "nginx", "/usr/sbin/nginx", "db.service", &ignore);
        assert_ptr_equal(t, &c.rules[1].t);
        assert_int_equal(t->close_wait.count, 2);

        /* No unit: never matches a unit glob, not even "*". */
        t = conf_match(&c, "nginx", "/usr/sbin/nginx", NULL, &ignore);
        assert_ptr_equal(t, &c.rules[1].t);
        t = conf_match(&c, "redis", "/usr/bin/redis", NULL, &ignore);
        assert_ptr_equal(t, &c.t);
        assert_false(ignore);
        t = conf_match(&c, "redis", "/usr/bin/redis", "redis.service", &ignore);
        assert_ptr_equal(t, &c.rules[3].t);

        /* Ignore, with a bracket glob; a NULL exe does not match an exe glob. */
        ignore = false;
        t = conf_match(&c, "x", "/opt/acme/bin/bar", "x.service", &ignore);
        assert_ptr_equal(t, &c.rules[2].t);
        assert_true(ignore);
        t = conf_match(&c, "x", "/opt/acme/bin/zed", "x.service", &ignore);
        assert_ptr_equal(t, &c.rules[3].t);
        assert_false(ignore);
        t = conf_match(&c, "x", NULL, NULL, &ignore);
        assert_ptr_equal(t, &c.t);

        /* fnmatch without flags: "*" matches "/" too. */
        t = conf_match(&c, "ng/x", NULL, NULL, NULL);
        assert_ptr_equal(t, &c.rules[1].t);
        conf_done(&c);

        conf_defaults(&c);
        assert_ptr_equal(conf_match(&c, NULL, NULL, NULL, NULL), &c.t);
}

static char tmpdir[] = "/tmp/test-conf-XXXXXX";

static void write_file(const char *path, const char *text, size_t len) {
        FILE *f = fopen(path, "we");

        assert_non_null(f);
        assert_int_equal(fwrite(text, 1, len, f), len);
        assert_int_equal(fclose(f), 0);
}

static void test_missing(void **state) {
        struct conf_errors errs = {};
        struct conf c, before;
        char path[64], want[128];

        snprintf(path, sizeof(path), "%s/none.conf", tmpdir);
        memset(&c, 0xa5, sizeof(c));
        assert_int_equal(conf_load_file(path, true, &c, &errs), 0);
        assert_int_equal(errs.n, 0);
        conf_defaults(&before);
        assert_conf_equal(&c, &before);

        load_sentinel(&c);
        before = c;
        assert_int_equal(conf_load_file(path, false, &c, &errs), -EINVAL);
        assert_conf_equal(&c, &before);
        assert_int_equal(errs.n, 1);
        snprintf(want, sizeof(want), "%s: cannot read the configuration: No such file or directory", path);
        assert_string_equal(errs.msgs[0], want);
        conf_errors_done(&errs);
        assert_null(errs.msgs);
        assert_int_equal(errs.n, 0);
        conf_done(&c);
}

static void test_real_file(void **state) {
        struct conf_errors errs = {};
        struct conf c, before;
        char path[64], want[160];

        snprintf(path, sizeof(path), "%s/closewaitd.conf", tmpdir);
        write_file(path, full_text, strlen(full_text));
        assert_int_equal(conf_load_file(path, false, &c, &errs), 0);
        assert_int_equal(c.n_rules, 3);
        assert_int_equal(c.interval_usec, 2500 * USEC_PER_MSEC);
        assert_string_equal(c.rules[1].comm, "java*");
        before = c;

        /* Errors name the file's path; a bad file leaves c as it was. */
        write_file(path, "interval = 5;\nclose_wait: { cont = 5; };\n",
                   strlen("interval = 5;\nclose_wait: { cont = 5; };\n"));
        assert_int_equal(conf_load_file(path, true, &c, &errs), -EINVAL);
        assert_conf_equal(&c, &before);
        assert_int_equal(errs.n, 1);
        snprintf(want, sizeof(want), "%s:2: unknown key \"cont\" in section \"close_wait\" (expected count, age, hold)",
                 path);
        assert_string_equal(errs.msgs[0], want);
        conf_errors_done(&errs);

        /* A directory is an error even with missing_ok. */
        assert_int_equal(conf_load_file(tmpdir, true, &c, &errs), -EINVAL);
        assert_int_equal(errs.n, 1);
        snprintf(want, sizeof(want), "%s: cannot read the configuration: Is a directory", tmpdir);
        assert_string_equal(errs.msgs[0], want);
        conf_errors_done(&errs);

        /* A NUL byte would make libconfig drop the rest of the file. */
        write_file(path, "interval = 5;\n\0rules = 1;\n", 26);
        assert_int_equal(conf_load_file(path, false, &c, &errs), -EINVAL);
        assert_int_equal(errs.n, 1);
        snprintf(want, sizeof(want), "%s: cannot read the configuration: it contains a NUL byte", path);
        assert_string_equal(errs.msgs[0], want);
        conf_errors_done(&errs);

        /* Not readable: only meaningful when not root (root reads anyway). */
        if (geteuid() != 0) {
                write_file(path, "", 0);
                assert_int_equal(chmod(path, 0), 0);
                assert_int_equal(conf_load_file(path, true, &c, &errs), -EINVAL);
                assert_int_equal(errs.n, 1);
                snprintf(want, sizeof(want), "%s: cannot read the configuration: Permission denied", path);
                assert_string_equal(errs.msgs[0], want);
                conf_errors_done(&errs);
        }
        assert_conf_equal(&c, &before);
        assert_int_equal(unlink(path), 0);
        conf_done(&c);
}

/* Errors are appended after what errs already holds. */
static void test_errors_append(void **state) {
        struct conf_errors errs = {};
        struct conf c;

        assert_int_equal(conf_load_string("foo = 1;", "a.conf", &c, &errs), -EINVAL);
        assert_int_equal(conf_load_string("\nbar = 1;", "b.conf", &c, &errs), -EINVAL);
        assert_int_equal(errs.n, 2);
        assert_string_equal(errs.msgs[0], "a.conf:1: unknown key \"foo\" (expected interval, netns, metrics_file, "
                                          "close_wait, accept_backlog, time_wait, fd_pressure, alert, rules)");
        assert_true(strncmp(errs.msgs[1], "b.conf:2: unknown key \"bar\"", 27) == 0);
        conf_errors_done(&errs);
        conf_errors_done(&errs); /* it left errs empty: a second call is harmless */
}

/* Lines past 65535 would wrap in libconfig 1.5 (an unsigned short): refused rather than misnumbered. */
static void test_too_many_lines(void **state) {
        struct conf_errors errs = {};
        struct conf c;
        size_t n = 70000;
        char *text = malloc(n + 1);

        assert_non_null(text);
        memset(text, '\n', n);
        text[n] = '\0';
        assert_int_equal(conf_load_string(text, PATH, &c, &errs), -EINVAL);
        assert_int_equal(errs.n, 1);
        assert_string_equal(errs.msgs[0], PATH ": the configuration has more than 65535 lines, which libconfig "
                                               "cannot number");
        conf_errors_done(&errs);
        free(text);
}

/* Things that look like problems to a careless scanner but are fine. */
static void test_not_confused(void **state) {
        struct conf_errors errs = {};
        struct conf c;

        assert_int_equal(
                conf_load_string("/* 99999999999\n@include \"x\" */\n"
                                 "# 99999999999\n"
                                 "// @include \"y\"\n"
                                 "rules = ( { comm = \"99999999999\n@include \\\"z\\\"\"; exe = \"a\\\\\"; } );\n"
                                 "close_wait: { age = 99999999999.0e-5; };\n",
                                 PATH, &c, &errs),
                0);
        assert_int_equal(errs.n, 0);
        assert_string_equal(c.rules[0].comm, "99999999999\n@include \"z\"");
        assert_string_equal(c.rules[0].exe, "a\\");
        assert_int_equal(c.t.close_wait.age_usec, 999999999990ULL);
        conf_done(&c);
}

struct expect {
        unsigned line; /* 0: "PATH: " */
        const char *substr;
};

struct bad {
        const char *text;
        size_t n;
        struct expect e[6];
};

static const struct bad bad_cases[] = {
        /* syntax */
        { "interval = 5;\ninterval2 = ;\n", 1, { { 2, "syntax error" } } },
        { "interval = 5;\nclose_wait: {\n count = 1;\n", 1, { { 4, "syntax error" } } },
        { "interval = nan;\n", 1, { { 1, "syntax error" } } },
        { "a = 1;\n\nclose_wait: { count = 2; count = 3; };\n", 1, { { 3, "duplicate setting name" } } },
        /* a pre-scan error before the syntax error stays, one after it goes */
        { "close_wait: { count = 4294967346; };\nx = ;\ny = 99999999999;\n",
          2,
          { { 1, "integer 4294967346 is out of range" }, { 2, "syntax error" } } },
        /* unknown keys */
        { "foo = 1;\n", 1, { { 1, "unknown key \"foo\" (expected interval, netns, metrics_file, close_wait," } } },
        { "\nclose_wait: {\n  cont = 5;\n};\n",
          1,
          { { 3, "unknown key \"cont\" in section \"close_wait\" (expected count, age, hold)" } } },
        { "alert: { clear = 0.5; };\n", 1, { { 1, "in section \"alert\" (expected clear_ratio, repeat)" } } },
        { "rules = (\n { comm = \"x\";\n   colour = \"red\"; }\n);\n",
          1,
          { { 3, "unknown key \"colour\" in rules[0] (expected comm, exe, unit, ignore, close_wait," } } },
        { "rules = ( { comm = \"x\"; },\n { exe = \"y\"; close_wait = { cnt = 1; }; } );\n",
          1,
          { { 2, "unknown key \"cnt\" in section \"rules[1].close_wait\" (expected count, age, hold)" } } },
        { "rules = ( { comm = \"x\"; interval = 1; alert = { repeat = 1; }; } );\n",
          2,
          { { 1, "unknown key \"interval\" in rules[0]" }, { 1, "unknown key \"alert\" in rules[0]" } } },
        /* wrong types */
        { "interval = 5;\nclose_wait: {\n\n  count = \"50\";\n};\n",
          1,
          { { 4, "close_wait.count must be an integer, not a string" } } },
        { "close_wait: { count = 50.0; };\n", 1, { { 1, "close_wait.count must be an integer, not a float (50.0)" } } },
        { "interval: { };\n", 1, { { 1, "interval must be a number, not a group" } } },
        { "time_wait: { hold = true; };\n", 1, { { 1, "time_wait.hold must be a number, not a boolean" } } },
        { "fd_pressure: { ratio = [0.5]; };\n", 1, { { 1, "fd_pressure.ratio must be a number, not an array" } } },
        { "close_wait = 5;\n", 1, { { 1, "close_wait must be a group { ... }, not an integer" } } },
        { "time_wait = ( 1 );\n", 1, { { 1, "time_wait must be a group { ... }, not a list" } } },
        { "rules = ( { comm = 5; } );\n",
          1,
          { { 1, "rules[0].comm must be a string (a shell glob), not an integer" } } },
        { "rules = ( { unit = \"a\"; ignore = 1; } );\n", 1, { { 1, "rules[0].ignore must be a boolean" } } },
        { "rules = ( { unit = \"a\"; close_wait = 3; } );\n",
          1,
          { { 1, "rules[0].close_wait must be a group { ... }, not an integer" } } },
        /* out of range */
        { "interval = 0;\n", 1, { { 1, "interval must be between 0.1 and 3600 seconds, not 0" } } },
        { "\n\ninterval = 0.01;\n", 1, { { 3, "interval must be between 0.1 and 3600 seconds, not 0.01" } } },
        { "interval = 5000;\n", 1, { { 1, "interval must be between 0.1 and 3600 seconds, not 5000" } } },
        { "interval = 5000.0;\n", 1, { { 1, "interval must be between 0.1 and 3600 seconds, not 5000.0" } } },
        { "close_wait: { hold = -1; };\n",
          1,
          { { 1, "close_wait.hold must be between 0 and 86400 seconds, not -1" } } },
        { "accept_backlog: { hold = 86400.5; };\n", 1, { { 1, "accept_backlog.hold must be between 0 and 86400" } } },
        { "fd_pressure: { ratio = 1.5; };\n",
          1,
          { { 1, "fd_pressure.ratio must be between 0 (off) and 1, not 1.5" } } },
        { "alert: { clear_ratio = 2; };\n", 1, { { 1, "alert.clear_ratio must be at least 0 and below 1, not 2" } } },
        { "alert: { clear_ratio = 1.0; };\n",
          1,
          { { 1, "alert.clear_ratio must be at least 0 and below 1, not 1.0" } } },
        { "alert: { repeat = -5; };\n",
          1,
          { { 1, "alert.repeat must be between 0 (never) and 31536000 seconds, not -5" } } },
        { "close_wait: { count = 0; };\n", 1, { { 1, "close_wait.count must be between 1 and 10000000, not 0" } } },
        { "time_wait: { count = 10000001; };\n", 1, { { 1, "time_wait.count must be between 1 and 10000000" } } },
        { "close_wait: { age = -1; };\n", 1, { { 1, "close_wait.age must be between 0 (off) and 31536000 seconds" } } },
        /* huge values: inf from 1e999, integers past 32 bits (libconfig 1.5 would truncate them) */
        { "interval = 1e999;\n", 1, { { 1, "interval must be between 0.1 and 3600 seconds, not inf" } } },
        { "close_wait: { age = -1e999; };\n", 1, { { 1, "not -inf" } } },
        { "close_wait: { count = 4294967346; };\n",
          1,
          { { 1, "integer 4294967346 is out of range: no setting takes a number that large" } } },
        { "close_wait: { count = 99999999999999999999999; };\n", 1, { { 1, "integer 99999999999999999999999" } } },
        { "time_wait: { count = 0xFFFFFFFF; };\n", 1, { { 1, "integer 0xFFFFFFFF is out of range" } } },
        { "alert: { repeat = -2147483649; };\n", 1, { { 1, "integer -2147483649 is out of range" } } },
        /* only the int libconfig made of the wide literal is kept quiet, not its neighbours */
        { "alert: { clear_ratio = 1; repeat = 99999999999; };\n",
          2,
          { { 1, "integer 99999999999 is out of range" }, { 1, "alert.clear_ratio must be at least 0 and below 1" } } },
        { "close_wait: { count = 99999999999L; };\n",
          1,
          { { 1, "close_wait.count must be between 1 and 10000000, not 99999999999" } } },
        /* netns, metrics_file */
        { "\nnetns = 1;\n", 1, { { 2, "netns must be a boolean (true or false), not an integer" } } },
        { "netns = \"yes\";\n", 1, { { 1, "netns must be a boolean (true or false), not a string" } } },
        { "metrics_file = true;\n",
          1,
          { { 1, "metrics_file must be a string (an absolute path ending in \".prom\"), not a boolean" } } },
        { "metrics_file = \"closewaitd.prom\";\n",
          1,
          { { 1, "metrics_file must be an absolute path, not \"closewaitd.prom\"" } } },
        { "metrics_file = \"./x.prom\";\n", 1, { { 1, "metrics_file must be an absolute path" } } },
        { "metrics_file = \"/var/lib/x.txt\";\n",
          1,
          { { 1, "metrics_file must end in \".prom\" (node_exporter's textfile collector reads only those), not "
                 "\"/var/lib/x.txt\"" } } },
        { "metrics_file = \"/var/lib/x.prom/\";\n", 1, { { 1, "metrics_file must end in \".prom\"" } } },
        { "metrics_file = \"/var/lib/x.PROM\";\n", 1, { { 1, "metrics_file must end in \".prom\"" } } },
        { "metrics_file = \"/\";\n", 1, { { 1, "metrics_file must end in \".prom\"" } } },
        { "metrics_file = \"/var/lib/.prom\";\n",
          1,
          { { 1, "metrics_file needs a file name before \".prom\", not \"/var/lib/.prom\"" } } },
        { "metrics_file = \"/var/lib/x\n.prom\";\n",
          1,
          { { 1, "metrics_file must not contain control characters (a newline, a tab)" } } },
        { "metrics_file = \"/var/lib/x\\n.prom\";\n", 1, { { 1, "metrics_file must not contain control" } } },
        { "metrics_file = \"/var/lib/x\\x1b[31m.prom\";\n", 1, { { 1, "metrics_file must not contain control" } } },
        { "metrics_file = \"/var/lib/x\\x7f.prom\";\n", 1, { { 1, "metrics_file must not contain control" } } },
        { "metrics_file = \"/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
          "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
          "xxxxxxxxxxxxxxxx.prom\";\n",
          1,
          { { 1, "metrics_file's file name must be at most 200 bytes, not 201" } } },
        { "metrics_file = \"/a.prom\";\nnetns = 0.5;\nmetrics_file2 = 1;\n",
          2,
          { { 2, "netns must be a boolean" }, { 3, "unknown key \"metrics_file2\"" } } },
        /* rules */
        { "rules = (\n  { ignore = true; }\n);\n", 1, { { 2, "rules[0] needs at least one of comm, exe, unit" } } },
        { "rules = { comm = \"x\"; };\n",
          1,
          { { 1, "rules must be a list of groups, ( { ... }, { ... } ), not a group" } } },
        { "rules = [ \"x\" ];\n", 1, { { 1, "rules must be a list of groups" } } },
        { "rules = \"nginx\";\n", 1, { { 1, "not a string" } } },
        { "rules = (\n  { comm = \"a\"; },\n  5\n);\n",
          1,
          { { 3, "rules[1] must be a group { ... }, not an integer" } } },
        { "rules = ( { comm = \"\"; } );\n", 1, { { 1, "rules[0].comm must not be empty" } } },
        { "rules = ( { unit = \"\"; exe = \"\"; } );\n",
          2,
          { { 1, "rules[0].unit must not be empty" }, { 1, "rules[0].exe must not be empty" } } },
        /* @include is refused before libconfig could open anything */
        { "interval = 5;\n  @include \"/etc/passwd\"\n", 1, { { 2, "@include is not supported" } } },
        /* every error of a file, in file order, rules checked after the sections that follow them */
        { "rules = (\n"
          "  { comm = \"a\"; close_wait = { count = 0; }; },\n"
          "  { }\n"
          ");\n"
          "interval = 0.01;\n"
          "close_wait: {\n"
          "  count = \"x\";\n"
          "  age = -1;\n"
          "};\n"
          "bogus = 1;\n",
          6,
          { { 2, "rules[0].close_wait.count must be between 1 and 10000000, not 0" },
            { 3, "rules[1] needs at least one of" },
            { 5, "interval must be between" },
            { 7, "close_wait.count must be an integer, not a string" },
            { 8, "close_wait.age must be between" },
            { 10, "unknown key \"bogus\"" } } },
};

static void test_bad(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(bad_cases); i++) {
                const struct bad *b = &bad_cases[i];
                struct conf_errors errs = {};
                struct conf c, before;
                int r;

                load_sentinel(&c);
                before = c;
                r = conf_load_string(b->text, PATH, &c, &errs);
                if (r != -EINVAL || errs.n != b->n) {
                        for (size_t j = 0; j < errs.n; j++)
                                print_message("  got: %s\n", errs.msgs[j]);
                        fail_msg("case %zu: r=%d, %zu errors, wanted %zu:\n%s", i, r, errs.n, b->n, b->text);
                }
                assert_conf_equal(&c, &before);
                for (size_t j = 0; j < b->n; j++) {
                        char prefix[64];

                        if (b->e[j].line > 0)
                                snprintf(prefix, sizeof(prefix), "%s:%u: ", PATH, b->e[j].line);
                        else
                                snprintf(prefix, sizeof(prefix), "%s: ", PATH);
                        if (strncmp(errs.msgs[j], prefix, strlen(prefix)) != 0 ||
                            !strstr(errs.msgs[j] + strlen(prefix), b->e[j].substr))
                                fail_msg("case %zu, error %zu: got \"%s\", wanted \"%s...%s\"", i, j, errs.msgs[j],
                                         prefix, b->e[j].substr);
                }
                conf_errors_done(&errs);
                conf_done(&c);
        }
}

static int setup(void **state) {
        return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state) {
        return rmdir(tmpdir);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_defaults),      cmocka_unit_test(test_empty),
                cmocka_unit_test(test_full),          cmocka_unit_test(test_int_for_float),
                cmocka_unit_test(test_overlay),       cmocka_unit_test(test_match),
                cmocka_unit_test(test_missing),       cmocka_unit_test(test_real_file),
                cmocka_unit_test(test_errors_append), cmocka_unit_test(test_too_many_lines),
                cmocka_unit_test(test_not_confused),  cmocka_unit_test(test_bad),
                cmocka_unit_test(test_metrics_file),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
