/* util: the monotonic clock, read in one place, array growth, and reading a file whole. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "util.h"

int array_reserve(void **array, size_t *cap, size_t want, size_t elem) {
        size_t n;
        void *p;

        if (want <= *cap)
                return 0;
        n = *cap ? *cap : 16;
        while (n < want) {
                if (n > SIZE_MAX / 2 / elem)
                        return -ENOMEM;
                n *= 2;
        }
        p = realloc(*array, n * elem);
        if (!p)
                return -ENOMEM;
        *array = p;
        *cap = n;
        return 0;
}

usec_t now_monotonic_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (usec_t) ts.tv_sec * USEC_PER_SEC + (usec_t) ts.tv_nsec / 1000;
}

usec_t now_cpu_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        return (usec_t) ts.tv_sec * USEC_PER_SEC + (usec_t) ts.tv_nsec / 1000;
}

int read_full(int fd, void *buf, size_t size, size_t *ret_len) {
        size_t n = 0;

        while (n < size) {
                ssize_t k = read(fd, (char *) buf + n, size - n);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                n += (size_t) k;
        }
        *ret_len = n;
        return 0;
}
