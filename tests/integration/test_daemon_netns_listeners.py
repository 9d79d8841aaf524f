"""The daemon: one address listening in two network namespaces is two listeners, with an alert
each, raised and resolved on its own.

The test runs in mount, PID and network namespaces of its own (its network namespace is the
daemon's "host"), with a private journald and a tmpfs over /run/netns; namespaces A and B joined
by a veth pair. accept_backlog.count = 3, time_wait.count = 3, hold 1 s, interval 0.2 s.
  * 0.0.0.0:P listens in the host and in A, neither accepting: 3 connections die in the host's
    queue (clients on loopback), 4 in A's (clients in B). Exactly two accept backlog alerts:
    CLOSEWAITD_LOCAL 0.0.0.0:P both, CLOSEWAITD_NETNS, CLOSEWAITD_PID and CLOSEWAITD_COUNT each
    its own (host 3, A 4).
  * 0.0.0.0:Q listens in the host and in A, the servers closing first: 3 server-side TIME_WAIT
    sockets in the host, 4 in A. Exactly two TIME_WAIT alerts, likewise.
  * A's backlog listener exits (its queue goes with it): one resolved accept_backlog entry, with
    A's namespace; the host's alert stays raised (no resolved entry for it over 1.5 s more).
"""

import time

import cwtest as t
import daemontest as dt
import nstest as ns

BL_HOST, BL_A = 3, 4
TW_HOST, TW_A = 3, 4
CONF = {"time_wait": {"count": "3", "hold": "1.0"}}


def alerts(j, mid, what, n):
    """Wait for n entries with MESSAGE_ID mid; after 1 s more, exactly n."""
    j.wait(lambda es: len(es) >= n, what, 30, "MESSAGE_ID=" + mid)
    time.sleep(1.0)
    es = j.entries("MESSAGE_ID=" + mid)
    t.check_eq(len(es), n, "number of %s" % what)
    return es


def key(e, count_field="CLOSEWAITD_COUNT"):
    return (e.get("CLOSEWAITD_NETNS"), e.get("CLOSEWAITD_LOCAL"), e.get("CLOSEWAITD_PID"),
            e.get(count_field))


def main():
    j = dt.private_journal(net=True)
    ns.need_netns()
    ns.private_run_netns()
    own = ns.ns_ino()
    a, b = ns.Netns("A"), ns.Netns("B")
    ns.veth(a, b)

    notify = dt.Notify()
    d = dt.Daemon(conf=dt.conf_text(CONF), notify=notify)
    notify.wait(lambda l: l == "READY=1", "READY=1", timeout=30)

    # The accept backlogs.
    hb = t.Holder(t.unique_comm("cwdlBh"))
    p = hb.listen("0.0.0.0")
    ab = ns.holder_in(a, t.unique_comm("cwdlBa"))
    ab.call("listen", host="0.0.0.0", port=p)
    ns.dead_in_queue(p, BL_HOST)
    ns.dead_in_queue(p, BL_A, server_ns=a, client_ns=b, connect_to=ns.A_ADDR)

    # The TIME_WAIT groups.
    hs = t.Holder(t.unique_comm("cwdlTh"))
    q = hs.listen("0.0.0.0")
    as_ = ns.holder_in(a, t.unique_comm("cwdlTa"))
    as_.call("listen", host="0.0.0.0", port=q)
    ns.server_time_wait(hs, q, TW_HOST)
    ns.server_time_wait(as_, q, TW_A, server_ns=a, client_ns=b, connect_to=ns.A_ADDR)

    es = alerts(j, dt.MID_ACCEPT_BACKLOG, "accept backlog alerts", 2)
    want = sorted([(str(own), "0.0.0.0:%d" % p, str(hb.pid), str(BL_HOST)),
                   (str(a.ino), "0.0.0.0:%d" % p, str(ab.pid), str(BL_A))])
    t.check_eq(sorted(key(e) for e in es), want, "accept backlog alerts (NETNS, LOCAL, PID, "
               "COUNT): 0.0.0.0:%d in the host and in A" % p)
    es = alerts(j, dt.MID_TIME_WAIT, "TIME_WAIT alerts", 2)
    want = sorted([(str(own), "0.0.0.0:%d" % q, str(hs.pid), str(TW_HOST)),
                   (str(a.ino), "0.0.0.0:%d" % q, str(as_.pid), str(TW_A))])
    t.check_eq(sorted(key(e) for e in es), want, "TIME_WAIT alerts (NETNS, LOCAL, PID, COUNT): "
               "0.0.0.0:%d in the host and in A" % q)

    # A's backlog listener goes, the host's stays.
    ab.kill()
    with a.entered():
        t.wait_ss_count(0, "A's unaccepted connections gone with their listener",
                        state="close-wait", sport=p)
    res = j.wait(lambda es: es, "the resolved entry of A's backlog alert", 30,
                 "MESSAGE_ID=" + dt.MID_RESOLVED, "CLOSEWAITD_KIND=accept_backlog")
    time.sleep(1.5)
    res = j.entries("MESSAGE_ID=" + dt.MID_RESOLVED, "CLOSEWAITD_KIND=accept_backlog")
    t.check_eq([(e.get("CLOSEWAITD_NETNS"), e.get("CLOSEWAITD_LOCAL")) for e in res],
               [(str(a.ino), "0.0.0.0:%d" % p)],
               "resolved accept backlog entries (NETNS, LOCAL): A's only, the host's still raised")
    t.check_eq(len(j.entries("MESSAGE_ID=" + dt.MID_ACCEPT_BACKLOG)), 2,
               "still two accept backlog alerts")

    d.check_alive()
    t.check_eq(d.stop(), 0, "exit status on SIGTERM")


if __name__ == "__main__":
    t.main(main)
