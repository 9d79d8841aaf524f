/* fuzz-diag: the netlink decoder on any bytes.
 *
 * Input: a 4-byte sequence number and a 4-byte port id (little endian; 0 turns libmnl's check
 * off), then one received buffer. The buffer goes through diag_parse_buffer() as a dump reply,
 * and each whole message in it through diag_parse_nlmsg() on its own, from a copy of exactly its
 * length. What decodes is checked (families, tcp_info stamps, addresses that format and parse
 * back), added to a second set under many derived cookies to drive the set's growth and probing,
 * and the sets are checked: every socket found by its cookie, no cookie twice. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "diag.h"
#include "fuzz.h"

/* Cookies derived from each decoded socket: enough for a few hundred sockets, past the set's
 * first allocation, from an input of a few messages. */
#define DERIVED_PER_SOCK 40

/* The text of a, parsed back, must be a. */
static void check_addr_text(const struct diag_addr *a, const char *text) {
        char ip[DIAG_ADDR_STRLEN];
        const char *colon = strrchr(text, ':');
        struct diag_addr back = { .family = a->family };
        size_t iplen;
        char *end;
        unsigned long port;

        FUZZ_CHECK(colon != NULL);
        port = strtoul(colon + 1, &end, 10);
        FUZZ_CHECK(*end == '\0' && end != colon + 1 && port == a->port);
        if (a->family == AF_INET) {
                iplen = (size_t) (colon - text);
                FUZZ_CHECK(iplen < sizeof(ip));
                memcpy(ip, text, iplen);
                ip[iplen] = '\0';
                FUZZ_CHECK(inet_pton(AF_INET, ip, &back.v4) == 1);
                FUZZ_CHECK(memcmp(&back.v4, &a->v4, sizeof(a->v4)) == 0);
        } else {
                FUZZ_CHECK(text[0] == '[' && colon > text + 1 && colon[-1] == ']');
                iplen = (size_t) (colon - text) - 2;
                FUZZ_CHECK(iplen < sizeof(ip));
                memcpy(ip, text + 1, iplen);
                ip[iplen] = '\0';
                FUZZ_CHECK(inet_pton(AF_INET6, ip, &back.v6) == 1);
                FUZZ_CHECK(memcmp(&back.v6, &a->v6, sizeof(a->v6)) == 0);
        }
}

static void check_addr(const struct diag_addr *a) {
        char buf[DIAG_ADDR_STRLEN], small[DIAG_ADDR_STRLEN];
        const char *text = diag_addr_format(a, buf, sizeof(buf));
        size_t len = strlen(text);
        struct diag_addr u;

        FUZZ_CHECK(text == buf && len < sizeof(buf));
        check_addr_text(a, text);
        /* A short buffer gets the start of the text, always terminated. */
        for (size_t size = 1; size <= len + 1; size += 7) {
                memset(small, 'x', sizeof(small));
                diag_addr_format(a, small, size);
                FUZZ_CHECK(strlen(small) == (size - 1 < len ? size - 1 : len));
                FUZZ_CHECK(memcmp(small, text, strlen(small)) == 0);
        }

        FUZZ_CHECK(diag_addr_equal(a, a) && diag_addr_compare(a, a) == 0);
        FUZZ_CHECK(diag_addr_is_any(a) == (strncmp(text, "0.0.0.0:", 8) == 0 || strncmp(text, "[::]:", 5) == 0));
        u = diag_addr_unmap(a);
        FUZZ_CHECK(u.port == a->port);
        FUZZ_CHECK(u.family == AF_INET || u.family == AF_INET6);
        if (u.family != a->family)
                FUZZ_CHECK(a->family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&a->v6) &&
                           memcmp(&u.v4, &a->v6.s6_addr[12], 4) == 0);
        else
                FUZZ_CHECK(diag_addr_equal(&u, a));
        {
                struct diag_addr uu = diag_addr_unmap(&u);

                FUZZ_CHECK(diag_addr_equal(&uu, &u));
        }
}

static int sign(int v) {
        return (v > 0) - (v < 0);
}

static void check_sock(const struct diag_sock *s) {
        int c;

        FUZZ_CHECK(s->local.family == AF_INET || s->local.family == AF_INET6);
        FUZZ_CHECK(s->remote.family == s->local.family);
        if (!s->has_info)
                FUZZ_CHECK(s->last_data_recv_ms == 0 && s->last_ack_recv_ms == 0);
        check_addr(&s->local);
        check_addr(&s->remote);
        c = diag_addr_compare(&s->local, &s->remote);
        FUZZ_CHECK(sign(c) == -sign(diag_addr_compare(&s->remote, &s->local)));
        FUZZ_CHECK(diag_addr_equal(&s->local, &s->remote) == (c == 0));
}

/* At most half full, every indexed socket found at its own place, cookie 0 never found. */
static void check_set(const struct diag_set *set) {
        FUZZ_CHECK(set->n <= set->cap);
        FUZZ_CHECK(set->n == 0 || set->hash_cap >= 2 * set->n);
        FUZZ_CHECK(diag_set_find(set, 0, 0) == NULL);
        for (size_t i = 0; i < set->n; i++) {
                const struct diag_sock *s = &set->socks[i];

                if (s->cookie != 0)
                        FUZZ_CHECK(diag_set_find(set, s->netns, s->cookie) == s);
        }
}

/* The whole messages at the start of buf, as diag_parse_buffer() walks them. */
static size_t count_messages(const uint8_t *buf, size_t len) {
        size_t n = 0, off = 0;

        while (len - off >= sizeof(struct nlmsghdr)) {
                struct nlmsghdr h;

                memcpy(&h, buf + off, sizeof(h));
                if (h.nlmsg_len < sizeof(h) || h.nlmsg_len > len - off)
                        break;
                n++;
                if (NLMSG_ALIGN(h.nlmsg_len) >= len - off)
                        break;
                off += NLMSG_ALIGN(h.nlmsg_len);
        }
        return n;
}

/* Each whole message through diag_parse_nlmsg() from its own exact-size copy; what decodes goes
 * into set under its cookie and DERIVED_PER_SOCK others. Returns -ENOMEM or 0. */
static int parse_each(const uint8_t *buf, size_t len, struct diag_set *set) {
        size_t off = 0;

        while (len - off >= sizeof(struct nlmsghdr)) {
                struct nlmsghdr h, *copy;
                struct diag_sock s;
                int r;

                memcpy(&h, buf + off, sizeof(h));
                if (h.nlmsg_len < sizeof(h) || h.nlmsg_len > len - off)
                        break;
                copy = malloc(h.nlmsg_len);
                if (!copy)
                        return -ENOMEM;
                memcpy(copy, buf + off, h.nlmsg_len);
                r = diag_parse_nlmsg(copy, &s);
                free(copy);
                FUZZ_CHECK(r == 0 || r == -EBADMSG);
                if (r == 0) {
                        check_sock(&s);
                        for (uint64_t k = 0; k <= DERIVED_PER_SOCK; k++) {
                                struct diag_sock d = s;

                                d.cookie = s.cookie + k * UINT64_C(0x100000001);
                                r = diag_set_add(set, &d);
                                if (r == -ENOMEM)
                                        return r;
                                FUZZ_CHECK(r == 0 || r == 1);
                                if (d.cookie != 0)
                                        FUZZ_CHECK(diag_set_find(set, 0, d.cookie) != NULL);
                        }
                }
                if (NLMSG_ALIGN(h.nlmsg_len) >= len - off)
                        break;
                off += NLMSG_ALIGN(h.nlmsg_len);
        }
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct fuzz_input in = { data, size };
        uint32_t seq = fuzz_u32(&in);
        uint32_t portid = fuzz_u32(&in);
        struct diag_set set = {}, each = {};
        uint8_t *buf;
        size_t msgs;
        int r;

        /* The decoder's own copy, of exactly the buffer's size, aligned as a receive buffer is. */
        buf = malloc(in.n > 0 ? in.n : 1);
        if (!buf)
                return 0;
        memcpy(buf, in.p, in.n);

        r = diag_parse_buffer(buf, in.n, seq, portid, &set);
        FUZZ_CHECK(r == 0 || r == 1 || (r < 0 && r > -4096));
        msgs = count_messages(buf, in.n);
        FUZZ_CHECK(set.n + set.duplicates + set.malformed <= msgs);
        check_set(&set);
        for (size_t i = 0; i < set.n; i++)
                check_sock(&set.socks[i]);

        if (parse_each(buf, in.n, &each) == 0) {
                check_set(&each);
                /* Cleared, the set is empty and finds nothing; refilled, it works again. */
                if (each.n > 0) {
                        struct diag_sock first = each.socks[0];

                        diag_set_clear(&each);
                        FUZZ_CHECK(each.n == 0 && each.duplicates == 0 && each.malformed == 0);
                        FUZZ_CHECK(first.cookie == 0 || diag_set_find(&each, 0, first.cookie) == NULL);
                        if (diag_set_add(&each, &first) == 1)
                                check_set(&each);
                }
        }

        diag_set_done(&each);
        diag_set_done(&set);
        free(buf);
        return 0;
}
