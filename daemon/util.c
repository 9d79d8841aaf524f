/* util: the monotonic clock, read in one place, and array growth. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

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
