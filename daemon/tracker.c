/* tracker: CLOSE_WAIT ages. */
#include "tracker.h"

/* tcp_info stamps are jiffies turned into ms (tcp_get_info() in net/ipv4/tcp.c): a FIN that
 * arrived just before a tick reads up to one jiffy older than it is. 10 ms covers HZ=100. */
#define JIFFY_MARGIN_USEC (10 * USEC_PER_MSEC)

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
