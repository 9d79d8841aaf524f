/* daemon: the context of closewaitd (netlink socket, /proc map, socket ages, alert state, buffers
 * kept across scans), one scan (dump -> track -> attribute -> roll up), and the decision on it
 * (policy -> alerts). The event loop that drives it lives in main.c. */
#pragma once

#include <stddef.h>

#include "alert.h"
#include "conf.h"
#include "procmap.h"
#include "render.h"
#include "report.h"

struct daemon;

/* Open the diag socket of the own network namespace and the /proc map at proc_path. get_unit as in procmap_new().
 * Returns 0 and *ret, or -errno (the netlink socket or /proc could not be opened, -ENOMEM). */
int daemon_new(const char *proc_path, procmap_unit_fn get_unit, struct daemon **ret);

/* Free; accepts NULL, returns NULL. */
struct daemon *daemon_free(struct daemon *d);

/* Run one scan at now (CLOCK_MONOTONIC). On success *ret_report points to the report of this scan
 * (owned by d, valid until the next scan) and *ret_scan says what the scan cost. IPv6 being
 * unavailable is not an error. Returns 0, or -errno when the kernel's socket dump failed (the
 * report is then not valid; the diag socket is closed, and opened again by the next call), -ENOMEM. */
int daemon_scan(struct daemon *d, usec_t now, const struct report **ret_report, struct render_scan *ret_scan);

/* Decide on the last successful scan (taken at now) with configuration c, and write the alerts
 * that are due to a, at most max_alerts of them plus one line for the rest. Returns the number of
 * entries written, or -ENOMEM. */
int daemon_alert(struct daemon *d, const struct conf *c, usec_t now, size_t max_alerts, struct alert *a);

/* Whether scans watch every network namespace (enter: the caller has checked netns_can_enter())
 * or only the daemon's own. Off after daemon_new(). */
void daemon_set_netns(struct daemon *d, bool enter);

/* How many alerts are raised now, per kind (counts has _POLICY_KIND_MAX entries, policy.h).
 * Returns the sum. */
size_t daemon_alerts_active(const struct daemon *d, unsigned *counts);

/* A one-line summary of the last scan, for STATUS= and the verbose log. */
void daemon_status(const struct daemon *d, char *buf, size_t size);

/* The file, in the state directory, that keeps the socket ages across restarts. */
#define DAEMON_STATE_FILE "state"

/* The socket ages as the bytes of DAEMON_STATE_FILE, valid for boot_id only: *ret (malloc'd, the
 * caller frees it) holds *ret_size bytes. Writing them is not the daemon's: once started it
 * cannot write files (sandbox.h), its keeper does, with tracker_write_file(). Returns 0 or
 * -ENOMEM. */
int daemon_save_state(const struct daemon *d, const char *boot_id, char **ret, size_t *ret_size);

/* Load dir_fd/DAEMON_STATE_FILE if it was written during boot_id (now: the time of loading).
 * Returns as tracker_load(). */
int daemon_load_state(struct daemon *d, int dir_fd, const char *boot_id, usec_t now);
