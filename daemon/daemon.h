/* daemon: the context of closewaitd (netlink socket, /proc map, buffers kept across scans) and
 * one scan: dump -> attribute -> age -> roll up. */
#pragma once

#include "procmap.h"
#include "render.h"
#include "report.h"

struct daemon;

/* Open the diag socket and the /proc map at proc_path. get_unit as in procmap_new().
 * Returns 0 and *ret, or -errno (the netlink socket or /proc could not be opened, -ENOMEM). */
int daemon_new(const char *proc_path, procmap_unit_fn get_unit, struct daemon **ret);

/* Free; accepts NULL, returns NULL. */
struct daemon *daemon_free(struct daemon *d);

/* Run one scan. On success *ret_report points to the report of this scan (owned by d, valid until
 * the next scan) and *ret_scan says what the scan cost. IPv6 being unavailable is not an error.
 * Returns 0, or -errno when the kernel's socket dump failed (the report is then not valid). */
int daemon_scan(struct daemon *d, const struct report **ret_report, struct render_scan *ret_scan);
