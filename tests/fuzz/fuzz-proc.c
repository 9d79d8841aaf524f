/* fuzz-proc: every parser of /proc text that closewaitd has, all on the same bytes: stat (start
 * time), limits (Max open files), status (Uid:), an fd link target, and comm. Each gets a copy of
 * exactly the input's length, not NUL-terminated, as a read() leaves it.
 *
 * The fifth file the issue names, /proc/PID/cgroup, is parsed twice: for the unit by libsystemd
 * (sd_pid_get_unit() via the unit lookup procmap is given; the name it returns is escaped like
 * comm and exe, and fuzz-render covers that escaping), and for the container by container.c,
 * which fuzz-container covers.
 *
 * Properties: the parsers return 0 or -EBADMSG; a socket link that parses prints back as the
 * same bytes (the parser accepts exactly what the kernel writes); a limit is -1 (unlimited) or
 * positive-or-zero; a number a parser returns is written in the right place of the text (after
 * comm's last ')', on the "Max open files" or "Uid:" line); the escaped comm is ASCII or valid
 * UTF-8 without control characters and unescapes to the input less one trailing newline. */
#define _GNU_SOURCE /* memmem() */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "json-check.h"
#include "procmap.h"

static void check_socket_link(const char *buf, size_t len) {
        uint32_t inode = 0;
        char back[32];
        int r, n;

        r = proc_parse_socket_link(buf, len, &inode);
        FUZZ_CHECK(r == 0 || r == -EBADMSG);
        if (r < 0)
                return;
        n = snprintf(back, sizeof(back), "socket:[%" PRIu32 "]", inode);
        FUZZ_CHECK(n > 0 && (size_t) n == len && memcmp(back, buf, len) == 0);
}

static void check_comm(const char *buf, size_t len) {
        size_t want = len > 0 && buf[len - 1] == '\n' ? len - 1 : len;
        char *comm, *raw;
        size_t raw_len;
        int r;

        comm = proc_comm_from_file(buf, len);
        if (!comm)
                return; /* -ENOMEM */
        FUZZ_CHECK(text_is_safe(comm, strlen(comm)));
        r = text_unescape(comm, &raw, &raw_len);
        FUZZ_CHECK(r == 0 || r == -ENOMEM);
        if (r == 0) {
                FUZZ_CHECK(raw_len == want && memcmp(raw, buf, want) == 0);
                free(raw);
        }
        free(comm);
}

/* The number v, printed in decimal, appears in buf[from..len): a parser that returns a value
 * did not make it up (or take it from another field's digits before from). */
static bool number_appears(const char *buf, size_t len, size_t from, uint64_t v) {
        char digits[24];
        int n = snprintf(digits, sizeof(digits), "%" PRIu64, v);

        return from <= len && memmem(buf + from, len - from, digits, (size_t) n) != NULL;
}

/* Where the first line starting with prefix begins, or len. */
static size_t line_start(const char *buf, size_t len, const char *prefix) {
        size_t n = strlen(prefix);

        for (size_t i = 0; i + n <= len; i++)
                if ((i == 0 || buf[i - 1] == '\n') && memcmp(buf + i, prefix, n) == 0)
                        return i;
        return len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *buf = malloc(size > 0 ? size : 1);
        uint64_t start;
        int64_t limit = 0;
        uint32_t uid;
        int r;

        if (!buf)
                return 0;
        memcpy(buf, data, size);

        r = proc_parse_stat_start_time(buf, size, &start);
        FUZZ_CHECK(r == 0 || r == -EBADMSG);
        if (r == 0) {
                const char *paren = NULL;

                for (size_t i = size; i > 0 && !paren; i--)
                        if (buf[i - 1] == ')')
                                paren = buf + i - 1;
                FUZZ_CHECK(paren && number_appears(buf, size, (size_t) (paren - buf), start));
        }

        r = proc_parse_limits_nofile(buf, size, &limit);
        FUZZ_CHECK(r == 0 || r == -EBADMSG);
        if (r == 0) {
                size_t from = line_start(buf, size, "Max open files");

                FUZZ_CHECK(from < size);
                FUZZ_CHECK(limit == -1 ? memmem(buf + from, size - from, "unlimited", 9) != NULL
                                       : limit >= 0 && number_appears(buf, size, from, (uint64_t) limit));
        }

        r = proc_parse_status_uid(buf, size, &uid);
        FUZZ_CHECK(r == 0 || r == -EBADMSG);
        if (r == 0)
                FUZZ_CHECK(number_appears(buf, size, line_start(buf, size, "Uid:"), uid));

        check_socket_link(buf, size);
        check_comm(buf, size);

        free(buf);
        return 0;
}
