/* tracker: how long each CLOSE_WAIT socket has been in CLOSE_WAIT.
 *
 * Keyed by the network namespace and socket cookie (unique per boot; per namespace before Linux
 * 5.10). The first scan that sees a socket estimates when
 * it entered CLOSE_WAIT from tcp_info; later scans keep that time, so ages grow with the clock and
 * never depend on tcp_info again. A socket is forgotten only after two scans in a row without it:
 * inet_diag dumps can skip a socket that moved in the hash table while the dump ran.
 *
 * The table can be saved to and loaded from a file (in /run/closewaitd/) keyed by the boot id:
 * CLOCK_MONOTONIC and cookies are valid for one boot, and a restart or upgrade of the daemon must
 * not make every leak young again. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"
#include "util.h"

/* The age of a socket first seen already in CLOSE_WAIT, from tcp_info: tcpi_last_ack_recv is the
 * time since the peer's FIN was acknowledged or later, so it is a lower bound; one jiffy of the
 * slowest kernel clock (HZ=100) is subtracted so that rounding never overstates it.
 * Returns 0 when the socket carries no tcp_info. */
usec_t tracker_bootstrap_age_usec(const struct diag_sock *s);

struct tracker;

/* Returns 0 and *ret, or -ENOMEM. */
int tracker_new(struct tracker **ret);

/* Free; accepts NULL, returns NULL. */
struct tracker *tracker_free(struct tracker *t);

/* Observe one scan taken at now (CLOCK_MONOTONIC): ages[i] receives the CLOSE_WAIT age of
 * set->socks[i] (0 for sockets in other states). New sockets are bootstrapped from tcp_info.
 * Sockets absent from this scan and the one before are forgotten.
 * Returns 0, or -ENOMEM (the table is then unchanged, ages undefined). */
int tracker_observe(struct tracker *t, const struct diag_set *set, usec_t now, usec_t *ages);

/* Whether the socket with this netns and cookie is tracked: seen in CLOSE_WAIT by a recent scan,
 * so its age no longer depends on tcp_info. */
bool tracker_contains(const struct tracker *t, uint32_t netns, uint64_t cookie);

/* How many sockets are tracked. */
size_t tracker_size(const struct tracker *t);

/* The table as the bytes of a state file: a header with boot_id (a string without whitespace),
 * one line per socket, and a last line with a checksum of everything before it. *ret is malloc'd.
 * Returns 0 or -ENOMEM. */
int tracker_serialize(const struct tracker *t, const char *boot_id, char **ret, size_t *ret_len);

/* Write len bytes of buf to dir_fd/name atomically (a temporary file, fsync'd, renamed over it),
 * mode 0600. Returns 0 or -errno; no temporary file is left behind. */
int tracker_write_file(int dir_fd, const char *name, const char *buf, size_t len);

/* tracker_serialize() then tracker_write_file(). Returns 0 or -errno. */
int tracker_save(const struct tracker *t, int dir_fd, const char *name, const char *boot_id);

/* Merge the table saved in dir_fd/name into t (known sockets keep the older first-seen time).
 * Loaded sockets count as seen by the last scan, so those that are gone are forgotten after the
 * next two scans. A file of version 2 (before namespaces were watched) is read with every socket in
 * host_netns. Returns the number of sockets loaded; -ENOENT when there is no file; -ESTALE
 * when it was written during another boot; -EPROTO when it is in another format (an older
 * version's); -EBADMSG when it is truncated or corrupt (a checksum
 * mismatch, a socket first seen after now; nothing is loaded then); -ENOMEM; other -errno from
 * reading. */
int tracker_load(struct tracker *t, int dir_fd, const char *name, const char *boot_id, usec_t now, uint32_t host_netns);
