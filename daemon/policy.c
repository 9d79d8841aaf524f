/* policy: the raise/hold/repeat/clear state machine behind every alert. Each scan's report is
 * turned into one reading per subject (a process, a listener, a TIME_WAIT group), the reading is
 * stepped through a small pure transition function together with the state carried from the last
 * scan, and the resulting events are ranked and capped. Nothing here reads a clock, /proc or the
 * configuration file: time is the `now` argument, thresholds come from conf_match().
 *
 * The state is an array of subjects sorted by key, merged with the (sorted) observations of each
 * scan, so one scan costs O((procs + states) log(procs + states)). Everything a scan changes is
 * computed into temporaries first and committed only once every allocation succeeded, so that
 * -ENOMEM leaves the state (and the previous scan's events) exactly as they were. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

/* What is carried from scan to scan for one subject. */
struct track {
        bool pending;              /* time_wait, fd_pressure: over the threshold since `since`, not raised yet */
        bool raised;               /* raised and not resolved */
        bool resolved;             /* RESOLVE was returned: freed at the next policy_evaluate(), when the
                                    * events pointing to the subject are no longer valid */
        enum policy_reason reason; /* what it was raised for; kept for REPEAT and RESOLVE */
        usec_t since;
        usec_t raised_at;
        usec_t last_sent; /* the last RAISE or REPEAT */
};

struct state {
        /* The snapshot taken when the state was created (first pending or raise) and never
         * updated: an alert keeps naming what it was raised about even if the process exec()s
         * or renames itself, and the strings stay put while events point to them. */
        struct policy_subject subject;
        struct track track;
};

struct policy {
        struct state **states; /* sorted by subject_compare(), one per key */
        size_t n_states;
        struct policy_event *events; /* the last scan's, returned to the caller */
};

/* One subject in this scan's report. key has no strings: they are copied only for the few
 * subjects that get a state. */
struct obs {
        struct policy_subject key;
        const struct proc_info *info; /* the process, or the owner of a listener/group; NULL if none */
        const struct report_proc *proc;
        const struct report_backlog *backlog;
        const struct report_tw *tw;
        size_t index; /* position in the report: ties between duplicate keys break by it */
};

/* What one subject looks like in this scan, under its thresholds. */
struct reading {
        const struct conf_thresholds *t;
        bool over;                 /* the raise condition holds */
        bool clear;                /* every enabled reason is at clear_ratio x its threshold or below */
        enum policy_reason reason; /* of over */
        bool sustained;            /* must stay over for hold_usec before raising */
        usec_t hold_usec;

        unsigned count;
        usec_t oldest_age_usec;
        unsigned fds;
        int64_t fd_limit;
};

/* A subject this scan has something to say about: an old state, a new observation, or both. */
struct cand {
        struct state *old;     /* NULL for a subject seen for the first time */
        const struct obs *obs; /* NULL when gone from the report */
        struct track next;     /* the state after this scan, if committed */
        bool keep;             /* a state exists after this scan */
        bool has_event;
        bool emit; /* has_event and within the cap */
        struct policy_event ev;
        struct state *fresh; /* the new state of a first-seen subject, allocated before the commit */
};

static int cmp_u64(uint64_t a, uint64_t b) {
        return (a > b) - (a < b);
}

static int subject_compare(const struct policy_subject *a, const struct policy_subject *b) {
        int r = cmp_u64(a->kind, b->kind);

        if (r != 0)
                return r;
        switch (a->kind) {
        case POLICY_CLOSE_WAIT:
        case POLICY_FD_PRESSURE:
                /* pid with start time: a reused pid is another process, another alert. */
                r = cmp_u64((uint64_t) a->pid, (uint64_t) b->pid);
                if (r != 0)
                        return r;
                return cmp_u64(a->start_time, b->start_time);
        case POLICY_TIME_WAIT:
                r = cmp_u64(a->netns, b->netns);
                if (r == 0)
                        r = cmp_u64(a->server, b->server);
                if (r != 0)
                        return r;
                return diag_addr_compare(&a->addr, &b->addr);
        case POLICY_ACCEPT_BACKLOG:
        default:
                /* The listener's namespace and address; its owner is only named in the subject. */
                r = cmp_u64(a->netns, b->netns);
                if (r != 0)
                        return r;
                return diag_addr_compare(&a->addr, &b->addr);
        }
}

static int obs_compare(const void *x, const void *y) {
        const struct obs *a = x, *b = y;
        int r = subject_compare(&a->key, &b->key);

        return r != 0 ? r : cmp_u64(a->index, b->index);
}

static const struct policy_subject *cand_subject(const struct cand *cd) {
        if (cd->old)
                return &cd->old->subject;
        if (cd->fresh)
                return &cd->fresh->subject;
        return &cd->obs->key;
}

/* Urgency of a kind when the cap bites: running out of fds takes a service down first. */
static unsigned kind_rank(enum policy_kind k) {
        switch (k) {
        case POLICY_FD_PRESSURE:
                return 0;
        case POLICY_CLOSE_WAIT:
                return 1;
        case POLICY_ACCEPT_BACKLOG:
                return 2;
        case POLICY_TIME_WAIT:
        default:
                return 3;
        }
}

/* Raises and repeats before resolves, then by kind, larger counts first, then by key (a total
 * order, so the result does not depend on qsort's instability). */
static int cand_urgency_compare(const void *x, const void *y) {
        const struct cand *a = *(const struct cand *const *) x, *b = *(const struct cand *const *) y;
        int r;

        r = cmp_u64(a->ev.type == POLICY_RESOLVE, b->ev.type == POLICY_RESOLVE);
        if (r != 0)
                return r;
        r = cmp_u64(kind_rank(cand_subject(a)->kind), kind_rank(cand_subject(b)->kind));
        if (r != 0)
                return r;
        r = cmp_u64(b->ev.count, a->ev.count);
        if (r != 0)
                return r;
        return subject_compare(cand_subject(a), cand_subject(b));
}

static usec_t elapsed(usec_t now, usec_t since) {
        return now > since ? now - since : 0;
}

static bool at_or_below(double value, double clear_ratio, double threshold) {
        return value <= clear_ratio * threshold;
}

static double threshold_of(enum policy_kind kind, enum policy_reason reason, const struct conf_thresholds *t) {
        switch (kind) {
        case POLICY_CLOSE_WAIT:
                return reason == POLICY_REASON_AGE ? usec_to_sec(t->close_wait.age_usec) : t->close_wait.count;
        case POLICY_ACCEPT_BACKLOG:
                return t->accept_backlog.count;
        case POLICY_TIME_WAIT:
                return t->time_wait.count;
        case POLICY_FD_PRESSURE:
        default:
                return t->fd_pressure.ratio;
        }
}

/* The thresholds of whoever a subject belongs to: the process's rule, else the top level (a
 * listener without a known owner, a client-side TIME_WAIT group). */
static const struct conf_thresholds *thresholds_for(const struct conf *c, bool has_owner, const char *comm,
                                                    const char *exe, const char *unit, bool *ret_ignore) {
        *ret_ignore = false;
        if (!has_owner)
                return &c->t;
        return conf_match(c, comm, exe, unit, ret_ignore);
}

static void read_close_wait(const struct report_proc *p, const struct conf_thresholds *t, double clear_ratio,
                            struct reading *rd) {
        unsigned stuck = report_count_at_least(p->ages, p->close_wait, t->close_wait.hold_usec);
        usec_t oldest = p->oldest_age_usec, age = t->close_wait.age_usec;

        rd->count = stuck;
        rd->oldest_age_usec = oldest;
        rd->fds = p->info ? p->info->open_fds : 0;
        rd->fd_limit = p->info ? p->info->fd_limit : -1;
        if (stuck >= t->close_wait.count) {
                rd->over = true;
                rd->reason = POLICY_REASON_COUNT;
        } else if (age > 0 && oldest >= age && oldest >= t->close_wait.hold_usec) {
                /* The oldest must be stuck too, or an age below hold would alert on busy sockets. */
                rd->over = true;
                rd->reason = POLICY_REASON_AGE;
        }
        rd->clear = at_or_below(stuck, clear_ratio, t->close_wait.count) &&
                    (age == 0 || at_or_below((double) oldest, clear_ratio, (double) age));
}

static void read_backlog(const struct report_backlog *b, const struct conf_thresholds *t, double clear_ratio,
                         struct reading *rd) {
        unsigned stuck = report_count_at_least(b->ages, b->close_wait, t->accept_backlog.hold_usec);

        rd->count = stuck;
        rd->oldest_age_usec = b->oldest_age_usec;
        rd->over = stuck >= t->accept_backlog.count;
        rd->reason = POLICY_REASON_COUNT;
        rd->clear = at_or_below(stuck, clear_ratio, t->accept_backlog.count);
}

static void read_time_wait(const struct report_tw *tw, const struct conf_thresholds *t, double clear_ratio,
                           struct reading *rd) {
        rd->count = tw->count;
        rd->oldest_age_usec = tw->oldest_age_usec;
        rd->over = tw->count >= t->time_wait.count;
        rd->reason = POLICY_REASON_COUNT;
        rd->clear = at_or_below(tw->count, clear_ratio, t->time_wait.count);
}

static void read_fd_pressure(const struct report_proc *p, const struct conf_thresholds *t, double clear_ratio,
                             struct reading *rd) {
        double limit = t->fd_pressure.ratio;

        rd->count = p->close_wait;
        rd->oldest_age_usec = p->oldest_age_usec;
        rd->reason = POLICY_REASON_RATIO;
        rd->clear = true;
        if (!p->info)
                return;
        rd->fds = p->info->open_fds;
        rd->fd_limit = p->info->fd_limit;
        /* An unlimited or unknown limit cannot be neared; a ratio of 0 turns the alert off. */
        if (limit > 0 && p->info->fd_limit > 0) {
                double ratio = (double) p->info->open_fds / (double) p->info->fd_limit;

                /* Only a process with a stuck CLOSE_WAIT socket (hold old) is leaking: a busy server
                 * always has a few for milliseconds, and its fd use is its own business. */
                bool stuck = report_count_at_least(p->ages, p->close_wait, t->close_wait.hold_usec) > 0;

                rd->over = stuck && ratio >= limit;
                rd->clear = at_or_below(ratio, clear_ratio, limit);
        }
}

/* The reading of subject s (o = its observation, NULL when gone). A gone or ignored subject has
 * the value 0: never over, always clear. */
static void measure(const struct conf *c, const struct policy_subject *s, const struct obs *o, struct reading *rd) {
        bool ignore;

        *rd = (struct reading){ .fd_limit = -1, .clear = true };
        if (s->kind == POLICY_TIME_WAIT || s->kind == POLICY_FD_PRESSURE)
                rd->sustained = true;
        if (s->kind == POLICY_FD_PRESSURE)
                rd->reason = POLICY_REASON_RATIO;

        if (!o) {
                /* Gone: the thresholds still give the event its threshold, from the snapshot. */
                rd->t = thresholds_for(c, s->pid > 0, s->comm, s->exe, s->unit, &ignore);
                return;
        }
        rd->t = o->info ? thresholds_for(c, true, o->info->comm, o->info->exe, o->info->unit, &ignore)
                        : thresholds_for(c, false, NULL, NULL, NULL, &ignore);
        switch (s->kind) {
        case POLICY_CLOSE_WAIT:
                read_close_wait(o->proc, rd->t, c->clear_ratio, rd);
                break;
        case POLICY_ACCEPT_BACKLOG:
                read_backlog(o->backlog, rd->t, c->clear_ratio, rd);
                break;
        case POLICY_TIME_WAIT:
                rd->hold_usec = rd->t->time_wait.hold_usec;
                read_time_wait(o->tw, rd->t, c->clear_ratio, rd);
                break;
        case POLICY_FD_PRESSURE:
        default:
                rd->hold_usec = rd->t->fd_pressure.hold_usec;
                read_fd_pressure(o->proc, rd->t, c->clear_ratio, rd);
                break;
        }
        if (ignore) {
                /* Raises nothing, and an alert raised before a reload made it ignored resolves. */
                rd->over = false;
                rd->clear = true;
        }
}

/* The transition function: old state (NULL: none) and reading in, next state out. Returns whether
 * an event happens (its type in *ret_type); *ret_keep says whether a state remains. */
static bool step(const struct track *old, const struct reading *rd, usec_t now, usec_t repeat_usec, struct track *next,
                 enum policy_event_type *ret_type, bool *ret_keep) {
        *next = old ? *old : (struct track){};
        *ret_keep = true;

        if (!next->raised) {
                if (!rd->over) {
                        /* A dip below the threshold restarts the hold. */
                        *ret_keep = false;
                        return false;
                }
                if (rd->sustained) {
                        if (!next->pending) {
                                next->pending = true;
                                next->since = now;
                        }
                        if (elapsed(now, next->since) < rd->hold_usec)
                                return false;
                }
                /* close_wait and accept_backlog raise at once: their hold is already in the
                 * sockets' ages. */
                *next = (struct track){
                        .raised = true,
                        .reason = rd->reason,
                        .raised_at = now,
                        .last_sent = now,
                };
                *ret_type = POLICY_RAISE;
                return true;
        }

        if (rd->clear) {
                next->raised = false;
                next->resolved = true;
                *ret_type = POLICY_RESOLVE;
                return true;
        }
        /* Between the clear level and the threshold an alert stays raised, and keeps repeating. */
        if (repeat_usec > 0 && elapsed(now, next->last_sent) >= repeat_usec) {
                next->last_sent = now;
                *ret_type = POLICY_REPEAT;
                return true;
        }
        return false;
}

/* Whether the scan could not see the namespace of subject s (report.h: unseen_netns). */
static bool unseen(const struct report *r, const struct policy_subject *s) {
        for (size_t i = 0; i < r->n_unseen_netns; i++)
                if (s->netns == r->unseen_netns[i])
                        return true;
        return false;
}

static void decide(struct cand *cd, const struct report *r, const struct conf *c, usec_t now) {
        const struct policy_subject *s = cand_subject(cd);
        enum policy_event_type type = POLICY_RAISE;
        struct reading rd;

        if (!cd->obs && cd->old && s->netns != 0 && unseen(r, s)) {
                /* Missing because its namespace was not dumped this time: unknown, not gone. A
                 * resolve now would be followed by a new raise at the next scan that sees it. */
                cd->next = cd->old->track;
                cd->keep = true;
                cd->has_event = false;
                return;
        }
        measure(c, s, cd->obs, &rd);
        cd->has_event = step(cd->old ? &cd->old->track : NULL, &rd, now, c->repeat_usec, &cd->next, &type, &cd->keep);
        if (!cd->has_event)
                return;

        cd->ev = (struct policy_event){
                .type = type,
                .reason = cd->next.reason,
                .threshold = threshold_of(s->kind, cd->next.reason, rd.t),
                .count = rd.count,
                .oldest_age_usec = rd.oldest_age_usec,
                .fds = rd.fds,
                .fd_limit = rd.fd_limit,
                .duration_usec = type == POLICY_RAISE ? 0 : elapsed(now, cd->next.raised_at),
        };
        if (cd->obs) {
                cd->ev.proc = cd->obs->proc;
                cd->ev.backlog = cd->obs->backlog;
                cd->ev.tw = cd->obs->tw;
        }
}

static char *strdup_or_null(const char *s, bool *failed) {
        char *d;

        if (!s)
                return NULL;
        d = strdup(s);
        if (!d)
                *failed = true;
        return d;
}

static struct state *state_free(struct state *s) {
        if (!s)
                return NULL;
        free(s->subject.comm);
        free(s->subject.exe);
        free(s->subject.unit);
        free(s->subject.container);
        free(s->subject.pod);
        free(s);
        return NULL;
}

static struct state *state_new(const struct obs *o) {
        struct state *s = calloc(1, sizeof(*s));
        bool failed = false;

        if (!s)
                return NULL;
        s->subject = o->key;
        if (o->info) {
                s->subject.comm = strdup_or_null(o->info->comm, &failed);
                s->subject.exe = strdup_or_null(o->info->exe, &failed);
                s->subject.unit = strdup_or_null(o->info->unit, &failed);
                s->subject.container = strdup_or_null(o->info->container, &failed);
                s->subject.pod = strdup_or_null(o->info->pod, &failed);
                /* A process's own namespace; groups keep the namespace of their sockets. */
                if (s->subject.kind == POLICY_CLOSE_WAIT || s->subject.kind == POLICY_FD_PRESSURE)
                        s->subject.netns = o->info->netns;
        }
        if (failed)
                return state_free(s);
        return s;
}

/* calloc of n elements, with n == 0 still giving a pointer that can be freed. */
static void *new_array(size_t n, size_t size) {
        return calloc(n > 0 ? n : 1, size);
}

/* Every subject of the report, one obs each (a process is two: close_wait and fd_pressure). */
static int collect(const struct report *r, struct obs **ret, size_t *ret_n) {
        struct obs *obs;
        size_t n = 0, total;

        if (r->n_procs > (SIZE_MAX - r->n_backlogs - r->n_tw) / 2)
                return -ENOMEM;
        total = 2 * r->n_procs + r->n_backlogs + r->n_tw;
        obs = new_array(total, sizeof(*obs));
        if (!obs)
                return -ENOMEM;

        for (size_t i = 0; i < r->n_procs; i++) {
                const struct report_proc *p = &r->procs[i];

                if (!p->info)
                        continue; /* cannot be keyed; report never builds one, tests might */
                for (unsigned k = 0; k < 2; k++) {
                        obs[n] = (struct obs){
                                .key = { .kind = k == 0 ? POLICY_CLOSE_WAIT : POLICY_FD_PRESSURE,
                                         .pid = p->info->pid,
                                         .start_time = p->info->start_time },
                                .info = p->info,
                                .proc = p,
                                .index = n,
                        };
                        n++;
                }
        }
        for (size_t i = 0; i < r->n_backlogs; i++) {
                const struct report_backlog *b = &r->backlogs[i];

                obs[n] = (struct obs){
                        .key = { .kind = POLICY_ACCEPT_BACKLOG,
                                 .pid = b->info ? b->info->pid : 0,
                                 .start_time = b->info ? b->info->start_time : 0,
                                 .netns = b->netns,
                                 .addr = b->local },
                        .info = b->info,
                        .backlog = b,
                        .index = n,
                };
                n++;
        }
        for (size_t i = 0; i < r->n_tw; i++) {
                const struct report_tw *tw = &r->tw[i];
                /* Client-side groups have no owner and use the top-level thresholds. */
                const struct proc_info *info = tw->server ? tw->info : NULL;

                obs[n] = (struct obs){
                        .key = { .kind = POLICY_TIME_WAIT,
                                 .pid = info ? info->pid : 0,
                                 .start_time = info ? info->start_time : 0,
                                 .server = tw->server,
                                 .netns = tw->netns,
                                 .addr = tw->addr },
                        .info = info,
                        .tw = tw,
                        .index = n,
                };
                n++;
        }

        qsort(obs, n, sizeof(*obs), obs_compare);
        *ret = obs;
        *ret_n = n;
        return 0;
}

int policy_new(struct policy **ret) {
        struct policy *p = calloc(1, sizeof(*p));

        if (!p)
                return -ENOMEM;
        *ret = p;
        return 0;
}

struct policy *policy_free(struct policy *p) {
        if (!p)
                return NULL;
        for (size_t i = 0; i < p->n_states; i++)
                state_free(p->states[i]);
        free(p->states);
        free(p->events);
        free(p);
        return NULL;
}

/* max_events == 0 means no cap: a cap of zero events would silence the daemon entirely, which no
 * configuration asks for. */
int policy_evaluate(struct policy *p, const struct conf *c, const struct report *r, usec_t now, size_t max_events,
                    const struct policy_event **ret_events, size_t *ret_n, size_t *ret_suppressed) {
        struct obs *obs = NULL;
        struct cand *cands = NULL, **order = NULL;
        struct state **states = NULL;
        struct policy_event *events = NULL;
        size_t n_obs = 0, n_cands = 0, n_order = 0, n_emit, n_states = 0, i, j;
        bool committed = false;
        int ret;

        ret = collect(r, &obs, &n_obs);
        if (ret < 0)
                return ret;
        ret = -ENOMEM;
        if (n_obs > SIZE_MAX - p->n_states)
                goto finish;
        cands = new_array(n_obs + p->n_states, sizeof(*cands));
        if (!cands)
                goto finish;

        /* Merge the sorted observations with the sorted states. States resolved at the last scan
         * take no part: they are freed below, and a subject that is back starts from zero. */
        i = j = 0;
        while (i < n_obs || j < p->n_states) {
                struct state *s = j < p->n_states ? p->states[j] : NULL;
                const struct obs *o = i < n_obs ? &obs[i] : NULL;
                struct cand *cd;
                int d;

                if (s && s->track.resolved) {
                        j++;
                        continue;
                }
                d = !o ? 1 : !s ? -1 : subject_compare(&o->key, &s->subject);
                cd = &cands[n_cands];
                *cd = (struct cand){ .old = d >= 0 ? s : NULL, .obs = d <= 0 ? o : NULL };
                if (d <= 0) {
                        /* The report has one entry per key; should it repeat one, the first
                         * (the largest) wins. */
                        for (i++; i < n_obs && subject_compare(&obs[i].key, &o->key) == 0; i++)
                                ;
                }
                if (d >= 0)
                        j++;
                decide(cd, r, c, now);
                /* Most processes of a busy host never get near a threshold: forget them here. */
                if (cd->old || cd->keep || cd->has_event)
                        n_cands++;
        }

        order = new_array(n_cands, sizeof(struct cand *));
        if (!order)
                goto finish;
        for (i = 0; i < n_cands; i++)
                if (cands[i].has_event)
                        order[n_order++] = &cands[i];
        qsort(order, n_order, sizeof(struct cand *), cand_urgency_compare);
        n_emit = max_events == 0 || max_events > n_order ? n_order : max_events;
        for (i = 0; i < n_emit; i++)
                order[i]->emit = true;

        /* Allocate everything the commit needs, so that the commit cannot fail. A suppressed
         * raise of a new subject gets no state: it is seen again as new at the next scan. */
        for (i = 0; i < n_cands; i++) {
                struct cand *cd = &cands[i];

                if (!cd->old && cd->keep && (!cd->has_event || cd->emit)) {
                        cd->fresh = state_new(cd->obs);
                        if (!cd->fresh)
                                goto finish;
                }
        }
        states = new_array(n_cands, sizeof(struct state *));
        events = new_array(n_emit, sizeof(*events));
        if (!states || !events)
                goto finish;

        /* Commit; nothing can fail from here on. The states resolved at the last scan go first,
         * before this scan marks others resolved. */
        for (j = 0; j < p->n_states; j++)
                if (p->states[j]->track.resolved)
                        state_free(p->states[j]);
        /* Candidates are in key order and each leaves at most one state, so the new array comes
         * out sorted. */
        for (i = 0; i < n_cands; i++) {
                struct cand *cd = &cands[i];
                struct state *s = cd->old ? cd->old : cd->fresh;

                if (cd->has_event && !cd->emit) {
                        /* Suppressed: the state does not advance, the event comes out later. */
                        if (cd->old)
                                states[n_states++] = cd->old;
                        continue;
                }
                if (!cd->keep) {
                        state_free(cd->old);
                        continue;
                }
                s->track = cd->next;
                states[n_states++] = s;
        }
        for (i = 0; i < n_emit; i++) {
                events[i] = order[i]->ev;
                events[i].subject = cand_subject(order[i]);
        }
        free(p->states);
        p->states = states;
        p->n_states = n_states;
        free(p->events);
        p->events = events;
        states = NULL;
        events = NULL;
        committed = true;

        *ret_events = p->events;
        *ret_n = n_emit;
        if (ret_suppressed)
                *ret_suppressed = n_order - n_emit;
        ret = 0;

finish:
        if (!committed && cands)
                for (i = 0; i < n_cands; i++)
                        state_free(cands[i].fresh);
        free(states);
        free(events);
        free(order);
        free(cands);
        free(obs);
        return ret;
}

size_t policy_active(const struct policy *p, unsigned *counts) {
        size_t total = 0;

        if (counts)
                memset(counts, 0, _POLICY_KIND_MAX * sizeof(*counts));
        for (size_t i = 0; i < p->n_states; i++) {
                const struct state *s = p->states[i];

                if (!s->track.raised)
                        continue;
                if (counts && s->subject.kind < _POLICY_KIND_MAX)
                        counts[s->subject.kind]++;
                total++;
        }
        return total;
}

const char *policy_kind_name(enum policy_kind k) {
        static const char *const names[_POLICY_KIND_MAX] = {
                [POLICY_CLOSE_WAIT] = "close_wait",
                [POLICY_ACCEPT_BACKLOG] = "accept_backlog",
                [POLICY_TIME_WAIT] = "time_wait",
                [POLICY_FD_PRESSURE] = "fd_pressure",
        };

        return (unsigned) k < _POLICY_KIND_MAX ? names[k] : NULL;
}

const char *policy_reason_name(enum policy_reason r) {
        static const char *const names[] = {
                [POLICY_REASON_COUNT] = "count",
                [POLICY_REASON_AGE] = "age",
                [POLICY_REASON_RATIO] = "ratio",
        };

        return (unsigned) r < ELEMENTSOF(names) ? names[r] : NULL;
}
