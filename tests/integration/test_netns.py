"""Sockets of other network namespaces: found, attributed, and told apart from the host's.

Namespaces A, B and C (ip netns add), a veth pair joining A (10.231.0.1) and B (10.231.0.2).
  * A server living in A accepts N connections from clients made in B, which then shut down their
    side: N CLOSE_WAIT sockets in A whose peers are in another namespace. `ss` in the host sees
    none of them; --once --json lists the server with count N, "netns" its namespace's inode (as
    `stat -L -c %i /proc/PID/ns/net` prints), and an age from the sockets' tcp_info (asked of
    A's own diag socket): at least the 1 s they have been in CLOSE_WAIT, at most the truth.
  * At the same time a host process leaks M: its own entry, "netns" the host's (scan.netns_own).
  * The same address 0.0.0.0:P listens in the host and in A, each with connections that died in
    its accept queue (2 in the host, 4 in A): two accept_backlog entries, one per namespace, each
    with its own listener's pid and count. Likewise 0.0.0.0:Q in both with server-side TIME_WAIT
    (2 and 3): two time_wait groups.
  * C has no process in it, only its name: a process of the host that made its sockets while
    inside C (setns there and back) holds L CLOSE_WAIT sockets that exist only in C. They are
    found (through /run/netns), counted for that process, whose own "netns" is the host's, and
    dated from their tcp_info too.
  * The table: the NETNS column shows A's inode for the server and the A listener, "host" for
    the host's; the last line says how many network namespaces were watched (at least 4).
  * netns = false (only when --check-config accepts the key): A's and C's sockets are not seen.
"""

import os
import re
import shutil
import signal
import socket
import tempfile
import time

import cwtest as t
import daemontest as dt
import nstest as ns

N, M, L = 5, 3, 4
BL_HOST, BL_A = 2, 4
TW_HOST, TW_A = 2, 3
AGE = 1.0     # s: the age A's sockets have at least when scanned
SLACK = 0.05  # s: tcp_info stamps are jiffies, the report rounds to ms

CONTAINER_CGROUP = re.compile(r"docker|containerd|crio|libpod|kubepods")


def in_container_cgroup(pid):
    with open("/proc/%d/cgroup" % pid) as f:
        return CONTAINER_CGROUP.search(f.read()) is not None


def check_where(e, pid, netns, what):
    """netns, container and pod of a processes entry (or accept_backlog / time_wait entry)."""
    t.check_eq(e.get("netns"), netns, "%s: netns" % what)
    for k in ("container", "pod"):
        t.check(k in e, "%s has a %r key" % (what, k), None, sorted(e))
        if not in_container_cgroup(pid):
            t.check_eq(e[k], None, "%s: %s (pid %d is in no container's cgroup)" % (what, k, pid))


def procs_in(ino):
    """Pids whose network namespace is ino."""
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if ns.ns_ino(name) == ino:
                    out.append(int(name))
            except OSError:
                pass
    return out


def leak_made_in(c, n, comm):
    """A process of the host holding n CLOSE_WAIT sockets made in namespace c (it enters c,
    builds them on c's loopback, and comes back). Returns (pid, port)."""
    r, w = os.pipe()

    def run():
        t._close_fds_except({0, 1, 2, w})
        with c.entered():
            lst = socket.socket()
            lst.bind(("127.0.0.1", 0))
            lst.listen(16)
            port = lst.getsockname()[1]
            clients = t.connect("127.0.0.1", port, n)
            accepted = [lst.accept()[0] for _ in range(n)]
            for x in clients:
                x.shutdown(socket.SHUT_WR)
        t.check_eq(ns.ns_ino(), ns.ns_ino(os.getppid()), "the child is back in the host")
        os.write(w, b"%d\n" % port)
        os.close(w)
        while accepted:
            signal.pause()

    pid = t.fork_child(run, comm=comm)
    os.close(w)
    data = b""
    while not data.endswith(b"\n"):
        chunk = os.read(r, 64)
        if not chunk:
            raise t.Fail("the child making sockets in %s exited" % c.name)
        data += chunk
    os.close(r)
    port = int(data)
    with c.entered():
        t.wait_ss_count(n, "%d CLOSE_WAIT sockets in %s" % (n, c.name), state="close-wait",
                        sport=port)
    return pid, port


def build_time_wait(a, b):
    """Server-side TIME_WAIT on 0.0.0.0:Q in the host (TW_HOST) and in A (TW_A): the servers
    close first. Returns (host listener, A listener, Q)."""
    hs = t.Holder(t.unique_comm("cwnsTWh"))
    q = hs.listen("0.0.0.0")
    as_ = ns.holder_in(a, t.unique_comm("cwnsTWa"))
    as_.call("listen", host="0.0.0.0", port=q)
    ns.server_time_wait(hs, q, TW_HOST)
    ns.server_time_wait(as_, q, TW_A, server_ns=a, client_ns=b, connect_to=ns.A_ADDR)
    return hs, as_, q


def table_rows(text, key, col):
    """Rows (token lists) of the table whose token col is key."""
    return [l.split() for l in text.splitlines() if len(l.split()) > col and l.split()[col] == key]


def check_netns_false(srv, c_pid):
    """With netns = false only the own namespace is watched."""
    d = tempfile.mkdtemp(prefix="cwtest-netns-")
    t.on_cleanup(lambda: shutil.rmtree(d, ignore_errors=True))
    conf = os.path.join(d, "closewaitd.conf")
    with open(conf, "w") as f:
        f.write("netns = false;\n")
    p = t.run(["--check-config", "--config", conf])
    if b"configuration OK" not in p.stdout:
        # The config key is parsed on another branch; until it is merged the file is rejected.
        print("note: netns = false not checked: --check-config says %r"
              % (p.stdout + p.stderr).decode("utf-8", "replace").strip())
        return
    rep = t.run_json(["--config", conf])
    t.check_eq(rep.proc(srv.pid), None, "netns = false: the server in A is not reported")
    t.check_eq(rep.proc(c_pid), None, "netns = false: the sockets made in C are not reported")
    t.check_eq(rep["scan"]["netns_watched"], 1, "netns = false: scan.netns_watched")


def main():
    ns.need_netns()
    own = ns.ns_ino()
    a, b, c = ns.Netns("A"), ns.Netns("B"), ns.Netns("C")
    ns.veth(a, b)
    t.check(len({own, a.ino, b.ino, c.ino}) == 4, "four distinct namespaces", None,
            (own, a.ino, b.ino, c.ino))

    # C, kept only by its name, with sockets held by a host process.
    c_t0 = time.monotonic()
    c_pid, c_port = leak_made_in(c, L, t.unique_comm("cwnsC"))
    c_t1 = time.monotonic()  # C's sockets were in CLOSE_WAIT by then
    t.check_eq(procs_in(c.ino), [], "processes living in C (it is kept by its name only)")

    # The server in A, its clients in B.
    srv = ns.holder_in(a, t.unique_comm("cwnsA"))
    t0 = time.monotonic()
    port, _ = ns.close_wait_in(a, srv, N, client_ns=b)
    t1 = time.monotonic()  # A's sockets were in CLOSE_WAIT by then
    mine = [l["line"] for l in t.ss(state="close-wait", sport=port)
            if l["local"].startswith(ns.A_ADDR + ":")]
    t.check_eq(mine, [], "`ss` in the host sees none of A's CLOSE_WAIT sockets")

    # A leak in the host at the same time.
    host = t.Holder(t.unique_comm("cwnsH"))
    dt.leak(host, M)

    # The same listener address in the host and in A, connections dead in both accept queues.
    hb = t.Holder(t.unique_comm("cwnsBLh"))
    p = hb.listen("0.0.0.0")
    ab = ns.holder_in(a, t.unique_comm("cwnsBLa"))
    ab.call("listen", host="0.0.0.0", port=p)
    ns.dead_in_queue(p, BL_HOST)
    ns.dead_in_queue(p, BL_A, server_ns=a, client_ns=b, connect_to=ns.A_ADDR)

    hs, as_, q = t.retry_setup(lambda: build_time_wait(a, b))
    # Ages: sockets already in CLOSE_WAIT when first seen are dated from their tcp_info, which
    # the daemon must ask of the namespace's own diag socket (else they would read as new).
    time.sleep(max(0.0, t1 + AGE - time.monotonic()))

    rep = t.run_json()
    t.check_eq(rep["scan"].get("netns_own"), own, "scan.netns_own")
    t.check(rep["scan"].get("netns_watched", 0) >= 4, "scan.netns_watched counts host, A, B, C",
            ">= 4", rep["scan"].get("netns_watched"))

    e = rep.need_proc(srv.pid)
    t.check_owner(e, srv.pid)
    t.check_eq(e["close_wait"]["count"], N, "close_wait.count of the server in A")
    check_where(e, srv.pid, a.ino, "the server in A")
    t.check_age(e["close_wait"]["oldest_age_s"], rep.t0 - t1 - SLACK, rep.t1 - t0 + SLACK,
                "oldest_age_s of the server in A (from tcp_info)")
    t.check(all(x["remote"].startswith(ns.B_ADDR + ":") for x in e["close_wait"]["peers"]),
            "the server's peers are the clients in B", ns.B_ADDR, e["close_wait"]["peers"])

    e = rep.need_proc(host.pid)
    t.check_eq(e["close_wait"]["count"], M, "close_wait.count of the host process")
    check_where(e, host.pid, own, "the host process")

    e = rep.need_proc(c_pid)
    t.check_eq(e["close_wait"]["count"], L, "close_wait.count of the host process holding "
               "sockets of C (found through /run/netns)")
    check_where(e, c_pid, own, "the host process holding sockets of C")
    t.check_age(e["close_wait"]["oldest_age_s"], rep.t0 - c_t1 - SLACK, rep.t1 - c_t0 + SLACK,
                "oldest_age_s of the sockets made in C (from tcp_info)")

    got = sorted((x.get("netns"), x["local"], x["pid"], x["close_wait"]) for x in rep.backlogs(p))
    want = sorted([(own, "0.0.0.0:%d" % p, hb.pid, BL_HOST),
                   (a.ino, "0.0.0.0:%d" % p, ab.pid, BL_A)])
    t.check_eq(got, want, "accept_backlog entries (netns, local, pid, close_wait) for 0.0.0.0:%d "
               "listening in the host and in A" % p)
    for x in rep.backlogs(p):  # the netns was checked above; container and pod here
        check_where(x, x["pid"], x["netns"], "accept_backlog %s in %s" % (x["local"], x["netns"]))

    got = sorted((x.get("netns"), x["local"], x["pid"], x["count"]) for x in rep.time_wait_local(q))
    want = sorted([(own, "0.0.0.0:%d" % q, hs.pid, TW_HOST),
                   (a.ino, "0.0.0.0:%d" % q, as_.pid, TW_A)])
    t.check_eq(got, want, "time_wait groups (netns, local, pid, count) for 0.0.0.0:%d listening "
               "in the host and in A" % q)

    # The table.
    out = t.run(["--once"], check_rc=0).stdout.decode("utf-8", "replace")
    head = [l.split() for l in out.splitlines() if l.split()[:1] == ["PID"]]
    t.check(head and head[0][4:6] == ["NETNS", "CONTAINER"], "the processes table has NETNS and "
            "CONTAINER columns after UNIT", "PID USER COMM UNIT NETNS CONTAINER ...", head)
    for pid, want in ((srv.pid, str(a.ino)), (host.pid, "host"), (c_pid, "host")):
        rows = table_rows(out, str(pid), 0)
        t.check_eq([r[4] for r in rows], [want], "NETNS column of pid %d in the table" % pid)
    rows = table_rows(out, "0.0.0.0:%d" % p, 0)
    t.check_eq(sorted((r[1], r[2]) for r in rows),
               sorted([("host", str(hb.pid)), (str(a.ino), str(ab.pid))]),
               "accept backlog rows (NETNS, PID) of 0.0.0.0:%d in the table" % p)
    m = re.search(r"(\d+) network namespaces? watched", out)
    t.check(m is not None and int(m.group(1)) >= 4, "the table's last line says how many "
            "network namespaces were watched", ">= 4", out.strip().splitlines()[-1:])

    check_netns_false(srv, c_pid)


if __name__ == "__main__":
    t.main(main)
