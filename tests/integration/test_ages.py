"""Ages of sockets first seen by a scan.

With an argument N, H holds N sockets instead of 3: when more than 64 CLOSE_WAIT sockets are new
and they are more than a quarter of all, a scan takes their tcp_info from one more dump rather
than asking socket by socket.

Between T0 and T1 (time.monotonic) the test makes: 3 accepted sockets of holder H enter CLOSE_WAIT,
2 unaccepted connections of listener B die in its queue, 2 server-side sockets of S enter
TIME_WAIT. After ~2 s a scan runs between S0 and S1. Every reported oldest_age_s must be possible:
  CLOSE_WAIT (processes and accept_backlog): a lower bound of the true age, so
      S0 - T1 - 0.1 <= oldest_age_s <= S1 - T0
  TIME_WAIT (60 s minus the timer left): the same bounds, 0.1 s of slack on the upper one.
"""

import sys
import time

import cwtest as t

N = int(sys.argv[1]) if len(sys.argv) > 1 else 3
M = 2
K = 2
SLEEP = 2.0


def build():
    h = t.Holder(t.unique_comm("cwageH"))
    b = t.Holder(t.unique_comm("cwageB"))
    s = t.Holder(t.unique_comm("cwageS"))
    ph, pb, ps = h.listen(backlog=max(128, N + 16)), b.listen(), s.listen()
    ch = t.connect("127.0.0.1", ph, N)
    h.call("accept", n=N)
    cs = t.connect("127.0.0.1", ps, K)
    s.call("accept", n=K)
    s.call("close_accepted")
    t.wait_ss_count(K, "S's clients in CLOSE_WAIT", state="close-wait", dport=ps)

    T0 = time.monotonic()
    cb = t.connect("127.0.0.1", pb, M)
    t.close_all(ch + cb + cs)
    t.wait_ss_count(N, "H's sockets in CLOSE_WAIT", state="close-wait", sport=ph)
    t.wait_ss_count(M, "B's unaccepted connections in CLOSE_WAIT", state="close-wait", sport=pb)
    t.wait_ss_count(K, "S's sockets in TIME_WAIT", state="time-wait", sport=ps)
    T1 = time.monotonic()
    if T1 - T0 > 1.0:
        print("note: the sockets took %.2f s to settle; the bounds are loose" % (T1 - T0))
    return h, b, s, ph, pb, ps, T0, T1


def main():
    h, b, s, ph, pb, ps, T0, T1 = t.retry_setup(build)

    time.sleep(SLEEP)
    rep = t.run_json()
    S0, S1 = rep.t0, rep.t1
    lo, hi = S0 - T1 - 0.1, S1 - T0
    print("window T0..T1 = %.3f s, scan S0..S1 = %.3f s, bounds [%.3f, %.3f]"
          % (T1 - T0, S1 - S0, lo, hi))

    e = rep.need_proc(h.pid)
    t.check_eq(e["close_wait"]["count"], N, "close_wait.count of H")
    t.check_age(e["close_wait"]["oldest_age_s"], lo, hi, "oldest_age_s of H (CLOSE_WAIT)")

    bl = rep.backlogs(pb)
    t.check_eq(len(bl), 1, "accept_backlog entries of B")
    t.check_eq(bl[0]["close_wait"], M, "accept_backlog close_wait of B")
    t.check("oldest_age_s" in bl[0], "accept_backlog entry has oldest_age_s", None, bl[0])
    t.check_age(bl[0]["oldest_age_s"], lo, hi, "oldest_age_s of B's accept backlog")

    tw = rep.time_wait_local(ps)
    t.check_eq(len(tw), 1, "time_wait groups of S")
    t.check_eq(tw[0]["count"], K, "time_wait count of S")
    t.check("oldest_age_s" in tw[0], "time_wait group has oldest_age_s", None, tw[0])
    t.check_age(tw[0]["oldest_age_s"], lo, hi + 0.1, "oldest_age_s of S's TIME_WAIT group")


if __name__ == "__main__":
    t.main(main)
