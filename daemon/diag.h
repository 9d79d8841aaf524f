/* diag: TCP socket dumps through NETLINK_SOCK_DIAG (libmnl), decoded into plain structs.
 *
 * Decoding is pure (bytes in, structs out) so that it can be unit-tested and fuzzed with
 * messages built in memory; only diag_open()/diag_dump() touch the kernel. */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nlmsghdr;

/* The kernel's TCPF_* masks are internal (include/net/tcp_states.h): 1 << TCP_<state>. */
#define DIAG_TCPF_FIN_WAIT2  (1u << 5)
#define DIAG_TCPF_TIME_WAIT  (1u << 6)
#define DIAG_TCPF_CLOSE_WAIT (1u << 8)
#define DIAG_TCPF_LISTEN     (1u << 10)

/* An endpoint. family is AF_INET or AF_INET6; port in host byte order. */
struct diag_addr {
        uint8_t family;
        uint16_t port;
        union {
                struct in_addr v4;
                struct in6_addr v6;
        };
};

/* One socket of a dump: the fields of struct inet_diag_msg that closewaitd uses, plus the two
 * tcp_info timestamps (only when has_info). */
struct diag_sock {
        uint64_t cookie; /* idiag_cookie[0] | idiag_cookie[1] << 32: with netns, the key of a socket */
        struct diag_addr local;
        struct diag_addr remote;
        uint8_t state;       /* TCP_ESTABLISHED.. from <netinet/tcp.h> */
        uint8_t timer;       /* idiag_timer; 3 = TIME_WAIT timer */
        bool has_info;       /* INET_DIAG_INFO present and long enough for the two stamps */
        uint32_t expires_ms; /* idiag_expires: ms left on the timer */
        uint32_t rqueue;     /* idiag_rqueue: CLOSE_WAIT: bytes (or the FIN) not read; LISTEN: accept queue */
        uint32_t wqueue;
        uint32_t uid;               /* idiag_uid */
        uint32_t inode;             /* 0: no file (in an accept queue, or TIME_WAIT) */
        uint32_t ifindex;           /* idiag_if: the device it is bound to, 0 for none */
        uint32_t netns;             /* inode of the network namespace it was dumped from (set by
                                     * the dump, not by decoding; nsfs inodes are 32-bit, the
                                     * kernel's ns_common.inum); 0 when not known */
        uint32_t last_data_recv_ms; /* tcpi_last_data_recv */
        uint32_t last_ack_recv_ms;  /* tcpi_last_ack_recv */
};

/* A growing array of sockets, deduplicated by (netns, cookie) (a dump racing with changes can
 * repeat a socket: inet_diag never sets NLM_F_DUMP_INTR). */
struct diag_set {
        struct diag_sock *socks;
        size_t n, cap;
        uint32_t netns; /* stamped on every socket that diag_parse_buffer() and the dumps add: the
                         * namespace of the diag socket being read; set it before each dump */
        uint32_t *hash; /* open addressing on (netns, cookie): index + 1 into socks, 0 = empty slot */
        size_t hash_cap;
        size_t duplicates; /* messages skipped as already present */
        size_t malformed;  /* messages skipped as undecodable */
};

/* Add a copy of s unless a socket with its netns and cookie is already in the set.
 * Returns 1 if added, 0 if it was a duplicate, -ENOMEM. */
int diag_set_add(struct diag_set *set, const struct diag_sock *s);

/* The socket of the set with this netns and cookie, or NULL (also for cookie 0, which is never
 * indexed). */
struct diag_sock *diag_set_find(const struct diag_set *set, uint32_t netns, uint64_t cookie);

/* Drop the sockets added after the first n (a dump that failed half way), keeping the counters.
 * Rebuilds the index: for the rare failure, not for every scan. */
void diag_set_truncate(struct diag_set *set, size_t n);
/* Empty the set, keeping its memory for the next scan. Counters and netns are reset too. */
void diag_set_clear(struct diag_set *set);

/* Free the set's memory; the set is left empty and reusable. Accepts a zeroed set. */
void diag_set_done(struct diag_set *set);

/* Decode one SOCK_DIAG_BY_FAMILY message (header included) into *out.
 * Returns 0, or -EBADMSG when the message is truncated, has the wrong type, or carries a
 * malformed attribute. tcp_info is copied as min(attribute length, what is needed). */
int diag_parse_nlmsg(const struct nlmsghdr *nlh, struct diag_sock *out);

/* Decode a buffer received from a dump: checks sequence number and port id (mnl_cb_run), decodes
 * every message, adds each to set (malformed ones are counted in set->malformed and skipped).
 * Returns 1 when more messages follow, 0 when NLMSG_DONE was seen, -EINTR when the kernel
 * flagged the dump as interrupted, -errno on NLMSG_ERROR or a bad buffer, -ENOMEM. */
int diag_parse_buffer(const void *buf, size_t len, uint32_t seq, uint32_t portid, struct diag_set *set);

/* One NETLINK_SOCK_DIAG socket. One dump at a time. */
struct diag;

/* Open and bind the netlink socket. Returns 0 and *ret, or -errno. */
int diag_open(struct diag **ret);

/* Close; accepts NULL, returns NULL. */
struct diag *diag_close(struct diag *d);

/* Dump the TCP sockets of one family (AF_INET or AF_INET6), or of both in one walk of the kernel's
 * tables (AF_UNSPEC: the older TCPDIAG_GETSOCK request; -EINVAL or -EOPNOTSUPP where a kernel
 * lacks it), in the given states (DIAG_TCPF_*
 * mask) into set, asking for INET_DIAG_INFO when want_info. An interrupted dump is retried a few
 * times (sockets already added are deduplicated). Returns the number of sockets added, or -errno
 * (-EBUSY when another dump is running on the socket, -EINTR when every retry was interrupted). */
int diag_dump(struct diag *d, int family, uint32_t states, bool want_info, struct diag_set *set);

/* Dump the sockets of family in states with tcp_info, and fill the tcp_info of those already in
 * set (same cookie and state); the others are not added. Returns 0 or -errno as diag_dump(). */
int diag_dump_info(struct diag *d, int family, uint32_t states, struct diag_set *set);

/* Ask the kernel for the tcp_info of the one socket s (by its addresses, ports and cookie) and
 * fill s->has_info and the two stamps. Cheaper than a dump with tcp_info when few sockets need it.
 * Returns 0, -ENOENT when the socket is gone, or -errno. */
int diag_query_info(struct diag *d, struct diag_sock *s);

/* Format an address as ip:port, IPv6 as [addr]:port. buf must hold DIAG_ADDR_STRLEN bytes. */
#define DIAG_ADDR_STRLEN (INET6_ADDRSTRLEN + 8)
const char *diag_addr_format(const struct diag_addr *a, char *buf, size_t size);

/* Equality of two endpoints (family, address and port). */
bool diag_addr_equal(const struct diag_addr *a, const struct diag_addr *b);

/* A total order on endpoints: family, then address bytes, then port. <0, 0 or >0. */
int diag_addr_compare(const struct diag_addr *a, const struct diag_addr *b);

/* An IPv4-mapped IPv6 endpoint (::ffff:a.b.c.d, the peers of a dual-stack socket) as the IPv4
 * endpoint it is; any other endpoint unchanged. One destination must not count as two. */
struct diag_addr diag_addr_unmap(const struct diag_addr *a);

/* True for 0.0.0.0 and ::. */
bool diag_addr_is_any(const struct diag_addr *a);
