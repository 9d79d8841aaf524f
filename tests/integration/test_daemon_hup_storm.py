"""A storm of SIGHUPs with the configuration file rewritten between them, valid and invalid mixed:
the daemon never dies, keeps scanning, reports the invalid files as PATH:LINE, and in the end runs
with the last valid file it read.

Holder A leaks 3 CLOSE_WAIT sockets, holder B 2. ~100 SIGHUPs in ~3 s, each after rewriting the
file: valid ones (close_wait.count = 100, intervals and rules varying), and broken ones of four
kinds (a syntax error, an unknown key, a value out of range, a wrong type), each of which also
sets close_wait.count = 2. During the storm scans go on (STATUS= and WATCHDOG=1 keep coming),
at least one PATH:LINE error is logged, and no alert is raised (count 100 is in force: a broken
file applied even in part would alert on B). Then a last valid file with count = 3 (told apart by
its one rule), and after it one broken file of each kind, each reported at its exact PATH:LINE:
A's alert comes (the last valid file is in force), B is never alerted (no broken one was), and
SIGTERM exits 0.
"""

import os
import re
import signal
import time

import cwtest as t
import daemontest as dt

STORM = 100
STORM_SECONDS = 3.0


def valid(i):
    """A valid file of the storm: count 100; 0 or 2 rules, never 1 (the final file has 1)."""
    rules = ""
    if i % 4 == 2:
        rules = ('  { comm = "cwnomatch-a%d"; close_wait = { count = 7; }; },\n'
                 '  { exe = "/nonexistent/%d"; ignore = true; }' % (i, i))
    return dt.conf_text({"interval": ("0.2", "0.25", "0.3")[i % 3],
                         "close_wait": {"count": "100"}}, rules=rules)


def broken(kind):
    """(text, line of the error) of a broken file of the given kind; each sets count = 2."""
    lines = dt.conf_text({"close_wait": {"count": "2"}}).splitlines()
    if kind == "syntax":
        lines.insert(5, "close_wait_typo = {{ ;")   # libconfig gives up on this line
        line = 6
    elif kind == "unknown":
        lines.insert(3, "bogus_key = 1;")
        line = 4
    else:
        i = next(i for i, l in enumerate(lines) if l.startswith("interval ="))
        lines[i] = "interval = 0.01;" if kind == "range" else 'interval = "fast";'
        line = i + 1
    return "\n".join(lines) + "\n", line


KINDS = ("syntax", "unknown", "range", "type")


def main():
    if os.geteuid() == 0:
        # PID and network namespaces of our own (as root): scans cost what the test's sockets
        # cost, not what the host holds at the time (slow under valgrind).
        dt.private_journal(start=False, net=True)
    a = t.Holder(t.unique_comm("cwstormA"))
    b = t.Holder(t.unique_comm("cwstormB"))
    dt.leak(a, 3)
    dt.leak(b, 2)
    notify = dt.Notify()
    d = dt.Daemon(valid(0), notify=notify, log_target="stderr")
    notify.wait(lambda l: l == "READY=1", "READY=1", timeout=30)
    name_a, name_b = "[%d]" % a.pid, "[%d]" % b.pid
    path_line = d.conf_path + ":"

    n0 = len(notify.lines())
    start = time.monotonic()
    for i in range(STORM):
        if i % 2 == 0:
            d.write_conf(valid(i))
        else:
            d.write_conf(broken(KINDS[(i // 2) % len(KINDS)])[0])
        d.signal(signal.SIGHUP)
        time.sleep(STORM_SECONDS / STORM)
        if i % 10 == 9:
            d.check_alive()
    storm = time.monotonic() - start
    during = notify.lines()[n0:]
    print("%d SIGHUPs in %.1f s; %d WATCHDOG=1 and %d STATUS= meanwhile"
          % (STORM, storm, during.count("WATCHDOG=1"),
             len([l for l in during if l.startswith("STATUS=")])))
    d.check_alive()
    t.check(during.count("WATCHDOG=1") >= 3, "scans go on during the storm (WATCHDOG=1)",
            ">= 3", during.count("WATCHDOG=1"))
    t.check(len([l for l in during if l.startswith("STATUS=")]) >= 3,
            "STATUS= goes on during the storm", ">= 3", during)
    t.check(path_line in d.err(), "at least one broken file reported as PATH:LINE", path_line,
            d.err()[-2000:])

    # The storm's last file was broken; give the daemon the time to read it and scan.
    t.wait_for(lambda: "keeping the running configuration" in d.err(), "a refused reload")
    time.sleep(1.0)
    d.check_alive()
    t.check(name_a not in d.err() and name_b not in d.err(), "no alert during the storm: count "
            "100 in force, no broken file applied", None, d.err()[-2000:])

    # The last valid file: count 3, one rule.
    d.write_conf(dt.conf_text({"close_wait": {"count": "3"}},
                              rules='  { comm = "cwnomatch-final"; ignore = true; }'))
    d.signal(signal.SIGHUP)
    final = re.compile(r"configuration reloaded from .*, 1 rule$", re.M)
    t.wait_for(lambda: final.search(d.err()), "the reload of the last valid file (\"1 rule\")",
               timeout=15)

    # After it, one broken file of each kind, each reported at its line.
    for kind in KINDS:
        text, line = broken(kind)
        want = "%s%d:" % (path_line, line)
        before = d.err().count(want)
        refused = d.err().count("keeping the running configuration")
        d.write_conf(text)
        d.signal(signal.SIGHUP)
        t.wait_for(lambda: d.err().count("keeping the running configuration") > refused,
                   "the %s error refused" % kind, timeout=15)
        t.check(d.err().count(want) > before, "the %s error reported as %s..." % (kind, want),
                want, d.err()[-1500:])

    t.wait_for(lambda: name_a in d.err(), "A's alert under the last valid file (count 3)",
               timeout=15)
    time.sleep(1.0)
    t.check(name_b not in d.err(), "B (2 sockets) never alerted: no broken file (count 2) was "
            "applied", None, d.err()[-2000:])
    n1 = len(notify.lines())
    t.wait_for(lambda: notify.lines()[n1:].count("WATCHDOG=1") >= 3, "3 more scans after the "
               "storm", timeout=10)
    d.check_alive()
    t.check_eq(d.stop(), 0, "exit status on SIGTERM")


if __name__ == "__main__":
    t.main(main)
