"""Accept backlog: connections that died in the accept queue of a listener that never accepts.

Listener A on 127.0.0.1: 5 clients connect and close.
Listener B on 0.0.0.0: 3 clients to 127.0.0.1 and 2 to 127.0.0.2 (one listener owns both).
Listener C on [::] dual-stack (if IPv6 is available): 3 clients to 127.0.0.1, 2 to ::1.
Each yields exactly one accept_backlog entry (local = the listener's address, pid = the listener's
process, close_wait = 5), and the listener's process is not in processes.
Listeners D on 127.0.0.3:P and E on 0.0.0.0:P (SO_REUSEPORT): 3 clients to 127.0.0.3, 2 to
127.0.0.1 -> D gets 3 (the exact address wins), E gets 2.
"""

import cwtest as t

M = 5


def main():
    cases = []  # (holder, port, expected local, client (host, count) list)
    a = t.Holder(t.unique_comm("cwblA"))
    pa = a.listen("127.0.0.1")
    cases.append((a, pa, "127.0.0.1:%d" % pa, [("127.0.0.1", M)]))
    b = t.Holder(t.unique_comm("cwblB"))
    pb = b.listen("0.0.0.0")
    cases.append((b, pb, "0.0.0.0:%d" % pb, [("127.0.0.1", 3), ("127.0.0.2", 2)]))
    if t.ipv6_available():
        c = t.Holder(t.unique_comm("cwblC"))
        pc = c.listen("::", v6only=False)
        cases.append((c, pc, "[::]:%d" % pc, [("127.0.0.1", 3), ("::1", 2)]))
    else:
        print("note: IPv6 unavailable, dual-stack variant not run")
    # D on 127.0.0.3:P and E on 0.0.0.0:P (SO_REUSEPORT): the exact address wins over the wildcard
    d = t.Holder(t.unique_comm("cwblD"))
    e = t.Holder(t.unique_comm("cwblE"))
    pd = d.listen("127.0.0.3", reuseport=True)
    e.listen("0.0.0.0", port=pd, reuseport=True)
    specific = [(d, "127.0.0.3:%d" % pd, 3), (e, "0.0.0.0:%d" % pd, 2)]

    clients = []
    for h, port, _, targets in cases:
        for host, n in targets:
            clients += t.connect(host, port, n)
    clients += t.connect("127.0.0.3", pd, 3) + t.connect("127.0.0.1", pd, 2)
    t.close_all(clients)
    t.wait_ss_count(5, "unaccepted connections in CLOSE_WAIT on port %d" % pd,
                    state="close-wait", sport=pd)
    for h, port, _, _ in cases:
        lines = t.wait_ss_count(M, "%d unaccepted connections in CLOSE_WAIT on port %d"
                                % (M, port), state="close-wait", sport=port)
        t.check(all(l["ino"] == 0 for l in lines), "unaccepted sockets have inode 0", None,
                [l["line"] for l in lines])

    rep = t.run_json_checked_totals()
    for h, port, local, _ in cases:
        t.check_eq(rep.proc(h.pid), None,
                   "processes entry of the never-accepting listener pid %d" % h.pid)
        bl = rep.backlogs(port)
        t.check_eq([x["local"] for x in bl], [local], "accept_backlog entries for port %d" % port)
        bl = bl[0]
        t.check_eq(bl["pid"], h.pid, "accept_backlog pid for %s" % local)
        t.check_comm(bl["comm"], h.pid, "accept_backlog comm for %s" % local)
        t.check_eq(bl["close_wait"], M, "accept_backlog close_wait for %s" % local)
        t.check("oldest_age_s" in bl and bl["oldest_age_s"] >= 0,
                "accept_backlog entry for %s has oldest_age_s >= 0" % local, None, bl)

    got = sorted((b["local"], b["pid"], b["close_wait"]) for b in rep.backlogs(pd))
    want = sorted((local, h.pid, n) for h, local, n in specific)
    t.check_eq(got, want, "accept_backlog entries (local, pid, close_wait) for port %d, with "
               "listeners on 127.0.0.3 and 0.0.0.0 (clients: 3 to 127.0.0.3, 2 to 127.0.0.1)" % pd)
    for h, _, _ in specific:
        t.check_eq(rep.proc(h.pid), None, "processes entry of listener pid %d" % h.pid)

    own = M * len(cases) + 5
    t.check(rep["totals"]["accept_backlog"] >= own, "totals.accept_backlog >= own", own,
            rep["totals"]["accept_backlog"])


if __name__ == "__main__":
    t.main(main)
