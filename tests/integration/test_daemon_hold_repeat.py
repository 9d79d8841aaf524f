"""hold and repeat, on a private journald.

Three processes under one daemon (count 3, hold 1 s, repeat 1 s):
  * a busy server that closes every connection 0.3 s after accepting it, under a client making
    ~50 connections a second: it holds many CLOSE_WAIT sockets at every instant (checked with
    ss), none older than hold, and must never be alerted;
  * a leak with a rule giving it hold = 2.5 s: its alert comes no earlier than 2.5 s after the
    sockets entered CLOSE_WAIT, with an oldest age of at least 2.5 s;
  * a leak with the default hold: raised once, then repeated about every second, each repeat
    carrying how long the alert has been raised.
"""

import socket
import threading
import time

import cwtest as t
import daemontest as dt


def churn(port, stop):
    # From 127.0.2.x, so that the hundreds of TIME_WAIT sockets this leaves behind do not share
    # 127.0.0.1's ephemeral ports with the tests that run next (loopback tw_reuse recycles them).
    i = 0
    while not stop.is_set():
        i += 1
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=2,
                                         source_address=("127.0.2.%d" % (1 + i % 250), 0))
            s.close()
        except OSError:
            pass
        time.sleep(0.02)


def main():
    j = dt.private_journal()
    busy = t.Holder(t.unique_comm("cwbusy"))
    slow = t.Holder(t.unique_comm("cwhold"))
    rep = t.Holder(t.unique_comm("cwrep"))
    rule = '{ comm = "%s"; close_wait = { hold = 2.5; }; }' % t.proc_comm(slow.pid).decode()
    notify = dt.Notify()
    d = dt.Daemon(dt.conf_text({"alert": {"repeat": "1.0"}}, rules=rule), notify=notify)
    notify.wait(lambda l: l == "READY=1", "READY=1", timeout=30)

    port = busy.call("busy_server", delay=0.3)
    stop = threading.Event()
    thr = threading.Thread(target=churn, args=(port, stop), daemon=True)
    thr.start()
    t.on_cleanup(stop.set)

    before_slow = time.time()
    dt.leak(slow, 4)
    before_rep = time.time()
    dt.leak(rep, 4)

    peak = 0
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:
        peak = max(peak, len(t.ss(state="close-wait", sport=port)))
        time.sleep(0.1)
    stop.set()
    thr.join()
    t.check(peak >= 3, "the busy server held at least `count` CLOSE_WAIT sockets at once "
            "(else this test proves nothing)", ">= 3", peak)

    mid = "MESSAGE_ID=" + dt.MID_CLOSE_WAIT
    busy_alerts = j.entries(mid, "CLOSEWAITD_PID=%d" % busy.pid)
    t.check_eq([e["MESSAGE"] for e in busy_alerts], [], "alerts about the busy server")

    slow_alerts = j.entries(mid, "CLOSEWAITD_PID=%d" % slow.pid)
    t.check(slow_alerts, "the slow-hold leak was alerted", None, slow_alerts)
    first = slow_alerts[0]
    when = int(first["__REALTIME_TIMESTAMP"]) / 1e6
    t.check(when >= before_slow + 2.5 - 0.05, "the alert waits for the rule's hold (2.5 s)",
            ">= %.2f" % (before_slow + 2.5), when)
    t.check(float(first["CLOSEWAITD_OLDEST_AGE_S"]) >= 2.5, "oldest age at the alert >= hold",
            ">= 2.5", first["CLOSEWAITD_OLDEST_AGE_S"])

    d.check_alive()
    rep_alerts = j.entries(mid, "CLOSEWAITD_PID=%d" % rep.pid)
    t.check(3 <= len(rep_alerts) <= 6, "raised once, then repeated every 1 s (about 4 s waited)",
            "3..6 entries", [e["MESSAGE"] for e in rep_alerts])
    first_t = int(rep_alerts[0]["__MONOTONIC_TIMESTAMP"])
    t.check(int(rep_alerts[0]["__REALTIME_TIMESTAMP"]) / 1e6 >= before_rep + 1.0 - 0.05,
            "the first alert waits for hold (1 s)", before_rep + 1.0,
            int(rep_alerts[0]["__REALTIME_TIMESTAMP"]) / 1e6)
    t.check("CLOSEWAITD_DURATION_S" not in rep_alerts[0], "the first alert has no duration", None,
            rep_alerts[0].get("CLOSEWAITD_DURATION_S"))
    prev = first_t
    for e in rep_alerts[1:]:
        ts = int(e["__MONOTONIC_TIMESTAMP"])
        t.check(ts - prev >= 950000, "repeats at least `repeat` apart", ">= 0.95 s",
                (ts - prev) / 1e6)
        dur = float(e["CLOSEWAITD_DURATION_S"])
        # The daemon's scan clock against journald's receive time: allow for a slow scan.
        t.check(abs(dur - (ts - first_t) / 1e6) <= 0.5, "a repeat says how long it has been raised",
                (ts - first_t) / 1e6, dur)
        prev = ts
    t.check_eq(d.stop(), 0, "exit status on SIGTERM")


if __name__ == "__main__":
    t.main(main)
