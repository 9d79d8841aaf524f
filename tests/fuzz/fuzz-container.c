/* fuzz-container: container_parse_cgroup() on any bytes, as a read() of /proc/PID/cgroup leaves
 * them (not NUL-terminated).
 *
 * Properties: it returns 0 or 1; on 0 every byte of the result is zero; on 1 every string is
 * NUL-terminated and NUL-padded in its array, the runtime is one of the five names, the id is empty
 * or 12 to 64 lowercase hex digits written in the input, the pod is empty or a pod uid
 * (8-4-4-4-12 or 32 lowercase hex digits) written in the input (with '-' or, in a systemd slice,
 * '_'), "kubepods" comes with a pod and every other runtime with an id; so id and pod are made of
 * [0-9a-f-] only. And a line without its newline counts for nothing: the input gives the result of
 * its bytes up to the last newline. */
#define _GNU_SOURCE /* memmem() */
#include <stdlib.h>
#include <string.h>

#include "container.h"
#include "fuzz.h"

static bool is_lower_hex(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* s[0..size) holds a NUL, and only NULs after it. Returns the length before it. */
static size_t check_padded(const char *s, size_t size) {
        size_t n = strnlen(s, size);

        FUZZ_CHECK(n < size);
        for (size_t i = n; i < size; i++)
                FUZZ_CHECK(s[i] == '\0');
        return n;
}

static bool all_zero(const void *p, size_t size) {
        const unsigned char *b = p;

        for (size_t i = 0; i < size; i++)
                if (b[i] != 0)
                        return false;
        return true;
}

static bool is_pod_uid(const char *s, size_t n) {
        if (n != 36 && n != 32)
                return false;
        for (size_t i = 0; i < n; i++) {
                bool dash = n == 36 && (i == 8 || i == 13 || i == 18 || i == 23);

                if (dash ? s[i] != '-' : !is_lower_hex(s[i]))
                        return false;
        }
        return true;
}

static void check_found(const struct container_id *c, const char *buf, size_t len) {
        static const char *const runtimes[] = { "docker", "containerd", "cri-o", "podman", "kubepods" };
        size_t nr = check_padded(c->runtime, sizeof(c->runtime));
        size_t ni = check_padded(c->id, sizeof(c->id));
        size_t np = check_padded(c->pod, sizeof(c->pod));
        bool known = false;

        for (size_t i = 0; i < sizeof(runtimes) / sizeof(runtimes[0]); i++)
                known = known || strcmp(c->runtime, runtimes[i]) == 0;
        FUZZ_CHECK(nr > 0 && known);

        FUZZ_CHECK(ni == 0 || (ni >= 12 && ni <= 64));
        for (size_t i = 0; i < ni; i++)
                FUZZ_CHECK(is_lower_hex(c->id[i]));
        FUZZ_CHECK(ni == 0 || memmem(buf, len, c->id, ni) != NULL);

        FUZZ_CHECK(np == 0 || is_pod_uid(c->pod, np));
        if (np > 0) {
                char escaped[sizeof(c->pod)];

                memcpy(escaped, c->pod, sizeof(escaped));
                for (size_t i = 0; i < np; i++)
                        if (escaped[i] == '-')
                                escaped[i] = '_';
                FUZZ_CHECK(memmem(buf, len, c->pod, np) != NULL || memmem(buf, len, escaped, np) != NULL);
        }

        if (strcmp(c->runtime, "kubepods") == 0)
                FUZZ_CHECK(np > 0);
        else
                FUZZ_CHECK(ni > 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *buf = malloc(size > 0 ? size : 1);
        struct container_id c, whole;
        size_t lines = 0;
        int r, r_whole;

        if (!buf)
                return 0;
        memcpy(buf, data, size);

        memset(&c, 0xa5, sizeof(c)); /* what the parser must overwrite */
        r = container_parse_cgroup(buf, size, &c);
        FUZZ_CHECK(r == 0 || r == 1);
        if (r == 0)
                FUZZ_CHECK(all_zero(&c, sizeof(c)));
        else
                check_found(&c, buf, size);

        for (size_t i = size; i > 0 && lines == 0; i--)
                if (buf[i - 1] == '\n')
                        lines = i;
        if (lines < size) {
                memset(&whole, 0x5a, sizeof(whole));
                r_whole = container_parse_cgroup(buf, lines, &whole);
                FUZZ_CHECK(r_whole == r && memcmp(&whole, &c, sizeof(c)) == 0);
        }

        free(buf);
        return 0;
}
