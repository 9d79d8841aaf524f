"""The sd_notify protocol of the daemon, with a notify socket of our own (no systemd needed).

READY=1 after the first complete scan, carrying STATUS=; STATUS= and WATCHDOG=1 after every scan;
on SIGHUP RELOADING=1 with MONOTONIC_USEC= (CLOCK_MONOTONIC now) and then READY=1; on SIGTERM
STOPPING=1 and exit 0.
"""

import re
import signal
import time

import cwtest as t
import daemontest as dt


def main():
    notify = dt.Notify()
    d = dt.Daemon(notify=notify, watchdog_usec=4000000, log_target="stderr")

    ready = notify.wait(lambda l: l == "READY=1", "READY=1", timeout=30)
    status = [l for l in ready if l.startswith("STATUS=")]
    t.check(status and "CLOSE_WAIT" in status[0], "READY=1 comes with the first scan's STATUS=",
            "STATUS=... CLOSE_WAIT ...", ready)
    t.check("WATCHDOG=1" in ready, "the first completed scan pings the watchdog", "WATCHDOG=1", ready)

    # Scans every 0.2 s: a STATUS= and a WATCHDOG=1 after each.
    n0 = len(notify.lines())
    time.sleep(2.0)
    lines = notify.lines()[n0:]
    pings = lines.count("WATCHDOG=1")
    statuses = [l for l in lines if l.startswith("STATUS=")]
    t.check(pings >= 4, "WATCHDOG=1 after every scan (interval 0.2 s, 2 s waited)", ">= 4", pings)
    t.check(len(statuses) >= 4, "STATUS= after every scan", ">= 4", len(statuses))
    t.check(re.search(r"scan [0-9.]+ ms, cpu [0-9.]+ ms, [0-9]+ /proc entries$", statuses[-1]) is not None,
            "STATUS= tells the scan's cost", "scan N ms, cpu N ms, N /proc entries", statuses[-1])
    t.check("READY=1" not in lines, "READY=1 only once before any reload", None, lines)

    # Reload: RELOADING=1 + MONOTONIC_USEC, then READY=1.
    before = time.clock_gettime(time.CLOCK_MONOTONIC)
    n0 = len(notify.snapshot())
    d.signal(signal.SIGHUP)
    notify.wait(lambda l: l == "READY=1", "READY=1 after the reload", timeout=20, since=n0)
    after = time.clock_gettime(time.CLOCK_MONOTONIC)
    msgs = [m for _, m in notify.snapshot()[n0:]]
    reload_i = [i for i, m in enumerate(msgs) if "RELOADING=1" in m]
    ready_i = [i for i, m in enumerate(msgs) if "READY=1" in m]
    t.check(reload_i and ready_i and reload_i[0] < ready_i[0], "RELOADING=1 before READY=1", None, msgs)
    mono = [l for l in msgs[reload_i[0]] if l.startswith("MONOTONIC_USEC=")]
    t.check(mono, "RELOADING=1 carries MONOTONIC_USEC=", None, msgs[reload_i[0]])
    usec = int(mono[0].split("=", 1)[1])
    t.check(before * 1e6 <= usec <= after * 1e6, "MONOTONIC_USEC is CLOCK_MONOTONIC at the reload",
            "[%d, %d]" % (before * 1e6, after * 1e6), usec)

    d.check_alive()
    t.check_eq(d.stop(), 0, "exit status on SIGTERM")
    t.check("STOPPING=1" in notify.lines(), "STOPPING=1 on SIGTERM", "STOPPING=1", notify.lines()[-5:])

    # SIGINT too (Ctrl-C in a terminal).
    notify2 = dt.Notify()
    d2 = dt.Daemon(notify=notify2, log_target="stderr")
    notify2.wait(lambda l: l == "READY=1", "READY=1 (second run)", timeout=30)
    d2.signal(signal.SIGINT)
    t.check_eq(d2.wait_exit(), 0, "exit status on SIGINT")
    t.check("STOPPING=1" in notify2.lines(), "STOPPING=1 on SIGINT", "STOPPING=1", notify2.lines()[-5:])


if __name__ == "__main__":
    t.main(main)
