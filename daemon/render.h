/* render: a report as JSON (report.schema.json, version 1) or as a readable table. */
#pragma once

#include <stdio.h>
#include <time.h>

#include "report.h"

/* How the scan itself went, printed with the report. */
struct render_scan {
        struct timespec wall; /* when the scan ran (CLOCK_REALTIME) */
        usec_t duration_usec; /* wall time of the scan */
        usec_t cpu_usec;      /* CPU time (user + system) the scan used */
        const struct procmap_stats *proc;
        unsigned long diag_duplicates;
        unsigned long diag_malformed;
        uint64_t netns_own;          /* the daemon's own network namespace: "host" in the table */
        unsigned long netns_watched; /* network namespaces dumped (the own one included) */
        unsigned long netns_failed;  /* namespaces found but not dumped (not entered, dump failed) */
        unsigned long netns_denied;  /* processes whose namespace could not be read (EACCES) */
};

/* Write the report as one JSON object and a newline. Returns 0 or -EIO on a write error. */
int render_json(FILE *f, const struct report *r, const struct render_scan *scan);

/* Write the report as a table for people: largest holders first, peers summarised.
 * Returns 0 or -EIO. */
int render_table(FILE *f, const struct report *r, const struct render_scan *scan);
