/* tracker: CLOSE_WAIT ages, kept by (network namespace, socket cookie) in an open-addressing table (linear probing,
 * backward-shift deletion, no tombstones) so that a scan costs O(sockets) with no allocation in
 * the steady state. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tracker.h"

/* tcp_info stamps are jiffies turned into ms (tcp_get_info() in net/ipv4/tcp.c): a FIN that
 * arrived just before a tick reads up to one jiffy older than it is. 10 ms covers HZ=100. */
#define JIFFY_MARGIN_USEC (10 * USEC_PER_MSEC)

#define STATE_MAGIC_PREFIX "closewaitd-state "
#define STATE_MAGIC        STATE_MAGIC_PREFIX "3" /* 3: sockets keyed by netns too */
#define STATE_MAGIC_V2     STATE_MAGIC_PREFIX "2" /* 2: the checksum; every socket in the host's netns */

usec_t tracker_bootstrap_age_usec(const struct diag_sock *s) {
        uint32_t ms;
        usec_t age;

        if (!s->has_info)
                return 0;

        /* The FIN's ACK stamps the receive time and no data can follow a FIN, so
         * last_ack_recv <= age <= last_data_recv; the smaller of the two is the safe side. */
        ms = s->last_ack_recv_ms < s->last_data_recv_ms ? s->last_ack_recv_ms : s->last_data_recv_ms;
        age = (usec_t) ms * USEC_PER_MSEC;
        return age > JIFFY_MARGIN_USEC ? age - JIFFY_MARGIN_USEC : 0;
}

struct entry {
        uint64_t cookie; /* 0: empty slot (the kernel's cookies start at 1) */
        usec_t first_seen;
        uint32_t netns;
        uint32_t seen_gen; /* the scan that last saw it (wraps after 4e9 scans: compared as a
                            * difference); 24 bytes an entry, 100k sockets in 6 MiB */
};

struct tracker {
        struct entry *slots;
        size_t cap; /* a power of two, or 0 */
        size_t n;
        uint32_t gen; /* scans observed, modulo 2^32 */
};

int tracker_new(struct tracker **ret) {
        struct tracker *t = calloc(1, sizeof(*t));

        if (!t)
                return -ENOMEM;
        *ret = t;
        return 0;
}

struct tracker *tracker_free(struct tracker *t) {
        if (!t)
                return NULL;
        free(t->slots);
        free(t);
        return NULL;
}

size_t tracker_size(const struct tracker *t) {
        return t->n;
}

static size_t slot_of(uint32_t netns, uint64_t cookie, size_t cap) {
        /* Cookies are sequential: mix them (the 64-bit finalizer of MurmurHash3) so that runs of
         * them do not fill runs of slots. */
        cookie ^= netns * 0x9e3779b97f4a7c15ULL;
        cookie ^= cookie >> 33;
        cookie *= 0xff51afd7ed558ccdULL;
        cookie ^= cookie >> 33;
        return (size_t) cookie & (cap - 1);
}

static struct entry *find_slot(struct entry *slots, size_t cap, uint32_t netns, uint64_t cookie) {
        size_t i = slot_of(netns, cookie, cap);

        while (slots[i].cookie != 0 && (slots[i].cookie != cookie || slots[i].netns != netns))
                i = (i + 1) & (cap - 1);
        return &slots[i];
}

bool tracker_contains(const struct tracker *t, uint32_t netns, uint64_t cookie) {
        return t->cap > 0 && cookie != 0 && find_slot(t->slots, t->cap, netns, cookie)->cookie == cookie;
}

/* Make room for want entries at a load of at most 1/2. Returns 0 or -ENOMEM (table unchanged). */
static int reserve(struct tracker *t, size_t want) {
        struct entry *slots;
        size_t cap = t->cap ? t->cap : 1024;

        while (cap / 2 < want)
                cap *= 2;
        if (cap == t->cap)
                return 0;
        slots = calloc(cap, sizeof(*slots));
        if (!slots)
                return -ENOMEM;
        for (size_t i = 0; i < t->cap; i++)
                if (t->slots[i].cookie != 0)
                        *find_slot(slots, cap, t->slots[i].netns, t->slots[i].cookie) = t->slots[i];
        free(t->slots);
        t->slots = slots;
        t->cap = cap;
        return 0;
}

/* Empty slot i and shift back the entries of its probe run that may live there. */
static void delete_slot(struct tracker *t, size_t i) {
        size_t mask = t->cap - 1, j = i;

        for (;;) {
                size_t home;

                j = (j + 1) & mask;
                if (t->slots[j].cookie == 0)
                        break;
                home = slot_of(t->slots[j].netns, t->slots[j].cookie, t->cap);
                /* The entry at j may move to the hole at i unless its home lies cyclically in (i, j]. */
                if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
                        t->slots[i] = t->slots[j];
                        i = j;
                }
        }
        t->slots[i] = (struct entry){};
        t->n--;
}

/* Forget the entries that missed this scan and the one before. */
static void forget_stale(struct tracker *t) {
        for (size_t i = 0; i < t->cap; i++)
                while (t->slots[i].cookie != 0 && (uint32_t) (t->gen - t->slots[i].seen_gen) >= 2)
                        delete_slot(t, i);
}

int tracker_observe(struct tracker *t, const struct diag_set *set, usec_t now, usec_t *ages) {
        size_t n_cw = 0;
        int r;

        for (size_t i = 0; i < set->n; i++)
                if (set->socks[i].state == TCP_CLOSE_WAIT && set->socks[i].cookie != 0)
                        n_cw++;
        r = reserve(t, t->n + n_cw);
        if (r < 0)
                return r;

        t->gen++;
        for (size_t i = 0; i < set->n; i++) {
                const struct diag_sock *s = &set->socks[i];
                struct entry *e;

                ages[i] = 0;
                if (s->state != TCP_CLOSE_WAIT)
                        continue;
                if (s->cookie == 0) { /* no key: only tcp_info can tell */
                        ages[i] = tracker_bootstrap_age_usec(s);
                        continue;
                }
                e = find_slot(t->slots, t->cap, s->netns, s->cookie);
                if (e->cookie == 0) {
                        usec_t boot = tracker_bootstrap_age_usec(s);

                        *e = (struct entry){
                                .cookie = s->cookie,
                                .netns = s->netns,
                                .first_seen = boot < now ? now - boot : 0,
                        };
                        t->n++;
                }
                e->seen_gen = t->gen;
                ages[i] = now > e->first_seen ? now - e->first_seen : 0;
        }
        forget_stale(t);
        return 0;
}

/* FNV-1a, 64 bits: the state file's checksum. Not against an adversary (whoever can write the
 * runtime directory can write a matching sum) but against a file that is damaged yet still
 * parses, e.g. one digit of a first-seen time changed, which would make a socket look old. */
static uint64_t state_checksum(const char *buf, size_t len) {
        uint64_t h = 0xcbf29ce484222325ULL;

        for (size_t i = 0; i < len; i++) {
                h ^= (unsigned char) buf[i];
                h *= 0x100000001b3ULL;
        }
        return h;
}

static int hex_value(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return -1;
}

int tracker_serialize(const struct tracker *t, const char *boot_id, char **ret, size_t *ret_len) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f;
        int r = 0;

        f = open_memstream(&buf, &len);
        if (!f)
                return -ENOMEM;
        fprintf(f, "%s\nboot %s\ncount %zu\n", STATE_MAGIC, boot_id, t->n);
        for (size_t i = 0; i < t->cap; i++)
                if (t->slots[i].cookie != 0)
                        fprintf(f, "%" PRIx64 " %" PRIu32 " %" PRIu64 "\n", t->slots[i].cookie, t->slots[i].netns,
                                t->slots[i].first_seen);
        if (fflush(f) != 0 || ferror(f))
                r = -ENOMEM;
        else
                fprintf(f, "end %016" PRIx64 "\n", state_checksum(buf, len));
        if (fclose(f) != 0 && r == 0)
                r = -ENOMEM;
        if (r < 0) {
                free(buf);
                return r;
        }
        *ret = buf;
        *ret_len = len;
        return 0;
}

int tracker_write_file(int dir_fd, const char *name, const char *buf, size_t len) {
        return write_file_atomic(dir_fd, name, buf, len, 0600, true);
}

int tracker_save(const struct tracker *t, int dir_fd, const char *name, const char *boot_id) {
        char *buf;
        size_t len;
        int r;

        r = tracker_serialize(t, boot_id, &buf, &len);
        if (r < 0)
                return r;
        r = tracker_write_file(dir_fd, name, buf, len);
        free(buf);
        return r;
}

/* Parse the saved table in buf (NUL-terminated, len bytes) into entries: none may have been first
 * seen after now; the sockets of a version-2 file are put in host_netns. Returns the count,
 * -ESTALE or -EBADMSG; *ret (malloc'd) only on success. */
static int parse_state(char *buf, size_t len, const char *boot_id, usec_t now, uint32_t host_netns,
                       struct entry **ret) {
        char *line, *save = NULL;
        struct entry *entries = NULL;
        size_t count = 0, n = 0;
        const char *end;
        uint64_t sum;
        int used = 0;
        int r = -EBADMSG;
        bool v2 = strncmp(buf, STATE_MAGIC_V2 "\n", strlen(STATE_MAGIC_V2) + 1) == 0;

        /* Another format (the one before the checksum: "closewaitd-state 1"), e.g. after an
         * upgrade: not damage, just nothing to keep. Version 2 (before namespaces) is read. */
        if (strncmp(buf, STATE_MAGIC_PREFIX, strlen(STATE_MAGIC_PREFIX)) == 0 && memchr(buf, '\n', len) != NULL &&
            strncmp(buf, STATE_MAGIC "\n", strlen(STATE_MAGIC) + 1) != 0 && !v2)
                return -EPROTO;
        /* The last line, "end SUM", covers every byte before it. */
        if (len < 2 || buf[len - 1] != '\n')
                return -EBADMSG;
        end = buf + len - 1;
        while (end > buf && end[-1] != '\n')
                end--;
        if (buf + len - end != 4 + 16 + 1 || strncmp(end, "end ", 4) != 0)
                return -EBADMSG;
        sum = 0;
        for (const char *p = end + 4; p < end + 4 + 16; p++) {
                int v = hex_value(*p);

                if (v < 0)
                        return -EBADMSG;
                sum = sum << 4 | (uint64_t) v;
        }
        if (sum != state_checksum(buf, (size_t) (end - buf)))
                return -EBADMSG;
        buf[end - buf] = '\0';

        line = strtok_r(buf, "\n", &save);
        if (!line || strcmp(line, v2 ? STATE_MAGIC_V2 : STATE_MAGIC) != 0)
                return -EBADMSG;
        line = strtok_r(NULL, "\n", &save);
        if (!line || strncmp(line, "boot ", 5) != 0)
                return -EBADMSG;
        if (strcmp(line + 5, boot_id) != 0)
                return -ESTALE;
        line = strtok_r(NULL, "\n", &save);
        /* NOLINTNEXTLINE(cert-err34-c): out of range saturates in glibc, and the bound rejects it */
        if (!line || sscanf(line, "count %zu", &count) != 1 || count > 100000000)
                return -EBADMSG;
        entries = calloc(count ? count : 1, sizeof(*entries));
        if (!entries)
                return -ENOMEM;
        while ((line = strtok_r(NULL, "\n", &save))) {
                uint64_t cookie, netns = host_netns, first;
                int fields;

                used = 0;
                /* NOLINTBEGIN(cert-err34-c): glibc saturates; a saturated first_seen is rejected below */
                if (v2)
                        fields = sscanf(line, "%" SCNx64 " %" SCNu64 "%n", &cookie, &first, &used) + 1;
                else
                        fields = sscanf(line, "%" SCNx64 " %" SCNu64 " %" SCNu64 "%n", &cookie, &netns, &first, &used);
                /* NOLINTEND(cert-err34-c) */
                if (n == count || fields != 3 || line[used] != '\0' || cookie == 0 || first > now || netns > UINT32_MAX)
                        goto finish;
                entries[n++] = (struct entry){ .cookie = cookie, .netns = (uint32_t) netns, .first_seen = first };
        }
        if (n != count)
                goto finish;
        *ret = entries;
        entries = NULL;
        r = (int) (n > INT32_MAX ? INT32_MAX : n);
finish:
        free(entries);
        return r;
}

int tracker_load(struct tracker *t, int dir_fd, const char *name, const char *boot_id, usec_t now,
                 uint32_t host_netns) {
        struct entry *entries = NULL;
        char *buf = NULL;
        size_t len = 0, cap = 0;
        int fd, r;

        fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        for (;;) {
                size_t want, k;

                r = array_reserve((void **) &buf, &cap, len + 65536 + 1, 1);
                if (r < 0)
                        goto finish;
                want = cap - len - 1;
                r = read_full(fd, buf + len, want, &k);
                if (r < 0)
                        goto finish;
                len += k;
                if (k < want)
                        break;
        }
        buf[len] = '\0';
        if (strlen(buf) != len) { /* a NUL inside: corrupt */
                r = -EBADMSG;
                goto finish;
        }
        r = parse_state(buf, len, boot_id, now, host_netns, &entries);
        if (r < 0)
                goto finish;
        {
                size_t n = (size_t) r;

                r = reserve(t, t->n + n);
                if (r < 0)
                        goto finish;
                for (size_t i = 0; i < n; i++) {
                        struct entry *e = find_slot(t->slots, t->cap, entries[i].netns, entries[i].cookie);

                        if (e->cookie == 0) {
                                *e = entries[i];
                                t->n++;
                        } else if (entries[i].first_seen < e->first_seen)
                                e->first_seen = entries[i].first_seen;
                        e->seen_gen = t->gen;
                }
                r = (int) n;
        }
finish:
        free(entries);
        free(buf);
        close(fd);
        return r;
}
