"""CLOSE_WAIT sockets shared after fork(): each holder is listed with the full count, the totals
count every socket once (checked against ss).

The holder accepts N connections, closes its listener, then forks; parent and child keep every fd.
"""

import cwtest as t

N = 4


def main():
    h = t.Holder(t.unique_comm("cwfork"))
    port = h.listen()
    clients = t.connect("127.0.0.1", port, N)
    h.call("accept", n=N)
    h.call("close_listeners")
    kid = h.call("fork")
    ends = sorted(t.sock_endpoint(s) for s in clients)
    t.close_all(clients)
    t.wait_ss_count(N, "the shared sockets in CLOSE_WAIT", state="close-wait", sport=port)

    rep = t.run_json_checked_totals()
    for pid in (h.pid, kid):
        e = rep.need_proc(pid)
        t.check_owner(e, pid)
        cw = e["close_wait"]
        t.check_eq(cw["count"], N, "close_wait.count of pid %d (shared after fork)" % pid)
        t.check_eq(sorted(p["remote"] for p in cw["peers"]), ends, "peers of pid %d" % pid)
        t.check_eq(cw.get("unread"), N, "unread of pid %d" % pid)
        t.check_fds(e, pid)

    tot = rep["totals"]
    t.check(tot["close_wait"] >= N, "totals.close_wait >= %d" % N, ">= %d" % N,
            tot["close_wait"])
    # run_json_checked_totals() compared totals.close_wait with ss: the shared sockets count once.


if __name__ == "__main__":
    t.main(main)
