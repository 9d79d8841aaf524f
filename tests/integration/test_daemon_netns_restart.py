"""A restart keeps the ages of sockets in other network namespaces: the state file keys them by
(namespace, cookie).

As test_daemon_restart.py, with the leak in namespace A (clients in B, veth pair): the server's
CLOSE_WAIT socket keeps sending data, so the peer's ACKs keep refreshing tcpi_last_ack_recv and a
fresh start would estimate the socket as young. The daemon (close_wait age 4 s) watches it for
~2.5 s and stops; its state file has the socket under A's inode. A restarted daemon with the same
runtime directory raises the age alert (CLOSEWAITD_NETNS = A) within ~1.5 s, when the socket is
4 s old by the first daemon's clock; a fresh estimate would need 4 s more.
The test runs in mount, PID and network namespaces of its own, a tmpfs over /run/netns.
"""

import os
import re
import time

import cwtest as t
import daemontest as dt
import nstest as ns


def main():
    j = dt.private_journal(net=True)
    ns.need_netns()
    ns.private_run_netns()
    a, b = ns.Netns("A"), ns.Netns("B")
    ns.veth(a, b)

    srv = ns.holder_in(a, t.unique_comm("cwdnrA"))
    conf = dt.conf_text({"close_wait": {"count": "100", "age": "4.0", "hold": "0.5"}})
    n1 = dt.Notify()
    d1 = dt.Daemon(conf, notify=n1)
    n1.wait(lambda l: l == "READY=1", "READY=1", timeout=30)

    leaked = time.time()
    ns.close_wait_in(a, srv, 1, client_ns=b)
    sender = dt.KeepSending(srv)
    time.sleep(2.5)
    t.check_eq(d1.stop(), 0, "exit status of the first daemon")
    with open(os.path.join(d1.state_dir, "state")) as f:
        content = f.read()
    t.check(re.search(r"^[0-9a-f]+ %d \d+$" % a.ino, content, re.M) is not None,
            "the state file has a socket under A's inode %d" % a.ino, None, content[:400])
    mine = "CLOSEWAITD_PID=%d" % srv.pid
    t.check_eq(j.entries("MESSAGE_ID=" + dt.MID_CLOSE_WAIT, mine), [], "no alert before 4 s")

    restarted = time.time()
    n2 = dt.Notify()
    d2 = dt.Daemon(conf, notify=n2, state_dir=d1.state_dir)
    es = j.wait(lambda es: es, "the age alert after the restart", 20,
                "MESSAGE_ID=" + dt.MID_CLOSE_WAIT, mine)
    sender.stop()
    e = es[0]
    t.check_eq(e.get("CLOSEWAITD_REASON"), "age", "CLOSEWAITD_REASON")
    t.check_eq(e.get("CLOSEWAITD_NETNS"), str(a.ino), "CLOSEWAITD_NETNS")
    when = int(e["__REALTIME_TIMESTAMP"]) / 1e6
    t.check(when >= leaked + 4.0 - 0.05, "the alert is not early", ">= %.2f" % (leaked + 4.0), when)
    t.check(when - restarted < 3.0, "the restarted daemon kept the age of the socket in A (alert "
            "soon after restart)", "< 3.0 s after the restart", when - restarted)
    t.check(float(e["CLOSEWAITD_OLDEST_AGE_S"]) >= 4.0, "the alert's age counts from before the "
            "restart", ">= 4.0", e["CLOSEWAITD_OLDEST_AGE_S"])
    t.check_eq(d2.stop(), 0, "exit status of the second daemon")


if __name__ == "__main__":
    t.main(main)
