/* fuzz-conf: the configuration loader on any file text (conf_load_string() on a NUL-terminated
 * copy of the input, the way conf_load_file() hands over a file without NUL bytes).
 *
 * Properties, from conf.h and INTERFACE.md: the result is 0, -EINVAL or -ENOMEM; on success there
 * are no errors and every value is within its documented range, every rule has a non-empty glob;
 * on failure *ret is untouched and every error reads "PATH:LINE: message" (LINE within the text)
 * or "PATH: message", printable ASCII on one line, in file order. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "fuzz.h"

#define PATH "/etc/closewaitd/closewaitd.conf"

#define SEC(s)  (USEC_PER_SEC * (s))
#define YEAR_S  31536000
#define HOLD_S  86400
#define COUNT_X 10000000u

static void check_count(unsigned v) {
        FUZZ_CHECK(v >= 1 && v <= COUNT_X);
}

static void check_thresholds(const struct conf_thresholds *t) {
        check_count(t->close_wait.count);
        FUZZ_CHECK(t->close_wait.age_usec <= SEC(YEAR_S));
        FUZZ_CHECK(t->close_wait.hold_usec <= SEC(HOLD_S));
        check_count(t->accept_backlog.count);
        FUZZ_CHECK(t->accept_backlog.hold_usec <= SEC(HOLD_S));
        check_count(t->time_wait.count);
        FUZZ_CHECK(t->time_wait.hold_usec <= SEC(HOLD_S));
        FUZZ_CHECK(isfinite(t->fd_pressure.ratio) && t->fd_pressure.ratio >= 0 && t->fd_pressure.ratio <= 1);
        FUZZ_CHECK(t->fd_pressure.hold_usec <= SEC(HOLD_S));
}

static void check_glob(const char *g) {
        FUZZ_CHECK(!g || g[0] != '\0');
}

static void check_conf(const struct conf *c) {
        const struct conf_thresholds *t;
        bool ignore = true;

        FUZZ_CHECK(c->interval_usec >= SEC(1) / 10 && c->interval_usec <= SEC(3600));
        check_thresholds(&c->t);
        FUZZ_CHECK(isfinite(c->clear_ratio) && c->clear_ratio >= 0 && c->clear_ratio < 1);
        FUZZ_CHECK(c->repeat_usec <= SEC(YEAR_S));
        FUZZ_CHECK((c->n_rules == 0) == (c->rules == NULL));
        for (size_t i = 0; i < c->n_rules; i++) {
                const struct conf_rule *r = &c->rules[i];

                FUZZ_CHECK(r->comm || r->exe || r->unit);
                check_glob(r->comm);
                check_glob(r->exe);
                check_glob(r->unit);
                check_thresholds(&r->t);
        }

        /* Whatever matches, the thresholds are the top-level ones or a rule's. */
        t = conf_match(c, "nginx", "/usr/sbin/nginx", "nginx.service", &ignore);
        FUZZ_CHECK(t == &c->t || (c->n_rules > 0 && t >= &c->rules[0].t && t <= &c->rules[c->n_rules - 1].t));
        t = conf_match(c, NULL, NULL, NULL, &ignore);
        FUZZ_CHECK(t == &c->t && !ignore);
}

/* "PATH:LINE: message" with 1 <= LINE <= lines, or "PATH: message". Returns LINE, 0 for none. */
static unsigned check_message(const char *msg, unsigned lines) {
        size_t plen = strlen(PATH);
        const char *p = msg + plen + 1;
        unsigned long line = 0;

        FUZZ_CHECK(strncmp(msg, PATH ":", plen + 1) == 0);
        if (*p >= '1' && *p <= '9') {
                char *end;

                line = strtoul(p, &end, 10);
                FUZZ_CHECK(line >= 1 && line <= lines);
                FUZZ_CHECK(end[0] == ':');
                p = end + 1;
        }
        FUZZ_CHECK(p[0] == ' ' && p[1] != '\0');
        for (const char *s = msg; *s; s++)
                FUZZ_CHECK(*s >= 0x20 && *s < 0x7f);
        return (unsigned) line;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct conf_errors errs = {};
        unsigned char before[sizeof(struct conf)];
        struct conf c;
        unsigned lines = 1, last = 0;
        char *text;
        int r;

        text = malloc(size + 1);
        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = '\0';
        for (const char *s = text; *s; s++)
                lines += *s == '\n';

        /* A pattern no load writes, to see that a failed load leaves *ret alone. */
        memset(&c, 0xa5, sizeof(c));
        memcpy(before, &c, sizeof(c));

        r = conf_load_string(text, PATH, &c, &errs);
        FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ENOMEM);
        if (r == 0) {
                FUZZ_CHECK(errs.n == 0);
                check_conf(&c);
                conf_done(&c);
        } else {
                FUZZ_CHECK(memcmp((const unsigned char *) &c, before, sizeof(c)) == 0);
                FUZZ_CHECK(r != -EINVAL || errs.n > 0);
                for (size_t i = 0; i < errs.n; i++) {
                        unsigned line = check_message(errs.msgs[i], lines);

                        FUZZ_CHECK(line >= last);
                        last = line;
                }
        }

        conf_errors_done(&errs);
        free(text);
        return 0;
}
