"""CLOSE_WAIT sockets that no process holds an fd on: counted, attributed to nobody.

The holder accepts 3 connections, passes the sockets over a unix socketpair (SCM_RIGHTS) that
nobody reads, and closes its own fds; the peers close. The sockets keep their inode but are in
no /proc/PID/fd: the holder is not in processes, and totals.close_wait_unowned matches ss
(CLOSE_WAIT sockets with an inode and no users in `ss -p`), within the sockets present before
and after.
"""

import os

import cwtest as t

N = 3


def unowned_snapshot():
    return {(l["local"], l["peer"]) for l in t.ss(state="close-wait", extra=["-p"])
            if l["ino"] and "users:" not in l["line"]}


def main():
    h = t.Holder(t.unique_comm("cwinflt"))
    port = h.listen()
    clients = t.connect("127.0.0.1", port, N)
    h.call("accept", n=N)
    h.call("send_inflight")
    t.close_all(clients)
    lines = t.wait_ss_count(N, "the in-flight sockets in CLOSE_WAIT", state="close-wait",
                            sport=port, extra=["-p"])
    t.check(all(l["ino"] and "users:" not in l["line"] for l in lines),
            "ss shows the in-flight sockets with an inode and no user", None,
            [l["line"] for l in lines])

    problems = []
    for _ in range(5):
        before = unowned_snapshot()
        rep = t.run_json()
        after = unowned_snapshot()
        t.check_eq(rep.proc(h.pid), None, "processes entry of the holder (it holds no fd)")
        t.check(rep.backlogs(port) == [], "no accept_backlog for in-flight sockets", [],
                rep.backlogs(port))
        got = rep["totals"].get("close_wait_unowned")
        t.check(isinstance(got, int) and got >= N, "totals.close_wait_unowned >= %d" % N,
                ">= %d" % N, got)
        if os.geteuid() != 0:
            return  # ss -p and closewaitd see only our own processes' fds: bounds are moot
        lo, hi = len(before & after), len(before | after)
        if lo <= got <= hi:
            return
        problems.append("close_wait_unowned = %d, ss says [%d, %d]" % (got, lo, hi))
    raise t.Fail("totals.close_wait_unowned disagrees with ss in every attempt:\n  "
                 + "\n  ".join(problems))


if __name__ == "__main__":
    t.main(main)
