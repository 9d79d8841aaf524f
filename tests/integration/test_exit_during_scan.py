"""Processes and sockets that vanish during a scan are not errors.

A stable holder keeps N CLOSE_WAIT sockets. For ~3 s a churn process keeps 20+ short-lived
children alive, each making CLOSE_WAIT sockets (accepted, unaccepted, shared after fork) and
exiting after a few ms, while `closewaitd --once --json` runs again and again: every run must exit
0 with schema-valid JSON, and the stable holder must be reported exactly every time.
"""

import os
import random
import socket
import time

import cwtest as t

N = 6
DURATION = 3.0
CONCURRENT = 24


def churner(kind):
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(16)
    port = lst.getsockname()[1]
    n = random.randint(1, 3)
    clients = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(n)]
    held = []
    if kind != "backlog":
        held = [lst.accept()[0] for _ in range(n)]
    for c in clients:
        c.close()
    if kind == "fork":
        os.fork()  # both copies hold the sockets and exit soon
    time.sleep(random.uniform(0, 0.04))
    os._exit(0)


def churn(chan_sock):
    chan = t.Chan(chan_sock)
    deadline = time.monotonic() + DURATION
    alive = set()
    spawned = 0
    t.set_comm(b"cwchurn")
    while time.monotonic() < deadline:
        while len(alive) < CONCURRENT:
            kind = random.choice(["accepted", "backlog", "fork"])
            pid = os.fork()
            if pid == 0:
                try:
                    churner(kind)
                finally:
                    os._exit(0)
            alive.add(pid)
            spawned += 1
        pid, _ = os.waitpid(-1, 0)
        alive.discard(pid)
    for pid in alive:
        os.waitpid(pid, 0)
    chan.send({"spawned": spawned})


def main():
    h = t.Holder(t.unique_comm("cwstable"))
    port = h.listen()
    clients = t.connect("127.0.0.1", port, N)
    h.call("accept", n=N)
    ends = sorted(t.sock_endpoint(s) for s in clients)
    t.close_all(clients)
    t.wait_ss_count(N, "the stable holder's sockets in CLOSE_WAIT", state="close-wait",
                    sport=port)

    parent_sock, child_sock = socket.socketpair()

    def run_churn():
        t._close_fds_except({0, 1, 2, child_sock.fileno()})
        churn(child_sock)

    start = time.monotonic()
    master = t.fork_child(run_churn)
    child_sock.close()
    runs = 0
    while time.monotonic() - start < DURATION or runs < 3:
        rep = t.run_json()
        runs += 1
        e = rep.need_proc(h.pid)
        what = "run %d: stable holder pid %d" % (runs, h.pid)
        t.check_owner(e, h.pid)
        t.check_eq(e["close_wait"]["count"], N, what + " close_wait.count")
        t.check_eq(sorted(p["remote"] for p in e["close_wait"]["peers"]), ends, what + " peers")
        t.check_fds(e, h.pid)
        t.check(runs < 200, "too many runs")
    msg = t.Chan(parent_sock).recv(timeout=15)
    t.check(msg is not None, "the churn process ended without reporting")
    os.waitpid(master, 0)
    print("%d scans while %d short-lived processes came and went" % (runs, msg["spawned"]))
    t.check(msg["spawned"] >= 20, "at least 20 short-lived processes", ">= 20", msg["spawned"])


if __name__ == "__main__":
    t.main(main)
