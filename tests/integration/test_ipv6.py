"""IPv6: CLOSE_WAIT sockets and an accept backlog on [::1], addresses printed as [::1]:port.

Holder A accepts 5 connections on [::1] whose peers then close (never read).
Holder B listens on [::1] and never accepts; 3 clients connect and close.
"""

import cwtest as t

N = 5
M = 3


def main():
    if not t.ipv6_available():
        raise t.Skip("::1 is not available (IPv6 disabled?)")
    a = t.Holder(t.unique_comm("cw6A"))
    b = t.Holder(t.unique_comm("cw6B"))
    pa = a.listen("::1")
    pb = b.listen("::1")

    ca = t.connect("::1", pa, N)
    a.call("accept", n=N)
    cb = t.connect("::1", pb, M)
    ends = sorted(t.sock_endpoint(s) for s in ca)
    t.check(all(e.startswith("[::1]:") for e in ends), "client endpoints are [::1]", None, ends)
    t.close_all(ca + cb)
    t.wait_ss_count(N, "holder A's IPv6 sockets in CLOSE_WAIT", state="close-wait", sport=pa)
    t.wait_ss_count(M, "holder B's IPv6 backlog in CLOSE_WAIT", state="close-wait", sport=pb)

    rep = t.run_json()
    e = rep.need_proc(a.pid)
    t.check_owner(e, a.pid)
    cw = e["close_wait"]
    t.check_eq(cw["count"], N, "close_wait.count of the IPv6 holder")
    t.check_eq(cw.get("unread"), N, "close_wait.unread of the IPv6 holder")
    t.check_eq(sorted(p["remote"] for p in cw["peers"]), ends,
               "peers of the IPv6 holder, as [::1]:port")
    t.check_eq(cw.get("peers_distinct"), N, "peers_distinct of the IPv6 holder")
    t.check_fds(e, a.pid)

    t.check_eq(rep.proc(b.pid), None, "the never-accepting IPv6 listener's processes entry")
    bl = rep.backlogs(pb)
    t.check_eq(len(bl), 1, "accept_backlog entries for port %d" % pb)
    bl = bl[0]
    t.check_eq(bl["local"], "[::1]:%d" % pb, "accept_backlog local of the IPv6 listener")
    t.check_eq(bl["pid"], b.pid, "accept_backlog pid")
    t.check_comm(bl["comm"], b.pid, "accept_backlog comm")
    t.check_eq(bl["close_wait"], M, "accept_backlog close_wait")
    t.check(rep.backlogs(pa) == [], "no accept_backlog entry for holder A's port", [],
            rep.backlogs(pa))


if __name__ == "__main__":
    t.main(main)
