/* scan-loop: run the daemon's scan in a loop and print what each one cost, for profiling
 * (perf record -p, valgrind --tool=callgrind) without the event loop around it.
 *
 *   scan-loop [-n SCANS] [-w]
 *
 * -w waits for a line on stdin before each scan, so that a script can change the host between
 * two scans. Each scan prints one line: CPU and wall time, sockets and what procmap did. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"

int main(int argc, char **argv) {
        const struct report *report;
        struct daemon *d = NULL;
        unsigned long scans = 10;
        bool wait = false;
        int c, r;

        while ((c = getopt(argc, argv, "n:w")) >= 0) {
                switch (c) {
                case 'n':
                        scans = strtoul(optarg, NULL, 10);
                        break;
                case 'w':
                        wait = true;
                        break;
                default:
                        fprintf(stderr, "usage: %s [-n SCANS] [-w]\n", argv[0]);
                        return 64;
                }
        }

        r = daemon_new("/proc", NULL, &d);
        if (r < 0) {
                fprintf(stderr, "scan-loop: %s\n", strerror(-r));
                return 1;
        }
        for (unsigned long i = 0; i < scans; i++) {
                struct render_scan scan = {};
                char line[64];

                if (wait && !fgets(line, sizeof(line), stdin))
                        break;
                r = daemon_scan(d, now_monotonic_usec(), &report, &scan);
                if (r < 0) {
                        fprintf(stderr, "scan-loop: scan %lu: %s\n", i, strerror(-r));
                        continue;
                }
                printf("scan %lu: cpu %.1f ms, wall %.1f ms, %u CLOSE_WAIT in %zu processes, %lu /proc "
                       "entries, %lu walked, %lu links, %lu from cache, %lu stale, %lu unresolved\n",
                       i, (double) scan.cpu_usec / 1e3, (double) scan.duration_usec / 1e3, report->total_close_wait,
                       report->n_procs, scan.proc->proc_entries, scan.proc->pids_walked, scan.proc->links_read,
                       scan.proc->cache_verified, scan.proc->cache_stale, scan.proc->unresolved);
                (void) fflush(stdout);
        }
        daemon_free(d);
        return 0;
}
