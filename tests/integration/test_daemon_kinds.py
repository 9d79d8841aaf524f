"""The other three alert kinds end to end, on a private journald: accept backlog, TIME_WAIT
pile-up (client side, grouped by destination) and fd pressure, each with its MESSAGE_ID, PRIORITY
and fields; the backlog and fd pressure alerts resolve once their cause is gone.

  * a listener that never accepts: 4 connections whose clients gave up die in its queue
    (accept_backlog.count = 3, hold 1 s);
  * 20 connections to a server, closed by the client first: 20 TIME_WAIT sockets towards the
    server's ip:port (time_wait.count = 15, over it for hold = 1 s);
  * a process with a soft RLIMIT_NOFILE of 64 that leaks 52 CLOSE_WAIT sockets: ~90% of its
    limit (fd_pressure.ratio = 0.8, hold 1 s; close_wait.count is set out of reach).
"""

import cwtest as t
import daemontest as dt

BACKLOG = 4
TW = 20
LEAK = 52
LIMIT = 64


def one(j, mid, what, *matches):
    es = j.wait(lambda es: es, what, 30, "MESSAGE_ID=" + mid, *matches)
    t.check_eq(len(es), 1, "number of %s entries" % what)
    return es[0]


def fields(e, expect, what):
    for k, v in expect.items():
        t.check_eq(e.get(k), v, "%s: field %s" % (what, k))


def main():
    j = dt.private_journal()

    bl = t.Holder(t.unique_comm("cwkbl"))
    pb = bl.listen()
    t.close_all(t.connect("127.0.0.1", pb, BACKLOG))
    t.wait_ss_count(BACKLOG, "unaccepted connections in CLOSE_WAIT", state="close-wait", sport=pb)

    def time_wait():
        srv = t.Holder(t.unique_comm("cwktw"))
        port = srv.listen()
        cs = t.connect("127.0.0.1", port, TW)
        srv.call("accept", n=TW)
        t.close_all(cs)
        srv.call("close_accepted")
        t.wait_ss_count(TW, "client-side TIME_WAIT towards the server", state="time-wait",
                        dport=port)
        return port

    pt = t.retry_setup(time_wait)

    fp = t.Holder(t.unique_comm("cwkfd"))
    fp.call("setrlimit_nofile", soft=LIMIT)
    dt.leak(fp, LEAK)

    conf = dt.conf_text({"close_wait": {"count": "1000"},
                         "time_wait": {"count": "15", "hold": "1.0"},
                         "fd_pressure": {"ratio": "0.8", "hold": "1.0"}})
    d = dt.Daemon(conf)

    e = one(j, dt.MID_ACCEPT_BACKLOG, "accept backlog alert", "CLOSEWAITD_PID=%d" % bl.pid)
    fields(e, {"PRIORITY": "4", "CLOSEWAITD_KIND": "accept_backlog", "CLOSEWAITD_REASON": "count",
               "CLOSEWAITD_LOCAL": "127.0.0.1:%d" % pb, "CLOSEWAITD_COUNT": str(BACKLOG),
               "CLOSEWAITD_THRESHOLD": "3", "OBJECT_PID": str(bl.pid),
               "CLOSEWAITD_COMM": t.escape(t.proc_comm(bl.pid))}, "accept backlog alert")
    t.check("127.0.0.1:%d" % pb in e["MESSAGE"], "the backlog MESSAGE names the listener", None,
            e["MESSAGE"])

    remote = "127.0.0.1:%d" % pt
    e = one(j, dt.MID_TIME_WAIT, "TIME_WAIT alert", "CLOSEWAITD_REMOTE=" + remote)
    fields(e, {"PRIORITY": "4", "CLOSEWAITD_KIND": "time_wait", "CLOSEWAITD_COUNT": str(TW),
               "CLOSEWAITD_THRESHOLD": "15"}, "TIME_WAIT alert")
    t.check("CLOSEWAITD_PID" not in e and "OBJECT_PID" not in e,
            "a client-side TIME_WAIT group has no process", None, e)
    t.check(remote in e["MESSAGE"], "the TIME_WAIT MESSAGE names the destination", remote,
            e["MESSAGE"])

    e = one(j, dt.MID_FD_PRESSURE, "fd pressure alert", "CLOSEWAITD_PID=%d" % fp.pid)
    fds = int(e["CLOSEWAITD_FDS"])
    fields(e, {"PRIORITY": "3", "CLOSEWAITD_KIND": "fd_pressure", "CLOSEWAITD_REASON": "ratio",
               "CLOSEWAITD_FD_LIMIT": str(LIMIT), "OBJECT_PID": str(fp.pid)}, "fd pressure alert")
    t.check(LEAK < fds <= LIMIT and fds >= 0.8 * LIMIT, "CLOSEWAITD_FDS: the leak and then some",
            "(%d, %d]" % (LEAK, LIMIT), fds)
    t.check_eq(float(e["CLOSEWAITD_THRESHOLD"]), 0.8, "fd pressure threshold")
    t.check("%d of %d open files" % (fds, LIMIT) in e["MESSAGE"],
            "the MESSAGE shows fds against the limit", "%d of %d open files" % (fds, LIMIT),
            e["MESSAGE"])
    t.check_eq(j.entries("MESSAGE_ID=" + dt.MID_CLOSE_WAIT, "CLOSEWAITD_PID=%d" % fp.pid), [],
               "no CLOSE_WAIT alert under a count out of reach")

    # Causes gone: the listener closes (its queue goes with it), the leaker closes its sockets.
    bl.call("close_listeners")
    fp.call("close_accepted")
    for kind, pid in (("accept_backlog", bl.pid), ("fd_pressure", fp.pid)):
        r = one(j, dt.MID_RESOLVED, "%s resolved" % kind, "CLOSEWAITD_KIND=" + kind,
                "CLOSEWAITD_PID=%d" % pid)
        t.check(float(r["CLOSEWAITD_DURATION_S"]) >= 0, "%s resolved has a duration" % kind, None, r)

    d.check_alive()
    t.check_eq(d.stop(), 0, "exit status on SIGTERM")


if __name__ == "__main__":
    t.main(main)
