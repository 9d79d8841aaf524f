/* util: the one clock, the one time unit, and small helpers every module shares. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef uint64_t usec_t;

#define USEC_PER_SEC  ((usec_t) 1000000ULL)
#define USEC_PER_MSEC ((usec_t) 1000ULL)
#define USEC_INFINITY ((usec_t) UINT64_MAX)

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

/* Grow *array (elements of size elem, capacity *cap) to hold at least want elements, doubling so
 * that appending one at a time stays amortised O(1). Returns 0 or -ENOMEM (array unchanged). */
int array_reserve(void **array, size_t *cap, size_t want, size_t elem);

/* Read from fd until size bytes are in or the file ends, retrying on EINTR. Returns 0 with the
 * number of bytes read in *ret_len (less than size only at the end of the file), or -errno. */
int read_full(int fd, void *buf, size_t size, size_t *ret_len);

/* Write len bytes of buf as dir_fd/name atomically: into ".NAME.tmp" (created with mode, flags as
 * SANDBOX_KEEPER_OPEN_FLAGS allows), fsync'd when sync, renamed over name. Returns 0 or -errno;
 * no temporary file is left behind. */
int write_file_atomic(int dir_fd, const char *name, const char *buf, size_t len, unsigned mode, bool sync);
/* CLOCK_MONOTONIC now, in microseconds. Never fails on Linux. */
usec_t now_monotonic_usec(void);

/* CPU time this process has used (user and system, every thread), in microseconds. */
usec_t now_cpu_usec(void);

/* Seconds as a double, for output. */
static inline double usec_to_sec(usec_t u) {
        return (double) u / (double) USEC_PER_SEC;
}
