/* test-diag: diag's netlink decoding fed with messages built in memory (libmnl), its cookie set
 * and its address helpers. No kernel needed. Every message is parsed from a heap copy of exactly
 * its length, so ASan and valgrind catch any read past its end. */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <setjmp.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "diag.h"
#include "util.h"

/* Kernel TCP states (include/net/tcp_states.h); <netinet/tcp.h> would clash with <linux/tcp.h>,
 * whose struct tcp_info is the layout the kernel sends. */
#define ST_ESTABLISHED 1
#define ST_TIME_WAIT   6
#define ST_CLOSE_WAIT  8
#define ST_LISTEN      10

#define SEQ    4242u
#define PORTID 777u

#define LAST_DATA_RECV 9052u
#define LAST_ACK_RECV  6048u

#define INFO_END_DATA (offsetof(struct tcp_info, tcpi_last_data_recv) + sizeof(uint32_t))
#define INFO_END_ACK  (offsetof(struct tcp_info, tcpi_last_ack_recv) + sizeof(uint32_t))

struct sock_spec {
        uint8_t family;
        uint8_t state;
        uint8_t timer;
        const char *src, *dst;
        uint16_t sport, dport; /* host order */
        uint32_t cookie0, cookie1;
        uint32_t expires, rqueue, wqueue, uid, inode;
        int info_len; /* bytes of INET_DIAG_INFO payload; < 0: no attribute */
};

static const struct sock_spec spec_v4 = {
        .family = AF_INET,
        .state = ST_CLOSE_WAIT,
        .timer = 0,
        .src = "10.1.2.3",
        .dst = "192.168.200.1",
        .sport = 8080,
        .dport = 51234,
        .cookie0 = 0x89abcdefu,
        .cookie1 = 0x01234567u,
        .expires = 0,
        .rqueue = 1,
        .wqueue = 7,
        .uid = 1000,
        .inode = 424242,
        .info_len = -1,
};

static const struct sock_spec spec_v6 = {
        .family = AF_INET6,
        .state = ST_TIME_WAIT,
        .timer = 3,
        .src = "2001:db8::1",
        .dst = "fe80::abcd:ef01:2345:6789",
        .sport = 443,
        .dport = 65535,
        .cookie0 = 0xfffffffeu,
        .cookie1 = 0x80000001u,
        .expires = 59123,
        .rqueue = 0,
        .wqueue = 0,
        .uid = 0,
        .inode = 0,
        .info_len = -1,
};

/* A datagram under construction, laid out as the kernel sends it. */
struct nlbuf {
        alignas(struct nlmsghdr) uint8_t data[32 * 1024];
        size_t len;
};

static struct nlbuf *nlbuf_new(void) {
        struct nlbuf *b = calloc(1, sizeof(*b));

        assert_non_null(b);
        return b;
}

static void put_info(struct nlmsghdr *nlh, int len) {
        uint8_t payload[sizeof(struct tcp_info) + 64];
        struct tcp_info info = {
                .tcpi_state = ST_CLOSE_WAIT,
                .tcpi_last_data_recv = LAST_DATA_RECV,
                .tcpi_last_ack_recv = LAST_ACK_RECV,
                .tcpi_rtt = 1234,
        };

        assert_true((size_t) len <= sizeof(payload));
        memset(payload, 0xab, sizeof(payload)); /* a newer kernel's extra fields */
        memcpy(payload, &info, sizeof(info));
        mnl_attr_put(nlh, INET_DIAG_INFO, (size_t) len, payload);
}

/* One SOCK_DIAG_BY_FAMILY message at `at` (zeroed memory), with an INET_DIAG_SHUTDOWN attribute
 * (1 byte, padded) as the kernel always sends, and INET_DIAG_INFO when sp->info_len >= 0. */
static struct nlmsghdr *msg_sock(void *at, uint32_t seq, uint16_t flags, const struct sock_spec *sp) {
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(at);
        struct inet_diag_msg *m;

        nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
        nlh->nlmsg_flags = NLM_F_MULTI | flags;
        nlh->nlmsg_seq = seq;
        nlh->nlmsg_pid = PORTID;

        m = mnl_nlmsg_put_extra_header(nlh, sizeof(*m));
        m->idiag_family = sp->family;
        m->idiag_state = sp->state;
        m->idiag_timer = sp->timer;
        m->idiag_retrans = 2;
        m->id.idiag_sport = htons(sp->sport);
        m->id.idiag_dport = htons(sp->dport);
        if (sp->family == AF_INET || sp->family == AF_INET6) {
                assert_int_equal(inet_pton(sp->family, sp->src, m->id.idiag_src), 1);
                assert_int_equal(inet_pton(sp->family, sp->dst, m->id.idiag_dst), 1);
        }
        m->id.idiag_if = 3;
        m->id.idiag_cookie[0] = sp->cookie0;
        m->id.idiag_cookie[1] = sp->cookie1;
        m->idiag_expires = sp->expires;
        m->idiag_rqueue = sp->rqueue;
        m->idiag_wqueue = sp->wqueue;
        m->idiag_uid = sp->uid;
        m->idiag_inode = sp->inode;

        mnl_attr_put_u8(nlh, INET_DIAG_SHUTDOWN, 1);
        if (sp->info_len >= 0)
                put_info(nlh, sp->info_len);
        return nlh;
}

static struct nlmsghdr *buf_tail(struct nlbuf *b) {
        return (struct nlmsghdr *) (b->data + b->len);
}

static void buf_commit(struct nlbuf *b, const struct nlmsghdr *nlh) {
        b->len += MNL_ALIGN(nlh->nlmsg_len);
        assert_true(b->len <= sizeof(b->data));
}

static struct nlmsghdr *buf_sock(struct nlbuf *b, uint32_t seq, uint16_t flags, const struct sock_spec *sp) {
        struct nlmsghdr *nlh = msg_sock(buf_tail(b), seq, flags, sp);

        buf_commit(b, nlh);
        return nlh;
}

/* A socket differing from spec_v4 only by its cookie. */
static void buf_sock_cookie(struct nlbuf *b, uint64_t cookie) {
        struct sock_spec sp = spec_v4;

        sp.cookie0 = (uint32_t) cookie;
        sp.cookie1 = (uint32_t) (cookie >> 32);
        buf_sock(b, SEQ, 0, &sp);
}

/* NLMSG_DONE as netlink_dump() sends it: an int, the dump's error (0 or -errno). */
static struct nlmsghdr *buf_done(struct nlbuf *b, uint32_t seq, int error, uint16_t flags) {
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf_tail(b));
        int *e;

        nlh->nlmsg_type = NLMSG_DONE;
        nlh->nlmsg_flags = NLM_F_MULTI | flags;
        nlh->nlmsg_seq = seq;
        nlh->nlmsg_pid = PORTID;
        e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));
        *e = error;
        buf_commit(b, nlh);
        return nlh;
}

static void buf_error(struct nlbuf *b, uint32_t seq, int error) {
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf_tail(b));
        struct nlmsgerr *err;

        nlh->nlmsg_type = NLMSG_ERROR;
        nlh->nlmsg_seq = seq;
        nlh->nlmsg_pid = PORTID;
        err = mnl_nlmsg_put_extra_header(nlh, sizeof(*err));
        err->error = error;
        err->msg.nlmsg_type = SOCK_DIAG_BY_FAMILY;
        err->msg.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
        err->msg.nlmsg_seq = seq;
        buf_commit(b, nlh);
}

/* Parse from a heap copy of exactly nlmsg_len bytes. */
static int parse_exact(const struct nlmsghdr *nlh, struct diag_sock *out) {
        void *copy = malloc(nlh->nlmsg_len);
        int r;

        assert_non_null(copy);
        memcpy(copy, nlh, nlh->nlmsg_len);
        r = diag_parse_nlmsg(copy, out);
        free(copy);
        return r;
}

static int parse_buffer_exact(const void *data, size_t len, uint32_t seq, uint32_t portid, struct diag_set *set) {
        void *copy = malloc(len > 0 ? len : 1);
        int r;

        assert_non_null(copy);
        memcpy(copy, data, len);
        r = diag_parse_buffer(copy, len, seq, portid, set);
        free(copy);
        return r;
}

static int parse_nlbuf(const struct nlbuf *b, struct diag_set *set) {
        return parse_buffer_exact(b->data, b->len, SEQ, PORTID, set);
}

static void assert_addr(const struct diag_addr *a, int family, const char *ip, uint16_t port) {
        union {
                struct in_addr v4;
                struct in6_addr v6;
        } want;

        assert_int_equal(a->family, family);
        assert_int_equal(a->port, port);
        assert_int_equal(inet_pton(family, ip, &want), 1);
        if (family == AF_INET)
                assert_memory_equal(&a->v4, &want.v4, sizeof(want.v4));
        else
                assert_memory_equal(&a->v6, &want.v6, sizeof(want.v6));
}

static void assert_spec(const struct diag_sock *s, const struct sock_spec *sp) {
        assert_int_equal(s->cookie, (uint64_t) sp->cookie1 << 32 | sp->cookie0);
        assert_addr(&s->local, sp->family, sp->src, sp->sport);
        assert_addr(&s->remote, sp->family, sp->dst, sp->dport);
        assert_int_equal(s->state, sp->state);
        assert_int_equal(s->timer, sp->timer);
        assert_int_equal(s->expires_ms, sp->expires);
        assert_int_equal(s->rqueue, sp->rqueue);
        assert_int_equal(s->wqueue, sp->wqueue);
        assert_int_equal(s->uid, sp->uid);
        assert_int_equal(s->inode, sp->inode);
}

/* --- diag_parse_nlmsg ------------------------------------------------------------------------- */

static void test_parse_v4(void **state) {
        struct nlbuf *b = nlbuf_new();
        struct diag_sock s;
        struct nlmsghdr *nlh = msg_sock(b->data, SEQ, 0, &spec_v4);

        assert_int_equal(parse_exact(nlh, &s), 0);
        assert_spec(&s, &spec_v4);
        /* The literal values, in case assert_spec and the builder share a mistake. */
        assert_int_equal(s.cookie, UINT64_C(0x0123456789abcdef));
        assert_int_equal(s.local.port, 8080);
        assert_int_equal(s.remote.port, 51234);
        assert_int_equal(s.local.v4.s_addr, htonl(0x0a010203));
        assert_int_equal(s.remote.v4.s_addr, htonl(0xc0a8c801));
        assert_int_equal(s.state, ST_CLOSE_WAIT);
        assert_int_equal(s.rqueue, 1);
        assert_int_equal(s.inode, 424242);
        assert_false(s.has_info);
        assert_int_equal(s.last_data_recv_ms, 0);
        assert_int_equal(s.last_ack_recv_ms, 0);
        free(b);
}

static void test_parse_v6(void **state) {
        static const uint8_t src[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
        struct nlbuf *b = nlbuf_new();
        struct diag_sock s;
        struct nlmsghdr *nlh = msg_sock(b->data, SEQ, 0, &spec_v6);

        assert_int_equal(parse_exact(nlh, &s), 0);
        assert_spec(&s, &spec_v6);
        assert_int_equal(s.cookie, UINT64_C(0x80000001fffffffe));
        assert_memory_equal(&s.local.v6, src, sizeof(src));
        assert_int_equal(s.local.port, 443);
        assert_int_equal(s.remote.port, 65535);
        assert_int_equal(s.timer, 3);
        assert_int_equal(s.expires_ms, 59123);
        assert_false(s.has_info);
        free(b);
}

static void test_parse_info(void **state) {
        static const struct {
                const char *name;
                int len;
                bool has_info;
        } cases[] = {
                { "absent", -1, false },
                { "empty", 0, false },
                { "4 bytes", 4, false },
                { "ends with last_data_recv", (int) INFO_END_DATA, false },
                { "one byte short of last_ack_recv", (int) INFO_END_ACK - 1, false },
                { "ends with last_ack_recv", (int) INFO_END_ACK, true },
                { "full", (int) sizeof(struct tcp_info), true },
                { "full, odd length", (int) sizeof(struct tcp_info) - 1, true },
                { "longer (newer kernel)", (int) sizeof(struct tcp_info) + 61, true },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct nlbuf *b = nlbuf_new();
                struct sock_spec sp = spec_v4;
                struct diag_sock s;
                struct nlmsghdr *nlh;

                print_message("INET_DIAG_INFO %s (%d bytes)\n", cases[i].name, cases[i].len);
                sp.info_len = cases[i].len;
                nlh = msg_sock(b->data, SEQ, 0, &sp);
                assert_int_equal(parse_exact(nlh, &s), 0);
                assert_spec(&s, &sp);
                assert_int_equal(s.has_info, cases[i].has_info);
                assert_int_equal(s.last_data_recv_ms, cases[i].has_info ? LAST_DATA_RECV : 0);
                assert_int_equal(s.last_ack_recv_ms, cases[i].has_info ? LAST_ACK_RECV : 0);
                free(b);
        }
}

enum mangle {
        MANGLE_TYPE_ROUTE, /* RTM_NEWROUTE, not SOCK_DIAG_BY_FAMILY */
        MANGLE_TYPE_DONE,
        MANGLE_FAMILY_UNSPEC,
        MANGLE_FAMILY_UNIX,
        MANGLE_FAMILY_NETLINK,
        MANGLE_LEN_HEADER_ONLY,
        MANGLE_LEN_SHORT_BY_ONE, /* inet_diag_msg one byte short */
        MANGLE_LEN_UNALIGNED_1,  /* 1 to 3 stray bytes after the attributes, starting */
        MANGLE_LEN_UNALIGNED_2,  /* an attribute header that would look whole if the */
        MANGLE_LEN_UNALIGNED_3,  /* length were rounded up */
        MANGLE_ATTR_PAST_END,    /* INET_DIAG_INFO claims 8 bytes more than the message */
        MANGLE_ATTR_TOO_SHORT,   /* a trailing attribute with nla_len 2 */
        MANGLE_ATTR_ZERO_LEN,    /* a trailing attribute with nla_len 0 */
        MANGLE_ATTR_CUT,         /* nlmsg_len cuts INET_DIAG_INFO in half */
};

static void mangle(struct nlmsghdr *nlh, struct nlattr *info, enum mangle how) {
        struct inet_diag_msg *m = mnl_nlmsg_get_payload(nlh);
        struct nlattr *tail = mnl_nlmsg_get_payload_tail(nlh);

        switch (how) {
        case MANGLE_TYPE_ROUTE:
                nlh->nlmsg_type = 24;
                break;
        case MANGLE_TYPE_DONE:
                nlh->nlmsg_type = NLMSG_DONE;
                break;
        case MANGLE_FAMILY_UNSPEC:
                m->idiag_family = AF_UNSPEC;
                break;
        case MANGLE_FAMILY_UNIX:
                m->idiag_family = AF_UNIX;
                break;
        case MANGLE_FAMILY_NETLINK:
                m->idiag_family = AF_NETLINK;
                break;
        case MANGLE_LEN_HEADER_ONLY:
                nlh->nlmsg_len = sizeof(struct nlmsghdr);
                break;
        case MANGLE_LEN_SHORT_BY_ONE:
                nlh->nlmsg_len = (uint32_t) mnl_nlmsg_size(sizeof(struct inet_diag_msg)) - 1;
                break;
        case MANGLE_LEN_UNALIGNED_1:
        case MANGLE_LEN_UNALIGNED_2:
        case MANGLE_LEN_UNALIGNED_3:
                tail->nla_len = 4;
                tail->nla_type = INET_DIAG_MARK;
                nlh->nlmsg_len += 1 + (uint32_t) (how - MANGLE_LEN_UNALIGNED_1);
                break;
        case MANGLE_ATTR_PAST_END:
                info->nla_len += 8;
                break;
        case MANGLE_ATTR_TOO_SHORT:
                tail->nla_len = 2;
                tail->nla_type = INET_DIAG_MARK;
                nlh->nlmsg_len += 4;
                break;
        case MANGLE_ATTR_ZERO_LEN:
                tail->nla_len = 0;
                nlh->nlmsg_len += 4;
                break;
        case MANGLE_ATTR_CUT:
                nlh->nlmsg_len = (uint32_t) ((char *) info - (char *) nlh) + 4 + 40;
                break;
        }
}

static void test_parse_malformed(void **state) {
        static const struct {
                const char *name;
                enum mangle how;
        } cases[] = {
                { "wrong nlmsg_type (RTM_NEWROUTE)", MANGLE_TYPE_ROUTE },
                { "wrong nlmsg_type (NLMSG_DONE)", MANGLE_TYPE_DONE },
                { "family AF_UNSPEC", MANGLE_FAMILY_UNSPEC },
                { "family AF_UNIX", MANGLE_FAMILY_UNIX },
                { "family AF_NETLINK", MANGLE_FAMILY_NETLINK },
                { "header only", MANGLE_LEN_HEADER_ONLY },
                { "inet_diag_msg one byte short", MANGLE_LEN_SHORT_BY_ONE },
                { "unaligned nlmsg_len (+1)", MANGLE_LEN_UNALIGNED_1 },
                { "unaligned nlmsg_len (+2)", MANGLE_LEN_UNALIGNED_2 },
                { "unaligned nlmsg_len (+3)", MANGLE_LEN_UNALIGNED_3 },
                { "attribute running past the end", MANGLE_ATTR_PAST_END },
                { "attribute shorter than its header", MANGLE_ATTR_TOO_SHORT },
                { "attribute of length 0", MANGLE_ATTR_ZERO_LEN },
                { "message cut inside an attribute", MANGLE_ATTR_CUT },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct nlbuf *b = nlbuf_new();
                struct sock_spec sp = spec_v4;
                struct diag_sock s;
                struct nlmsghdr *nlh;
                struct nlattr *info;

                print_message("malformed: %s\n", cases[i].name);
                nlh = msg_sock(b->data, SEQ, 0, &sp);
                info = mnl_nlmsg_get_payload_tail(nlh);
                put_info(nlh, (int) sizeof(struct tcp_info));
                /* The untouched message is fine: the mangling alone makes it fail. */
                assert_int_equal(parse_exact(nlh, &s), 0);
                assert_true(s.has_info);

                mangle(nlh, info, cases[i].how);
                assert_int_equal(parse_exact(nlh, &s), -EBADMSG);
                free(b);
        }
}

static void test_parse_unknown_attribute(void **state) {
        struct nlbuf *b = nlbuf_new();
        struct sock_spec sp = spec_v6;
        struct diag_sock s;
        struct nlmsghdr *nlh;

        /* Types from a newer kernel, nested or not, are skipped, not errors. */
        sp.info_len = (int) sizeof(struct tcp_info);
        nlh = msg_sock(b->data, SEQ, 0, &sp);
        mnl_attr_put_u32(nlh, INET_DIAG_MAX + 5, 0xdeadbeef);
        mnl_attr_put_u32(nlh, NLA_F_NESTED | (INET_DIAG_MAX + 6), 0);
        assert_int_equal(parse_exact(nlh, &s), 0);
        assert_spec(&s, &sp);
        assert_true(s.has_info);
        assert_int_equal(s.last_ack_recv_ms, LAST_ACK_RECV);
        free(b);
}

/* --- diag_parse_buffer ------------------------------------------------------------------------ */

static void test_buffer_done(void **state) {
        struct nlbuf *b = nlbuf_new();
        struct diag_set set = {};
        struct sock_spec info = spec_v4;

        info.cookie0 = 99;
        info.cookie1 = 0;
        info.info_len = (int) sizeof(struct tcp_info);
        buf_sock(b, SEQ, 0, &spec_v4);
        buf_sock(b, SEQ, 0, &spec_v6);
        buf_sock(b, SEQ, 0, &info);
        buf_done(b, SEQ, 0, 0);

        assert_int_equal(parse_nlbuf(b, &set), 0);
        assert_int_equal(set.n, 3);
        assert_int_equal(set.duplicates, 0);
        assert_int_equal(set.malformed, 0);
        assert_spec(&set.socks[0], &spec_v4);
        assert_spec(&set.socks[1], &spec_v6);
        assert_spec(&set.socks[2], &info);
        assert_false(set.socks[0].has_info);
        assert_true(set.socks[2].has_info);
        assert_int_equal(set.socks[2].last_data_recv_ms, LAST_DATA_RECV);
        diag_set_done(&set);
        free(b);
}

static void test_buffer_more(void **state) {
        struct nlbuf *b = nlbuf_new();
        struct diag_set set = {};

        buf_sock(b, SEQ, 0, &spec_v4);
        buf_sock(b, SEQ, 0, &spec_v6);
        assert_int_equal(parse_nlbuf(b, &set), 1);
        assert_int_equal(set.n, 2);

        /* The next datagram of the same dump ends it. */
        b->len = 0;
        buf_sock_cookie(b, 5);
        buf_done(b, SEQ, 0, 0);
        assert_int_equal(parse_nlbuf(b, &set), 0);
        assert_int_equal(set.n, 3);
        assert_int_equal(set.socks[2].cookie, 5);

        /* An empty datagram is not an end. */
        assert_int_equal(parse_buffer_exact(b->data, 0, SEQ, PORTID, &set), 1);
        assert_int_equal(set.n, 3);
        diag_set_done(&set);
        free(b);
}

static void test_buffer_duplicates(void **state) {
        struct nlbuf *b = nlbuf_new();
        struct diag_set set = {};

        buf_sock_cookie(b, 1);
        buf_sock_cookie(b, 2);
        buf_sock_cookie(b, 1);
        buf_sock_cookie(b, UINT64_C(1) << 32 | 1); /* same low half, not a duplicate */
        assert_int_equal(parse_nlbuf(b, &set), 1);
        assert_int_equal(set.n, 3);
        assert_int_equal(set.duplicates, 1);

        /* Across datagrams of one dump too. */
        b->len = 0;
        buf_sock_cookie(b, 2);
        buf_sock_cookie(b, 3);
        buf_done(b, SEQ, 0, 0);
        assert_int_equal(parse_nlbuf(b, &set), 0);
        assert_int_equal(set.n, 4);
        assert_int_equal(set.duplicates, 2);
        assert_int_equal(set.socks[0].cookie, 1);
        assert_int_equal(set.socks[1].cookie, 2);
        assert_int_equal(set.socks[2].cookie, UINT64_C(1) << 32 | 1);
        assert_int_equal(set.socks[3].cookie, 3);
        diag_set_done(&set);
        free(b);
}

static void test_buffer_malformed_skipped(void **state) {
        struct nlbuf *b = nlbuf_new();
        struct diag_set set = {};
        struct sock_spec bad = spec_v4;
        struct nlmsghdr *nlh;

        buf_sock_cookie(b, 10);
        bad.family = AF_UNIX;
        buf_sock(b, SEQ, 0, &bad);
        nlh = buf_sock(b, SEQ, 0, &spec_v6); /* attribute past its end */
        ((struct nlattr *) ((char *) mnl_nlmsg_get_payload(nlh) + sizeof(struct inet_diag_msg)))->nla_len = 64;
        nlh = buf_sock(b, SEQ, 0, &spec_v6); /* another netlink family */
        nlh->nlmsg_type = 24;
        nlh = mnl_nlmsg_put_header(buf_tail(b)); /* NLMSG_NOOP: ignored */
        nlh->nlmsg_type = NLMSG_NOOP;
        buf_commit(b, nlh);
        buf_sock_cookie(b, 11);
        buf_done(b, SEQ, 0, 0);

        assert_int_equal(parse_nlbuf(b, &set), 0);
        assert_int_equal(set.n, 2);
        assert_int_equal(set.malformed, 3);
        assert_int_equal(set.duplicates, 0);
        assert_int_equal(set.socks[0].cookie, 10);
        assert_int_equal(set.socks[1].cookie, 11);
        assert_spec(&set.socks[1], &(struct sock_spec){ .family = AF_INET,
                                                        .state = ST_CLOSE_WAIT,
                                                        .src = spec_v4.src,
                                                        .dst = spec_v4.dst,
                                                        .sport = spec_v4.sport,
                                                        .dport = spec_v4.dport,
                                                        .cookie0 = 11,
                                                        .rqueue = 1,
                                                        .wqueue = 7,
                                                        .uid = 1000,
                                                        .inode = 424242 });
        diag_set_done(&set);
        free(b);
}

static void test_buffer_errors(void **state) {
        static const struct {
                const char *name;
                int error; /* the errno payload; the kernel sends it negative */
                int ret;
        } cases[] = {
                { "EBUSY (a dump already running)", -EBUSY, -EBUSY },
                { "EBUSY, positive", EBUSY, -EBUSY },
                { "EINVAL", -EINVAL, -EINVAL },
                { "ENOENT", -ENOENT, -ENOENT },
                { "0 (an ACK)", 0, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct nlbuf *b = nlbuf_new();
                struct diag_set set = {};

                print_message("NLMSG_ERROR %s\n", cases[i].name);
                buf_error(b, SEQ, cases[i].error);
                buf_sock_cookie(b, 1); /* never reached */
                assert_int_equal(parse_nlbuf(b, &set), cases[i].ret);
                assert_int_equal(set.n, 0);
                diag_set_done(&set);
                free(b);
        }
}

static void test_buffer_error_truncated(void **state) {
        struct nlbuf *b = nlbuf_new();
        struct diag_set set = {};
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(b->data);

        nlh->nlmsg_type = NLMSG_ERROR;
        nlh->nlmsg_seq = SEQ;
        buf_commit(b, nlh);
        assert_int_equal(parse_nlbuf(b, &set), -EBADMSG);
        diag_set_done(&set);
        free(b);
}

static void test_buffer_done_with_error(void **state) {
        struct nlbuf *b = nlbuf_new();
        struct diag_set set = {};
        struct nlmsghdr *nlh;

        /* netlink_dump() reports a dump that failed half-way in NLMSG_DONE. */
        buf_sock_cookie(b, 1);
        buf_done(b, SEQ, -EMSGSIZE, 0);
        assert_int_equal(parse_nlbuf(b, &set), -EMSGSIZE);
        assert_int_equal(set.n, 1);

        /* A DONE without payload (older senders) is a plain end. */
        diag_set_clear(&set);
        b->len = 0;
        nlh = mnl_nlmsg_put_header(b->data);
        nlh->nlmsg_type = NLMSG_DONE;
        nlh->nlmsg_seq = SEQ;
        buf_commit(b, nlh);
        assert_int_equal(parse_nlbuf(b, &set), 0);
        diag_set_done(&set);
        free(b);
}

static void test_buffer_seq_portid(void **state) {
        struct nlbuf *b = nlbuf_new();
        struct diag_set set = {};

        buf_sock_cookie(b, 1);
        buf_sock(b, SEQ + 1, 0, &spec_v6); /* a stale answer */
        buf_done(b, SEQ, 0, 0);
        assert_int_equal(parse_nlbuf(b, &set), -EPROTO);
        assert_int_equal(set.n, 1);

        diag_set_clear(&set);
        assert_int_equal(parse_buffer_exact(b->data, b->len, SEQ, PORTID + 1, &set), -ESRCH);
        assert_int_equal(set.n, 0);

        /* Sequence 0 on our side means "don't check" in libmnl: never used by diag_dump(). */
        assert_int_equal(parse_buffer_exact(b->data, b->len, 0, PORTID, &set), 0);
        assert_int_equal(set.n, 2);
        diag_set_done(&set);
        free(b);
}

static void test_buffer_dump_intr(void **state) {
        struct nlbuf *b = nlbuf_new();
        struct diag_set set = {};

        buf_sock_cookie(b, 1);
        buf_sock(b, SEQ, NLM_F_DUMP_INTR, &spec_v6);
        buf_done(b, SEQ, 0, 0);
        assert_int_equal(parse_nlbuf(b, &set), -EINTR);

        /* The flag on NLMSG_DONE alone. */
        diag_set_clear(&set);
        b->len = 0;
        buf_sock_cookie(b, 1);
        buf_done(b, SEQ, 0, NLM_F_DUMP_INTR);
        assert_int_equal(parse_nlbuf(b, &set), -EINTR);
        assert_int_equal(set.n, 1);
        diag_set_done(&set);
        free(b);
}

static void test_buffer_bad_framing(void **state) {
        struct nlbuf *b = nlbuf_new();
        struct diag_set set = {};
        struct nlmsghdr *nlh;
        size_t whole;

        buf_sock_cookie(b, 1);
        buf_sock_cookie(b, 2);
        whole = b->len;

        /* Stray bytes after the last message: rejected before anything is added. */
        memset(b->data + b->len, 0x5a, 8);
        assert_int_equal(parse_buffer_exact(b->data, whole + 8, SEQ, PORTID, &set), -EBADMSG);
        assert_int_equal(set.n, 0);

        /* The last message claims more bytes than the datagram holds. */
        assert_int_equal(parse_buffer_exact(b->data, whole - 4, SEQ, PORTID, &set), -EBADMSG);
        assert_int_equal(set.n, 0);

        /* A header whose nlmsg_len is smaller than a header. */
        nlh = buf_tail(b);
        memset(nlh, 0, sizeof(*nlh));
        nlh->nlmsg_len = 8;
        assert_int_equal(parse_buffer_exact(b->data, whole + sizeof(*nlh), SEQ, PORTID, &set), -EBADMSG);
        assert_int_equal(set.n, 0);

        /* A length of 2 GiB or more: libmnl 1.0.4's mnl_nlmsg_ok() compares it as a negative int
         * and lets it through. */
        nlh = (struct nlmsghdr *) (b->data + MNL_ALIGN(((struct nlmsghdr *) b->data)->nlmsg_len));
        nlh->nlmsg_len = 0x80000060u;
        assert_int_equal(parse_buffer_exact(b->data, whole, SEQ, PORTID, &set), -EBADMSG);
        assert_int_equal(set.n, 0);
        nlh->nlmsg_len = 0xfffffff0u;
        assert_int_equal(parse_buffer_exact(b->data, whole, SEQ, PORTID, &set), -EBADMSG);
        nlh->nlmsg_len = ((struct nlmsghdr *) b->data)->nlmsg_len;

        assert_int_equal(parse_buffer_exact(b->data, whole, SEQ, PORTID, &set), 1);
        assert_int_equal(set.n, 2);
        diag_set_done(&set);
        free(b);
}

/* Random corruption of a valid datagram: any answer is fine, reading out of bounds is not
 * (ASan, valgrind). */
static void test_buffer_corrupted(void **state) {
        struct nlbuf *b = nlbuf_new();
        struct diag_set set = {};
        struct sock_spec sp = spec_v6;
        unsigned seed = 12345;
        uint8_t *copy;

        sp.info_len = (int) sizeof(struct tcp_info);
        buf_sock_cookie(b, 1);
        buf_sock(b, SEQ, 0, &sp);
        buf_sock_cookie(b, 3);
        buf_done(b, SEQ, 0, 0);
        copy = malloc(b->len);
        assert_non_null(copy);

        for (int i = 0; i < 20000; i++) {
                size_t len = b->len;
                int r;

                memcpy(copy, b->data, b->len);
                for (int k = 1 + rand_r(&seed) % 4; k > 0; k--)
                        copy[(size_t) rand_r(&seed) % b->len] = (uint8_t) rand_r(&seed);
                if (i % 4 == 0)
                        len = (size_t) rand_r(&seed) % (b->len + 1);
                diag_set_clear(&set);
                r = diag_parse_buffer(copy, len, SEQ, PORTID, &set);
                assert_true(r <= 1);
                /* At most one socket per 16 bytes, however the lengths were mangled. */
                assert_true(set.n + set.duplicates + set.malformed <= b->len / 16);
        }
        free(copy);
        diag_set_done(&set);
        free(b);
}

/* --- diag_set --------------------------------------------------------------------------------- */

#define MANY 5000

static uint64_t many_cookie(size_t i) {
        /* Both halves vary; consecutive values collide in the low bits as kernel cookies do. */
        return (uint64_t) (i % 7 + 1) << 32 | (i + 1);
}

static void test_set_growth(void **state) {
        struct diag_set set = {};
        struct diag_sock s = {};
        struct diag_sock *socks;
        size_t cap;

        for (size_t i = 0; i < MANY; i++) {
                s.cookie = many_cookie(i);
                s.inode = (uint32_t) i;
                assert_int_equal(diag_set_add(&set, &s), 1);
        }
        assert_int_equal(set.n, MANY);
        assert_true(set.cap >= MANY);
        assert_true(set.hash_cap >= 2 * MANY);
        assert_int_equal(set.hash_cap & (set.hash_cap - 1), 0);
        for (size_t i = 0; i < MANY; i++) {
                assert_int_equal(set.socks[i].cookie, many_cookie(i));
                assert_int_equal(set.socks[i].inode, i);
        }

        for (size_t i = 0; i < MANY; i++) {
                s.cookie = many_cookie(i);
                assert_int_equal(diag_set_add(&set, &s), 0);
        }
        assert_int_equal(set.n, MANY);
        assert_int_equal(set.duplicates, MANY);

        /* Found by cookie, through every rehash; absent cookies and 0 are not. */
        for (size_t i = 0; i < MANY; i++) {
                struct diag_sock *f = diag_set_find(&set, 0, many_cookie(i));

                assert_non_null(f);
                assert_ptr_equal(f, &set.socks[i]);
        }
        assert_null(diag_set_find(&set, 0, many_cookie(MANY)));
        assert_null(diag_set_find(&set, 0, 0));

        /* clear keeps the memory and forgets the cookies and counters. */
        socks = set.socks;
        cap = set.cap;
        set.malformed = 3;
        diag_set_clear(&set);
        assert_int_equal(set.n, 0);
        assert_int_equal(set.duplicates, 0);
        assert_int_equal(set.malformed, 0);
        assert_ptr_equal(set.socks, socks);
        assert_int_equal(set.cap, cap);
        for (size_t i = 0; i < MANY; i++) {
                s.cookie = many_cookie(MANY - 1 - i);
                assert_int_equal(diag_set_add(&set, &s), 1);
        }
        assert_ptr_equal(set.socks, socks);
        assert_int_equal(set.n, MANY);
        assert_int_equal(set.duplicates, 0);
        assert_ptr_equal(diag_set_find(&set, 0, many_cookie(0)), &set.socks[MANY - 1]);

        diag_set_done(&set);
        assert_null(set.socks);
        assert_null(set.hash);
        assert_int_equal(set.n, 0);
        assert_int_equal(set.cap, 0);
        assert_int_equal(set.hash_cap, 0);

        /* Reusable after done. */
        s.cookie = 42;
        assert_int_equal(diag_set_add(&set, &s), 1);
        assert_int_equal(diag_set_add(&set, &s), 0);
        assert_int_equal(set.n, 1);
        diag_set_done(&set);
}

static void test_set_cookie_zero(void **state) {
        struct diag_set set = {};
        struct diag_sock s = {};

        /* 0 marks an empty hash slot; such a socket is kept every time, never deduplicated. */
        assert_int_equal(diag_set_add(&set, &s), 1);
        assert_int_equal(diag_set_add(&set, &s), 1);
        s.cookie = 7;
        assert_int_equal(diag_set_add(&set, &s), 1);
        assert_int_equal(diag_set_add(&set, &s), 0);
        assert_int_equal(set.n, 3);
        assert_int_equal(set.duplicates, 1);
        diag_set_done(&set);
}

/* One cookie in two network namespaces is two sockets (cookies were counted per namespace before
 * Linux 5.10); a dump stamps the set's namespace on what it adds. */
static void test_set_netns(void **state) {
        struct nlbuf *b = nlbuf_new();
        struct diag_set set = {};
        struct diag_sock s = { .cookie = 7 };

        (void) state;
        for (size_t i = 0; i < MANY; i++) {
                s.cookie = many_cookie(i);
                s.netns = 1;
                assert_int_equal(diag_set_add(&set, &s), 1);
                s.netns = 2;
                assert_int_equal(diag_set_add(&set, &s), 1);
                assert_int_equal(diag_set_add(&set, &s), 0);
        }
        assert_int_equal(set.n, 2 * MANY);
        assert_int_equal(set.duplicates, MANY);
        for (size_t i = 0; i < MANY; i++) {
                assert_ptr_equal(diag_set_find(&set, 1, many_cookie(i)), &set.socks[2 * i]);
                assert_ptr_equal(diag_set_find(&set, 2, many_cookie(i)), &set.socks[2 * i + 1]);
                assert_null(diag_set_find(&set, 3, many_cookie(i)));
        }

        diag_set_clear(&set);
        assert_int_equal(set.netns, 0);
        buf_sock_cookie(b, 1);
        buf_done(b, SEQ, 0, 0);
        set.netns = 4026532000;
        assert_int_equal(diag_parse_buffer(b->data, b->len, SEQ, PORTID, &set), 0);
        set.netns = 4026532001;
        assert_int_equal(diag_parse_buffer(b->data, b->len, SEQ, PORTID, &set), 0);
        assert_int_equal(set.n, 2);
        assert_int_equal(set.socks[0].netns, 4026532000);
        assert_int_equal(set.socks[1].netns, 4026532001);
        assert_int_equal(set.socks[0].cookie, set.socks[1].cookie);

        /* A dump that failed half way is cut off: its sockets are gone from the set and the
         * index, the others stay found, and the same sockets can be added again. */
        diag_set_truncate(&set, 1);
        assert_int_equal(set.n, 1);
        assert_non_null(diag_set_find(&set, 4026532000, set.socks[0].cookie));
        assert_null(diag_set_find(&set, 4026532001, set.socks[0].cookie));
        assert_int_equal(diag_parse_buffer(b->data, b->len, SEQ, PORTID, &set), 0);
        assert_int_equal(set.n, 2);
        diag_set_truncate(&set, 5); /* beyond the end: nothing */
        assert_int_equal(set.n, 2);
        diag_set_done(&set);
        free(b);
}

static void test_set_zeroed(void **state) {
        struct diag_set set = {};

        diag_set_clear(&set);
        diag_set_done(&set);
        diag_set_done(&set);
        assert_int_equal(set.n, 0);
        assert_null(set.socks);
}

/* --- addresses -------------------------------------------------------------------------------- */

static struct diag_addr addr(int family, const char *ip, uint16_t port) {
        struct diag_addr a = { .family = (uint8_t) family, .port = port };

        if (ip)
                assert_int_equal(inet_pton(family, ip, &a.v6), 1);
        return a;
}

static void test_addr_format(void **state) {
        static const struct {
                int family;
                const char *ip;
                uint16_t port;
                const char *want;
        } cases[] = {
                { AF_INET, "127.0.0.1", 8080, "127.0.0.1:8080" },
                { AF_INET, "0.0.0.0", 0, "0.0.0.0:0" },
                { AF_INET, "255.255.255.255", 65535, "255.255.255.255:65535" },
                { AF_INET6, "::1", 443, "[::1]:443" },
                { AF_INET6, "::", 22, "[::]:22" },
                { AF_INET6, "2001:db8::42", 1, "[2001:db8::42]:1" },
                { AF_INET6, "::ffff:192.0.2.1", 80, "[::ffff:192.0.2.1]:80" },
                { AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535,
                  "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535" },
                { AF_UNSPEC, NULL, 80, "?" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct diag_addr a = addr(cases[i].family, cases[i].ip, cases[i].port);
                char buf[DIAG_ADDR_STRLEN];

                assert_ptr_equal(diag_addr_format(&a, buf, sizeof(buf)), buf);
                assert_string_equal(buf, cases[i].want);
        }
}

static void test_addr_format_truncated(void **state) {
        struct diag_addr a = addr(AF_INET6, "2001:db8::42", 8080);
        char buf[6];

        memset(buf, 'x', sizeof(buf));
        assert_string_equal(diag_addr_format(&a, buf, sizeof(buf)), "[2001");
        assert_string_equal(diag_addr_format(&a, buf, 0), "");
}

static void test_addr_equal_any(void **state) {
        struct diag_addr a = addr(AF_INET, "10.0.0.1", 80);
        struct diag_addr b = addr(AF_INET, "10.0.0.1", 80);
        struct diag_addr v6 = addr(AF_INET6, "::ffff:10.0.0.1", 80);

        assert_true(diag_addr_equal(&a, &b));
        b.v6.s6_addr[15] = 0xee; /* bytes past a v4 address are not compared */
        assert_true(diag_addr_equal(&a, &b));
        b.port = 81;
        assert_false(diag_addr_equal(&a, &b));
        b = addr(AF_INET, "10.0.0.2", 80);
        assert_false(diag_addr_equal(&a, &b));
        assert_false(diag_addr_equal(&a, &v6));
        b = addr(AF_INET6, "::ffff:10.0.0.1", 80);
        assert_true(diag_addr_equal(&v6, &b));
        b.v6.s6_addr[0] = 1;
        assert_false(diag_addr_equal(&v6, &b));

        static const struct {
                int family;
                const char *ip;
                bool any;
        } cases[] = {
                { AF_INET, "0.0.0.0", true }, { AF_INET, "127.0.0.1", false }, { AF_INET, "0.0.0.1", false },
                { AF_INET6, "::", true },     { AF_INET6, "::1", false },      { AF_INET6, "::ffff:0.0.0.0", false },
                { AF_UNSPEC, NULL, false },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct diag_addr x = addr(cases[i].family, cases[i].ip, 5);

                assert_int_equal(diag_addr_is_any(&x), cases[i].any);
        }
}

/* --- the socket, without the kernel ----------------------------------------------------------- */

static void test_dump_arguments(void **state) {
        struct diag_set set = {};

        assert_null(diag_close(NULL));
        assert_int_equal(diag_dump(NULL, AF_INET, DIAG_TCPF_CLOSE_WAIT, false, &set), -EINVAL);
}

/* --- the real kernel -------------------------------------------------------------------------- */

/* A listener on addr (port 0: any), its port in *port. -1 when the family is unavailable. */
static int real_listener(int family, const char *ip, uint16_t *port) {
        struct sockaddr_storage ss = {};
        socklen_t len;
        int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd < 0)
                return -1;
        if (family == AF_INET) {
                struct sockaddr_in *a = (struct sockaddr_in *) &ss;

                a->sin_family = AF_INET;
                inet_pton(AF_INET, ip, &a->sin_addr);
                len = sizeof(*a);
        } else {
                struct sockaddr_in6 *a = (struct sockaddr_in6 *) &ss;

                a->sin6_family = AF_INET6;
                inet_pton(AF_INET6, ip, &a->sin6_addr);
                len = sizeof(*a);
        }
        if (bind(fd, (struct sockaddr *) &ss, len) < 0 || listen(fd, 8) < 0) {
                close(fd);
                return -1;
        }
        len = sizeof(ss);
        assert_int_equal(getsockname(fd, (struct sockaddr *) &ss, &len), 0);
        *port = ntohs(family == AF_INET ? ((struct sockaddr_in *) &ss)->sin_port
                                        : ((struct sockaddr_in6 *) &ss)->sin6_port);
        return fd;
}

static const struct diag_sock *find_local(const struct diag_set *set, int family, uint16_t port, uint8_t state) {
        for (size_t i = 0; i < set->n; i++)
                if (set->socks[i].local.family == family && set->socks[i].local.port == port &&
                    set->socks[i].state == state)
                        return &set->socks[i];
        return NULL;
}

/* One dump of both families (AF_UNSPEC) sees what the two per-family dumps see; the tcp_info of
 * one socket can be asked for by its identity. Needs no privilege. */
static void test_real_dump_and_query(void **state) {
        struct diag_set both = {}, each = {};
        struct diag *d = NULL;
        uint16_t p4 = 0, p6 = 0;
        int l4, l6, c, a;
        struct sockaddr_in to = { .sin_family = AF_INET };
        struct diag_sock cw, bogus;
        const struct diag_sock *s;

        l4 = real_listener(AF_INET, "127.0.0.1", &p4);
        assert_true(l4 >= 0);
        l6 = real_listener(AF_INET6, "::1", &p6); /* -1 without IPv6 */

        /* A server-side socket in CLOSE_WAIT: accepted, then the client closes. */
        c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(c >= 0);
        to.sin_port = htons(p4);
        inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
        assert_int_equal(connect(c, (struct sockaddr *) &to, sizeof(to)), 0);
        a = accept(l4, NULL, NULL);
        assert_true(a >= 0);
        close(c);

        assert_int_equal(diag_open(&d), 0);
        for (int tries = 0; tries < 100; tries++) {
                diag_set_clear(&both);
                assert_true(diag_dump(d, AF_UNSPEC, DIAG_TCPF_LISTEN | DIAG_TCPF_CLOSE_WAIT, false, &both) >= 1);
                if (find_local(&both, AF_INET, p4, ST_CLOSE_WAIT))
                        break;
                usleep(10000);
        }
        assert_true(diag_dump(d, AF_INET, DIAG_TCPF_LISTEN | DIAG_TCPF_CLOSE_WAIT, false, &each) >= 1);
        assert_true(diag_dump(d, AF_INET6, DIAG_TCPF_LISTEN | DIAG_TCPF_CLOSE_WAIT, false, &each) >= 0);

        assert_non_null(find_local(&both, AF_INET, p4, ST_LISTEN));
        assert_non_null(find_local(&each, AF_INET, p4, ST_LISTEN));
        if (l6 >= 0) {
                assert_non_null(find_local(&both, AF_INET6, p6, ST_LISTEN));
                assert_non_null(find_local(&each, AF_INET6, p6, ST_LISTEN));
        }
        s = find_local(&both, AF_INET, p4, ST_CLOSE_WAIT);
        assert_non_null(s);
        assert_non_null(diag_set_find(&each, 0, s->cookie));
        assert_false(s->has_info); /* not asked for */
        for (size_t i = 0; i < both.n; i++) {
                assert_true(both.socks[i].local.family == AF_INET || both.socks[i].local.family == AF_INET6);
                assert_true(both.socks[i].state == ST_LISTEN || both.socks[i].state == ST_CLOSE_WAIT);
        }

        /* tcp_info of that one socket: the FIN arrived just now. */
        cw = *s;
        assert_int_equal(diag_query_info(d, &cw), 0);
        assert_true(cw.has_info);
        assert_true(cw.last_ack_recv_ms < 60 * 1000);
        /* Same 4-tuple, another cookie: not this socket. */
        bogus = *s;
        bogus.cookie ^= 0x5a5a;
        assert_int_equal(diag_query_info(d, &bogus), -ENOENT);
        assert_false(bogus.has_info);
        /* After a query the socket still dumps: tcp_info filled into the sockets of the set,
         * nothing added to it. */
        {
                size_t n = both.n;

                assert_int_equal(diag_dump_info(d, AF_UNSPEC, DIAG_TCPF_CLOSE_WAIT, &both), 0);
                assert_int_equal(both.n, n);
                s = find_local(&both, AF_INET, p4, ST_CLOSE_WAIT);
                assert_non_null(s);
                assert_true(s->has_info);
                s = find_local(&both, AF_INET, p4, ST_LISTEN);
                assert_false(s->has_info); /* not in the states asked for */
        }

        diag_close(d);
        diag_set_done(&both);
        diag_set_done(&each);
        close(a);
        close(l4);
        if (l6 >= 0)
                close(l6);
}

/* A socket bound to a device (SO_BINDTODEVICE, a VRF, an IPv6 link-local address) is found by the
 * kernel's lookup only with its device: diag_query_info() sends the one the dump gave. */
static void test_real_query_bound(void **state) {
        struct sockaddr_in to = { .sin_family = AF_INET };
        socklen_t len = sizeof(to);
        struct diag_set set = {};
        struct diag *d = NULL;
        const struct diag_sock *s = NULL;
        struct diag_sock q;
        uint16_t port = 0, cport;
        int l, c, a;

        l = real_listener(AF_INET, "127.0.0.1", &port);
        assert_true(l >= 0);
        c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(c >= 0);
        if (setsockopt(c, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3) < 0) {
                close(c);
                close(l);
                skip(); /* needs CAP_NET_RAW */
        }
        to.sin_port = htons(port);
        inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
        assert_int_equal(connect(c, (struct sockaddr *) &to, sizeof(to)), 0);
        assert_int_equal(getsockname(c, (struct sockaddr *) &to, &len), 0);
        cport = ntohs(to.sin_port);
        a = accept(l, NULL, NULL);
        assert_true(a >= 0);
        close(a); /* the client's socket, bound to lo, goes to CLOSE_WAIT */

        assert_int_equal(diag_open(&d), 0);
        for (int tries = 0; tries < 100 && !s; tries++) {
                diag_set_clear(&set);
                assert_true(diag_dump(d, AF_INET, DIAG_TCPF_CLOSE_WAIT, false, &set) >= 0);
                s = find_local(&set, AF_INET, cport, ST_CLOSE_WAIT);
                if (!s)
                        usleep(10000);
        }
        assert_non_null(s);
        assert_true(s->ifindex != 0);
        q = *s;
        assert_int_equal(diag_query_info(d, &q), 0);
        assert_true(q.has_info);

        diag_close(d);
        diag_set_done(&set);
        close(c);
        close(l);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_v4),
                cmocka_unit_test(test_parse_v6),
                cmocka_unit_test(test_parse_info),
                cmocka_unit_test(test_parse_malformed),
                cmocka_unit_test(test_parse_unknown_attribute),
                cmocka_unit_test(test_buffer_done),
                cmocka_unit_test(test_buffer_more),
                cmocka_unit_test(test_buffer_duplicates),
                cmocka_unit_test(test_buffer_malformed_skipped),
                cmocka_unit_test(test_buffer_errors),
                cmocka_unit_test(test_buffer_error_truncated),
                cmocka_unit_test(test_buffer_done_with_error),
                cmocka_unit_test(test_buffer_seq_portid),
                cmocka_unit_test(test_buffer_dump_intr),
                cmocka_unit_test(test_buffer_bad_framing),
                cmocka_unit_test(test_buffer_corrupted),
                cmocka_unit_test(test_set_growth),
                cmocka_unit_test(test_set_cookie_zero),
                cmocka_unit_test(test_set_netns),
                cmocka_unit_test(test_set_zeroed),
                cmocka_unit_test(test_addr_format),
                cmocka_unit_test(test_addr_format_truncated),
                cmocka_unit_test(test_addr_equal_any),
                cmocka_unit_test(test_dump_arguments),
                cmocka_unit_test(test_real_dump_and_query),
                cmocka_unit_test(test_real_query_bound),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
