/* diag: TCP socket dumps through NETLINK_SOCK_DIAG (libmnl), decoded into plain structs.
 *
 * The decoding half (diag_parse_nlmsg, diag_parse_buffer) is a pure function of bytes so tests can
 * feed it messages built in memory. The socket half keeps one rule of the kernel in view: a
 * netlink socket runs one dump at a time, so a dump abandoned half-way (an error, an interrupted
 * dump) is read to its end before the next request, or that request would get EBUSY. */
#include "diag.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <limits.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "util.h"

/* Debian's libmnl 1.0.4 has no MNL_SOCKET_DUMP_SIZE; 8 KiB needs ~4x more recvmsg() calls. */
#define DIAG_RECV_BUFSIZE (32 * 1024)

/* One dump and three restarts when the kernel flags a dump as interrupted. */
#define DIAG_DUMP_TRIES 4

/* While a dump runs the kernel fills the queue from inside recvmsg() (netlink_recvmsg() calls
 * netlink_dump()), so a receive never waits. A wait means no dump is running: this bounds the
 * damage if the pending-dump bookkeeping below is ever wrong, instead of hanging the daemon. */
#define DIAG_RECV_TIMEOUT_SEC 5

/* Answers to earlier requests that diag_query_info() drops, at most, before giving up. */
#define DIAG_QUERY_STALE_MAX 64

/* The first set allocation; the hash table is twice as large (kept at most half full). */
#define DIAG_SET_MIN_CAP 256

struct diag {
        struct mnl_socket *nl;
        uint32_t portid;
        uint32_t seq; /* of the last request; never 0: mnl_cb_run() takes 0 as "don't check" */
        bool pending; /* a request was sent and the end of its answer not yet received */
        alignas(struct nlmsghdr) uint8_t buf[DIAG_RECV_BUFSIZE];
};

/* --- the set ---------------------------------------------------------------------------------- */

/* splitmix64's finaliser over cookie and namespace: cookies come from a counter (per namespace
 * before Linux 5.10), so their low bits are sequential and must be mixed before masking. */
static uint64_t cookie_hash(uint64_t netns, uint64_t c) {
        c ^= netns * UINT64_C(0x9e3779b97f4a7c15);
        c ^= c >> 30;
        c *= UINT64_C(0xbf58476d1ce4e5b9);
        c ^= c >> 27;
        c *= UINT64_C(0x94d049bb133111eb);
        c ^= c >> 31;
        return c;
}

/* The slot holding cookie, or the empty slot where it would go. The table always has an empty
 * slot (at most half full), so the probe ends. Slots hold an index + 1 into socks, so the table
 * is 4 bytes a slot: cleared every scan, it must stay small. */
static size_t set_slot(const struct diag_set *set, uint32_t netns, uint64_t cookie) {
        size_t mask = set->hash_cap - 1;
        size_t i = (size_t) cookie_hash(netns, cookie) & mask;

        while (set->hash[i] != 0 &&
               (set->socks[set->hash[i] - 1].cookie != cookie || set->socks[set->hash[i] - 1].netns != netns))
                i = (i + 1) & mask;
        return i;
}

static int set_rehash(struct diag_set *set, size_t cap) {
        uint32_t *h;

        if (cap > UINT32_MAX)
                return -ENOMEM;
        h = calloc(cap, sizeof(*h));
        if (!h)
                return -ENOMEM;
        free(set->hash);
        set->hash = h;
        set->hash_cap = cap;
        for (size_t i = 0; i < set->n; i++)
                if (set->socks[i].cookie != 0)
                        set->hash[set_slot(set, set->socks[i].netns, set->socks[i].cookie)] = (uint32_t) i + 1;
        return 0;
}

/* Room for one more socket in both the array and the table; the set is unchanged on -ENOMEM. */
static int set_reserve(struct diag_set *set) {
        if (set->n == set->cap) {
                size_t cap = set->cap > 0 ? set->cap * 2 : DIAG_SET_MIN_CAP;
                struct diag_sock *socks;

                if (set->cap > SIZE_MAX / 2)
                        return -ENOMEM;
                socks = reallocarray(set->socks, cap, sizeof(*socks));
                if (!socks)
                        return -ENOMEM;
                set->socks = socks;
                set->cap = cap;
        }

        if (set->n + 1 > set->hash_cap / 2) {
                size_t cap = set->hash_cap > 0 ? set->hash_cap * 2 : DIAG_SET_MIN_CAP * 2;

                if (set->hash_cap > SIZE_MAX / 2)
                        return -ENOMEM;
                return set_rehash(set, cap);
        }
        return 0;
}

int diag_set_add(struct diag_set *set, const struct diag_sock *s) {
        int r;

        r = set_reserve(set);
        if (r < 0)
                return r;

        /* 0 marks an empty slot. The kernel never hands out cookie 0 (sock_gen_cookie() starts
         * at 1), so a socket claiming it is kept, undeduplicated, rather than confused with one. */
        if (s->cookie != 0) {
                size_t slot = set_slot(set, s->netns, s->cookie);

                if (set->hash[slot] != 0) {
                        set->duplicates++;
                        return 0;
                }
                set->hash[slot] = (uint32_t) set->n + 1;
        }
        set->socks[set->n++] = *s;
        return 1;
}

struct diag_sock *diag_set_find(const struct diag_set *set, uint32_t netns, uint64_t cookie) {
        size_t slot;

        if (cookie == 0 || set->hash_cap == 0)
                return NULL;
        slot = set_slot(set, netns, cookie);
        return set->hash[slot] != 0 ? &set->socks[set->hash[slot] - 1] : NULL;
}

void diag_set_truncate(struct diag_set *set, size_t n) {
        if (n >= set->n)
                return;
        set->n = n;
        if (!set->hash)
                return;
        memset(set->hash, 0, set->hash_cap * sizeof(*set->hash));
        for (size_t i = 0; i < set->n; i++)
                if (set->socks[i].cookie != 0)
                        set->hash[set_slot(set, set->socks[i].netns, set->socks[i].cookie)] = (uint32_t) i + 1;
}

void diag_set_clear(struct diag_set *set) {
        set->n = 0;
        set->duplicates = 0;
        set->malformed = 0;
        set->netns = 0;
        if (set->hash)
                memset(set->hash, 0, set->hash_cap * sizeof(*set->hash));
}

void diag_set_done(struct diag_set *set) {
        free(set->socks);
        free(set->hash);
        *set = (struct diag_set){};
}

/* --- decoding --------------------------------------------------------------------------------- */

static void parse_info(const struct nlattr *attr, struct diag_sock *s) {
        /* Older kernels send a shorter tcp_info and newer ones a longer one: copy what fits into
         * a zeroed local, and use a field only if the attribute reaches its end. */
        const size_t need_data = offsetof(struct tcp_info, tcpi_last_data_recv) + sizeof(uint32_t);
        const size_t need_ack = offsetof(struct tcp_info, tcpi_last_ack_recv) + sizeof(uint32_t);
        struct tcp_info info = {};
        size_t len = mnl_attr_get_payload_len(attr);

        memcpy(&info, mnl_attr_get_payload(attr), len < sizeof(info) ? len : sizeof(info));
        s->has_info = len >= need_data && len >= need_ack;
        s->last_data_recv_ms = s->has_info ? info.tcpi_last_data_recv : 0;
        s->last_ack_recv_ms = s->has_info ? info.tcpi_last_ack_recv : 0;
}

static void parse_addr(struct diag_addr *a, uint8_t family, __be16 port, const __be32 addr[4]) {
        a->family = family;
        a->port = ntohs(port);
        if (family == AF_INET)
                memcpy(&a->v4, addr, sizeof(a->v4));
        else
                memcpy(&a->v6, addr, sizeof(a->v6));
}

int diag_parse_nlmsg(const struct nlmsghdr *nlh, struct diag_sock *out) {
        struct diag_sock s = {};
        struct inet_diag_msg m;
        const char *p, *tail;

        /* The answer to a request carries its type: TCPDIAG_GETSOCK for a dump of both families. */
        if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY && nlh->nlmsg_type != TCPDIAG_GETSOCK)
                return -EBADMSG;
        /* mnl_nlmsg_get_payload_tail() rounds nlmsg_len up to 4, so the attribute walk would read
         * up to 3 bytes past an unaligned message. inet_sk_diag_fill() only builds aligned ones. */
        if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(m)) || nlh->nlmsg_len % MNL_ALIGNTO != 0)
                return -EBADMSG;

        memcpy(&m, mnl_nlmsg_get_payload(nlh), sizeof(m));
        tail = mnl_nlmsg_get_payload_tail(nlh);
        if (m.idiag_family != AF_INET && m.idiag_family != AF_INET6)
                return -EBADMSG;

        s.cookie = (uint64_t) m.id.idiag_cookie[0] | (uint64_t) m.id.idiag_cookie[1] << 32;
        parse_addr(&s.local, m.idiag_family, m.id.idiag_sport, m.id.idiag_src);
        parse_addr(&s.remote, m.idiag_family, m.id.idiag_dport, m.id.idiag_dst);
        s.state = m.idiag_state;
        s.timer = m.idiag_timer;
        s.expires_ms = m.idiag_expires;
        s.rqueue = m.idiag_rqueue;
        s.wqueue = m.idiag_wqueue;
        s.uid = m.idiag_uid;
        s.inode = m.idiag_inode;
        s.ifindex = m.id.idiag_if;

        /* The attributes, walked by hand (mnl_attr_parse() and its callback were a third of the
         * decoding cost at 100k sockets): each must have a header, a length within the message,
         * and together they must reach its end. */
        for (p = mnl_nlmsg_get_payload_offset(nlh, sizeof(m)); p < tail;) {
                const struct nlattr *attr = (const struct nlattr *) (const void *) p;

                if ((size_t) (tail - p) < sizeof(*attr) || attr->nla_len < sizeof(*attr) ||
                    attr->nla_len > (size_t) (tail - p))
                        return -EBADMSG;
                if (mnl_attr_get_type(attr) == INET_DIAG_INFO)
                        parse_info(attr, &s);
                p += MNL_ALIGN(attr->nla_len);
        }

        *out = s;
        return 0;
}

struct buffer_ctx {
        struct diag_set *set;
        bool update_info; /* only fill the tcp_info of sockets already in set */
        int error;        /* set by our callbacks; errno is only read for libmnl's own checks */
};

static int cb_sock(const struct nlmsghdr *nlh, void *data) {
        struct buffer_ctx *ctx = data;
        struct diag_sock s;
        int r;

        if (diag_parse_nlmsg(nlh, &s) < 0) {
                ctx->set->malformed++;
                return MNL_CB_OK;
        }
        s.netns = ctx->set->netns;
        if (ctx->update_info) {
                struct diag_sock *known = diag_set_find(ctx->set, s.netns, s.cookie);

                if (known && known->state == s.state) {
                        known->has_info = s.has_info;
                        known->last_data_recv_ms = s.last_data_recv_ms;
                        known->last_ack_recv_ms = s.last_ack_recv_ms;
                }
                return MNL_CB_OK;
        }
        r = diag_set_add(ctx->set, &s);
        if (r < 0) {
                ctx->error = r;
                return MNL_CB_ERROR;
        }
        return MNL_CB_OK;
}

/* The largest errno (MAX_ERRNO in the kernel's include/linux/err.h). */
#define DIAG_MAX_ERRNO 4095

/* An error code carried by the kernel as a positive or negative int, as -errno; a number no errno
 * has (a corrupt message) as -EIO, so that callers only ever see -1 .. -DIAG_MAX_ERRNO. */
static int netlink_errno(int e) {
        if (e < -DIAG_MAX_ERRNO || e > DIAG_MAX_ERRNO)
                return -EIO;
        return e < 0 ? e : -e;
}

static int cb_error(const struct nlmsghdr *nlh, void *data) {
        struct buffer_ctx *ctx = data;
        int e;

        if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(e))) {
                ctx->error = -EBADMSG;
                return MNL_CB_ERROR;
        }
        memcpy(&e, mnl_nlmsg_get_payload(nlh), sizeof(e));
        if (e == 0)
                return MNL_CB_STOP; /* an ACK: nothing follows */
        ctx->error = netlink_errno(e);
        return MNL_CB_ERROR;
}

static int cb_done(const struct nlmsghdr *nlh, void *data) {
        struct buffer_ctx *ctx = data;
        int e;

        /* netlink_dump() puts the dump's own error in NLMSG_DONE (e.g. from inet_diag_dump()
         * failing half-way); libmnl's default handler ignores it and reports success. */
        if (nlh->nlmsg_len >= mnl_nlmsg_size(sizeof(e))) {
                memcpy(&e, mnl_nlmsg_get_payload(nlh), sizeof(e));
                if (e < 0) {
                        ctx->error = netlink_errno(e);
                        return MNL_CB_ERROR;
                }
        }
        return MNL_CB_STOP;
}

/* Walk buf as mnl_cb_run() will, without acting on it, and reject it unless it is a sequence of
 * whole messages:
 *  - libmnl 1.0.4's mnl_nlmsg_ok() compares (int) nlmsg_len <= len, so a length of 2 GiB or more
 *    passes, and mnl_cb_run() would hand callbacks a message reaching far past the buffer;
 *  - mnl_cb_run() stops silently at bytes that do not make a message, and a dump would then wait
 *    for an end that was lost.
 * Also tells whether the answer to request seq ends in this buffer, which is needed even when
 * mnl_cb_run() gives up on an earlier message. */
static int buffer_scan(const void *buf, size_t len, uint32_t seq, bool *ret_ended) {
        const uint8_t *p = buf;

        *ret_ended = false;
        while (len > 0) {
                const struct nlmsghdr *nlh = (const struct nlmsghdr *) p;
                size_t step;

                if (len < sizeof(*nlh) || nlh->nlmsg_len < sizeof(*nlh) || nlh->nlmsg_len > len)
                        return -EBADMSG;
                if ((nlh->nlmsg_type == NLMSG_DONE || nlh->nlmsg_type == NLMSG_ERROR) && mnl_nlmsg_seq_ok(nlh, seq))
                        *ret_ended = true;
                /* The last message may lack its padding, as mnl_nlmsg_next() allows. */
                step = MNL_ALIGN(nlh->nlmsg_len);
                if (step >= len)
                        break;
                p += step;
                len -= step;
        }
        return 0;
}

static int parse_buffer(const void *buf, size_t len, uint32_t seq, uint32_t portid, struct diag_set *set,
                        bool update_info, bool *ret_ended) {
        /* With a control array, mnl_cb_run2() ignores the types whose entry is NULL (NLMSG_NOOP)
         * and uses its defaults only past the array (NLMSG_OVERRUN: ignored). A local because
         * libmnl 1.0.4 takes it as non-const. */
        mnl_cb_t cb_ctl[NLMSG_DONE + 1] = {
                [NLMSG_ERROR] = cb_error,
                [NLMSG_DONE] = cb_done,
        };
        struct buffer_ctx ctx = { .set = set, .update_info = update_info };
        int r;

        *ret_ended = false;
        if (len > INT_MAX) /* mnl_cb_run() counts in int */
                return -EMSGSIZE;
        r = buffer_scan(buf, len, seq, ret_ended);
        if (r < 0)
                return r;

        errno = 0;
        r = mnl_cb_run2(buf, len, seq, portid, cb_sock, &ctx, cb_ctl, ELEMENTSOF(cb_ctl));
        if (ctx.error < 0)
                return ctx.error;
        if (r == MNL_CB_ERROR)
                /* libmnl's own checks: ESRCH (port id), EPROTO (sequence), EINTR (a message
                 * flagged NLM_F_DUMP_INTR: libmnl tests the flag before our callback sees it). */
                return errno > 0 ? -errno : -EIO;
        return r == MNL_CB_STOP ? 0 : 1;
}

int diag_parse_buffer(const void *buf, size_t len, uint32_t seq, uint32_t portid, struct diag_set *set) {
        bool ended;

        return parse_buffer(buf, len, seq, portid, set, false, &ended);
}

/* --- the socket ------------------------------------------------------------------------------- */

int diag_open(struct diag **ret) {
        const struct timeval tv = { .tv_sec = DIAG_RECV_TIMEOUT_SEC };
        struct diag *d;
        int r;

        d = calloc(1, sizeof(*d));
        if (!d)
                return -ENOMEM;

        d->nl = mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_CLOEXEC);
        if (!d->nl) {
                r = -errno;
                goto fail;
        }
        if (setsockopt(mnl_socket_get_fd(d->nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
                r = -errno;
                goto fail;
        }
        if (mnl_socket_bind(d->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
                r = -errno;
                goto fail;
        }
        d->portid = mnl_socket_get_portid(d->nl);

        *ret = d;
        return 0;

fail:
        diag_close(d);
        return r;
}

struct diag *diag_close(struct diag *d) {
        if (!d)
                return NULL;
        if (d->nl)
                mnl_socket_close(d->nl);
        free(d);
        return NULL;
}

/* One datagram into d->buf. Returns its length or -errno; -ETIMEDOUT means nothing is coming,
 * so no dump is running any more. */
static int recv_buf(struct diag *d) {
        for (;;) {
                ssize_t n = mnl_socket_recvfrom(d->nl, d->buf, sizeof(d->buf));

                if (n > 0)
                        return (int) n;
                if (n == 0)
                        return -EIO; /* netlink never sends an empty datagram */
                if (errno == EINTR)
                        continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK) {
                        d->pending = false;
                        return -ETIMEDOUT;
                }
                return -errno; /* ENOSPC: a datagram larger than the buffer (MSG_TRUNC) */
        }
}

/* Read and drop the rest of an abandoned dump, so that the next request is not refused. */
static int dump_drain(struct diag *d) {
        while (d->pending) {
                bool ended;
                int n;

                n = recv_buf(d);
                if (n == -ETIMEDOUT)
                        return 0;
                if (n < 0)
                        return n;
                (void) buffer_scan(d->buf, (size_t) n, d->seq, &ended);
                if (ended)
                        d->pending = false;
        }
        return 0;
}

static void put_addr(const struct diag_addr *a, __be16 *port, __be32 addr[4]) {
        *port = htons(a->port);
        if (a->family == AF_INET)
                memcpy(addr, &a->v4, sizeof(a->v4));
        else
                memcpy(addr, &a->v6, sizeof(a->v6));
}

/* The sequence number of a new request: never 0, which mnl_cb_run() takes as "don't check". */
static uint32_t next_seq(struct diag *d) {
        if (++d->seq == 0)
                d->seq = 1;
        return d->seq;
}

/* Send the request in nlh; its answer is then pending. */
static int send_msg(struct diag *d, const struct nlmsghdr *nlh) {
        ssize_t n;

        do
                n = mnl_socket_sendto(d->nl, nlh, nlh->nlmsg_len);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        if ((size_t) n != nlh->nlmsg_len)
                return -EIO;
        d->pending = true;
        return 0;
}

/* A dump of both families in one request: the old TCPDIAG_GETSOCK request, whose dump the kernel
 * runs with AF_UNSPEC (inet_diag_dump_compat()), so the established hash table, shared by IPv4
 * and IPv6, is walked once instead of once per family. */
static int send_request_both(struct diag *d, uint32_t states, bool want_info) {
        alignas(struct nlmsghdr)
                uint8_t buf[MNL_ALIGN(sizeof(struct nlmsghdr)) + MNL_ALIGN(sizeof(struct inet_diag_req))];
        struct inet_diag_req *req;
        struct nlmsghdr *nlh;

        nlh = mnl_nlmsg_put_header(buf);
        nlh->nlmsg_type = TCPDIAG_GETSOCK;
        nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
        nlh->nlmsg_seq = next_seq(d);
        req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
        req->idiag_family = AF_UNSPEC;
        req->idiag_states = states;
        req->idiag_ext = want_info ? 1u << (INET_DIAG_INFO - 1) : 0;

        return send_msg(d, nlh);
}

/* Send a dump request (one == NULL) or a request for the one socket one. */
static int send_request(struct diag *d, int family, uint32_t states, bool want_info, const struct diag_sock *one) {
        alignas(struct nlmsghdr)
                uint8_t buf[MNL_ALIGN(sizeof(struct nlmsghdr)) + MNL_ALIGN(sizeof(struct inet_diag_req_v2))];
        struct inet_diag_req_v2 *req;
        struct nlmsghdr *nlh;

        if (!one && family == AF_UNSPEC)
                return send_request_both(d, states, want_info);

        nlh = mnl_nlmsg_put_header(buf);
        nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
        nlh->nlmsg_flags = NLM_F_REQUEST | (one ? 0 : NLM_F_DUMP);
        nlh->nlmsg_seq = next_seq(d);
        req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
        req->sdiag_family = (uint8_t) family;
        req->sdiag_protocol = IPPROTO_TCP;
        req->idiag_states = states;
        req->idiag_ext = want_info ? 1u << (INET_DIAG_INFO - 1) : 0;
        if (one) {
                /* inet_diag_find_one_icsk(): looked up by addresses and ports, checked against
                 * the cookie (so a socket reusing the 4-tuple is not taken for this one). */
                put_addr(&one->local, &req->id.idiag_sport, req->id.idiag_src);
                put_addr(&one->remote, &req->id.idiag_dport, req->id.idiag_dst);
                /* A socket bound to a device (SO_BINDTODEVICE, a VRF, an IPv6 link-local
                 * address) is found only with its device. */
                req->id.idiag_if = one->ifindex;
                req->id.idiag_cookie[0] = (uint32_t) one->cookie;
                req->id.idiag_cookie[1] = (uint32_t) (one->cookie >> 32);
        }

        return send_msg(d, nlh);
}

static int dump_once(struct diag *d, int family, uint32_t states, bool want_info, bool update_info,
                     struct diag_set *set) {
        int r;

        r = send_request(d, family, states, want_info, NULL);
        if (r < 0)
                return r;

        do {
                bool ended;
                int n;

                n = recv_buf(d);
                if (n < 0) {
                        r = n;
                        break;
                }
                r = parse_buffer(d->buf, (size_t) n, d->seq, d->portid, set, update_info, &ended);
                if (ended)
                        d->pending = false;
        } while (r == 1);

        /* Errors here leave the socket usable: a failed drain is retried by the next dump. */
        if (r < 0 && d->pending)
                (void) dump_drain(d);
        return r;
}

static int dump(struct diag *d, int family, uint32_t states, bool want_info, bool update_info, struct diag_set *set) {
        size_t before;
        int r;

        if (!d || !set)
                return -EINVAL;
        if (family != AF_INET && family != AF_INET6 && family != AF_UNSPEC)
                return -EAFNOSUPPORT;

        r = dump_drain(d);
        if (r < 0)
                return r;

        before = set->n;
        for (unsigned i = 0; i < DIAG_DUMP_TRIES; i++) {
                r = dump_once(d, family, states, want_info, update_info, set);
                if (r != -EINTR)
                        break;
        }
        if (r < 0)
                return r;
        return set->n - before > INT_MAX ? INT_MAX : (int) (set->n - before);
}

int diag_query_info(struct diag *d, struct diag_sock *s) {
        const struct nlmsghdr *nlh;
        struct diag_sock got;
        int n, r;

        if (!d || !s || (s->local.family != AF_INET && s->local.family != AF_INET6))
                return -EINVAL;
        r = dump_drain(d);
        if (r < 0)
                return r;
        r = send_request(d, s->local.family, UINT32_MAX, true, s);
        if (r < 0)
                return r;

        /* The answer is one message: the socket, or NLMSG_ERROR (ENOENT: gone). Older messages
         * (an answer to an earlier request, read by no one) are dropped until ours comes. The
         * answer has no NLMSG_DONE, so pending is cleared whatever happens: a drain would
         * wait for one until the receive timeout; an answer left queued is dropped by the next
         * query as older. */
        for (unsigned tries = 0;; tries++) {
                n = recv_buf(d);
                if (n < 0) {
                        d->pending = false;
                        return n;
                }
                nlh = (const struct nlmsghdr *) (const void *) d->buf;
                if ((size_t) n < sizeof(*nlh) || nlh->nlmsg_len > (size_t) n || !mnl_nlmsg_portid_ok(nlh, d->portid) ||
                    tries >= DIAG_QUERY_STALE_MAX) {
                        d->pending = false;
                        return -EBADMSG;
                }
                if (mnl_nlmsg_seq_ok(nlh, d->seq))
                        break;
        }
        d->pending = false;
        if (nlh->nlmsg_type == NLMSG_ERROR) {
                const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

                if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
                        return -EBADMSG;
                return e->error == 0 ? -EBADMSG : netlink_errno(e->error);
        }
        r = diag_parse_nlmsg(nlh, &got);
        if (r < 0)
                return r;
        if (got.cookie != s->cookie)
                return -ENOENT;
        s->has_info = got.has_info;
        s->last_data_recv_ms = got.last_data_recv_ms;
        s->last_ack_recv_ms = got.last_ack_recv_ms;
        return 0;
}

int diag_dump(struct diag *d, int family, uint32_t states, bool want_info, struct diag_set *set) {
        return dump(d, family, states, want_info, false, set);
}

int diag_dump_info(struct diag *d, int family, uint32_t states, struct diag_set *set) {
        return dump(d, family, states, true, true, set);
}

/* --- addresses -------------------------------------------------------------------------------- */

const char *diag_addr_format(const struct diag_addr *a, char *buf, size_t size) {
        char ip[INET6_ADDRSTRLEN];

        if (!buf || size == 0)
                return "";
        if (a->family == AF_INET && inet_ntop(AF_INET, &a->v4, ip, sizeof(ip)))
                snprintf(buf, size, "%s:%u", ip, (unsigned) a->port);
        else if (a->family == AF_INET6 && inet_ntop(AF_INET6, &a->v6, ip, sizeof(ip)))
                snprintf(buf, size, "[%s]:%u", ip, (unsigned) a->port);
        else
                snprintf(buf, size, "?");
        return buf;
}

bool diag_addr_equal(const struct diag_addr *a, const struct diag_addr *b) {
        return diag_addr_compare(a, b) == 0;
}

int diag_addr_compare(const struct diag_addr *a, const struct diag_addr *b) {
        int r;

        if (a->family != b->family)
                return a->family < b->family ? -1 : 1;
        if (a->family == AF_INET)
                r = memcmp(&a->v4, &b->v4, sizeof(a->v4));
        else if (a->family == AF_INET6)
                r = memcmp(&a->v6, &b->v6, sizeof(a->v6));
        else
                r = 0;
        if (r != 0)
                return r;
        return (a->port > b->port) - (a->port < b->port);
}

struct diag_addr diag_addr_unmap(const struct diag_addr *a) {
        struct diag_addr r = *a;

        if (a->family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&a->v6)) {
                struct in_addr v4;

                memcpy(&v4, &a->v6.s6_addr[12], sizeof(v4));
                r = (struct diag_addr){ .family = AF_INET, .port = a->port, .v4 = v4 };
        }
        return r;
}

bool diag_addr_is_any(const struct diag_addr *a) {
        if (a->family == AF_INET)
                return a->v4.s_addr == htonl(INADDR_ANY);
        if (a->family == AF_INET6)
                return IN6_IS_ADDR_UNSPECIFIED(&a->v6);
        return false;
}
