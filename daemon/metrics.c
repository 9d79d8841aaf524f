/* metrics: the Prometheus text format of the last scan (metrics.h has the list of families).
 *
 * Written with stdio into a memory stream: open_memstream() allocates and nothing else, so this
 * stays pure (the daemon calls it under its seccomp filter, which refuses every file write).
 * Each family is written in one loop over its rows, so its samples are contiguous as the format
 * requires; its HELP and TYPE come with its first sample, so a family without samples is not
 * written at all. */
#define _GNU_SOURCE /* open_memstream() */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "diag.h"
#include "metrics.h"
#include "strutil.h"

struct family {
        const char *name;
        const char *type; /* "gauge" or "counter" */
        const char *help;
};

/* One family being written: its header goes out before its first sample. */
struct writer {
        FILE *f;
        const struct family *fam;
        bool started;
};

static void sample_begin(struct writer *w) {
        if (!w->started) {
                fprintf(w->f, "# HELP %s %s\n# TYPE %s %s\n", w->fam->name, w->fam->help, w->fam->name, w->fam->type);
                w->started = true;
        }
        fputs(w->fam->name, w->f);
}

/* A label value: the format's escapes for backslash, double quote and newline; any other control
 * byte, and any byte that is not part of valid UTF-8, as the text \xNN (its backslash escaped),
 * so that the file parses whatever the string holds. */
static void put_label_value(FILE *f, const char *s) {
        static const char hex[] = "0123456789abcdef";
        size_t len = strlen(s);

        for (size_t i = 0; i < len;) {
                unsigned char c = (unsigned char) s[i];
                size_t n;

                if (c == '\\' || c == '"') {
                        fputc('\\', f);
                        fputc(c, f);
                        i++;
                } else if (c == '\n') {
                        fputs("\\n", f);
                        i++;
                } else if (c >= 0x20 && c != 0x7f && (n = str_utf8_char(s + i, len - i)) > 0) {
                        fwrite(s + i, 1, n, f);
                        i += n;
                } else {
                        fprintf(f, "\\\\x%c%c", hex[c >> 4], hex[c & 0xf]);
                        i++;
                }
        }
}

/* Labels are written as name="value" pairs; *first says whether the "{" is still to come. */
static void put_label(FILE *f, bool *first, const char *name, const char *value) {
        fprintf(f, "%s%s=\"", *first ? "{" : ",", name);
        put_label_value(f, value ?: "");
        fputc('"', f);
        *first = false;
}

static void labels_end(FILE *f, bool first) {
        if (!first)
                fputc('}', f);
        fputc(' ', f);
}

/* Seconds from microseconds, exactly: no float rounding in a value a rule compares. */
static void put_seconds(FILE *f, usec_t usec) {
        fprintf(f, "%" PRIu64 ".%06" PRIu64 "\n", usec / USEC_PER_SEC, usec % USEC_PER_SEC);
}

static void put_uint(FILE *f, uint64_t v) {
        fprintf(f, "%" PRIu64 "\n", v);
}

static void put_double(FILE *f, double v) {
        fprintf(f, "%.15g\n", v);
}

/* One sample without labels. */
static void plain(struct writer *w, uint64_t v) {
        sample_begin(w);
        fputc(' ', w->f);
        put_uint(w->f, v);
}

static void plain_seconds(struct writer *w, usec_t usec) {
        sample_begin(w);
        fputc(' ', w->f);
        put_seconds(w->f, usec);
}

/* ---- choosing the rows ---------------------------------------------------------------------- */

enum rank {
        RANK_SKIP,   /* gets no series: nothing stuck, a small TIME_WAIT group, no process info */
        RANK_URGENT, /* the daemon would alert about it: series first */
        RANK_OTHER,
};

/* The thresholds of an owner, as the policy finds them: its rule, or the top level when there is
 * no owner. NULL when the owner's rule ignores it. */
static const struct conf_thresholds *thresholds_of(const struct conf *c, const struct proc_info *info) {
        const struct conf_thresholds *t;
        bool ignore;

        if (!info)
                return &c->t;
        t = conf_match(c, info->comm, info->exe, info->unit, &ignore);
        return ignore ? NULL : t;
}

/* The thresholds that say when a socket is stuck: the owner's, or the top level's for an ignored
 * owner (whose values are still reported). */
static const struct conf_thresholds *or_top(const struct conf *c, const struct conf_thresholds *t) {
        return t ? t : &c->t;
}

/* The list being chosen from: rank(i) for each item, and whether two items would be the same
 * series (a report never has two, but a duplicate series would make the whole file invalid). */
struct candidates {
        size_t n;
        enum rank (*rank)(const struct candidates *cs, size_t i);
        bool (*same)(const struct candidates *cs, size_t i, size_t j);
        const struct report *r;
        const struct conf *c;
};

static int index_cmp(const void *a, const void *b) {
        size_t x = *(const size_t *) a, y = *(const size_t *) b;

        return (x > y) - (x < y);
}

/* Up to METRICS_TOP indices into sel (ascending: the report's order, largest first): the urgent
 * ones first, then the others, in the report's order. Returns how many. */
static size_t choose(const struct candidates *cs, size_t *sel) {
        size_t k = 0;

        for (int pass = 0; pass < 2; pass++)
                for (size_t i = 0; i < cs->n && k < METRICS_TOP; i++) {
                        enum rank rk = cs->rank(cs, i);
                        bool dup = false;

                        if (rk != (pass == 0 ? RANK_URGENT : RANK_OTHER))
                                continue;
                        for (size_t j = 0; j < k && !dup; j++)
                                dup = cs->same(cs, sel[j], i);
                        if (!dup)
                                sel[k++] = i;
                }
        qsort(sel, k, sizeof(*sel), index_cmp);
        return k;
}

/* ---- processes ------------------------------------------------------------------------------ */

struct proc_row {
        const struct report_proc *p;
        const struct conf_thresholds *t; /* NULL: ignored */
        unsigned stuck;                  /* close_wait sockets at least t's close_wait.hold old */
};

static struct proc_row proc_row(const struct conf *c, const struct report_proc *p) {
        const struct conf_thresholds *t = thresholds_of(c, p->info);

        return (struct proc_row){
                .p = p,
                .t = t,
                .stuck = report_count_at_least(p->ages, p->close_wait, or_top(c, t)->close_wait.hold_usec),
        };
}

/* Whether the policy raises close_wait or fd_pressure for it (the hold of fd_pressure aside). */
static bool proc_urgent(const struct proc_row *row) {
        const struct conf_thresholds *t = row->t;
        const struct proc_info *info = row->p->info;

        if (!t)
                return false;
        if (row->stuck >= t->close_wait.count)
                return true;
        if (row->stuck > 0 && t->close_wait.age_usec > 0 && row->p->oldest_age_usec >= t->close_wait.age_usec)
                return true;
        return row->stuck > 0 && t->fd_pressure.ratio > 0 && info->fd_limit > 0 &&
               (double) info->open_fds / (double) info->fd_limit >= t->fd_pressure.ratio;
}

static enum rank proc_rank(const struct candidates *cs, size_t i) {
        const struct report_proc *p = &cs->r->procs[i];
        struct proc_row row;

        if (!p->info)
                return RANK_SKIP;
        row = proc_row(cs->c, p);
        if (row.stuck == 0)
                return RANK_SKIP;
        return proc_urgent(&row) ? RANK_URGENT : RANK_OTHER;
}

static bool proc_same(const struct candidates *cs, size_t i, size_t j) {
        return cs->r->procs[i].info->pid == cs->r->procs[j].info->pid;
}

static void put_netns(FILE *f, bool *first, uint64_t netns) {
        char buf[24] = "";

        if (netns != 0)
                snprintf(buf, sizeof(buf), "%" PRIu64, netns);
        put_label(f, first, "netns", buf);
}

/* pid, comm, unit, container, pod of an owner; all "" when there is none. */
static void put_owner(FILE *f, bool *first, const struct proc_info *info) {
        char pid[16] = "";

        if (info)
                snprintf(pid, sizeof(pid), "%d", (int) info->pid);
        put_label(f, first, "pid", pid);
        put_label(f, first, "comm", info ? info->comm : "");
        put_label(f, first, "unit", info ? info->unit : "");
        put_label(f, first, "container", info ? info->container : "");
        put_label(f, first, "pod", info ? info->pod : "");
}

static void proc_labels(FILE *f, const struct proc_info *info) {
        bool first = true;

        put_owner(f, &first, info);
        put_netns(f, &first, info->netns);
        labels_end(f, first);
}

enum proc_value {
        PV_SOCKETS,
        PV_STUCK,
        PV_UNREAD,
        PV_OLDEST,
        PV_OPEN_FDS,
        PV_MAX_FDS,
        PV_THRESHOLD_COUNT,
        PV_THRESHOLD_AGE,
        PV_THRESHOLD_RATIO,
};

static const struct {
        enum proc_value v;
        struct family fam;
} proc_families[] = {
        { PV_SOCKETS, { "closewaitd_process_close_wait_sockets", "gauge", "CLOSE_WAIT sockets the process holds." } },
        { PV_STUCK,
          { "closewaitd_process_close_wait_stuck_sockets", "gauge",
            "CLOSE_WAIT sockets the process holds that are at least close_wait.hold old (its own hold)." } },
        { PV_UNREAD,
          { "closewaitd_process_close_wait_unread_sockets", "gauge",
            "CLOSE_WAIT sockets of the process whose end of file it never read (Recv-Q > 0)." } },
        { PV_OLDEST,
          { "closewaitd_process_close_wait_oldest_age_seconds", "gauge",
            "Age of the oldest CLOSE_WAIT socket of the process (a lower bound)." } },
        { PV_OPEN_FDS, { "closewaitd_process_open_fds", "gauge", "Open file descriptors of the process." } },
        { PV_MAX_FDS,
          { "closewaitd_process_max_fds", "gauge",
            "Soft RLIMIT_NOFILE of the process; no sample when unlimited or unknown." } },
        { PV_THRESHOLD_COUNT,
          { "closewaitd_process_close_wait_threshold_sockets", "gauge",
            "close_wait.count for the process: the daemon alerts at this many stuck sockets. No sample when "
            "ignored." } },
        { PV_THRESHOLD_AGE,
          { "closewaitd_process_close_wait_threshold_age_seconds", "gauge",
            "close_wait.age for the process: the daemon alerts when its oldest stuck socket is this old (0 = "
            "off). No sample when ignored." } },
        { PV_THRESHOLD_RATIO,
          { "closewaitd_process_fd_pressure_threshold_ratio", "gauge",
            "fd_pressure.ratio for the process: open fds / soft limit at which the daemon alerts (0 = off). No "
            "sample when ignored." } },
};

static void put_proc_value(FILE *f, const struct proc_row *row, enum proc_value v) {
        const struct report_proc *p = row->p;

        switch (v) {
        case PV_SOCKETS:
                put_uint(f, p->close_wait);
                break;
        case PV_STUCK:
                put_uint(f, row->stuck);
                break;
        case PV_UNREAD:
                put_uint(f, p->unread);
                break;
        case PV_OLDEST:
                put_seconds(f, p->oldest_age_usec);
                break;
        case PV_OPEN_FDS:
                put_uint(f, p->info->open_fds);
                break;
        case PV_MAX_FDS:
                put_uint(f, (uint64_t) p->info->fd_limit);
                break;
        case PV_THRESHOLD_COUNT:
                put_uint(f, row->t->close_wait.count);
                break;
        case PV_THRESHOLD_AGE:
                put_seconds(f, row->t->close_wait.age_usec);
                break;
        case PV_THRESHOLD_RATIO:
        default:
                put_double(f, row->t->fd_pressure.ratio);
                break;
        }
}

static bool proc_has_value(const struct proc_row *row, enum proc_value v) {
        if (v == PV_MAX_FDS)
                return row->p->info->fd_limit >= 0;
        if (v == PV_THRESHOLD_COUNT || v == PV_THRESHOLD_AGE || v == PV_THRESHOLD_RATIO)
                return row->t != NULL;
        return true;
}

static void write_procs(FILE *f, const struct report *r, const struct conf *c) {
        struct candidates cs = { .n = r->n_procs, .rank = proc_rank, .same = proc_same, .r = r, .c = c };
        struct proc_row rows[METRICS_TOP];
        size_t sel[METRICS_TOP], n;

        n = choose(&cs, sel);
        for (size_t i = 0; i < n; i++)
                rows[i] = proc_row(c, &r->procs[sel[i]]);
        for (size_t k = 0; k < ELEMENTSOF(proc_families); k++) {
                struct writer w = { .f = f, .fam = &proc_families[k].fam };

                for (size_t i = 0; i < n; i++) {
                        if (!proc_has_value(&rows[i], proc_families[k].v))
                                continue;
                        sample_begin(&w);
                        proc_labels(f, rows[i].p->info);
                        put_proc_value(f, &rows[i], proc_families[k].v);
                }
        }
}

/* ---- listeners ------------------------------------------------------------------------------ */

static unsigned backlog_stuck(const struct report_backlog *b, const struct conf_thresholds *t, const struct conf *c) {
        return report_count_at_least(b->ages, b->close_wait, or_top(c, t)->accept_backlog.hold_usec);
}

static enum rank backlog_rank(const struct candidates *cs, size_t i) {
        const struct report_backlog *b = &cs->r->backlogs[i];
        const struct conf_thresholds *t = thresholds_of(cs->c, b->info);
        unsigned stuck = backlog_stuck(b, t, cs->c);

        if (stuck == 0)
                return RANK_SKIP;
        return t && stuck >= t->accept_backlog.count ? RANK_URGENT : RANK_OTHER;
}

static bool backlog_same(const struct candidates *cs, size_t i, size_t j) {
        const struct report_backlog *a = &cs->r->backlogs[i], *b = &cs->r->backlogs[j];

        return a->netns == b->netns && diag_addr_equal(&a->local, &b->local);
}

static void backlog_labels(FILE *f, const struct report_backlog *b) {
        char addr[DIAG_ADDR_STRLEN];
        bool first = true;

        put_label(f, &first, "address", diag_addr_format(&b->local, addr, sizeof(addr)));
        put_netns(f, &first, b->netns);
        put_owner(f, &first, b->info);
        labels_end(f, first);
}

enum backlog_value {
        BV_SOCKETS,
        BV_STUCK,
        BV_OLDEST,
        BV_THRESHOLD,
};

static const struct {
        enum backlog_value v;
        struct family fam;
} backlog_families[] = {
        { BV_SOCKETS,
          { "closewaitd_listener_accept_backlog_sockets", "gauge",
            "Connections in the listener's accept queue that the peer closed before accept()." } },
        { BV_STUCK,
          { "closewaitd_listener_accept_backlog_stuck_sockets", "gauge",
            "Of those, the ones at least accept_backlog.hold old (the owner's hold)." } },
        { BV_OLDEST,
          { "closewaitd_listener_accept_backlog_oldest_age_seconds", "gauge",
            "Age of the oldest unaccepted closed connection of the listener." } },
        { BV_THRESHOLD,
          { "closewaitd_listener_accept_backlog_threshold_sockets", "gauge",
            "accept_backlog.count for the listener's owner: the daemon alerts at this many stuck connections. No "
            "sample when ignored." } },
};

static void write_backlogs(FILE *f, const struct report *r, const struct conf *c) {
        struct candidates cs = { .n = r->n_backlogs, .rank = backlog_rank, .same = backlog_same, .r = r, .c = c };
        const struct conf_thresholds *t[METRICS_TOP];
        size_t sel[METRICS_TOP], n;

        n = choose(&cs, sel);
        for (size_t i = 0; i < n; i++)
                t[i] = thresholds_of(c, r->backlogs[sel[i]].info);
        for (size_t k = 0; k < ELEMENTSOF(backlog_families); k++) {
                enum backlog_value v = backlog_families[k].v;
                struct writer w = { .f = f, .fam = &backlog_families[k].fam };

                for (size_t i = 0; i < n; i++) {
                        const struct report_backlog *b = &r->backlogs[sel[i]];

                        if (v == BV_THRESHOLD && !t[i])
                                continue;
                        sample_begin(&w);
                        backlog_labels(f, b);
                        switch (v) {
                        case BV_SOCKETS:
                                put_uint(f, b->close_wait);
                                break;
                        case BV_STUCK:
                                put_uint(f, backlog_stuck(b, t[i], c));
                                break;
                        case BV_OLDEST:
                                put_seconds(f, b->oldest_age_usec);
                                break;
                        case BV_THRESHOLD:
                        default:
                                put_uint(f, t[i]->accept_backlog.count);
                                break;
                        }
                }
        }
}

/* ---- TIME_WAIT groups ----------------------------------------------------------------------- */

static enum rank tw_rank(const struct candidates *cs, size_t i) {
        const struct report_tw *tw = &cs->r->tw[i];
        const struct conf_thresholds *t = thresholds_of(cs->c, tw->info);

        if ((uint64_t) tw->count * 100 < (uint64_t) or_top(cs->c, t)->time_wait.count * METRICS_TIME_WAIT_PERCENT)
                return RANK_SKIP;
        return t && tw->count >= t->time_wait.count ? RANK_URGENT : RANK_OTHER;
}

static bool tw_same(const struct candidates *cs, size_t i, size_t j) {
        const struct report_tw *a = &cs->r->tw[i], *b = &cs->r->tw[j];

        return a->server == b->server && a->netns == b->netns && diag_addr_equal(&a->addr, &b->addr);
}

static void tw_labels(FILE *f, const struct report_tw *tw) {
        char addr[DIAG_ADDR_STRLEN];
        bool first = true;

        put_label(f, &first, "side", tw->server ? "server" : "client");
        put_label(f, &first, "address", diag_addr_format(&tw->addr, addr, sizeof(addr)));
        put_netns(f, &first, tw->netns);
        put_owner(f, &first, tw->info);
        labels_end(f, first);
}

enum tw_value {
        TV_SOCKETS,
        TV_OLDEST,
        TV_THRESHOLD,
};

static const struct {
        enum tw_value v;
        struct family fam;
} tw_families[] = {
        { TV_SOCKETS,
          { "closewaitd_time_wait_group_sockets", "gauge",
            "TIME_WAIT sockets of the group: a listener's local address (side server) or a remote address (side "
            "client)." } },
        { TV_OLDEST,
          { "closewaitd_time_wait_group_oldest_age_seconds", "gauge",
            "Age of the oldest TIME_WAIT socket of the group." } },
        { TV_THRESHOLD,
          { "closewaitd_time_wait_group_threshold_sockets", "gauge",
            "time_wait.count for the group (its owner's, server side): the daemon alerts at this many sockets held "
            "for time_wait.hold. No sample when ignored." } },
};

static void write_tw(FILE *f, const struct report *r, const struct conf *c) {
        struct candidates cs = { .n = r->n_tw, .rank = tw_rank, .same = tw_same, .r = r, .c = c };
        const struct conf_thresholds *t[METRICS_TOP];
        size_t sel[METRICS_TOP], n;

        n = choose(&cs, sel);
        for (size_t i = 0; i < n; i++)
                t[i] = thresholds_of(c, r->tw[sel[i]].info);
        for (size_t k = 0; k < ELEMENTSOF(tw_families); k++) {
                enum tw_value v = tw_families[k].v;
                struct writer w = { .f = f, .fam = &tw_families[k].fam };

                for (size_t i = 0; i < n; i++) {
                        const struct report_tw *tw = &r->tw[sel[i]];

                        if (v == TV_THRESHOLD && !t[i])
                                continue;
                        sample_begin(&w);
                        tw_labels(f, tw);
                        switch (v) {
                        case TV_SOCKETS:
                                put_uint(f, tw->count);
                                break;
                        case TV_OLDEST:
                                put_seconds(f, tw->oldest_age_usec);
                                break;
                        case TV_THRESHOLD:
                        default:
                                put_uint(f, t[i]->time_wait.count);
                                break;
                        }
                }
        }
}

/* ---- the rest ------------------------------------------------------------------------------- */

static const struct family total_families[] = {
        { "closewaitd_close_wait_sockets", "gauge", "CLOSE_WAIT sockets with a file descriptor, each counted once." },
        { "closewaitd_close_wait_unowned_sockets", "gauge",
          "CLOSE_WAIT sockets with a file descriptor but no readable holder." },
        { "closewaitd_accept_backlog_sockets", "gauge",
          "CLOSE_WAIT connections still in an accept queue (the peer closed before accept())." },
        { "closewaitd_time_wait_sockets", "gauge", "TIME_WAIT sockets." },
        { "closewaitd_close_wait_processes", "gauge",
          "Processes holding CLOSE_WAIT sockets, with series of their own or not." },
        { "closewaitd_accept_backlog_listeners", "gauge", "Listeners with closed connections in their accept queue." },
        { "closewaitd_time_wait_groups", "gauge", "TIME_WAIT groups." },
};

static void write_totals(FILE *f, const struct report *r) {
        const uint64_t v[] = {
                r->total_close_wait,
                r->unowned_close_wait,
                r->total_accept_backlog,
                r->total_time_wait,
                r->n_procs,
                r->n_backlogs,
                r->n_tw,
        };

        for (size_t k = 0; k < ELEMENTSOF(total_families); k++) {
                struct writer w = { .f = f, .fam = &total_families[k] };

                plain(&w, v[k]);
        }
}

static void write_alerts(FILE *f, const unsigned *active) {
        static const struct family fam = { "closewaitd_alerts_active", "gauge",
                                           "Alerts the daemon holds raised, per kind." };
        struct writer w = { .f = f, .fam = &fam };

        for (int k = 0; k < _POLICY_KIND_MAX; k++) {
                bool first = true;

                sample_begin(&w);
                put_label(f, &first, "kind", policy_kind_name((enum policy_kind) k));
                labels_end(f, first);
                put_uint(f, active[k]);
        }
}

static void write_daemon(FILE *f, const struct metrics_counters *m) {
        static const struct family families[] = {
                { "closewaitd_build_info", "gauge", "The version of closewaitd; the value is 1." },
                { "closewaitd_scans_total", "counter", "Scans completed since the daemon started." },
                { "closewaitd_scan_errors_total", "counter",
                  "Scans that failed since the daemon started (the socket dump, /proc, memory)." },
                { "closewaitd_scan_duration_seconds_total", "counter", "Wall time spent in completed scans." },
                { "closewaitd_last_scan_timestamp_seconds", "gauge",
                  "When the last completed scan started, in seconds since the epoch; 0 before the first." },
                { "closewaitd_last_scan_duration_seconds", "gauge", "Wall time of the last completed scan." },
                { "closewaitd_scan_interval_seconds", "gauge", "Time between two scans." },
                { "closewaitd_network_namespaces", "gauge", "Network namespaces whose sockets are scanned." },
        };
        struct writer w[ELEMENTSOF(families)];
        bool first = true;

        for (size_t k = 0; k < ELEMENTSOF(families); k++)
                w[k] = (struct writer){ .f = f, .fam = &families[k] };
        sample_begin(&w[0]);
        put_label(f, &first, "version", CLOSEWAITD_VERSION);
        labels_end(f, first);
        put_uint(f, 1);
        plain(&w[1], m->scans);
        plain(&w[2], m->scan_errors);
        plain_seconds(&w[3], m->scan_usec);
        plain_seconds(&w[4], (usec_t) m->last_wall.tv_sec * USEC_PER_SEC + (usec_t) m->last_wall.tv_nsec / 1000);
        plain_seconds(&w[5], m->last_duration_usec);
        plain_seconds(&w[6], m->interval_usec);
        plain(&w[7], m->netns);
}

int metrics_render(const struct report *r, const unsigned *active, const struct conf *c,
                   const struct metrics_counters *m, char **ret, size_t *ret_size) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f;

        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        write_daemon(f, m);
        if (active)
                write_alerts(f, active);
        if (r) {
                write_totals(f, r);
                write_procs(f, r, c);
                write_backlogs(f, r, c);
                write_tw(f, r, c);
        }
        /* A memory stream fails only when it cannot grow. */
        if (ferror(f)) {
                (void) fclose(f);
                free(buf);
                return -ENOMEM;
        }
        if (fclose(f) != 0) {
                free(buf);
                return -ENOMEM;
        }
        *ret = buf;
        *ret_size = size;
        return 0;
}
