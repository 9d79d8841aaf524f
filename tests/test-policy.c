/* Unit tests of policy: scans are hand-built reports and the clock is only the `now` passed in, so
 * every raise, hold, repeat and resolve is scripted to the second. Most of the state machine is
 * covered by scripts (one subject, a list of scans with the one event each must produce); the
 * rest (rules, pid reuse, the storm cap, ordering) are tests of their own. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test-util.h"

#include "conf.h"
#include "policy.h"

/* Scans start at 1000 s of uptime: nothing in policy may treat 0 as special. */
#define T0      (1000 * USEC_PER_SEC)
#define AT(sec) (T0 + (usec_t) (sec) *USEC_PER_SEC)
/* How old the sockets of a busy program are: never more than a moment. */
#define YOUNG_USEC (500 * USEC_PER_MSEC)

#define SCENE_MAX  64
#define SCENE_AGES 16384

/* A hand-built report: processes, listeners and TIME_WAIT groups, their ages in one pool. */
struct scene {
        struct report r;
        struct report_proc procs[SCENE_MAX];
        struct report_backlog backlogs[SCENE_MAX];
        struct report_tw tw[SCENE_MAX];
        usec_t ages[SCENE_AGES];
        size_t n_ages;
};

static void scene_reset(struct scene *sc) {
        sc->r = (struct report){ .procs = sc->procs, .backlogs = sc->backlogs, .tw = sc->tw, .age_pool = sc->ages };
        sc->n_ages = 0;
}

static struct scene *scene_new(void) {
        struct scene *sc = calloc(1, sizeof(*sc));

        assert_non_null(sc);
        scene_reset(sc);
        return sc;
}

/* n_old sockets old_age old, then n_young ones YOUNG_USEC old: oldest first, as report builds. */
static const usec_t *scene_ages(struct scene *sc, unsigned n_old, usec_t old_age, unsigned n_young) {
        usec_t *a = sc->ages + sc->n_ages;

        assert_true(sc->n_ages + n_old + n_young <= SCENE_AGES);
        for (unsigned k = 0; k < n_old; k++)
                a[k] = old_age;
        for (unsigned k = 0; k < n_young; k++)
                a[n_old + k] = YOUNG_USEC;
        sc->n_ages += n_old + n_young;
        return a;
}

static struct report_proc *scene_proc(struct scene *sc, const struct proc_info *info, unsigned n_old, usec_t old_age,
                                      unsigned n_young) {
        struct report_proc *p;

        assert_true(sc->r.n_procs < SCENE_MAX);
        p = &sc->procs[sc->r.n_procs++];
        *p = (struct report_proc){
                .info = info,
                .close_wait = n_old + n_young,
                .oldest_age_usec = n_old > 0     ? old_age
                                   : n_young > 0 ? YOUNG_USEC
                                                 : 0,
                .ages = scene_ages(sc, n_old, old_age, n_young),
        };
        sc->r.total_close_wait += n_old + n_young;
        return p;
}

static struct report_backlog *scene_backlog(struct scene *sc, struct diag_addr local, const struct proc_info *info,
                                            unsigned n_old, usec_t old_age, unsigned n_young) {
        struct report_backlog *b;

        assert_true(sc->r.n_backlogs < SCENE_MAX);
        b = &sc->backlogs[sc->r.n_backlogs++];
        *b = (struct report_backlog){
                .local = local,
                .info = info,
                .pids = info ? &info->pid : NULL,
                .n_pids = info ? 1 : 0,
                .close_wait = n_old + n_young,
                .oldest_age_usec = n_old > 0     ? old_age
                                   : n_young > 0 ? YOUNG_USEC
                                                 : 0,
                .ages = scene_ages(sc, n_old, old_age, n_young),
        };
        sc->r.total_accept_backlog += n_old + n_young;
        return b;
}

static struct report_tw *scene_tw(struct scene *sc, bool server, struct diag_addr addr, const struct proc_info *info,
                                  unsigned count) {
        struct report_tw *tw;

        assert_true(sc->r.n_tw < SCENE_MAX);
        tw = &sc->tw[sc->r.n_tw++];
        *tw = (struct report_tw){
                .server = server,
                .addr = addr,
                .info = server ? info : NULL,
                .pids = server && info ? &info->pid : NULL,
                .n_pids = server && info ? 1 : 0,
                .count = count,
                .oldest_age_usec = 30 * USEC_PER_SEC,
        };
        sc->r.total_time_wait += count;
        return tw;
}

static struct proc_info proc_info(pid_t pid, uint64_t start_time, const char *comm, const char *exe, const char *unit) {
        return (struct proc_info){
                .pid = pid,
                .start_time = start_time,
                .comm = (char *) comm,
                .exe = (char *) exe,
                .unit = (char *) unit,
                .uid = 1000,
                .open_fds = 10,
                .fd_limit = 0, /* unknown: no fd_pressure unless a test asks for it */
        };
}

struct scan {
        const struct policy_event *ev;
        size_t n;
        size_t suppressed;
};

static struct scan scan(struct policy *p, const struct conf *c, const struct scene *sc, usec_t now, size_t max_events) {
        struct scan s = { .suppressed = SIZE_MAX };

        assert_int_equal(policy_evaluate(p, c, &sc->r, now, max_events, &s.ev, &s.n, &s.suppressed), 0);
        if (s.n > 0)
                assert_non_null(s.ev);
        assert_true(s.suppressed != SIZE_MAX);
        return s;
}

static const char *type_name(enum policy_event_type t) {
        return t == POLICY_RAISE ? "RAISE" : t == POLICY_REPEAT ? "REPEAT" : "RESOLVE";
}

static bool same_double(double a, double b) {
        return a - b < 1e-9 && b - a < 1e-9;
}

/* ---- Scripts: one subject, one scan per step ---- */

enum expect {
        X_NONE, /* the zero value: a step expects no event unless it says so */
        X_RAISE,
        X_REPEAT,
        X_RESOLVE,
};

struct step {
        unsigned at_s;  /* seconds after T0; a step at 0 after the first ends the script */
        bool gone;      /* the subject is not in this scan's report */
        unsigned value; /* close_wait, accept_backlog: sockets age_s old; time_wait: sockets in the
                         * group; fd_pressure: open fds */
        unsigned young; /* close_wait, accept_backlog: sockets YOUNG_USEC old, besides */
        unsigned age_s; /* 0: 20 s, past the default hold */
        enum expect expect;
        unsigned count; /* of the event */
        unsigned duration_s;
        enum policy_reason reason; /* fd_pressure: always ratio */
        double threshold;          /* checked unless 0 */
};

struct script {
        const char *name;
        enum policy_kind kind;
        void (*setup)(struct conf *c); /* NULL: the defaults */
        int64_t fd_limit;              /* of the process; 0 = unknown */
        struct step steps[16];
};

static void age_off(struct conf *c) {
        c->t.close_wait.age_usec = 0;
}

static void age_off_no_repeat(struct conf *c) {
        age_off(c);
        c->repeat_usec = 0;
}

static void age_below_hold(struct conf *c) {
        c->t.close_wait.age_usec = 10 * USEC_PER_SEC;
}

static void ratio_off(struct conf *c) {
        c->t.fd_pressure.ratio = 0;
}

/* Defaults: close_wait 50 / age 300 s / hold 15 s, accept_backlog 10 / 15 s, time_wait 10000 /
 * 30 s, fd_pressure 0.8 / 15 s, clear_ratio 0.5, repeat 3600 s. */
static const struct script scripts[] = {
        {
                "close_wait: raise once, repeat, stay raised between clear level and threshold, resolve once",
                POLICY_CLOSE_WAIT,
                age_off,
                0,
                {
                        { .at_s = 0, .value = 10, .young = 60 },
                        { .at_s = 5, .value = 49, .young = 60 },
                        { .at_s = 10, .value = 50, .young = 60, .expect = X_RAISE, .count = 50, .threshold = 50 },
                        { .at_s = 15, .value = 80, .young = 60 },
                        { .at_s = 3605, .value = 80 },
                        { .at_s = 3610, .value = 80, .expect = X_REPEAT, .count = 80, .duration_s = 3600 },
                        { .at_s = 3615, .value = 40 },
                        { .at_s = 7210, .value = 40, .expect = X_REPEAT, .count = 40, .duration_s = 7200 },
                        { .at_s = 7215, .value = 26 },
                        { .at_s = 7220,
                          .value = 25,
                          .expect = X_RESOLVE,
                          .count = 25,
                          .duration_s = 7210,
                          .threshold = 50 },
                        { .at_s = 7225, .value = 25 },
                        { .at_s = 7230, .value = 60, .expect = X_RAISE, .count = 60 },
                },
        },
        {
                "close_wait: repeat 0 never repeats",
                POLICY_CLOSE_WAIT,
                age_off_no_repeat,
                0,
                {
                        { .at_s = 0, .value = 60, .expect = X_RAISE, .count = 60 },
                        { .at_s = 3600, .value = 60 },
                        { .at_s = 86400, .value = 60 },
                        { .at_s = 864000, .value = 60 },
                        { .at_s = 864005, .young = 5, .expect = X_RESOLVE, .duration_s = 864005 },
                },
        },
        {
                "close_wait: the process exits while raised",
                POLICY_CLOSE_WAIT,
                NULL,
                1024,
                {
                        { .at_s = 0, .value = 50, .expect = X_RAISE, .count = 50 },
                        { .at_s = 5, .gone = true, .expect = X_RESOLVE, .count = 0, .duration_s = 5 },
                        { .at_s = 10, .gone = true },
                        { .at_s = 15, .value = 50, .expect = X_RAISE, .count = 50 },
                },
        },
        {
                "close_wait: busy sockets just under hold are not stuck",
                POLICY_CLOSE_WAIT,
                NULL,
                0,
                {
                        { .at_s = 0, .value = 60, .age_s = 14 },
                        { .at_s = 5, .value = 49, .young = 1000 },
                        { .at_s = 10, .value = 60, .age_s = 15, .expect = X_RAISE, .count = 60 },
                },
        },
        {
                "close_wait: age reason",
                POLICY_CLOSE_WAIT,
                NULL,
                0,
                {
                        { .at_s = 0, .value = 3, .age_s = 299 },
                        { .at_s = 1,
                          .value = 3,
                          .age_s = 300,
                          .expect = X_RAISE,
                          .count = 3,
                          .reason = POLICY_REASON_AGE,
                          .threshold = 300 },
                        { .at_s = 2, .value = 3, .age_s = 200 },
                        { .at_s = 3,
                          .value = 3,
                          .age_s = 150,
                          .expect = X_RESOLVE,
                          .count = 3,
                          .duration_s = 2,
                          .reason = POLICY_REASON_AGE,
                          .threshold = 300 },
                },
        },
        {
                "close_wait: age 0 is off",
                POLICY_CLOSE_WAIT,
                age_off,
                0,
                {
                        { .at_s = 0, .value = 3, .age_s = 100000 },
                        { .at_s = 5, .value = 3, .age_s = 200000 },
                },
        },
        {
                "close_wait: an age below hold still needs the oldest socket stuck",
                POLICY_CLOSE_WAIT,
                age_below_hold,
                0,
                {
                        { .at_s = 0, .value = 3, .age_s = 12 },
                        { .at_s = 3,
                          .value = 3,
                          .age_s = 15,
                          .expect = X_RAISE,
                          .count = 3,
                          .reason = POLICY_REASON_AGE,
                          .threshold = 10 },
                },
        },
        {
                "close_wait: clearing needs every enabled reason low",
                POLICY_CLOSE_WAIT,
                NULL,
                0,
                {
                        { .at_s = 0, .value = 60, .age_s = 400, .expect = X_RAISE, .count = 60, .threshold = 50 },
                        { .at_s = 5, .value = 10, .age_s = 400 },
                        { .at_s = 10, .value = 10, .age_s = 100, .expect = X_RESOLVE, .count = 10, .duration_s = 10 },
                },
        },
        {
                "accept_backlog: raise, hysteresis, clear",
                POLICY_ACCEPT_BACKLOG,
                NULL,
                0,
                {
                        { .at_s = 0, .value = 9, .young = 50 },
                        { .at_s = 5, .value = 10, .expect = X_RAISE, .count = 10, .threshold = 10 },
                        { .at_s = 10, .value = 6, .young = 50 },
                        { .at_s = 15, .value = 5, .young = 50, .expect = X_RESOLVE, .count = 5, .duration_s = 10 },
                        { .at_s = 20, .value = 5 },
                },
        },
        {
                "accept_backlog: young connections are not stuck",
                POLICY_ACCEPT_BACKLOG,
                NULL,
                0,
                {
                        { .at_s = 0, .young = 500 },
                        { .at_s = 5, .value = 30, .age_s = 14 },
                        { .at_s = 10, .value = 30, .age_s = 15, .expect = X_RAISE, .count = 30 },
                },
        },
        {
                "accept_backlog: the listener closes while raised",
                POLICY_ACCEPT_BACKLOG,
                NULL,
                0,
                {
                        { .at_s = 0, .value = 12, .expect = X_RAISE, .count = 12 },
                        { .at_s = 5, .gone = true, .expect = X_RESOLVE, .count = 0, .duration_s = 5 },
                        { .at_s = 10, .gone = true },
                },
        },
        {
                "time_wait: must stay over for hold, a dip resets it, clears through hysteresis",
                POLICY_TIME_WAIT,
                NULL,
                0,
                {
                        { .at_s = 0, .value = 10000 },
                        { .at_s = 10, .value = 12000 },
                        { .at_s = 20, .value = 9999 },
                        { .at_s = 25, .value = 10000 },
                        { .at_s = 50, .value = 10500 },
                        { .at_s = 55, .value = 10500, .expect = X_RAISE, .count = 10500, .threshold = 10000 },
                        { .at_s = 60, .value = 6000 },
                        { .at_s = 65, .value = 5000, .expect = X_RESOLVE, .count = 5000, .duration_s = 10 },
                        { .at_s = 70, .value = 20000 },
                },
        },
        {
                "time_wait: an empty group resets the hold, and resolves a raised alert",
                POLICY_TIME_WAIT,
                NULL,
                0,
                {
                        { .at_s = 0, .value = 20000 },
                        { .at_s = 20, .gone = true },
                        { .at_s = 30, .value = 20000 },
                        { .at_s = 55, .value = 20000 },
                        { .at_s = 60, .value = 20000, .expect = X_RAISE, .count = 20000 },
                        { .at_s = 65, .gone = true, .expect = X_RESOLVE, .count = 0, .duration_s = 5 },
                        { .at_s = 70, .gone = true },
                },
        },
        {
                "fd_pressure: hold, raise, hysteresis, clear",
                POLICY_FD_PRESSURE,
                NULL,
                1000,
                {
                        { .at_s = 0, .value = 800 },
                        { .at_s = 10, .value = 850 },
                        { .at_s = 15, .value = 900, .expect = X_RAISE, .count = 1, .threshold = 0.8 },
                        { .at_s = 20, .value = 500 },
                        { .at_s = 25,
                          .value = 400,
                          .expect = X_RESOLVE,
                          .count = 1,
                          .duration_s = 10,
                          .threshold = 0.8 },
                },
        },
        {
                /* A busy server near its limit whose CLOSE_WAIT sockets are all milliseconds old
                 * leaks nothing: no fd_pressure alert. */
                "fd_pressure: only young CLOSE_WAIT sockets never alert",
                POLICY_FD_PRESSURE,
                NULL,
                1000,
                {
                        { .at_s = 0, .value = 950, .young = 30 },
                        { .at_s = 20, .value = 950, .young = 30 },
                        { .at_s = 100, .value = 990, .young = 30 },
                },
        },
        {
                "fd_pressure: a dip resets the hold",
                POLICY_FD_PRESSURE,
                NULL,
                1000,
                {
                        { .at_s = 0, .value = 800 },
                        { .at_s = 10, .value = 799 },
                        { .at_s = 20, .value = 800 },
                        { .at_s = 30, .value = 800 },
                        { .at_s = 35, .value = 800, .expect = X_RAISE, .count = 1 },
                },
        },
        {
                "fd_pressure: the process exits while raised",
                POLICY_FD_PRESSURE,
                NULL,
                1000,
                {
                        { .at_s = 0, .value = 900 },
                        { .at_s = 15, .value = 900, .expect = X_RAISE, .count = 1 },
                        { .at_s = 20, .gone = true, .expect = X_RESOLVE, .count = 0, .duration_s = 5 },
                },
        },
        {
                "fd_pressure: an unlimited limit never alerts",
                POLICY_FD_PRESSURE,
                NULL,
                -1,
                {
                        { .at_s = 0, .value = 100000 },
                        { .at_s = 100, .value = 100000 },
                },
        },
        {
                "fd_pressure: an unknown limit never alerts",
                POLICY_FD_PRESSURE,
                NULL,
                0,
                {
                        { .at_s = 0, .value = 100000 },
                        { .at_s = 100, .value = 100000 },
                },
        },
        {
                "fd_pressure: ratio 0 is off",
                POLICY_FD_PRESSURE,
                ratio_off,
                1000,
                {
                        { .at_s = 0, .value = 1000 },
                        { .at_s = 100, .value = 1000 },
                },
        },
};

static void check_event(const struct script *s, size_t k, const struct policy_event *ev, const void *present,
                        const struct proc_info *info) {
        const struct step *st = &s->steps[k];
        enum policy_event_type want_type = st->expect == X_RAISE    ? POLICY_RAISE
                                           : st->expect == X_REPEAT ? POLICY_REPEAT
                                                                    : POLICY_RESOLVE;
        enum policy_reason want_reason = s->kind == POLICY_FD_PRESSURE ? POLICY_REASON_RATIO : st->reason;
        const void *got;
        char ctx[256];

        snprintf(ctx, sizeof(ctx), "%s, step %zu (t=%us)", s->name, k, st->at_s);
        if (ev->type != want_type)
                fail_msg("%s: %s, expected %s", ctx, type_name(ev->type), type_name(want_type));
        if (ev->subject->kind != s->kind || ev->subject->pid != info->pid)
                fail_msg("%s: wrong subject (kind %d, pid %d)", ctx, ev->subject->kind, (int) ev->subject->pid);
        if (ev->count != st->count)
                fail_msg("%s: count %u, expected %u", ctx, ev->count, st->count);
        if (ev->reason != want_reason)
                fail_msg("%s: reason %s, expected %s", ctx, policy_reason_name(ev->reason),
                         policy_reason_name(want_reason));
        if (st->threshold != 0 && !same_double(ev->threshold, st->threshold))
                fail_msg("%s: threshold %g, expected %g", ctx, ev->threshold, st->threshold);
        if (ev->duration_usec != (usec_t) st->duration_s * USEC_PER_SEC)
                fail_msg("%s: duration %llu us, expected %u s", ctx, (unsigned long long) ev->duration_usec,
                         st->duration_s);

        got = s->kind == POLICY_ACCEPT_BACKLOG ? (const void *) ev->backlog
              : s->kind == POLICY_TIME_WAIT    ? (const void *) ev->tw
                                               : (const void *) ev->proc;
        if (got != present)
                fail_msg("%s: the event points to %p, expected %p", ctx, got, present);
        if (s->kind == POLICY_CLOSE_WAIT || s->kind == POLICY_FD_PRESSURE) {
                unsigned fds = st->gone ? 0 : info->open_fds;
                int64_t limit = st->gone ? -1 : info->fd_limit;

                if (ev->fds != fds || ev->fd_limit != limit)
                        fail_msg("%s: fds %u/%lld, expected %u/%lld", ctx, ev->fds, (long long) ev->fd_limit, fds,
                                 (long long) limit);
        }
}

static void run_script(const struct script *s) {
        struct scene *sc = scene_new();
        struct proc_info info = proc_info(4242, 777, "leaky", "/usr/bin/leaky", "leaky.service");
        struct diag_addr where = test_addr("10.0.0.1", 6379);
        struct policy *p;
        struct conf c;

        conf_defaults(&c);
        if (s->setup)
                s->setup(&c);
        info.fd_limit = s->fd_limit;
        assert_int_equal(policy_new(&p), 0);

        for (size_t k = 0; k < ELEMENTSOF(s->steps) && (k == 0 || s->steps[k].at_s > 0); k++) {
                const struct step *st = &s->steps[k];
                usec_t age = (usec_t) (st->age_s > 0 ? st->age_s : 20) * USEC_PER_SEC;
                const void *present = NULL;
                struct scan r;

                scene_reset(sc);
                info.open_fds = s->kind == POLICY_FD_PRESSURE ? st->value : 10;
                if (!st->gone) {
                        switch (s->kind) {
                        case POLICY_CLOSE_WAIT:
                                present = scene_proc(sc, &info, st->value, age, st->young);
                                break;
                        case POLICY_FD_PRESSURE: /* one stuck socket, unless the step says young */
                                present = scene_proc(sc, &info, st->young ? 0 : 1, 20 * USEC_PER_SEC, st->young);
                                break;
                        case POLICY_ACCEPT_BACKLOG:
                                present = scene_backlog(sc, where, &info, st->value, age, st->young);
                                break;
                        case POLICY_TIME_WAIT:
                        default:
                                present = scene_tw(sc, true, where, &info, st->value);
                                break;
                        }
                }
                r = scan(p, &c, sc, AT(st->at_s), 0);
                if (st->expect == X_NONE) {
                        if (r.n != 0)
                                fail_msg("%s, step %zu (t=%us): unexpected %s %s", s->name, k, st->at_s,
                                         policy_kind_name(r.ev[0].subject->kind), type_name(r.ev[0].type));
                        continue;
                }
                if (r.n != 1)
                        fail_msg("%s, step %zu (t=%us): %zu events, expected one", s->name, k, st->at_s, r.n);
                check_event(s, k, &r.ev[0], present, &info);
        }
        policy_free(p);
        free(sc);
}

static void test_scripts_close_wait(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(scripts); i++)
                if (scripts[i].kind == POLICY_CLOSE_WAIT)
                        run_script(&scripts[i]);
}

static void test_scripts_accept_backlog(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(scripts); i++)
                if (scripts[i].kind == POLICY_ACCEPT_BACKLOG)
                        run_script(&scripts[i]);
}

static void test_scripts_time_wait(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(scripts); i++)
                if (scripts[i].kind == POLICY_TIME_WAIT)
                        run_script(&scripts[i]);
}

static void test_scripts_fd_pressure(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(scripts); i++)
                if (scripts[i].kind == POLICY_FD_PRESSURE)
                        run_script(&scripts[i]);
}

/* ---- Single behaviours ---- */

/* A busy client closes its sockets within a second: 60 CLOSE_WAIT sockets at every scan, for
 * hours, never an alert. */
static void test_busy_client(void **state) {
        struct scene *sc = scene_new();
        struct proc_info info = proc_info(500, 1, "client", "/usr/bin/client", NULL);
        struct policy *p;
        struct conf c;
        uint32_t rnd = 12345;

        conf_defaults(&c);
        info.fd_limit = 1024;
        assert_int_equal(policy_new(&p), 0);
        for (unsigned k = 0; k < 2000; k++) {
                struct report_proc *rp;
                usec_t *ages = sc->ages;
                struct scan r;

                scene_reset(sc);
                rp = scene_proc(sc, &info, 0, 0, 60);
                /* Ages from 1 to 999 ms, oldest first. */
                for (unsigned i = 0; i < 60; i++) {
                        rnd = rnd * 1103515245u + 12345u;
                        ages[i] = (1 + (rnd >> 16) % 999) * USEC_PER_MSEC;
                }
                for (unsigned i = 1; i < 60; i++)
                        for (unsigned j = i; j > 0 && ages[j - 1] < ages[j]; j--) {
                                usec_t t = ages[j];

                                ages[j] = ages[j - 1];
                                ages[j - 1] = t;
                        }
                rp->oldest_age_usec = ages[0];
                r = scan(p, &c, sc, AT(5 * k), 0);
                if (r.n != 0)
                        fail_msg("scan %u: a busy client raised %s", k, policy_kind_name(r.ev[0].subject->kind));
        }
        assert_int_equal(policy_active(p, NULL), 0);
        policy_free(p);
        free(sc);
}

/* Every field of a raise, and a subject that is a copy: it outlives the process's strings and
 * keeps the first name when the process renames itself. */
static void test_raise_fields_and_snapshot(void **state) {
        struct scene *sc = scene_new();
        char *comm = strdup("leaky"), *exe = strdup("/usr/bin/leaky"), *unit = strdup("leaky.service");
        struct proc_info info = proc_info(4242, 777, comm, exe, unit);
        struct report_proc *rp;
        struct policy *p;
        struct conf c;
        struct scan r;

        assert_non_null(comm);
        assert_non_null(exe);
        assert_non_null(unit);
        conf_defaults(&c);
        info.open_fds = 300;
        info.fd_limit = 1024;
        assert_int_equal(policy_new(&p), 0);

        rp = scene_proc(sc, &info, 55, 40 * USEC_PER_SEC, 7);
        r = scan(p, &c, sc, AT(0), 0);
        assert_int_equal(r.n, 1);
        assert_int_equal(r.suppressed, 0);
        assert_int_equal(r.ev[0].type, POLICY_RAISE);
        assert_int_equal(r.ev[0].reason, POLICY_REASON_COUNT);
        assert_int_equal(r.ev[0].subject->kind, POLICY_CLOSE_WAIT);
        assert_int_equal(r.ev[0].subject->pid, 4242);
        assert_int_equal(r.ev[0].subject->start_time, 777);
        assert_string_equal(r.ev[0].subject->comm, "leaky");
        assert_string_equal(r.ev[0].subject->exe, "/usr/bin/leaky");
        assert_string_equal(r.ev[0].subject->unit, "leaky.service");
        assert_ptr_not_equal(r.ev[0].subject->comm, comm);
        assert_int_equal(r.ev[0].count, 55);
        assert_true(same_double(r.ev[0].threshold, 50));
        assert_int_equal(r.ev[0].oldest_age_usec, 40 * USEC_PER_SEC);
        assert_int_equal(r.ev[0].fds, 300);
        assert_int_equal(r.ev[0].fd_limit, 1024);
        assert_int_equal(r.ev[0].duration_usec, 0);
        assert_ptr_equal(r.ev[0].proc, rp);
        assert_null(r.ev[0].backlog);
        assert_null(r.ev[0].tw);

        /* The process renames itself (exec): the alert still names what it was raised about. */
        free(comm);
        free(exe);
        free(unit);
        info = proc_info(4242, 777, "renamed", NULL, NULL);
        scene_reset(sc);
        scene_proc(sc, &info, 55, 40 * USEC_PER_SEC, 0);
        r = scan(p, &c, sc, AT(3600), 0);
        assert_int_equal(r.n, 1);
        assert_int_equal(r.ev[0].type, POLICY_REPEAT);
        assert_string_equal(r.ev[0].subject->comm, "leaky");
        assert_string_equal(r.ev[0].subject->unit, "leaky.service");

        /* Gone: the resolve still names it, and the subject lives until the next evaluate. */
        scene_reset(sc);
        r = scan(p, &c, sc, AT(3605), 0);
        assert_int_equal(r.n, 1);
        assert_int_equal(r.ev[0].type, POLICY_RESOLVE);
        assert_null(r.ev[0].proc);
        assert_int_equal(policy_active(p, NULL), 0);
        assert_string_equal(r.ev[0].subject->comm, "leaky");
        assert_int_equal(r.ev[0].duration_usec, 3605 * USEC_PER_SEC);
        r = scan(p, &c, sc, AT(3610), 0);
        assert_int_equal(r.n, 0);
        policy_free(p);
        free(sc);
}

/* A reused pid is another process: the old one resolves as gone, the new one starts afresh. */
static void test_pid_reuse(void **state) {
        struct scene *sc = scene_new();
        struct proc_info old = proc_info(100, 1, "old", "/usr/bin/old", NULL);
        struct proc_info new = proc_info(100, 2, "new", "/usr/bin/new", NULL);
        struct report_proc *rp;
        struct policy *p;
        struct conf c;
        struct scan r;

        conf_defaults(&c);
        assert_int_equal(policy_new(&p), 0);
        scene_proc(sc, &old, 60, 20 * USEC_PER_SEC, 0);
        r = scan(p, &c, sc, AT(0), 0);
        assert_int_equal(r.n, 1);
        assert_int_equal(r.ev[0].type, POLICY_RAISE);

        scene_reset(sc);
        rp = scene_proc(sc, &new, 70, 20 * USEC_PER_SEC, 0);
        r = scan(p, &c, sc, AT(5), 0);
        assert_int_equal(r.n, 2);
        assert_int_equal(r.ev[0].type, POLICY_RAISE);
        assert_int_equal(r.ev[0].subject->start_time, 2);
        assert_string_equal(r.ev[0].subject->comm, "new");
        assert_ptr_equal(r.ev[0].proc, rp);
        assert_int_equal(r.ev[0].count, 70);
        assert_int_equal(r.ev[1].type, POLICY_RESOLVE);
        assert_int_equal(r.ev[1].subject->start_time, 1);
        assert_string_equal(r.ev[1].subject->comm, "old");
        assert_null(r.ev[1].proc);
        assert_int_equal(r.ev[1].count, 0);
        assert_int_equal(r.ev[1].duration_usec, 5 * USEC_PER_SEC);

        r = scan(p, &c, sc, AT(10), 0);
        assert_int_equal(r.n, 0);
        assert_int_equal(policy_active(p, NULL), 1);
        policy_free(p);
        free(sc);
}

/* Rules pick the thresholds of a process: table of processes against one rule set. */
static void test_rules(void **state) {
        char unit_glob[] = "nginx.service", comm_glob[] = "java*", exe_glob[] = "/usr/sbin/haproxy";
        struct conf_rule rules[3];
        static const struct {
                const char *comm, *exe, *unit;
                unsigned stuck, age_s;
                bool raise;
                enum policy_reason reason;
                double threshold;
        } cases[] = {
                { "nginx", "/usr/sbin/nginx", "nginx.service", 100, 20, false, 0, 0 },
                { "nginx", "/usr/sbin/nginx", "nginx.service", 500, 20, true, POLICY_REASON_COUNT, 500 },
                { "nginx", "/usr/sbin/nginx", NULL, 100, 20, true, POLICY_REASON_COUNT, 50 }, /* no unit */
                { "redis", "/usr/bin/redis", "redis.service", 100, 20, true, POLICY_REASON_COUNT, 50 },
                { "java", "/usr/bin/java", NULL, 3, 400, false, 0, 0 },
                { "java-worker", "/usr/bin/java", NULL, 3, 900, true, POLICY_REASON_AGE, 900 },
                { "notjava", "/usr/bin/x", NULL, 3, 400, true, POLICY_REASON_AGE, 300 }, /* globs are anchored */
                { "haproxy", "/usr/sbin/haproxy", NULL, 1000, 10000, false, 0, 0 },
                { "haproxy", "/usr/sbin/haproxy2", NULL, 1000, 20, true, POLICY_REASON_COUNT, 50 },
        };
        struct conf c;

        conf_defaults(&c);
        rules[0] = (struct conf_rule){ .unit = unit_glob, .t = c.t };
        rules[0].t.close_wait.count = 500;
        rules[1] = (struct conf_rule){ .comm = comm_glob, .t = c.t };
        rules[1].t.close_wait.age_usec = 900 * USEC_PER_SEC;
        rules[2] = (struct conf_rule){ .exe = exe_glob, .ignore = true, .t = c.t };
        c.rules = rules;
        c.n_rules = ELEMENTSOF(rules);

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct scene *sc = scene_new();
                struct proc_info info = proc_info(10, 1, cases[i].comm, cases[i].exe, cases[i].unit);
                struct policy *p;
                struct scan r;

                assert_int_equal(policy_new(&p), 0);
                scene_proc(sc, &info, cases[i].stuck, (usec_t) cases[i].age_s * USEC_PER_SEC, 0);
                r = scan(p, &c, sc, AT(0), 0);
                if (r.n != (cases[i].raise ? 1 : 0))
                        fail_msg("case %zu (%s): %zu events", i, cases[i].comm, r.n);
                if (cases[i].raise &&
                    (r.ev[0].reason != cases[i].reason || !same_double(r.ev[0].threshold, cases[i].threshold)))
                        fail_msg("case %zu (%s): reason %s threshold %g", i, cases[i].comm,
                                 policy_reason_name(r.ev[0].reason), r.ev[0].threshold);
                policy_free(p);
                free(sc);
        }
}

/* An ignored process raises nothing, of any kind; an alert raised before a reload made the
 * process ignored resolves; the reload back raises it again. */
static void test_ignore_and_reload(void **state) {
        struct scene *sc = scene_new();
        char exe_glob[] = "/usr/sbin/haproxy";
        struct proc_info info = proc_info(77, 5, "haproxy", "/usr/sbin/haproxy", "haproxy.service");
        struct report_proc *rp;
        struct conf_rule rule;
        struct conf plain, ignoring;
        struct policy *p;
        struct scan r;

        conf_defaults(&plain);
        conf_defaults(&ignoring);
        rule = (struct conf_rule){ .exe = exe_glob, .ignore = true, .t = ignoring.t };
        ignoring.rules = &rule;
        ignoring.n_rules = 1;
        info.open_fds = 1000;
        info.fd_limit = 1000;
        assert_int_equal(policy_new(&p), 0);

        rp = scene_proc(sc, &info, 100, 400 * USEC_PER_SEC, 0);
        for (unsigned t = 0; t <= 60; t += 5) {
                r = scan(p, &ignoring, sc, AT(t), 0);
                assert_int_equal(r.n, 0);
        }

        r = scan(p, &plain, sc, AT(65), 0);
        assert_int_equal(r.n, 1); /* close_wait at once; fd_pressure must hold first */
        assert_int_equal(r.ev[0].subject->kind, POLICY_CLOSE_WAIT);
        r = scan(p, &plain, sc, AT(80), 0);
        assert_int_equal(r.n, 1);
        assert_int_equal(r.ev[0].subject->kind, POLICY_FD_PRESSURE);
        assert_int_equal(policy_active(p, NULL), 2);

        r = scan(p, &ignoring, sc, AT(85), 0);
        assert_int_equal(r.n, 2);
        assert_int_equal(r.ev[0].type, POLICY_RESOLVE);
        assert_int_equal(r.ev[0].subject->kind, POLICY_FD_PRESSURE);
        assert_int_equal(r.ev[0].duration_usec, 5 * USEC_PER_SEC);
        assert_int_equal(r.ev[1].type, POLICY_RESOLVE);
        assert_int_equal(r.ev[1].subject->kind, POLICY_CLOSE_WAIT);
        assert_int_equal(r.ev[1].duration_usec, 20 * USEC_PER_SEC);
        assert_ptr_equal(r.ev[1].proc, rp); /* ignored, not gone */
        assert_int_equal(policy_active(p, NULL), 0);
        r = scan(p, &ignoring, sc, AT(90), 0);
        assert_int_equal(r.n, 0);

        r = scan(p, &plain, sc, AT(95), 0);
        assert_int_equal(r.n, 1);
        assert_int_equal(r.ev[0].type, POLICY_RAISE);
        policy_free(p);
        free(sc);
}

/* Listeners and server-side TIME_WAIT groups use their owner's rule; groups without an owner use
 * the top level. */
static void test_owner_rules(void **state) {
        struct scene *sc = scene_new();
        char nginx_glob[] = "nginx.service", ignored_glob[] = "batch.service";
        struct proc_info nginx = proc_info(80, 1, "nginx", "/usr/sbin/nginx", "nginx.service");
        struct proc_info batch = proc_info(90, 1, "batch", "/usr/bin/batch", "batch.service");
        struct conf_rule rules[2];
        struct conf c;
        struct policy *p;
        struct scan r;
        bool seen[2] = {};

        conf_defaults(&c);
        c.t.time_wait.hold_usec = 0;
        rules[0] = (struct conf_rule){ .unit = nginx_glob, .t = c.t };
        rules[0].t.accept_backlog.count = 100;
        rules[0].t.time_wait.count = 50000;
        rules[1] = (struct conf_rule){ .unit = ignored_glob, .ignore = true, .t = c.t };
        c.rules = rules;
        c.n_rules = ELEMENTSOF(rules);
        assert_int_equal(policy_new(&p), 0);

        /* nginx's listener, under its 100: nothing; unknown owner, top level 10: raise;
         * ignored owner: nothing. */
        scene_backlog(sc, test_addr("0.0.0.0", 80), &nginx, 20, 20 * USEC_PER_SEC, 0);
        scene_backlog(sc, test_addr("0.0.0.0", 81), NULL, 20, 20 * USEC_PER_SEC, 0);
        scene_backlog(sc, test_addr("0.0.0.0", 82), &batch, 20, 20 * USEC_PER_SEC, 0);
        /* nginx's server side, under its 50000: nothing; client side, top level 10000: raise;
         * ignored owner's server side: nothing. */
        scene_tw(sc, true, test_addr("0.0.0.0", 80), &nginx, 20000);
        scene_tw(sc, false, test_addr("10.0.0.9", 5432), NULL, 20000);
        scene_tw(sc, true, test_addr("0.0.0.0", 82), &batch, 20000);

        r = scan(p, &c, sc, AT(0), 0);
        for (size_t i = 0; i < r.n; i++) {
                const struct policy_subject *s = r.ev[i].subject;

                if (s->kind == POLICY_ACCEPT_BACKLOG && s->addr.port == 81 && s->pid == 0 && !s->comm)
                        seen[0] = true;
                else if (s->kind == POLICY_TIME_WAIT && !s->server && s->addr.port == 5432 && s->pid == 0)
                        seen[1] = true;
                else
                        fail_msg("unexpected %s alert on port %u", policy_kind_name(s->kind), s->addr.port);
                assert_true(same_double(r.ev[i].threshold, s->kind == POLICY_TIME_WAIT ? 10000 : 10));
        }
        assert_true(seen[0]);
        assert_true(seen[1]);
        assert_int_equal(r.n, 2);
        policy_free(p);
        free(sc);
}

/* 50 processes start leaking in the same scan, 10 events a scan: the 10 largest first, the rest
 * at the following scans, each exactly once; the same for their resolves. */
static void test_storm_cap(void **state) {
        struct scene *sc = scene_new();
        struct proc_info infos[50];
        unsigned raised[50] = {}, resolved[50] = {};
        usec_t raised_at[50] = {};
        struct policy *p;
        struct conf c;
        struct scan r;
        unsigned counts[_POLICY_KIND_MAX];

        conf_defaults(&c);
        assert_int_equal(policy_new(&p), 0);
        for (unsigned i = 0; i < 50; i++) {
                infos[i] = proc_info((pid_t) (1000 + i), 1, "worker", "/usr/bin/worker", NULL);
                scene_proc(sc, &infos[i], 60 + i, 20 * USEC_PER_SEC, 0);
        }

        for (unsigned k = 0; k < 6; k++) {
                r = scan(p, &c, sc, AT(5 * k), 10);
                if (k < 5) {
                        assert_int_equal(r.n, 10);
                        assert_int_equal(r.suppressed, 40 - 10 * k);
                } else {
                        assert_int_equal(r.n, 0);
                        assert_int_equal(r.suppressed, 0);
                }
                for (size_t e = 0; e < r.n; e++) {
                        unsigned i = (unsigned) (r.ev[e].subject->pid - 1000);

                        assert_int_equal(r.ev[e].type, POLICY_RAISE);
                        /* Largest first: scan k delivers processes 49-10k .. 40-10k in order. */
                        assert_int_equal(i, 49 - 10 * k - e);
                        raised[i]++;
                        raised_at[i] = AT(5 * k);
                }
                assert_int_equal(policy_active(p, counts), 10 * (k < 5 ? k + 1 : 5));
        }
        for (unsigned i = 0; i < 50; i++)
                assert_int_equal(raised[i], 1);
        assert_int_equal(counts[POLICY_CLOSE_WAIT], 50);

        /* All exit at once: the resolves are capped the same way, durations per alert. */
        scene_reset(sc);
        for (unsigned k = 0; k < 6; k++) {
                usec_t now = AT(100 + 5 * k);

                r = scan(p, &c, sc, now, 10);
                assert_int_equal(r.n, k < 5 ? 10 : 0);
                assert_int_equal(r.suppressed, k < 5 ? 40 - 10 * k : 0);
                for (size_t e = 0; e < r.n; e++) {
                        unsigned i = (unsigned) (r.ev[e].subject->pid - 1000);

                        assert_int_equal(r.ev[e].type, POLICY_RESOLVE);
                        assert_null(r.ev[e].proc);
                        assert_int_equal(r.ev[e].duration_usec, now - raised_at[i]);
                        resolved[i]++;
                }
        }
        for (unsigned i = 0; i < 50; i++)
                assert_int_equal(resolved[i], 1);
        assert_int_equal(policy_active(p, NULL), 0);

        /* max_events 0: no cap. */
        scene_reset(sc);
        for (unsigned i = 0; i < 50; i++)
                scene_proc(sc, &infos[i], 60 + i, 20 * USEC_PER_SEC, 0);
        r = scan(p, &c, sc, AT(200), 0);
        assert_int_equal(r.n, 50);
        assert_int_equal(r.suppressed, 0);
        policy_free(p);
        free(sc);
}

/* A suppressed event does not advance its state: a held TIME_WAIT raise comes out at the next
 * scan (not after another hold), a held resolve at a later one with the full duration. */
static void test_suppressed_state_does_not_advance(void **state) {
        struct scene *sc = scene_new();
        struct proc_info a = proc_info(10, 1, "a", "/usr/bin/a", NULL);
        struct proc_info b = proc_info(11, 1, "b", "/usr/bin/b", NULL);
        struct diag_addr group = test_addr("10.0.0.9", 5432);
        struct policy *p;
        struct conf c;
        struct scan r;

        conf_defaults(&c);
        assert_int_equal(policy_new(&p), 0);

        scene_tw(sc, false, group, NULL, 20000);
        r = scan(p, &c, sc, AT(0), 1);
        assert_int_equal(r.n, 0);

        /* Hold reached for the group, and a process leaks: close_wait goes first. */
        scene_proc(sc, &a, 60, 20 * USEC_PER_SEC, 0);
        r = scan(p, &c, sc, AT(30), 1);
        assert_int_equal(r.n, 1);
        assert_int_equal(r.suppressed, 1);
        assert_int_equal(r.ev[0].subject->kind, POLICY_CLOSE_WAIT);

        r = scan(p, &c, sc, AT(35), 1);
        assert_int_equal(r.n, 1);
        assert_int_equal(r.suppressed, 0);
        assert_int_equal(r.ev[0].type, POLICY_RAISE);
        assert_int_equal(r.ev[0].subject->kind, POLICY_TIME_WAIT);

        /* a exits while b starts leaking: the raise goes first, the resolve waits. */
        scene_reset(sc);
        scene_tw(sc, false, group, NULL, 20000);
        scene_proc(sc, &b, 60, 20 * USEC_PER_SEC, 0);
        r = scan(p, &c, sc, AT(40), 1);
        assert_int_equal(r.n, 1);
        assert_int_equal(r.suppressed, 1);
        assert_int_equal(r.ev[0].type, POLICY_RAISE);
        assert_int_equal(r.ev[0].subject->pid, 11);
        assert_int_equal(policy_active(p, NULL), 3);

        r = scan(p, &c, sc, AT(45), 1);
        assert_int_equal(r.n, 1);
        assert_int_equal(r.suppressed, 0);
        assert_int_equal(r.ev[0].type, POLICY_RESOLVE);
        assert_int_equal(r.ev[0].subject->pid, 10);
        assert_int_equal(r.ev[0].duration_usec, 15 * USEC_PER_SEC);
        assert_int_equal(policy_active(p, NULL), 2);

        /* A held repeat comes out at the next scan, and the next one is due a repeat later. */
        c.repeat_usec = 100 * USEC_PER_SEC;
        r = scan(p, &c, sc, AT(140), 1); /* both due: close_wait goes first, the group waits */
        assert_int_equal(r.n, 1);
        assert_int_equal(r.suppressed, 1);
        assert_int_equal(r.ev[0].type, POLICY_REPEAT);
        assert_int_equal(r.ev[0].subject->kind, POLICY_CLOSE_WAIT);
        r = scan(p, &c, sc, AT(145), 1);
        assert_int_equal(r.n, 1);
        assert_int_equal(r.ev[0].type, POLICY_REPEAT);
        assert_int_equal(r.ev[0].subject->kind, POLICY_TIME_WAIT);
        assert_int_equal(r.ev[0].duration_usec, 110 * USEC_PER_SEC);
        r = scan(p, &c, sc, AT(239), 1);
        assert_int_equal(r.n, 0);
        r = scan(p, &c, sc, AT(240), 1);
        assert_int_equal(r.n, 1);
        assert_int_equal(r.ev[0].subject->kind, POLICY_CLOSE_WAIT);
        policy_free(p);
        free(sc);
}

/* One scan with every kind: fd_pressure, close_wait (larger first, equal counts by pid),
 * accept_backlog, time_wait, then resolves; the cap takes a prefix of that order. */
static void test_ordering(void **state) {
        static const struct {
                enum policy_kind kind;
                enum policy_event_type type;
                pid_t pid;
        } want[] = {
                { POLICY_FD_PRESSURE, POLICY_RAISE, 5 },    { POLICY_CLOSE_WAIT, POLICY_RAISE, 4 },
                { POLICY_CLOSE_WAIT, POLICY_RAISE, 2 },     { POLICY_CLOSE_WAIT, POLICY_RAISE, 3 },
                { POLICY_ACCEPT_BACKLOG, POLICY_RAISE, 2 }, { POLICY_TIME_WAIT, POLICY_RAISE, 0 },
                { POLICY_CLOSE_WAIT, POLICY_RESOLVE, 9 },
        };
        struct proc_info gone = proc_info(9, 1, "gone", NULL, NULL);
        struct proc_info a = proc_info(2, 1, "a", NULL, NULL), b = proc_info(3, 1, "b", NULL, NULL);
        struct proc_info big = proc_info(4, 1, "big", NULL, NULL), fd = proc_info(5, 1, "fd", NULL, NULL);
        struct conf c;

        conf_defaults(&c);
        c.t.time_wait.hold_usec = 0;
        c.t.fd_pressure.hold_usec = 0;
        fd.open_fds = 950;
        fd.fd_limit = 1000;

        for (size_t cap = 0; cap <= ELEMENTSOF(want); cap++) {
                struct scene *sc = scene_new();
                struct policy *p;
                struct scan r;
                size_t n = cap == 0 ? ELEMENTSOF(want) : cap;

                assert_int_equal(policy_new(&p), 0);
                scene_proc(sc, &gone, 500, 20 * USEC_PER_SEC, 0);
                r = scan(p, &c, sc, AT(0), 0);
                assert_int_equal(r.n, 1);

                scene_reset(sc);
                scene_tw(sc, false, test_addr("10.0.0.9", 5432), NULL, 90000);
                scene_backlog(sc, test_addr("0.0.0.0", 80), &a, 300, 20 * USEC_PER_SEC, 0);
                scene_proc(sc, &b, 60, 20 * USEC_PER_SEC, 0);
                scene_proc(sc, &a, 60, 20 * USEC_PER_SEC, 0);
                scene_proc(sc, &big, 80, 20 * USEC_PER_SEC, 0);
                scene_proc(sc, &fd, 3, 20 * USEC_PER_SEC, 0);
                r = scan(p, &c, sc, AT(5), cap);
                assert_int_equal(r.n, n);
                assert_int_equal(r.suppressed, ELEMENTSOF(want) - n);
                for (size_t i = 0; i < n; i++)
                        if (r.ev[i].subject->kind != want[i].kind || r.ev[i].type != want[i].type ||
                            r.ev[i].subject->pid != want[i].pid)
                                fail_msg("cap %zu, event %zu: %s %s pid %d, expected %s %s pid %d", cap, i,
                                         policy_kind_name(r.ev[i].subject->kind), type_name(r.ev[i].type),
                                         (int) r.ev[i].subject->pid, policy_kind_name(want[i].kind),
                                         type_name(want[i].type), (int) want[i].pid);
                policy_free(p);
                free(sc);
        }
}

static void test_active_counts(void **state) {
        struct scene *sc = scene_new();
        struct proc_info a = proc_info(2, 1, "a", NULL, NULL);
        unsigned counts[_POLICY_KIND_MAX];
        struct policy *p;
        struct conf c;
        struct scan r;

        conf_defaults(&c);
        c.t.time_wait.hold_usec = 0;
        c.t.fd_pressure.hold_usec = 0;
        a.open_fds = 1000;
        a.fd_limit = 1000;
        assert_int_equal(policy_new(&p), 0);
        assert_int_equal(policy_active(p, counts), 0);

        scene_proc(sc, &a, 60, 20 * USEC_PER_SEC, 0);
        scene_backlog(sc, test_addr("0.0.0.0", 80), &a, 30, 20 * USEC_PER_SEC, 0);
        scene_backlog(sc, test_addr("0.0.0.0", 81), &a, 30, 20 * USEC_PER_SEC, 0);
        scene_tw(sc, true, test_addr("0.0.0.0", 80), &a, 15000);
        scene_tw(sc, false, test_addr("0.0.0.0", 80), NULL, 15000); /* same address, other side: another group */
        r = scan(p, &c, sc, AT(0), 0);
        assert_int_equal(r.n, 6);
        assert_int_equal(policy_active(p, counts), 6);
        assert_int_equal(counts[POLICY_CLOSE_WAIT], 1);
        assert_int_equal(counts[POLICY_ACCEPT_BACKLOG], 2);
        assert_int_equal(counts[POLICY_TIME_WAIT], 2);
        assert_int_equal(counts[POLICY_FD_PRESSURE], 1);
        policy_free(p);
        free(sc);
}

/* Two containers with a listener on 0.0.0.0:80 and a client-side TIME_WAIT pile to one address
 * each: the network namespace is part of the key, so each gets its own alert, and one resolving
 * leaves the other raised. */
static void test_namespaces_apart(void **state) {
        struct scene *sc = scene_new();
        struct proc_info a = proc_info(2, 1, "web", NULL, NULL), b = proc_info(3, 1, "web", NULL, NULL);
        unsigned counts[_POLICY_KIND_MAX];
        struct policy *p;
        struct conf c;
        struct scan r;

        (void) state;
        conf_defaults(&c);
        c.t.time_wait.hold_usec = 0;
        assert_int_equal(policy_new(&p), 0);
        scene_backlog(sc, test_addr("0.0.0.0", 80), &a, 30, 20 * USEC_PER_SEC, 0)->netns = 11;
        scene_backlog(sc, test_addr("0.0.0.0", 80), &b, 30, 20 * USEC_PER_SEC, 0)->netns = 12;
        scene_tw(sc, false, test_addr("10.0.0.9", 5432), NULL, 15000)->netns = 11;
        scene_tw(sc, false, test_addr("10.0.0.9", 5432), NULL, 15000)->netns = 12;
        r = scan(p, &c, sc, AT(0), 0);
        assert_int_equal(r.n, 4);
        assert_int_equal(policy_active(p, counts), 4);
        assert_int_equal(counts[POLICY_ACCEPT_BACKLOG], 2);
        assert_int_equal(counts[POLICY_TIME_WAIT], 2);
        for (size_t i = 0; i < r.n; i++)
                assert_true(r.ev[i].subject->netns == 11 || r.ev[i].subject->netns == 12);

        /* The second namespace's listener drains: only its alert resolves. */
        scene_reset(sc);
        scene_backlog(sc, test_addr("0.0.0.0", 80), &a, 30, 20 * USEC_PER_SEC, 0)->netns = 11;
        scene_tw(sc, false, test_addr("10.0.0.9", 5432), NULL, 15000)->netns = 11;
        scene_tw(sc, false, test_addr("10.0.0.9", 5432), NULL, 15000)->netns = 12;
        r = scan(p, &c, sc, AT(5), 0);
        assert_int_equal(r.n, 1);
        assert_int_equal(r.ev[0].type, POLICY_RESOLVE);
        assert_int_equal(r.ev[0].subject->netns, 12);
        assert_int_equal(r.ev[0].subject->kind, POLICY_ACCEPT_BACKLOG);
        assert_int_equal(policy_active(p, counts), 3);

        /* Namespace 11 is not dumped by the next scan (its dump failed): its listener and group
         * are missing from the report, but unknown, not gone: nothing resolves. */
        {
                static const uint32_t unseen[] = { 11 };

                scene_reset(sc);
                scene_tw(sc, false, test_addr("10.0.0.9", 5432), NULL, 15000)->netns = 12;
                sc->r.unseen_netns = unseen;
                sc->r.n_unseen_netns = 1;
                r = scan(p, &c, sc, AT(10), 0);
                assert_int_equal(r.n, 0);
                assert_int_equal(policy_active(p, counts), 3);
        }
        /* Seen again and still there: no new raise either (the alert never ended). */
        scene_reset(sc);
        scene_backlog(sc, test_addr("0.0.0.0", 80), &a, 30, 20 * USEC_PER_SEC, 0)->netns = 11;
        scene_tw(sc, false, test_addr("10.0.0.9", 5432), NULL, 15000)->netns = 11;
        scene_tw(sc, false, test_addr("10.0.0.9", 5432), NULL, 15000)->netns = 12;
        r = scan(p, &c, sc, AT(15), 0);
        assert_int_equal(r.n, 0);
        /* Seen and gone: now they resolve. */
        scene_reset(sc);
        r = scan(p, &c, sc, AT(20), 0);
        assert_int_equal(r.n, 3);
        for (size_t i = 0; i < r.n; i++)
                assert_int_equal(r.ev[i].type, POLICY_RESOLVE);
        policy_free(p);
        free(sc);
}

static void test_empty_and_free(void **state) {
        struct scene *sc = scene_new();
        struct policy *p;
        struct conf c;
        struct scan r;

        conf_defaults(&c);
        assert_null(policy_free(NULL));
        assert_int_equal(policy_new(&p), 0);
        r = scan(p, &c, sc, AT(0), 10);
        assert_int_equal(r.n, 0);
        assert_int_equal(r.suppressed, 0);
        assert_null(policy_free(p));

        /* Freed with raised and pending states in it (the leak checkers watch). */
        assert_int_equal(policy_new(&p), 0);
        scene_tw(sc, false, test_addr("10.0.0.9", 5432), NULL, 20000);
        scene_backlog(sc, test_addr("0.0.0.0", 80), NULL, 30, 20 * USEC_PER_SEC, 0);
        r = scan(p, &c, sc, AT(0), 10);
        assert_int_equal(r.n, 1);
        policy_free(p);
        free(sc);
}

static void test_names(void **state) {
        static const struct {
                enum policy_kind kind;
                const char *name;
        } kinds[] = {
                { POLICY_CLOSE_WAIT, "close_wait" },
                { POLICY_ACCEPT_BACKLOG, "accept_backlog" },
                { POLICY_TIME_WAIT, "time_wait" },
                { POLICY_FD_PRESSURE, "fd_pressure" },
        };
        static const struct {
                enum policy_reason reason;
                const char *name;
        } reasons[] = {
                { POLICY_REASON_COUNT, "count" },
                { POLICY_REASON_AGE, "age" },
                { POLICY_REASON_RATIO, "ratio" },
        };

        assert_int_equal(ELEMENTSOF(kinds), _POLICY_KIND_MAX);
        for (size_t i = 0; i < ELEMENTSOF(kinds); i++)
                assert_string_equal(policy_kind_name(kinds[i].kind), kinds[i].name);
        for (size_t i = 0; i < ELEMENTSOF(reasons); i++)
                assert_string_equal(policy_reason_name(reasons[i].reason), reasons[i].name);
        assert_null(policy_kind_name(_POLICY_KIND_MAX));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_scripts_close_wait),
                cmocka_unit_test(test_scripts_accept_backlog),
                cmocka_unit_test(test_scripts_time_wait),
                cmocka_unit_test(test_scripts_fd_pressure),
                cmocka_unit_test(test_busy_client),
                cmocka_unit_test(test_raise_fields_and_snapshot),
                cmocka_unit_test(test_pid_reuse),
                cmocka_unit_test(test_rules),
                cmocka_unit_test(test_ignore_and_reload),
                cmocka_unit_test(test_owner_rules),
                cmocka_unit_test(test_storm_cap),
                cmocka_unit_test(test_suppressed_state_does_not_advance),
                cmocka_unit_test(test_ordering),
                cmocka_unit_test(test_active_counts),
                cmocka_unit_test(test_namespaces_apart),
                cmocka_unit_test(test_empty_and_free),
                cmocka_unit_test(test_names),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
