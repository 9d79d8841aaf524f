#!/usr/bin/python3
"""leakfarm: CLOSE_WAIT socket leaks at scale on loopback, for closewaitd's benchmark.

The farm is a tree of processes in a session of its own (so that one killpg() ends all of it):

  cwfarm            the coordinator: builds the scenario, then obeys commands, one per line
  cwfarm-holder     H processes, each with its own listener on 127.0.0.1:<free port>; they accept
                    every connection and never read nor close it: the server side of every
                    connection sits in CLOSE_WAIT, held by an fd (the leak closewaitd looks for)
  cwfarm-client     one per holder; connects from 127.<k>.<y>.<z>:<10000..32767> (below the
                    ephemeral range, so other connect()s on the host are not starved), then
                    shutdown(SHUT_WR) and keeps the fd: its side stays in FIN_WAIT2 for good
                    (an orphaned FIN_WAIT2 would expire after 60 s and take CLOSE_WAITs with it)
  cwfarm-filler     F processes holding other fds: pipes, eventfds, /dev/null, AF_UNIX pairs and a
                    few established loopback TCP pairs (the "other processes" of a busy host)
  cwfarm-sleeper    plain sleepers, to bring the number of /proc/PID entries up to --procs-min
  cwfarm-trans      (churn) short-lived children of a holder, sharing all of its sockets
  cwfarm-mini       (churn) short-lived processes leaking a few CLOSE_WAIT of their own

Every process raises its RLIMIT_NOFILE soft limit to the hard one. The sockets of the H holders are
planned so that none comes near the hard limit.

Commands (one line each, one reply line "ok {json}" or "err message"):
  add N      N new CLOSE_WAIT sockets, spread over the holders; the reply comes once every new
             socket is accepted and verified in CLOSE_WAIT (TCP_INFO of the holder's fd)
  close N    close N CLOSE_WAIT sockets (normal close: the peers go through TIME_WAIT)
  churn      one step of churn: close some, add some, fork short-lived processes sharing sockets,
             start short-lived processes with leaks of their own; reap what exited
  count      the farm's own count and `ss -tan state close-wait`
  info       pids and counts
  quit       tear down (quietly: the holders reset their sockets with SO_LINGER 0, no TIME_WAIT)

Use from Python:

    with leakfarm.Farm(sockets=100000, holders=7, fillers=210) as farm:
        print(farm.info)            # the "ready" line: counts, build time, pids
        farm.add(1000)

or from a shell (commands on stdin, replies on stdout, log on stderr):

    tests/bench/leakfarm.py --sockets 100000 --holders 7 --fillers 210

Root is not needed for the farm itself, but the hard fd limit is what it is: without
CAP_SYS_RESOURCE a holder keeps at most (hard limit - a few) sockets.
"""

import argparse
import errno
import json
import os
import random
import resource
import select
import signal
import socket
import struct
import subprocess
import sys
import time
import traceback

TCP_CLOSE_WAIT = 8
PORT_MIN, PORT_MAX = 10000, 32767  # client ports: below ip_local_port_range (32768-60999)
LISTEN_BACKLOG = 4096
ROUND = 1000  # connections per client per round, well below the listen backlog
CONNECT_BATCH = 256  # non-blocking connects in flight per client
FD_RESERVE = 64  # fds a holder or client keeps free for itself (stdio, channel, listener, python)
REPLY_TIMEOUT = 120.0


def log(msg):
    sys.stderr.write("leakfarm[%d]: %s\n" % (os.getpid(), msg))
    sys.stderr.flush()


def reset_close(socks):
    """Close each socket with a reset (SO_LINGER 0): nothing is left in TIME_WAIT."""
    linger = struct.pack("ii", 1, 0)
    for s in socks:
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
        except OSError:
            pass
        s.close()


def set_comm(name):
    try:
        with open("/proc/self/comm", "w") as f:
            f.write(name[:15])
    except OSError:
        pass


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def nofile_hard():
    return resource.getrlimit(resource.RLIMIT_NOFILE)[1]


def close_fds_except(keep):
    """Close every inherited fd but 0, 1, 2 and keep. The Python objects that wrapped them stay
    referenced by the frames above us (and we leave with os._exit()), so no finaliser ever
    closes a reused number."""
    keep = sorted({0, 1, 2} | set(keep))
    prev = 0
    for fd in keep:
        if fd > prev + 1:
            os.closerange(prev + 1, fd)
        prev = fd
    os.closerange(prev + 1, 1 << 20)


def ss_count_close_wait():
    """CLOSE_WAIT sockets on the host, by `ss -tan state close-wait` (lines minus the header)."""
    out = subprocess.run(["ss", "-tan", "state", "close-wait"], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, check=True).stdout
    return max(0, out.count(b"\n") - 1)


def proc_pid_count():
    return sum(1 for e in os.listdir("/proc") if e.isdigit())


def group_members(pgid):
    """Live (not zombie) processes of process group pgid."""
    pids = []
    for e in os.listdir("/proc"):
        if not e.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % e) as f:
                st = f.read()
        except OSError:
            continue
        fields = st[st.rindex(")") + 2:].split()
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            pids.append(int(e))
    return pids


def tcp_state(s):
    try:
        return s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0]
    except OSError:
        return -1


class Chan:
    """A line channel over a stream socket."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def fileno(self):
        return self.sock.fileno()

    def send(self, line):
        self.sock.sendall(line.encode() + b"\n")

    def feed(self):
        """Read what is available (the socket is readable); returns complete lines; EOFError at EOF."""
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("channel closed")
        self.buf += data
        return self._lines()

    def _lines(self):
        lines = []
        while b"\n" in self.buf:
            line, self.buf = self.buf.split(b"\n", 1)
            lines.append(line.decode())
        return lines

    def recv(self, timeout=REPLY_TIMEOUT):
        deadline = None if timeout is None else time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise TimeoutError("no reply within %.0f s" % timeout)
            r, _, _ = select.select([self.sock], [], [], left)
            if r:
                data = self.sock.recv(65536)
                if not data:
                    raise EOFError("channel closed")
                self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode()

    def call(self, line, timeout=REPLY_TIMEOUT):
        self.send(line)
        return self.recv(timeout)


def parse_reply(line):
    if line.startswith("ok"):
        rest = line[2:].strip()
        return json.loads(rest) if rest else {}
    raise RuntimeError("farm: " + line)


# ---------------------------------------------------------------------------------------------
# Holder: a listener, every connection accepted and kept, never read.


def holder_main(ch):
    raise_nofile()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # transient children are reaped by the kernel
    socks = []  # accepted sockets, oldest first
    accepted = 0
    waiting = []  # pending "sync T" requests

    def rst_all():
        reset_close(socks)
        socks.clear()

    def on_term(signum, frame):
        rst_all()
        os._exit(0)

    signal.signal(signal.SIGTERM, on_term)
    lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind(("127.0.0.1", 0))
    lst.listen(LISTEN_BACKLOG)
    lst.setblocking(False)
    ch.send("port %d" % lst.getsockname()[1])

    poller = select.poll()
    poller.register(ch.fileno(), select.POLLIN)
    poller.register(lst.fileno(), select.POLLIN)

    def handle(line):
        nonlocal accepted
        cmd, _, arg = line.partition(" ")
        if cmd == "sync":
            waiting.append(int(arg))
        elif cmd == "verify":  # how many of the newest N are in CLOSE_WAIT
            n = len(socks) if arg == "all" else min(int(arg), len(socks))
            cw = sum(1 for s in socks[len(socks) - n:] if tcp_state(s) == TCP_CLOSE_WAIT)
            ch.send("ok " + json.dumps({"checked": n, "close_wait": cw}))
        elif cmd == "close":
            n = min(int(arg), len(socks))
            for _ in range(n):
                socks.pop(random.randrange(len(socks))).close()
            ch.send("ok " + json.dumps({"closed": n, "held": len(socks)}))
        elif cmd == "fork":  # a short-lived child sharing every socket
            ms = int(arg)
            pid = os.fork()
            if pid == 0:
                try:
                    signal.signal(signal.SIGTERM, signal.SIG_DFL)
                    set_comm("cwfarm-trans")
                    time.sleep(ms / 1000.0)
                finally:
                    os._exit(0)
            ch.send("ok " + json.dumps({"pid": pid}))
        elif cmd == "count":
            ch.send("ok " + json.dumps({"held": len(socks), "accepted": accepted}))
        elif cmd == "rst":
            n = len(socks)
            rst_all()
            ch.send("ok " + json.dumps({"rst": n}))
        elif cmd == "quit":
            os._exit(0)
        else:
            ch.send("err unknown command " + cmd)

    while True:
        for fd, ev in poller.poll(None if not waiting else 1000):
            if fd == lst.fileno():
                while True:
                    try:
                        s, _ = lst.accept()
                    except BlockingIOError:
                        break
                    except OSError as e:
                        if e.errno in (errno.EMFILE, errno.ENFILE):
                            log("holder out of fds after %d sockets" % len(socks))
                            time.sleep(0.01)
                            break
                        raise
                    socks.append(s)
                    accepted += 1
            else:
                try:
                    lines = ch.feed()
                except EOFError:
                    os._exit(0)
                for line in lines:
                    handle(line)
        if waiting:
            still = []
            for target in waiting:
                if accepted >= target:
                    ch.send("ok " + json.dumps({"accepted": accepted, "held": len(socks)}))
                else:
                    still.append(target)
            waiting[:] = still


# ---------------------------------------------------------------------------------------------
# Client: connects from explicit source addresses, half-closes, keeps the fd.


def client_main(ch, dst_port, octet):
    raise_nofile()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    dst = ("127.0.0.1", dst_port)
    keep = {}  # fd -> socket
    reaper = select.poll()
    counter = 0
    nports = PORT_MAX - PORT_MIN + 1

    def next_src():
        # The address varies fastest: 127.<octet>.<y>.<1..254>, then the port, then y.
        nonlocal counter
        n = counter
        counter += 1
        z = n % 254 + 1
        rest = n // 254
        return ("127.%d.%d.%d" % (octet, (rest // nports) % 256, z), PORT_MIN + rest % nports)

    def connect(n):
        made = errors = 0
        while made < n:
            pend = {}
            for _ in range(min(CONNECT_BATCH, n - made)):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    s.bind(next_src())
                except OSError:
                    s.close()
                    errors += 1
                    continue
                s.setblocking(False)
                e = s.connect_ex(dst)
                if e not in (0, errno.EINPROGRESS):
                    s.close()
                    errors += 1
                    continue
                pend[s.fileno()] = s
            p = select.poll()
            for fd in pend:
                p.register(fd, select.POLLOUT)
            deadline = time.monotonic() + 10.0
            while pend:
                left = deadline - time.monotonic()
                if left <= 0:
                    for s in pend.values():
                        s.close()
                    errors += len(pend)
                    pend.clear()
                    break
                for fd, ev in p.poll(int(left * 1000) + 1):
                    s = pend.pop(fd)
                    p.unregister(fd)
                    if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 0:
                        s.close()
                        errors += 1
                        continue
                    s.shutdown(socket.SHUT_WR)
                    keep[fd] = s
                    reaper.register(fd, select.POLLIN | select.POLLRDHUP)
                    made += 1
            if errors > n + 1000:
                return made, errors
        return made, errors

    def reap():
        n = 0
        for fd, ev in reaper.poll(0):
            reaper.unregister(fd)
            keep.pop(fd).close()
            n += 1
        return n

    def handle(line):
        cmd, _, arg = line.partition(" ")
        if cmd == "connect":
            made, errors = connect(int(arg))
            ch.send("ok " + json.dumps({"made": made, "errors": errors, "held": len(keep)}))
        elif cmd == "reap":
            n = reap()
            ch.send("ok " + json.dumps({"reaped": n, "held": len(keep)}))
        elif cmd == "count":
            ch.send("ok " + json.dumps({"held": len(keep)}))
        elif cmd == "rst":
            n = len(keep)
            reset_close(keep.values())
            keep.clear()
            ch.send("ok " + json.dumps({"rst": n}))
        elif cmd == "quit":
            os._exit(0)
        else:
            ch.send("err unknown command " + cmd)

    while True:
        select.select([ch.sock], [], [])
        try:
            lines = ch.feed()
        except EOFError:
            os._exit(0)
        for line in lines:
            handle(line)


# ---------------------------------------------------------------------------------------------
# Fillers, sleepers, minis.


def filler_main(nfds, tcp_pairs, ready_fd):
    raise_nofile()
    held = []
    lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lst.bind(("127.0.0.1", 0))
    lst.listen(64)
    held.append(lst)
    for _ in range(tcp_pairs):  # established loopback pairs (ephemeral ports: few of them)
        if len(held) + 2 > nfds:
            break
        c = socket.create_connection(lst.getsockname())
        a, _ = lst.accept()
        for s in (c, a):  # killed at the end: reset, leave no TIME_WAIT behind
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        held += [c, a]
    kind = 0
    while len(held) < nfds:
        left = nfds - len(held)
        kind = (kind + 1) % 4
        if kind == 0 and left >= 2:
            r, w = os.pipe()
            held += [r, w]
        elif kind == 1 and hasattr(os, "eventfd"):
            held.append(os.eventfd(0))
        elif kind == 2 and left >= 2:
            held += list(socket.socketpair())
        else:
            held.append(os.open("/dev/null", os.O_RDONLY))
    os.write(ready_fd, b"F")
    os.close(ready_fd)
    while True:
        signal.pause()


def sleeper_main():
    while True:
        signal.pause()


def mini_main(n, lifetime):
    """A process of its own leaking n CLOSE_WAIT sockets (and holding their peers), for a while."""
    lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lst.bind(("127.0.0.1", 0))
    lst.listen(64)
    held = [lst]
    for _ in range(n):
        c = socket.create_connection(lst.getsockname())
        c.shutdown(socket.SHUT_WR)
        a, _ = lst.accept()
        held += [c, a]
    time.sleep(lifetime)


# ---------------------------------------------------------------------------------------------
# The coordinator.


class Coordinator:
    def __init__(self, opts, ctrl):
        self.o = opts
        self.ctrl = ctrl
        self.holders = []  # dicts: pid, chan, port, held
        self.clients = []  # dicts: pid, chan
        self.fillers = []
        self.sleepers = []
        self.minis = set()
        self.hard = nofile_hard()
        self.next_octet = 2
        self.churn_steps = 0
        self.churn_totals = {"closed": 0, "added": 0, "forks": 0, "minis": 0, "reaped": 0}

    # -- processes

    def fork(self, name, fn, keep=()):
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                set_comm(name)
                close_fds_except(keep)
                fn()
            except BaseException:
                traceback.print_exc()
                code = 1
            finally:
                os._exit(code)
        return pid

    def spawn_pair(self, idx):
        a, b = socket.socketpair()
        pid = self.fork("cwfarm-holder", lambda: holder_main(Chan(b)), keep=[b.fileno()])
        b.close()
        ch = Chan(a)
        line = ch.recv(30)
        if not line.startswith("port "):
            raise RuntimeError("holder: " + line)
        h = {"pid": pid, "chan": ch, "port": int(line.split()[1]), "held": 0, "accepted": 0}
        octet = self.next_octet
        self.next_octet = 2 + (self.next_octet - 1) % 250
        a, b = socket.socketpair()
        cpid = self.fork("cwfarm-client", lambda: client_main(Chan(b), h["port"], octet), keep=[b.fileno()])
        b.close()
        c = {"pid": cpid, "chan": Chan(a), "held": 0}
        self.holders.append(h)
        self.clients.append(c)
        return h, c

    def room(self, i):
        """How many more sockets holder i (and its client) may take."""
        limit = self.hard - FD_RESERVE
        return max(0, min(limit - self.holders[i]["held"], limit - self.clients[i]["held"]))

    # -- sockets

    def connect_rounds(self, plan):
        """plan: {holder index: n}. Connects, waits for the accepts, verifies CLOSE_WAIT."""
        plan = {i: n for i, n in plan.items() if n > 0}
        left = dict(plan)
        while left:
            batch = {i: min(ROUND, n) for i, n in left.items()}
            for i, n in batch.items():
                self.clients[i]["chan"].send("connect %d" % n)
            for i, n in batch.items():
                r = parse_reply(self.clients[i]["chan"].recv())
                self.clients[i]["held"] = r["held"]
                if r["made"] != n:
                    raise RuntimeError("client %d made %d of %d connections (%d errors)"
                                       % (i, r["made"], n, r["errors"]))
                self.holders[i]["accepted"] += n
            for i in batch:
                self.holders[i]["chan"].send("sync %d" % self.holders[i]["accepted"])
            for i in batch:
                r = parse_reply(self.holders[i]["chan"].recv(60))
                self.holders[i]["held"] = r["held"]
            for i, n in batch.items():
                left[i] -= n
                if left[i] == 0:
                    del left[i]
        # Every new socket must be in CLOSE_WAIT (the FIN is processed by now on loopback; retry).
        deadline = time.monotonic() + 10.0
        pending = dict(plan)
        while pending:
            for i, n in list(pending.items()):
                r = parse_reply(self.holders[i]["chan"].call("verify %d" % n))
                if r["close_wait"] == r["checked"]:
                    del pending[i]
            if pending:
                if time.monotonic() > deadline:
                    raise RuntimeError("new sockets not in CLOSE_WAIT after 10 s: %s" % pending)
                time.sleep(0.005)

    def spread(self, n):
        """n new sockets over the holders, the emptiest first, within their fd room."""
        plan = {i: 0 for i in range(len(self.holders))}
        load = [self.holders[i]["held"] for i in plan]
        for _ in range(n):
            cands = [i for i in plan if self.room(i) - plan[i] > 0]
            if not cands:
                raise RuntimeError("no fd room left in the holders for %d more sockets" % n)
            i = min(cands, key=lambda k: load[k])
            plan[i] += 1
            load[i] += 1
        return plan

    def add(self, n):
        self.connect_rounds(self.spread(n))

    def close(self, n):
        plan = {i: 0 for i in range(len(self.holders))}
        load = [h["held"] for h in self.holders]
        for _ in range(min(n, sum(load))):
            i = max(range(len(load)), key=lambda k: load[k])
            plan[i] += 1
            load[i] -= 1
        closed = 0
        for i, k in plan.items():
            if k:
                r = parse_reply(self.holders[i]["chan"].call("close %d" % k))
                self.holders[i]["held"] = r["held"]
                closed += r["closed"]
        return closed

    def reap_clients(self):
        n = 0
        for c in self.clients:
            r = parse_reply(c["chan"].call("reap"))
            c["held"] = r["held"]
            n += r["reaped"]
        return n

    def total(self):
        return sum(h["held"] for h in self.holders)

    def reap_children(self):
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid in self.minis:
                self.minis.discard(pid)
                continue
            for role, group in (("holder", self.holders), ("client", self.clients)):
                if any(x["pid"] == pid for x in group):
                    raise RuntimeError("a %s (pid %d) died: status %d" % (role, pid, status))
            if pid in self.fillers or pid in self.sleepers:
                log("a filler/sleeper (pid %d) died: status %d" % (pid, status))

    # -- the scenario

    def build(self):
        o = self.o
        t0 = time.monotonic()
        baseline = ss_count_close_wait()
        per = [o.sockets // o.holders + (1 if i < o.sockets % o.holders else 0) for i in range(o.holders)]
        if max(per) > self.hard - FD_RESERVE:
            raise RuntimeError("%d sockets per holder exceed the fd hard limit %d: use more holders"
                               % (max(per), self.hard))
        rfd, wfd = os.pipe()
        for _ in range(o.fillers):
            self.fillers.append(self.fork("cwfarm-filler", lambda: filler_main(o.filler_fds, o.filler_tcp, wfd),
                                          keep=[wfd]))
        os.close(wfd)
        for i in range(o.holders):
            self.spawn_pair(i)
        self.connect_rounds({i: per[i] for i in range(o.holders)})
        t_sockets = time.monotonic() - t0
        got = 0
        deadline = time.monotonic() + 120
        while got < o.fillers:
            r, _, _ = select.select([rfd], [], [], max(0.0, deadline - time.monotonic()))
            if not r:
                raise RuntimeError("only %d of %d fillers ready after 120 s" % (got, o.fillers))
            data = os.read(rfd, 4096)
            if not data:
                break
            got += len(data)
        os.close(rfd)
        if got < o.fillers:
            raise RuntimeError("only %d of %d fillers got ready" % (got, o.fillers))
        if o.procs_min:
            for _ in range(max(0, o.procs_min - proc_pid_count())):
                self.sleepers.append(self.fork("cwfarm-sleeper", sleeper_main))
        for i, h in enumerate(self.holders):
            r = parse_reply(h["chan"].call("verify all"))
            if r["close_wait"] != r["checked"] or r["checked"] != per[i]:
                raise RuntimeError("holder %d: %d of %d sockets in CLOSE_WAIT, %d planned"
                                   % (i, r["close_wait"], r["checked"], per[i]))
        build_s = time.monotonic() - t0
        ss = ss_count_close_wait()
        info = {"build_s": round(build_s, 3), "sockets_s": round(t_sockets, 3), "close_wait": self.total(),
                "ss_close_wait": ss, "baseline_close_wait": baseline, "holders": [h["pid"] for h in self.holders],
                "clients": [c["pid"] for c in self.clients], "fillers": len(self.fillers),
                "filler_fds": o.filler_fds, "sleepers": len(self.sleepers), "fd_hard_limit": self.hard,
                "pgid": os.getpgrp()}
        log("built %d CLOSE_WAIT in %d holders, %d fillers x %d fds, %d sleepers in %.2f s (sockets %.2f s); "
            "ss counts %d (%d before)" % (self.total(), o.holders, o.fillers, o.filler_fds, len(self.sleepers),
                                          build_s, t_sockets, ss, baseline))
        return info

    def churn(self):
        """One step: close k, add k, fork transient sharers, start minis, reap."""
        o = self.o
        self.churn_steps += 1
        k = max(1, int(self.total() * o.churn_ratio))
        closed = self.close(k)
        reaped = self.reap_clients()
        self.add(k)
        forks = 0
        for _ in range(o.churn_forks):
            h = random.choice(self.holders)
            parse_reply(h["chan"].call("fork %d" % random.randint(50, 1500)))
            forks += 1
        minis = 0
        if o.churn_mini_every and self.churn_steps % o.churn_mini_every == 0:
            pid = self.fork("cwfarm-mini", lambda: mini_main(random.randint(1, 8), random.uniform(0.2, 3.0)))
            self.minis.add(pid)
            minis = 1
        self.reap_children()
        t = self.churn_totals
        t["closed"] += closed
        t["added"] += k
        t["forks"] += forks
        t["minis"] += minis
        t["reaped"] += reaped
        return {"step": self.churn_steps, "closed": closed, "added": k, "forks": forks, "minis": minis,
                "reaped": reaped, "close_wait": self.total(), "live_minis": len(self.minis)}

    def info(self):
        return {"close_wait": self.total(), "holders": [h["pid"] for h in self.holders],
                "held": [h["held"] for h in self.holders], "clients": [c["pid"] for c in self.clients],
                "fillers": self.fillers, "sleepers": self.sleepers, "churn_steps": self.churn_steps,
                "churn": self.churn_totals, "live_minis": sorted(self.minis), "pgid": os.getpgrp()}

    def handle(self, line):
        cmd, _, arg = line.strip().partition(" ")
        t0 = time.monotonic()
        if cmd == "add":
            self.add(int(arg))
            return {"added": int(arg), "close_wait": self.total(), "s": round(time.monotonic() - t0, 4)}
        if cmd == "close":
            n = self.close(int(arg))
            reaped = self.reap_clients()
            return {"closed": n, "reaped": reaped, "close_wait": self.total(), "s": round(time.monotonic() - t0, 4)}
        if cmd == "churn":
            r = self.churn()
            r["s"] = round(time.monotonic() - t0, 4)
            return r
        if cmd == "count":
            return {"close_wait": self.total(), "ss_close_wait": ss_count_close_wait()}
        if cmd == "info":
            return self.info()
        raise ValueError("unknown command %r" % cmd)

    def serve(self):
        try:
            info = self.build()
            self.ctrl.send("ready " + json.dumps(info))
        except Exception as e:
            traceback.print_exc()
            self.ctrl.send("err build failed: %s" % e)
            return
        while True:
            try:
                line = self.ctrl.recv(timeout=None)
            except EOFError:
                return
            if line.strip() in ("quit", ""):
                if line.strip() == "quit":
                    return
                continue
            try:
                r = self.handle(line)
                self.ctrl.send("ok " + json.dumps(r))
            except ValueError as e:  # a bad command: no traceback
                self.ctrl.send("err %s" % e)
            except Exception as e:
                traceback.print_exc()
                self.ctrl.send("err %s" % e)

    def teardown(self):
        """Reset every socket (no TIME_WAIT left behind), then kill the whole process group."""
        for group in (self.holders, self.clients):
            for x in group:
                try:
                    x["chan"].send("rst")
                except OSError:
                    pass
            for x in group:  # skip replies to commands cut short (an interrupted build)
                deadline = time.monotonic() + 30
                try:
                    while '"rst"' not in x["chan"].recv(max(0.1, deadline - time.monotonic())):
                        pass
                except Exception:
                    pass


def set_child_subreaper():
    """Orphans of the farm (children of a dead holder) become ours, so that we reap them."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except Exception:
        pass


def kill_and_reap_group(timeout=60.0):
    """SIGKILL every other process of our group and reap them (we are their subreaper)."""
    me = os.getpid()
    deadline = time.monotonic() + timeout
    while True:
        members = [p for p in group_members(os.getpgrp()) if p != me]
        for p in members:
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
        if not members or time.monotonic() > deadline:
            return
        time.sleep(0.02)


def coordinator_main(opts, ctrl_sock):
    set_comm("cwfarm")
    set_child_subreaper()
    co = Coordinator(opts, Chan(ctrl_sock))

    def on_term(signum, frame):
        raise SystemExit(1)

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the harness decides; it sends quit or SIGTERM
    try:
        co.serve()
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            co.teardown()
        except BaseException:
            traceback.print_exc()
        # Everything left: holders, clients, fillers, sleepers, transients, minis.
        kill_and_reap_group()
        os._exit(0)


# ---------------------------------------------------------------------------------------------
# The harness side.


class Options:
    def __init__(self, sockets=100000, holders=7, fillers=210, filler_fds=500, filler_tcp=10, procs_min=0,
                 churn_ratio=0.01, churn_forks=2, churn_mini_every=5):
        self.sockets = sockets
        self.holders = holders
        self.fillers = fillers
        self.filler_fds = filler_fds
        self.filler_tcp = filler_tcp
        self.procs_min = procs_min
        self.churn_ratio = churn_ratio
        self.churn_forks = churn_forks
        self.churn_mini_every = churn_mini_every


class Farm:
    """The farm, run in a forked process that leads a session of its own; see the module doc."""

    def __init__(self, log_path=None, **kw):
        self.opts = Options(**kw)
        self.log_path = log_path
        self.pid = None
        self.chan = None
        self.info = None

    def start(self, timeout=600):
        a, b = socket.socketpair()
        for f in (sys.stdout, sys.stderr):
            f.flush()
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                os.setsid()
                null = os.open("/dev/null", os.O_RDWR)
                os.dup2(null, 0)
                if self.log_path:
                    lf = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
                    os.dup2(lf, 1)
                    os.dup2(lf, 2)
                else:
                    os.dup2(2, 1)  # replies go over the channel; stray prints to the log
                close_fds_except([b.fileno()])
                coordinator_main(self.opts, b)
            except BaseException:
                traceback.print_exc()
                code = 1
            finally:
                os._exit(code)
        b.close()
        self.pid = pid
        self.chan = Chan(a)
        try:
            line = self.chan.recv(timeout)
        except (EOFError, TimeoutError) as e:
            self.stop()
            raise RuntimeError("the farm did not come up: %s" % e)
        if not line.startswith("ready "):
            self.stop()
            raise RuntimeError(line)
        self.info = json.loads(line[6:])
        return self.info

    def call(self, line, timeout=REPLY_TIMEOUT):
        return parse_reply(self.chan.call(line, timeout))

    def add(self, n):
        return self.call("add %d" % n)

    def close(self, n):
        return self.call("close %d" % n)

    def churn(self):
        return self.call("churn")

    def count(self):
        return self.call("count")

    def status(self):
        return self.call("info")

    def stop(self, timeout=60):
        if self.pid is None:
            return
        try:
            if self.info is not None:
                self.chan.send("quit")
            else:  # still building: it reads no command, but tears down on SIGTERM
                os.kill(self.pid, signal.SIGTERM)
        except OSError:
            pass
        deadline = time.monotonic() + timeout
        done = False
        while time.monotonic() < deadline:
            try:
                pid, _ = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                done = True
                break
            if pid:
                done = True
                break
            time.sleep(0.05)
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if not done:
            try:
                os.waitpid(self.pid, 0)
            except ChildProcessError:
                pass
        # Killed processes with thousands of sockets take a while to exit: wait for the group to be
        # gone, so that whatever comes next starts on a quiet host.
        deadline = time.monotonic() + 60
        while group_members(self.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        left = group_members(self.pid)
        if left:
            log("%d processes of the farm still alive after 60 s: %s" % (len(left), left[:10]))
        self.chan.sock.close()
        self.pid = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False


def main():
    ap = argparse.ArgumentParser(description="Build CLOSE_WAIT leaks at scale on loopback; then obey "
                                 "commands on stdin (add N, close N, churn, count, info, quit).")
    ap.add_argument("--sockets", type=int, default=100000)
    ap.add_argument("--holders", type=int, default=7)
    ap.add_argument("--fillers", type=int, default=210)
    ap.add_argument("--filler-fds", type=int, default=500)
    ap.add_argument("--filler-tcp", type=int, default=10, help="established TCP pairs per filler")
    ap.add_argument("--procs-min", type=int, default=0, help="add sleepers until /proc has this many pids")
    a = ap.parse_args()
    farm = Farm(sockets=a.sockets, holders=a.holders, fillers=a.fillers, filler_fds=a.filler_fds,
                filler_tcp=a.filler_tcp, procs_min=a.procs_min)
    try:
        info = farm.start()
        print("ready " + json.dumps(info), flush=True)
        for line in sys.stdin:
            line = line.strip()
            if not line:
                continue
            if line == "quit":
                break
            try:
                print("ok " + json.dumps(farm.call(line)), flush=True)
            except RuntimeError as e:
                print(str(e), flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        farm.stop()


if __name__ == "__main__":
    main()
