"""SIGHUP: a broken configuration is refused with every PATH:LINE and the running one is kept;
a valid one takes effect. The daemon never dies on a reload.

Two CLOSE_WAIT sockets stay under the running threshold (3); a reload with two errors is refused
(both reported, scans go on); a valid reload with count = 2 makes the alert appear.
"""

import signal
import time

import cwtest as t
import daemontest as dt


def main():
    h = t.Holder(t.unique_comm("cwreload"))
    notify = dt.Notify()
    d = dt.Daemon(notify=notify, log_target="stderr")
    notify.wait(lambda l: l == "READY=1", "READY=1", timeout=30)
    dt.leak(h, 2)
    time.sleep(1.5)  # older than hold, but under the count
    t.check(("[%d]" % h.pid) not in d.err(), "no alert under the threshold", None, d.err()[-2000:])

    bad = dt.conf_text({"interval": "0.01"}) + "bogus_key = 1;\n"
    d.write_conf(bad)
    lines = bad.splitlines()
    interval_line = 1 + next(i for i, l in enumerate(lines) if l.startswith("interval"))
    bogus_line = 1 + next(i for i, l in enumerate(lines) if l.startswith("bogus_key"))
    n0 = len(notify.snapshot())
    d.signal(signal.SIGHUP)
    notify.wait(lambda l: l == "READY=1", "READY=1 after the refused reload", timeout=20, since=n0)
    for line in (interval_line, bogus_line):
        want = "%s:%d:" % (d.conf_path, line)
        t.wait_for(lambda: want in d.err(), "the reload error %s on stderr" % want, timeout=10)
    t.check("keeping the running configuration" in d.err(), "the refused reload says it keeps the "
            "running configuration", None, d.err()[-2000:])
    d.check_alive()
    # Scans go on at the old interval.
    n1 = len(notify.lines())
    time.sleep(1.0)
    t.check(notify.lines()[n1:].count("WATCHDOG=1") >= 2, "scans go on after a refused reload",
            ">= 2 scans in 1 s", notify.lines()[n1:])

    # A valid reload takes effect: count 2 makes the two sockets an alert.
    d.write_conf(dt.conf_text({"close_wait": {"count": "2"}}))
    d.signal(signal.SIGHUP)
    t.wait_for(lambda: "configuration reloaded" in d.err(), "the reload is logged", timeout=10)
    t.wait_for(lambda: ("[%d]" % h.pid) in d.err(), "the alert under the new threshold", timeout=15)

    # A storm of reloads, valid and broken alternating, faster than the scan interval: scans
    # (and so the watchdog pings) go on during the storm, not only after it.
    n1 = len(notify.lines())
    for i in range(14):
        d.write_conf(bad if i % 2 else dt.conf_text())
        d.signal(signal.SIGHUP)
        time.sleep(0.15)
    t.check(notify.lines()[n1:].count("WATCHDOG=1") >= 4, "scans go on during a storm of reloads",
            ">= 4 scans in 2.1 s", notify.lines()[n1:].count("WATCHDOG=1"))
    time.sleep(0.5)
    d.check_alive()
    n1 = len(notify.lines())
    time.sleep(1.0)
    t.check(notify.lines()[n1:].count("WATCHDOG=1") >= 2, "scans go on after a storm of reloads",
            ">= 2 scans in 1 s", notify.lines()[n1:])
    t.check_eq(d.stop(), 0, "exit status on SIGTERM")


if __name__ == "__main__":
    t.main(main)
