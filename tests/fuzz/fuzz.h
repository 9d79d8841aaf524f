/* What every fuzz target shares: libFuzzer's entry point, the check that stops a run on a broken
 * property, and a reader that turns the fuzzer's bytes into numbers and strings.
 *
 * A target is built two ways (tests/fuzz/meson.build): with clang's -fsanitize=fuzzer, which
 * supplies main(), or with replay.c, which feeds it the files of its corpus as a regression test. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken property is a crash, so that libFuzzer saves the input and a replay fails. The message
 * says which property; __builtin_trap() keeps the stack for the sanitizer's report. */
#define FUZZ_CHECK(cond)                                                                                               \
        do {                                                                                                           \
                if (!(cond)) {                                                                                         \
                        fprintf(stderr, "%s:%d: property broken: %s\n", __FILE__, __LINE__, #cond);                    \
                        (void) fflush(stderr);                                                                         \
                        __builtin_trap();                                                                              \
                }                                                                                                      \
        } while (0)

/* The fuzzer's bytes, consumed from the front. Reading past the end gives zeros and empty
 * strings, so every input decodes to something. */
struct fuzz_input {
        const uint8_t *p;
        size_t n;
};

static inline uint8_t fuzz_u8(struct fuzz_input *in) {
        uint8_t v = 0;

        if (in->n > 0) {
                v = in->p[0];
                in->p++;
                in->n--;
        }
        return v;
}

static inline uint32_t fuzz_u32(struct fuzz_input *in) {
        uint32_t v = 0;

        for (int i = 0; i < 4; i++)
                v |= (uint32_t) fuzz_u8(in) << (8 * i);
        return v;
}

static inline uint64_t fuzz_u64(struct fuzz_input *in) {
        uint64_t lo = fuzz_u32(in);

        return lo | (uint64_t) fuzz_u32(in) << 32;
}

/* A string of up to 255 bytes (a length byte, then the bytes) in its own allocation of exactly
 * its size, so that ASan sees a read past its NUL. A NUL in the input ends the string early: the
 * strings this stands for (comm, exe, unit) never hold one. Returns NULL on -ENOMEM. */
static inline char *fuzz_str(struct fuzz_input *in) {
        size_t len = fuzz_u8(in), k;
        char *s;

        if (len > in->n)
                len = in->n;
        for (k = 0; k < len && in->p[k] != 0; k++)
                ;
        s = malloc(k + 1);
        if (s) {
                memcpy(s, in->p, k);
                s[k] = '\0';
        }
        in->p += len;
        in->n -= len;
        return s;
}
