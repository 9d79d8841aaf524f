"""TIME_WAIT groups: server side (attributed to the listener) and client side (by remote).

Server side: holder S listens on 127.0.0.1:P, accepts K connections and closes them first; the
clients close after, so the K TIME_WAIT sockets sit on the server side, local port P.
-> one group local = "127.0.0.1:P", pid = S, count = K.
Same with holder W listening on 0.0.0.0:P2 -> local = "0.0.0.0:P2" (the listener's address).
Client side: holder C listens on Q and accepts K connections; the clients close first, C closes
after, so the TIME_WAIT sockets are the clients' -> one group remote = "127.0.0.1:Q", pid null.
"""

import cwtest as t

K = 4


def build():
    """Holders S, W, C and their TIME_WAIT sockets; returns (s, w, c, ps, pw, pc, client_ends)."""
    s = t.Holder(t.unique_comm("cwtwS"))
    w = t.Holder(t.unique_comm("cwtwW"))
    c = t.Holder(t.unique_comm("cwtwC"))
    ps = s.listen("127.0.0.1")
    pw = w.listen("0.0.0.0")
    pc = c.listen("127.0.0.1")

    # server side: the server closes first
    cs = t.connect("127.0.0.1", ps, K)
    cw = t.connect("127.0.0.1", pw, K)
    s.call("accept", n=K)
    w.call("accept", n=K)
    s.call("close_accepted")
    w.call("close_accepted")
    t.wait_ss_count(K, "clients of S in CLOSE_WAIT", state="close-wait", dport=ps)
    t.wait_ss_count(K, "clients of W in CLOSE_WAIT", state="close-wait", dport=pw)
    t.close_all(cs + cw)

    # client side: the clients close first
    cc = t.connect("127.0.0.1", pc, K)
    c.call("accept", n=K)
    client_ends = [t.sock_endpoint(x) for x in cc]
    t.close_all(cc)
    t.wait_ss_count(K, "C's accepted sockets in CLOSE_WAIT", state="close-wait", sport=pc)
    c.call("close_accepted")

    t.wait_ss_count(K, "server-side TIME_WAIT of S", state="time-wait", sport=ps)
    t.wait_ss_count(K, "server-side TIME_WAIT of W", state="time-wait", sport=pw)
    t.wait_ss_count(K, "client-side TIME_WAIT toward C", state="time-wait", dport=pc)
    t.wait_ss_count(0, "no TIME_WAIT on C's side", state="time-wait", sport=pc)
    return s, w, c, ps, pw, pc, client_ends


def main():
    s, w, c, ps, pw, pc, client_ends = t.retry_setup(build)

    rep = t.run_json_checked_totals()

    for h, port, local in ((s, ps, "127.0.0.1:%d" % ps), (w, pw, "0.0.0.0:%d" % pw)):
        groups = rep.time_wait_local(port)
        t.check_eq([g["local"] for g in groups], [local],
                   "server-side time_wait groups for listener port %d" % port)
        g = groups[0]
        t.check_eq(g["pid"], h.pid, "time_wait group %s: pid of the listener" % local)
        t.check_comm(g.get("comm"), h.pid, "time_wait group %s: comm" % local)
        t.check_eq(g["count"], K, "time_wait group %s: count" % local)
        t.check("remote" not in g, "server-side group %s has no remote" % local, None, g)
        t.check(0 <= g.get("oldest_age_s", -1) <= 60, "time_wait group %s: 0 <= oldest_age_s <= 60"
                % local, None, g.get("oldest_age_s"))
        t.check_eq([x for x in rep["time_wait"]
                    if x.get("remote") in ("127.0.0.1:%d" % port, "0.0.0.0:%d" % port)], [],
                   "client-side groups toward the server-side listener port %d" % port)

    remote = "127.0.0.1:%d" % pc
    groups = rep.time_wait_remote(remote)
    t.check_eq(len(groups), 1, "client-side time_wait groups with remote %s" % remote)
    g = groups[0]
    t.check_eq(g["pid"], None, "client-side group %s: pid" % remote)
    t.check_eq(g.get("comm"), None, "client-side group %s: comm" % remote)
    t.check_eq(g["count"], K, "client-side group %s: count" % remote)
    t.check("local" not in g, "client-side group %s has no local" % remote, None, g)
    t.check(0 <= g.get("oldest_age_s", -1) <= 60, "client-side group %s: 0 <= oldest_age_s <= 60"
            % remote, None, g.get("oldest_age_s"))
    t.check_eq(rep.time_wait_local(pc), [], "server-side groups for C's port %d" % pc)
    t.check_eq([x for x in rep["time_wait"] if x.get("remote") in client_ends], [],
               "groups whose remote is one of C's clients")
    t.check(rep["totals"]["time_wait"] >= 3 * K, "totals.time_wait >= own", 3 * K,
            rep["totals"]["time_wait"])


if __name__ == "__main__":
    t.main(main)
