/* tracker: how long each CLOSE_WAIT socket has been in CLOSE_WAIT. */
#pragma once

#include "diag.h"
#include "util.h"

/* The age of a socket first seen already in CLOSE_WAIT, from tcp_info: tcpi_last_ack_recv is the
 * time since the peer's FIN was acknowledged or later, so it is a lower bound; one jiffy of the
 * slowest kernel clock (HZ=100) is subtracted so that rounding never overstates it.
 * Returns 0 when the socket carries no tcp_info. */
usec_t tracker_bootstrap_age_usec(const struct diag_sock *s);
