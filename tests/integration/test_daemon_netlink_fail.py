"""The socket dump failing: one "monitoring degraded" entry, retries with exponential backoff on a
fresh netlink socket, one "monitoring recovered" entry, and alerts again once it works.

faultnl.so is preloaded into the daemon (interval 0.2 s, WatchdogSec 4 s): while the test's fault
file exists, socket(AF_NETLINK) and every netlink send/receive fail with the errno in the file.
With the fault on (ENOBUFS), after a normal start:
  * exactly one journal entry MESSAGE_ID=fb00b5d9... PRIORITY=4 whose MESSAGE starts with
    "monitoring degraded" and names the error, however long it fails;
  * one STATUS= per failed attempt, "monitoring degraded: ... retrying in N s", N going
    0.2, 0.4, 0.8, 1.6 (doubling from the interval) up to 2.0 (half the watchdog period) and
    staying there; the attempts really are that far apart;
  * the daemon holds no netlink socket while it fails (the old one was closed).
With the fault off: exactly one entry starting "monitoring recovered" (PRIORITY=5), STATUS= the
normal summary again with WATCHDOG=1, a new netlink socket (not the old one), and a CLOSE_WAIT
leak made afterwards is alerted. A second outage (EIO) is reported again, with the backoff
starting over from the interval, and recovers again; SIGTERM exits 0.
"""

import errno
import os
import re

import cwtest as t
import daemontest as dt

INTERVAL = 0.2
WATCHDOG_S = 4.0
CAP = min(60.0, WATCHDOG_S / 2)

RETRY = re.compile(r"retrying in ([0-9]+(?:\.[0-9]+)?) ?s\b")


def degraded_statuses(notify, since):
    """[(arrival time, delay N, line)] of the STATUS=monitoring degraded lines from message since."""
    out = []
    for when, lines in notify.snapshot()[since:]:
        for l in lines:
            if l.startswith("STATUS=") and "monitoring degraded" in l:
                m = RETRY.search(l)
                t.check(m is not None, "a degraded STATUS= says when it retries "
                        "(\"retrying in N s\")", "retrying in N s", l)
                out.append((when, float(m.group(1)), m.group(1), l))
    return out


def close_enough(shown, want):
    """The delay as printed (with its own precision) is want, rounded."""
    decimals = len(shown.split(".")[1]) if "." in shown else 0
    return abs(float(shown) - want) <= 0.5 * 10 ** -decimals + 1e-6


def check_backoff(seq, what):
    """seq: degraded statuses of one outage. The delays go interval, 2x, 4x ... up to CAP."""
    delays = [d for _, d, _, _ in seq]
    want = []
    d = INTERVAL
    for _ in seq:
        want.append(d)
        d = min(2 * d, CAP)
    ok = all(close_enough(shown, w) for (_, _, shown, _), w in zip(seq, want))
    t.check(ok, "%s: the retry delays double from the interval up to half the watchdog period"
            % what, want, [s for _, _, s, _ in seq])
    # The attempts are as far apart as announced: each failed attempt's STATUS comes the
    # announced delay after the one before (never sooner; later by at most a slow attempt).
    for (t0, d0, _, _), (t1, _, _, _) in zip(seq, seq[1:]):
        gap = t1 - t0
        t.check(gap >= d0 * 0.9 - 0.02, "%s: an attempt came sooner than announced" % what,
                ">= %.2f s" % d0, "%.3f s" % gap)
        t.check(gap <= d0 + 2.0, "%s: an attempt came much later than announced" % what,
                "<= %.2f s" % (d0 + 2.0), "%.3f s" % gap)
    return delays


def messages(entries, prefix):
    return [e for e in entries if e.get("MESSAGE", "").startswith(prefix)]


def outage(j, notify, d, fault, err, n_before):
    """Turn the fault on with err, watch the backoff, turn it off, watch the recovery.
    n_before: degraded/recovered entries so far (each outage adds exactly one of each)."""
    since = len(notify.snapshot())
    fault.on(err)
    what = "outage with %s" % errno.errorcode.get(err or errno.EIO)
    es = j.wait(lambda es: len(es) > n_before, what + ": the degraded entry", 20,
                "MESSAGE_ID=" + dt.MID_DEGRADED)
    # Enough failed attempts to see the delay reach the cap and stay there.
    ramp = 1
    delay = INTERVAL
    while delay < CAP:
        delay = min(2 * delay, CAP)
        ramp += 1
    t.wait_for(lambda: len(degraded_statuses(notify, since)) >= ramp + 1,
               "%s: %d failed attempts (STATUS=monitoring degraded ...)" % (what, ramp + 1),
               timeout=2 * sum(min(INTERVAL * 2 ** i, CAP) for i in range(ramp + 1)) + 10)
    d.check_alive()
    seq = degraded_statuses(notify, since)
    delays = check_backoff(seq, what)
    print("%s: retry delays %s; attempts apart %s" % (
        what, " ".join(s for _, _, s, _ in seq),
        " ".join("%.3f" % (b[0] - a[0]) for a, b in zip(seq, seq[1:]))))
    t.check_eq(dt.netlink_fds(d.proc.pid), [],
               "%s: the daemon holds no netlink socket while the dump fails" % what)

    es = j.entries("MESSAGE_ID=" + dt.MID_DEGRADED)
    t.check_eq(len(es), n_before + 1, "%s: exactly one degraded entry for the outage (%s)"
               % (what, [e.get("MESSAGE") for e in es]))
    e = es[-1]
    t.check(e.get("MESSAGE", "").startswith("monitoring degraded"),
            "%s: MESSAGE starts with \"monitoring degraded\"" % what, None, e.get("MESSAGE"))
    t.check(os.strerror(err or errno.EIO) in e.get("MESSAGE", ""),
            "%s: the degraded entry names the error" % what, os.strerror(err or errno.EIO),
            e.get("MESSAGE"))
    t.check_eq(e.get("PRIORITY"), "4", "%s: PRIORITY of the degraded entry" % what)
    t.check_eq(e.get("SYSLOG_IDENTIFIER"), "closewaitd", "SYSLOG_IDENTIFIER")

    n_msgs = len(notify.snapshot())
    fault.off()
    rec = j.wait(lambda es: len(messages(es, "monitoring recovered")) > n_before,
                 what + ": the recovered entry", CAP + 15, "SYSLOG_IDENTIFIER=closewaitd")
    r = messages(rec, "monitoring recovered")[-1]
    t.check_eq(r.get("PRIORITY"), "5", "%s: PRIORITY of the recovered entry" % what)
    # STATUS= is the normal summary again, with the watchdog ping of a completed scan.
    lines = notify.wait(lambda l: l.startswith("STATUS=") and "degraded" not in l,
                        what + ": a normal STATUS= after the recovery", timeout=15, since=n_msgs)
    t.check("WATCHDOG=1" in lines, "%s: WATCHDOG=1 with the first normal STATUS=" % what, None,
            lines)
    socks = dt.netlink_fds(d.proc.pid)
    t.check_eq(len(socks), 1, "%s: one netlink socket again after the recovery" % what)
    return delays, socks[0]


def main():
    j = dt.private_journal(net=True)
    fault = dt.FaultNetlink()
    notify = dt.Notify()
    mine_conf = dt.conf_text({"interval": str(INTERVAL)})
    d = dt.Daemon(mine_conf, notify=notify, watchdog_usec=int(WATCHDOG_S * 1e6),
                  log_target="journal", env=fault.env())
    notify.wait(lambda l: l == "READY=1", "READY=1", timeout=30)
    first = dt.netlink_fds(d.proc.pid)
    t.check_eq(len(first), 1, "the daemon holds one netlink socket when it works")
    t.check_eq(j.entries("MESSAGE_ID=" + dt.MID_DEGRADED), [], "no degraded entry before the fault")

    _, sock1 = outage(j, notify, d, fault, errno.ENOBUFS, 0)
    t.check(sock1 != first[0], "the netlink socket after the recovery is a new one",
            "not inode %d" % first[0], sock1)

    # Alerts work again: a leak made after the recovery is alerted.
    h = t.Holder(t.unique_comm("cwnlfail"))
    dt.leak(h, 3)
    mine = "CLOSEWAITD_PID=%d" % h.pid
    j.wait(lambda es: es, "the alert of a leak made after the recovery", 20,
           "MESSAGE_ID=" + dt.MID_CLOSE_WAIT, mine)

    # A second outage is reported again, and its backoff starts over from the interval.
    _, sock2 = outage(j, notify, d, fault, None, 1)
    t.check(sock2 != sock1, "the netlink socket after the second recovery is a new one",
            "not inode %d" % sock1, sock2)

    es = j.entries("SYSLOG_IDENTIFIER=closewaitd")
    t.check_eq(len([e for e in es if e.get("MESSAGE_ID") == dt.MID_DEGRADED]), 2,
               "degraded entries over the whole run (one per outage)")
    t.check_eq(len(messages(es, "monitoring recovered")), 2,
               "recovered entries over the whole run (one per outage)")
    d.check_alive()
    t.check_eq(d.stop(), 0, "exit status on SIGTERM")


if __name__ == "__main__":
    t.main(main)
