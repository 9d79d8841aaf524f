"""A holder of another user: it creates its sockets as root, then setuid(65534).
Reported with uid 65534 and the exact count (root closewaitd reads other users' fds). Root only.
"""

import cwtest as t

N = 3
UID = 65534


def main():
    t.need_root()
    h = t.Holder(t.unique_comm("cwnobody"))
    port = h.listen()
    clients = t.connect("127.0.0.1", port, N)
    h.call("accept", n=N)
    t.check_eq(h.call("setuid", uid=UID), [UID, UID], "holder's uid after setuid")
    ends = sorted(t.sock_endpoint(s) for s in clients)
    t.close_all(clients)
    t.wait_ss_count(N, "the holder's sockets in CLOSE_WAIT", state="close-wait", sport=port)

    rep = t.run_json()
    e = rep.need_proc(h.pid)
    t.check_eq(e["uid"], UID, "uid of pid %d" % h.pid)
    t.check_owner(e, h.pid)
    t.check_eq(e["close_wait"]["count"], N, "close_wait.count of the uid %d holder" % UID)
    t.check_eq(sorted(p["remote"] for p in e["close_wait"]["peers"]), ends, "peers")
    t.check_fds(e, h.pid)


if __name__ == "__main__":
    t.main(main)
