"""The daemon end to end: a process in a (fake) systemd unit leaks CLOSE_WAIT sockets.

With a private journald: exactly one alert with every field (repeat is off), visible through
`journalctl -u <the leaking unit>` (OBJECT_PID) and explained by `journalctl -x` (the catalog);
after the leak is fixed, exactly one resolved entry with its duration; SIGTERM exits 0.
"""

import time

import cwtest as t
import daemontest as dt

N = 5


def one(entries, what):
    t.check_eq(len(entries), 1, "number of %s entries" % what)
    return entries[0]


def main():
    j = dt.private_journal(catalog=True)
    h = t.Holder(t.unique_comm("cwleak"))
    unit = dt.fake_unit(h.pid)
    notify = dt.Notify()
    d = dt.Daemon(notify=notify)
    notify.wait(lambda l: l == "READY=1", "READY=1")

    t0 = time.time()
    dt.leak(h, N)
    mine = "CLOSEWAITD_PID=%d" % h.pid
    j.wait(lambda es: es, "the CLOSE_WAIT alert", 30, "MESSAGE_ID=" + dt.MID_CLOSE_WAIT, mine)
    time.sleep(1.5)  # several more scans: still one entry (repeat = 0)
    e = one(j.entries("MESSAGE_ID=" + dt.MID_CLOSE_WAIT, mine), "CLOSE_WAIT alert")

    fds = t.proc_fd_count(h.pid)
    expect = {
        "PRIORITY": "4",
        "SYSLOG_IDENTIFIER": "closewaitd",
        "CLOSEWAITD_KIND": "close_wait",
        "CLOSEWAITD_REASON": "count",
        "CLOSEWAITD_PID": str(h.pid),
        "CLOSEWAITD_COMM": t.escape(t.proc_comm(h.pid)),
        "CLOSEWAITD_EXE": t.proc_exe(h.pid),
        "CLOSEWAITD_UNIT": unit,
        "CLOSEWAITD_COUNT": str(N),
        "CLOSEWAITD_THRESHOLD": "3",
        "CLOSEWAITD_FDS": str(fds),
        "CLOSEWAITD_FD_LIMIT": str(t.proc_nofile_soft(h.pid)),
        "OBJECT_PID": str(h.pid),
        "OBJECT_SYSTEMD_UNIT": unit,  # added by journald: OBJECT_PID from uid 0 is trusted
    }
    for k, v in expect.items():
        t.check_eq(e.get(k), v, "field %s of the alert" % k)
    age = float(e["CLOSEWAITD_OLDEST_AGE_S"])
    t.check_age(age, 1.0, time.time() - t0 + 0.5, "CLOSEWAITD_OLDEST_AGE_S")
    peers = e["CLOSEWAITD_TOP_PEERS"].split()
    t.check_eq(len(peers), N, "CLOSEWAITD_TOP_PEERS has the %d distinct peers" % N)
    for p in peers:
        t.check(p.startswith("127.0.0.1:") and p.endswith("=1"), "a peer in TOP_PEERS", None, p)
    msg = e["MESSAGE"]
    for part in (str(h.pid), unit, str(N), "%d/" % fds):
        t.check(part in msg, "MESSAGE names %r" % part, part, msg)
    t.check(all(ord(c) >= 0x20 for c in msg), "MESSAGE has no control characters", None, msg)

    # Beside the service's own logs, and explained.
    out = j.text("-u", unit, "-o", "cat")
    t.check(msg in out, "`journalctl -u %s` shows the alert" % unit, msg, out[-2000:])
    out = j.text("-x", "MESSAGE_ID=" + dt.MID_CLOSE_WAIT)
    t.check("ss -tanp" in out, "`journalctl -x` shows the catalog explanation", "ss -tanp",
            out[-3000:])

    # The fix: the process closes its sockets. One resolved entry, with how long it lasted.
    raised = time.time()
    h.call("close_accepted")
    res = j.wait(lambda es: es, "the resolved entry", 30, "MESSAGE_ID=" + dt.MID_RESOLVED, mine)
    time.sleep(1.0)
    res = one(j.entries("MESSAGE_ID=" + dt.MID_RESOLVED, mine), "resolved")
    t.check_eq(res.get("CLOSEWAITD_KIND"), "close_wait", "CLOSEWAITD_KIND of the resolved entry")
    t.check_eq(res.get("PRIORITY"), "5", "PRIORITY of the resolved entry")
    dur = float(res["CLOSEWAITD_DURATION_S"])
    t.check_age(dur, 0.0, time.time() - t0, "CLOSEWAITD_DURATION_S")
    t.check(dur >= (raised - t0) - 2.0 - 0.5, "duration covers the time the alert was raised",
            ">= %.1f" % (raised - t0 - 2.5), dur)
    t.check_eq(len(j.entries("MESSAGE_ID=" + dt.MID_CLOSE_WAIT, mine)), 1,
               "still exactly one alert after the fix")
    out = j.text("-u", unit, "-o", "cat")
    t.check(res["MESSAGE"] in out, "`journalctl -u %s` shows the resolved entry too" % unit,
            res["MESSAGE"], out[-2000:])

    d.check_alive()
    t.check_eq(d.stop(), 0, "exit status on SIGTERM")
    t.check("STOPPING=1" in notify.lines(), "STOPPING=1 sent", "STOPPING=1", notify.lines()[-5:])


if __name__ == "__main__":
    t.main(main, timeout=110)
