"""A process holding accepted CLOSE_WAIT sockets is reported exactly.

Holder A: 7 accepted sockets whose peers closed, EOF never read, soft RLIMIT_NOFILE lowered to 300.
Holder B: the same, but it read the EOF (recv() returned b'') and still did not close: unread 0.
Holder C: 15 sockets from 12 distinct peers (3 client ports connected to two of its listeners):
          peers is the top 10 by count, peers_distinct 12.
Checked: pid, comm, exe, uid, unit, count, unread, peers, fds.open, fds.limit, schema; totals
against ss when the host is stable.
"""

import socket

import cwtest as t

N = 7


def main():
    a = t.Holder(t.unique_comm("cwhA"))
    b = t.Holder(t.unique_comm("cwhB"))
    c = t.Holder(t.unique_comm("cwhC"))
    a.call("setrlimit_nofile", soft=300)

    pa, pb = a.listen(), b.listen()
    ca = t.connect("127.0.0.1", pa, N)
    cb = t.connect("127.0.0.1", pb, N)
    peers_a = a.call("accept", n=N)
    peers_b = b.call("accept", n=N)
    ends_a = sorted(t.sock_endpoint(s) for s in ca)
    ends_b = sorted(t.sock_endpoint(s) for s in cb)
    t.check_eq(sorted(t.endpoint(h, p) for h, p in peers_a), ends_a, "holder A accepted peers")

    # Holder C: 3 client ports each connected to both listeners, 9 more single connections.
    pc1, pc2 = c.listen(), c.listen()
    cc = []
    doubled, singles = [], []
    for _ in range(3):
        s1 = socket.socket()
        s1.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s1.bind(("127.0.0.1", 0))
        s1.connect(("127.0.0.1", pc1))
        s2 = socket.socket()
        s2.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s2.bind(s1.getsockname())
        s2.connect(("127.0.0.1", pc2))
        cc += [s1, s2]
        doubled.append(t.sock_endpoint(s1))
    singles_socks = t.connect("127.0.0.1", pc1, 9)
    cc += singles_socks
    singles = [t.sock_endpoint(s) for s in singles_socks]
    c.call("accept", n=12, index=0)
    c.call("accept", n=3, index=1)

    t.close_all(ca + cb + cc)
    t.wait_ss_count(N, "holder A's sockets in CLOSE_WAIT", state="close-wait", sport=pa)
    t.wait_ss_count(N, "holder B's sockets in CLOSE_WAIT", state="close-wait", sport=pb)
    t.wait_ss_count(12, "holder C's sockets in CLOSE_WAIT", state="close-wait", sport=pc1)
    t.wait_ss_count(3, "holder C's sockets in CLOSE_WAIT", state="close-wait", sport=pc2)
    got = b.call("read_eof")
    t.check_eq(got, [""] * N, "holder B's recv() results (EOF)")
    t.wait_for(lambda: all(l["recvq"] == 0 for l in t.ss(state="close-wait", sport=pb)),
               "Recv-Q 0 on holder B's sockets")
    t.check(all(l["recvq"] == 1 for l in t.ss(state="close-wait", sport=pa)),
            "holder A's sockets should show Recv-Q 1 (unread EOF)")

    rep = t.run_json_checked_totals()

    for h, ends, unread in ((a, ends_a, N), (b, ends_b, 0)):
        e = rep.need_proc(h.pid)
        t.check_owner(e, h.pid)
        cw = e["close_wait"]
        t.check_eq(cw["count"], N, "close_wait.count of pid %d" % h.pid)
        t.check_eq(cw.get("unread"), unread, "close_wait.unread of pid %d" % h.pid)
        t.check_eq(sorted(p["remote"] for p in cw["peers"]), ends,
                   "close_wait.peers of pid %d (the client endpoints)" % h.pid)
        t.check_eq([p["count"] for p in cw["peers"]], [1] * N,
                   "peer counts of pid %d" % h.pid)
        t.check_eq(cw.get("peers_distinct"), N, "close_wait.peers_distinct of pid %d" % h.pid)
        t.check(cw["oldest_age_s"] >= 0, "oldest_age_s >= 0")
        t.check_fds(e, h.pid)
    t.check_eq(rep.need_proc(a.pid)["fds"]["limit"], 300, "fds.limit of holder A (setrlimit)")

    e = rep.need_proc(c.pid)
    t.check_owner(e, c.pid)
    cw = e["close_wait"]
    t.check_eq(cw["count"], 15, "close_wait.count of holder C")
    t.check_eq(cw.get("unread"), 15, "close_wait.unread of holder C")
    t.check_eq(cw.get("peers_distinct"), 12, "close_wait.peers_distinct of holder C")
    t.check_eq(len(cw["peers"]), 10, "number of peers listed for holder C (top 10)")
    top = cw["peers"][:3]
    t.check_eq(sorted(p["remote"] for p in top), sorted(doubled),
               "holder C's three peers with 2 sockets come first")
    t.check_eq([p["count"] for p in top], [2, 2, 2], "holder C's top peer counts")
    rest = cw["peers"][3:]
    t.check(all(p["remote"] in singles and p["count"] == 1 for p in rest),
            "holder C's other listed peers are single connections", singles, rest)
    t.check_eq(len(set(p["remote"] for p in rest)), 7, "distinct single peers listed")
    t.check_fds(e, c.pid)

    own = N + N + 15
    tot = rep["totals"]
    t.check(tot["close_wait"] >= own, "totals.close_wait >= this test's %d sockets" % own,
            ">= %d" % own, tot["close_wait"])


if __name__ == "__main__":
    t.main(main)
