"""The daemon and another network namespace: one alert naming the namespace, the diag socket in
it released once the namespace is gone, and the alert resolved.

The test runs in mount, PID and network namespaces of its own (its network namespace is the
daemon's "host"), with a private journald and a tmpfs over /run/netns. Namespaces A and B joined
by a veth pair; the daemon runs with close_wait count = 3, hold = 1 s, interval 0.2 s.
  * A host process holds 2 CLOSE_WAIT sockets (below the threshold): no alert about it.
  * A server living in A accepts N = 5 connections from clients in B, which shut down their side:
    exactly one CLOSE_WAIT alert, CLOSEWAITD_NETNS = A's inode, OBJECT_PID = CLOSEWAITD_PID = the
    server's pid, CLOSEWAITD_COUNT = 5, CLOSEWAITD_OLDEST_AGE_S >= hold; every alert of the run
    is about that server (the host is quiet), and no "monitoring degraded" entry (entering A
    works).
  * A goes away: the daemon is stopped (SIGSTOP), the server killed, `ip netns del A`. Nothing
    but the daemon's diag socket keeps A now, and while the daemon is stopped A lives on: the
    veth end in B, which dies with A, is still there 2 s later (this shows the check below can
    fail). After SIGCONT the daemon finds no process and no name for A and closes its socket:
    A is destroyed, and with it the veth pair, within a few scans.
  * One resolved entry for the server's alert, with CLOSEWAITD_NETNS = A's inode; SIGTERM exits 0.
"""

import signal
import socket
import time

import cwtest as t
import daemontest as dt
import nstest as ns

N = 5
N_HOST = 2


def alerts(j):
    """Every alert entry of the run (close_wait, accept backlog, TIME_WAIT, fd pressure)."""
    out = []
    for mid in (dt.MID_CLOSE_WAIT, dt.MID_ACCEPT_BACKLOG, dt.MID_TIME_WAIT, dt.MID_FD_PRESSURE):
        out += j.entries("MESSAGE_ID=" + mid)
    return out


def main():
    j = dt.private_journal(net=True)
    ns.need_netns()
    ns.private_run_netns()
    own = ns.ns_ino()
    a, b = ns.Netns("A"), ns.Netns("B")
    veth = ns.veth(a, b)

    host = t.Holder(t.unique_comm("cwdnsH"))
    dt.leak(host, N_HOST)

    notify = dt.Notify()
    d = dt.Daemon(notify=notify)
    notify.wait(lambda l: l == "READY=1", "READY=1", timeout=30)

    srv = ns.holder_in(a, t.unique_comm("cwdnsA"))
    t_leak = time.monotonic()
    ns.close_wait_in(a, srv, N, client_ns=b)

    mine = "CLOSEWAITD_PID=%d" % srv.pid
    j.wait(lambda es: es, "the CLOSE_WAIT alert on the server in A", 30,
           "MESSAGE_ID=" + dt.MID_CLOSE_WAIT, mine)
    time.sleep(1.5)  # several more scans: still one entry (repeat = 0)
    es = j.entries("MESSAGE_ID=" + dt.MID_CLOSE_WAIT, mine)
    t.check_eq(len(es), 1, "number of CLOSE_WAIT alerts on the server in A")
    e = es[0]
    expect = {
        "CLOSEWAITD_KIND": "close_wait",
        "CLOSEWAITD_NETNS": str(a.ino),
        "CLOSEWAITD_PID": str(srv.pid),
        "OBJECT_PID": str(srv.pid),
        "CLOSEWAITD_COUNT": str(N),
    }
    for k, v in expect.items():
        t.check_eq(e.get(k), v, "field %s of the alert" % k)
    t.check_age(float(e.get("CLOSEWAITD_OLDEST_AGE_S", "-1")), 1.0,
                time.monotonic() - t_leak + 0.05, "CLOSEWAITD_OLDEST_AGE_S (at least hold = 1 s)")
    t.check(e.get("CLOSEWAITD_TOP_PEERS", "").startswith(ns.B_ADDR + ":"),
            "CLOSEWAITD_TOP_PEERS names the clients in B", ns.B_ADDR, e.get("CLOSEWAITD_TOP_PEERS"))
    others = [(x.get("MESSAGE_ID"), x.get("CLOSEWAITD_PID"), x.get("CLOSEWAITD_NETNS"),
               x.get("MESSAGE")) for x in alerts(j) if x.get("CLOSEWAITD_PID") != str(srv.pid)]
    t.check_eq(others, [], "alerts about anything but the server in A (the host is quiet; its "
               "process holds %d, below the threshold)" % N_HOST)
    t.check_eq([x.get("MESSAGE") for x in j.entries("MESSAGE_ID=" + dt.MID_DEGRADED)], [],
               "\"monitoring degraded\" entries (every namespace can be entered)")
    t.check(own != a.ino, "A is not the daemon's namespace")

    # A goes away while the daemon cannot scan: only its diag socket keeps A alive.
    t.check(veth.b_end_exists(), "the veth end in B exists while A does")
    d.signal(signal.SIGSTOP)
    try:
        srv.kill()
        a.delete()
        t.check(not a.exists(), "A's name is gone", None, a.path)
        time.sleep(2.0)
        t.check(veth.b_end_exists(), "A (and so the veth pair) still exists 2 s after its "
                "process and name are gone, while the stopped daemon holds a diag socket in it")
    finally:
        d.signal(signal.SIGCONT)
    t0 = time.monotonic()
    t.wait_for(lambda: not veth.b_end_exists(), "A to be destroyed (the veth end in B gone): "
               "the daemon must close its diag socket in A once no process and no name keep it",
               timeout=20)
    print("note: A destroyed %.2f s after the daemon was resumed" % (time.monotonic() - t0))

    j.wait(lambda es: es, "the resolved entry of the server's alert", 30,
           "MESSAGE_ID=" + dt.MID_RESOLVED, mine)
    time.sleep(1.0)
    res = j.entries("MESSAGE_ID=" + dt.MID_RESOLVED, mine)
    t.check_eq(len(res), 1, "number of resolved entries for the server in A")
    t.check_eq(res[0].get("CLOSEWAITD_KIND"), "close_wait", "CLOSEWAITD_KIND of the resolved entry")
    t.check_eq(res[0].get("CLOSEWAITD_NETNS"), str(a.ino), "CLOSEWAITD_NETNS of the resolved entry")
    t.check_eq(len(j.entries("MESSAGE_ID=" + dt.MID_CLOSE_WAIT, mine)), 1,
               "still exactly one alert on the server")

    d.check_alive()
    t.check_eq(d.stop(), 0, "exit status on SIGTERM")


if __name__ == "__main__":
    t.main(main)
