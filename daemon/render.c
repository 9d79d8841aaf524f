/* render: the report as JSON for scripts and as a table for people.
 *
 * Every string that comes from a process (comm, exe, unit) was escaped by procmap; JSON output
 * escapes it once more as JSON, so the object always parses. */
#include <errno.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "config.h"
#include "render.h"
#include "strutil.h"

#define JSON_MAX_PEERS      REPORT_TOP_PEERS
#define TABLE_MAX_PEERS     3
#define TABLE_MAX_TIME_WAIT 10 /* groups; the long tail of a busy host is one line */

/* Flush, and say why a write failed (ENOSPC, EPIPE, ...), not only that it did. */
static int render_finish(FILE *f) {
        if (fflush(f) != 0 || ferror(f))
                return errno > 0 ? -errno : -EIO;
        return 0;
}

static void json_put_string_or_null(FILE *f, const char *s) {
        if (s)
                json_put_string(f, s);
        else
                fputs("null", f);
}

static void json_put_addr(FILE *f, const struct diag_addr *a) {
        char buf[DIAG_ADDR_STRLEN];

        json_put_string(f, diag_addr_format(a, buf, sizeof(buf)));
}

static void format_time(const struct timespec *wall, char *buf, size_t size) {
        struct tm tm;

        if (!gmtime_r(&wall->tv_sec, &tm) || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                snprintf(buf, size, "1970-01-01T00:00:00Z");
}

/* "netns", and "container" and "pod" (null when none): where a process runs. */
static void json_put_where(FILE *f, uint64_t netns, const char *container, const char *pod) {
        if (netns)
                fprintf(f, "\"netns\":%llu", (unsigned long long) netns);
        else
                fputs("\"netns\":null", f);
        fputs(",\"container\":", f);
        json_put_string_or_null(f, container);
        fputs(",\"pod\":", f);
        json_put_string_or_null(f, pod);
}

/* "pid" and "comm" of the owner, its container and pod, and "pids": every holder of the listener. */
static void json_put_owner(FILE *f, const struct proc_info *info, const pid_t *pids, size_t n_pids) {
        if (info) {
                fprintf(f, "\"pid\":%d,\"comm\":", (int) info->pid);
                json_put_string(f, info->comm);
                fputs(",\"container\":", f);
                json_put_string_or_null(f, info->container);
                fputs(",\"pod\":", f);
                json_put_string_or_null(f, info->pod);
        } else
                fputs("\"pid\":null,\"comm\":null,\"container\":null,\"pod\":null", f);
        fputs(",\"pids\":[", f);
        for (size_t i = 0; i < n_pids; i++)
                fprintf(f, i > 0 ? ",%d" : "%d", (int) pids[i]);
        fputc(']', f);
}

static void json_put_proc(FILE *f, const struct report_proc *p) {
        const struct proc_info *info = p->info;
        size_t n_peers = p->n_peers < JSON_MAX_PEERS ? p->n_peers : JSON_MAX_PEERS;

        fprintf(f, "{\"pid\":%d,\"comm\":", (int) info->pid);
        json_put_string(f, info->comm);
        fputs(",\"exe\":", f);
        json_put_string_or_null(f, info->exe);
        fprintf(f, ",\"uid\":%u,\"unit\":", info->uid);
        json_put_string_or_null(f, info->unit);
        fprintf(f, ",\"start_time\":%llu,", (unsigned long long) info->start_time);
        json_put_where(f, info->netns, info->container, info->pod);
        fprintf(f, ",\"close_wait\":{\"count\":%u,\"oldest_age_s\":%.3f,\"unread\":%u,\"peers\":[", p->close_wait,
                usec_to_sec(p->oldest_age_usec), p->unread);
        for (size_t i = 0; i < n_peers; i++) {
                fputs(i > 0 ? ",{\"remote\":" : "{\"remote\":", f);
                json_put_addr(f, &p->peers[i].remote);
                fprintf(f, ",\"count\":%u}", p->peers[i].count);
        }
        fprintf(f, "],\"peers_distinct\":%zu}", p->n_peers);
        fprintf(f, ",\"fds\":{\"open\":%u,\"limit\":", info->open_fds);
        if (info->fd_limit >= 0)
                fprintf(f, "%lld}}", (long long) info->fd_limit);
        else
                fputs("null}}", f);
}

int render_json(FILE *f, const struct report *r, const struct render_scan *scan) {
        char when[64];

        format_time(&scan->wall, when, sizeof(when));
        fprintf(f, "{\"version\":1,\"time\":\"%s\"", when);
        fprintf(f, ",\"totals\":{\"close_wait\":%u,\"time_wait\":%u,\"accept_backlog\":%u,\"close_wait_unowned\":%u}",
                r->total_close_wait, r->total_time_wait, r->total_accept_backlog, r->unowned_close_wait);

        fputs(",\"processes\":[", f);
        for (size_t i = 0; i < r->n_procs; i++) {
                if (i > 0)
                        fputc(',', f);
                json_put_proc(f, &r->procs[i]);
        }

        fputs("],\"accept_backlog\":[", f);
        for (size_t i = 0; i < r->n_backlogs; i++) {
                const struct report_backlog *b = &r->backlogs[i];

                fputs(i > 0 ? ",{\"local\":" : "{\"local\":", f);
                json_put_addr(f, &b->local);
                fprintf(f, ",\"netns\":%llu,", (unsigned long long) b->netns);
                json_put_owner(f, b->info, b->pids, b->n_pids);
                fprintf(f, ",\"close_wait\":%u,\"oldest_age_s\":%.3f}", b->close_wait, usec_to_sec(b->oldest_age_usec));
        }

        fputs("],\"time_wait\":[", f);
        for (size_t i = 0; i < r->n_tw; i++) {
                const struct report_tw *t = &r->tw[i];

                fputs(i > 0 ? ",{" : "{", f);
                fputs(t->server ? "\"local\":" : "\"remote\":", f);
                json_put_addr(f, &t->addr);
                fprintf(f, ",\"netns\":%llu,", (unsigned long long) t->netns);
                json_put_owner(f, t->info, t->pids, t->n_pids);
                fprintf(f, ",\"count\":%u,\"oldest_age_s\":%.3f}", t->count, usec_to_sec(t->oldest_age_usec));
        }
        fputc(']', f);

        fprintf(f, ",\"scan\":{\"duration_s\":%.6f,\"cpu_s\":%.6f", usec_to_sec(scan->duration_usec),
                usec_to_sec(scan->cpu_usec));
        if (scan->proc) {
                const struct procmap_stats *p = scan->proc;

                fprintf(f,
                        ",\"proc_entries_read\":%lu,\"pids_walked\":%lu,\"links_read\":%lu,\"vanished\":%lu"
                        ",\"denied\":%lu,\"unreadable\":%lu,\"unresolved\":%lu",
                        p->proc_entries, p->pids_walked, p->links_read, p->vanished, p->denied, p->unreadable,
                        p->unresolved);
        }
        fprintf(f, ",\"netlink_duplicates\":%lu,\"netlink_malformed\":%lu", scan->diag_duplicates,
                scan->diag_malformed);
        fprintf(f, ",\"netns_own\":%llu,\"netns_watched\":%lu,\"netns_failed\":%lu,\"netns_denied\":%lu}}\n",
                (unsigned long long) scan->netns_own, scan->netns_watched, scan->netns_failed, scan->netns_denied);

        return render_finish(f);
}

/* "6m52s", "1h02m", "3d04h": ages for people. */
static const char *format_age(usec_t u, char *buf, size_t size) {
        unsigned long long s = u / USEC_PER_SEC;

        if (s < 60)
                snprintf(buf, size, "%.1fs", usec_to_sec(u));
        else if (s < 3600)
                snprintf(buf, size, "%llum%02llus", s / 60, s % 60);
        else if (s < 86400)
                snprintf(buf, size, "%lluh%02llum", s / 3600, (s % 3600) / 60);
        else
                snprintf(buf, size, "%llud%02lluh", s / 86400, (s % 86400) / 3600);
        return buf;
}

static const char *format_user(uint32_t uid, char *buf, size_t size) {
        struct passwd pw, *res = NULL;
        char tmp[1024];

        if (getpwuid_r(uid, &pw, tmp, sizeof(tmp), &res) == 0 && res) {
                char *e = str_escape(res->pw_name, strlen(res->pw_name));

                if (e) {
                        snprintf(buf, size, "%s", e);
                        free(e);
                        return buf;
                }
        }
        snprintf(buf, size, "%u", uid);
        return buf;
}

/* Top peers, summarised (report_peer_groups()): "10.0.0.5:5432 (40), 127.0.0.1:* (7)". */
static void table_put_peers(FILE *f, const struct report_proc *p) {
        struct report_peer_group *g;
        size_t n;

        if (report_peer_groups(p, &g, &n) < 0) {
                fprintf(f, "%zu peers", p->n_peers);
                return;
        }
        for (size_t i = 0; i < n && i < TABLE_MAX_PEERS; i++) {
                char buf[DIAG_ADDR_STRLEN];

                fprintf(f, "%s%s (%u)", i > 0 ? ", " : "", report_peer_group_format(&g[i], buf, sizeof(buf)),
                        g[i].count);
        }
        if (n > TABLE_MAX_PEERS)
                fprintf(f, ", +%zu more", n - TABLE_MAX_PEERS);
        free(g);
}

/* A unit in its 24 columns: a container's scope (docker-<64 hex>.scope) would push every column
 * after it out of line; its id is in the CONTAINER column, and --json has the whole name. The cut
 * falls between two characters, never inside one (the escaped name is valid UTF-8). */
static const char *format_unit(const char *unit, char *buf, size_t size) {
        size_t cut = 21;

        if (!unit)
                snprintf(buf, size, "-");
        else if (strlen(unit) > 24) {
                while (cut > 0 && ((unsigned char) unit[cut] & 0xc0) == 0x80)
                        cut--;
                snprintf(buf, size, "%.*s...", (int) cut, unit);
        } else
                snprintf(buf, size, "%s", unit);
        return buf;
}

/* "host" for the daemon's own network namespace, else its inode. */
static const char *format_netns(uint64_t netns, const struct render_scan *scan, char *buf, size_t size) {
        if (netns == 0)
                snprintf(buf, size, "-");
        else if (netns == scan->netns_own)
                snprintf(buf, size, "host");
        else
                snprintf(buf, size, "%llu", (unsigned long long) netns);
        return buf;
}

/* The container id as "docker ps" shows it (12 digits), else "pod:" and the pod uid's first
 * group, else "-". */
static const char *format_container(const struct proc_info *info, char *buf, size_t size) {
        if (info && info->container)
                snprintf(buf, size, "%.12s", info->container);
        else if (info && info->pod)
                snprintf(buf, size, "pod:%.8s", info->pod);
        else
                snprintf(buf, size, "-");
        return buf;
}

static void format_pid(const struct proc_info *info, char *buf, size_t size) {
        if (info)
                snprintf(buf, size, "%d", (int) info->pid);
        else
                snprintf(buf, size, "-");
}

int render_table(FILE *f, const struct report *r, const struct render_scan *scan) {
        char when[64], age[32], user[64];

        format_time(&scan->wall, when, sizeof(when));
        fprintf(f, "closewaitd %s scan at %s: %u CLOSE_WAIT held by %zu process%s, %u unaccepted, %u TIME_WAIT\n",
                CLOSEWAITD_VERSION, when, r->total_close_wait, r->n_procs, r->n_procs == 1 ? "" : "es",
                r->total_accept_backlog, r->total_time_wait);

        if (r->n_procs > 0) {
                fprintf(f, "\nCLOSE_WAIT sockets held by processes (ages are lower bounds):\n");
                fprintf(f, "%8s %-10s %-16s %-24s %-10s %-12s %6s %6s %8s %13s  %s\n", "PID", "USER", "COMM", "UNIT",
                        "NETNS", "CONTAINER", "COUNT", "UNREAD", "OLDEST", "FDS/LIMIT", "TOP PEERS");
                for (size_t i = 0; i < r->n_procs; i++) {
                        const struct report_proc *p = &r->procs[i];
                        char fds[32], ns[24], ct[24], unit[32];

                        if (p->info->fd_limit >= 0)
                                snprintf(fds, sizeof(fds), "%u/%lld", p->info->open_fds, (long long) p->info->fd_limit);
                        else
                                snprintf(fds, sizeof(fds), "%u/unlimited", p->info->open_fds);
                        fprintf(f, "%8d %-10s %-16s %-24s %-10s %-12s %6u %6u %8s %13s  ", (int) p->info->pid,
                                format_user(p->info->uid, user, sizeof(user)), p->info->comm,
                                format_unit(p->info->unit, unit, sizeof(unit)),
                                format_netns(p->info->netns, scan, ns, sizeof(ns)),
                                format_container(p->info, ct, sizeof(ct)), p->close_wait, p->unread,
                                format_age(p->oldest_age_usec, age, sizeof(age)), fds);
                        table_put_peers(f, p);
                        fputc('\n', f);
                }
        } else
                fprintf(f, "\nNo process holds a CLOSE_WAIT socket.\n");
        if (r->unowned_close_wait > 0)
                fprintf(f, "%u CLOSE_WAIT sockets have no readable holder (permission or a process that exited).\n",
                        r->unowned_close_wait);

        if (r->n_backlogs > 0) {
                fprintf(f, "\nAccept backlog: connections closed by the peer before accept():\n");
                fprintf(f, "%-48s %-10s %8s %-16s %-12s %6s %8s\n", "LISTENER", "NETNS", "PID", "COMM", "CONTAINER",
                        "COUNT", "OLDEST");
                for (size_t i = 0; i < r->n_backlogs; i++) {
                        const struct report_backlog *b = &r->backlogs[i];
                        char addr[DIAG_ADDR_STRLEN], pid[16], ns[24], ct[24];

                        format_pid(b->info, pid, sizeof(pid));
                        fprintf(f, "%-48s %-10s %8s %-16s %-12s %6u %8s\n",
                                diag_addr_format(&b->local, addr, sizeof(addr)),
                                format_netns(b->netns, scan, ns, sizeof(ns)), pid, b->info ? b->info->comm : "-",
                                format_container(b->info, ct, sizeof(ct)), b->close_wait,
                                format_age(b->oldest_age_usec, age, sizeof(age)));
                }
        }

        if (r->n_tw > 0) {
                fprintf(f, "\nTIME_WAIT groups (server side by listener, client side by destination):\n");
                fprintf(f, "%-6s %-48s %-10s %8s %-16s %6s %8s\n", "SIDE", "ADDRESS", "NETNS", "PID", "COMM", "COUNT",
                        "OLDEST");
                for (size_t i = 0; i < r->n_tw && i < TABLE_MAX_TIME_WAIT; i++) {
                        const struct report_tw *t = &r->tw[i];
                        char addr[DIAG_ADDR_STRLEN], pid[16], ns[24];

                        format_pid(t->info, pid, sizeof(pid));
                        fprintf(f, "%-6s %-48s %-10s %8s %-16s %6u %8s\n", t->server ? "server" : "client",
                                diag_addr_format(&t->addr, addr, sizeof(addr)),
                                format_netns(t->netns, scan, ns, sizeof(ns)), pid, t->info ? t->info->comm : "-",
                                t->count, format_age(t->oldest_age_usec, age, sizeof(age)));
                }
                if (r->n_tw > TABLE_MAX_TIME_WAIT) {
                        unsigned rest = 0;

                        for (size_t i = TABLE_MAX_TIME_WAIT; i < r->n_tw; i++)
                                rest += r->tw[i].count;
                        fprintf(f, "... and %zu smaller groups with %u sockets (--json lists them all)\n",
                                r->n_tw - TABLE_MAX_TIME_WAIT, rest);
                }
        }

        fprintf(f, "\nScan took %.1f ms", usec_to_sec(scan->duration_usec) * 1000.0);
        fprintf(f, "; %lu network namespace%s watched", scan->netns_watched, scan->netns_watched == 1 ? "" : "s");
        if (scan->netns_failed > 0)
                fprintf(f, " (%lu could not be entered)", scan->netns_failed);
        if (scan->proc)
                fprintf(f, "; /proc: %lu entries read, %lu processes vanished, %lu denied", scan->proc->proc_entries,
                        scan->proc->vanished, scan->proc->denied);
        fputs(".\n", f);

        return render_finish(f);
}
