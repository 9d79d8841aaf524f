"""Processes and sockets vanishing during scans, and reused pids, raise no false alert.

The daemon scans every 100 ms (private journald; close_wait and accept_backlog: 3 sockets, hold
0.3 s; repeat off). For CLOSEWAITD_CHURN_SECONDS (default 60) a churn process keeps 10 short-lived
children alive (each may fork once: at most 20), every one under the thresholds: 1-2 accepted
CLOSE_WAIT sockets, sometimes 1-2 more left unaccepted in its listener's queue, sometimes shared
with a forked copy, reset by the peer while held (the socket leaves CLOSE_WAIT under its fd),
closed one by one, or carried through an exec() of /bin/sleep (the comm changes under them); each
lives a few ms to ~0.5 s and exits, half of them resetting their connections. Meanwhile:

  * a stable leaker holds 5 CLOSE_WAIT sockets, all older than hold at the first scan: exactly one
    alert, with CLOSEWAITD_COUNT=5, never resolved;
  * leakers come and go (4 sockets, alerted, then killed), and after each one a new process is
    forked with exactly the dead leaker's pid (ns_last_pid of the test's own PID namespace) and
    another comm: either after the resolved entry, or at once (within milliseconds of the death,
    usually before the daemon's next scan); with 2 sockets older than hold it must not be
    alerted, and the dead leaker's alert must be resolved, naming the dead leaker, while the new
    process still lives under that pid; every third time the new process is a leaker itself (4
    sockets) and gets an alert of its own that names its own comm, then its own resolved entry.

After every cycle and at the end: every close_wait alert names a (pid, comm) that really
leaked, with its exe, OBJECT_PID and a count between the threshold and its sockets; each leaker
has exactly one alert and one resolved entry (naming it); no accept_backlog, time_wait,
fd_pressure, degraded or other warning entry exists (one about a listener of a process outside
the test's PID namespace, which names no pid, is ignored: the daemon sees every socket of the
host); every field the daemon writes is text. At the end the daemon's STATUS= counts one active
alert and it kept scanning; SIGTERM gives STOPPING=1 and exit 0, the stable leaker still has no
resolved entry, and the daemon's stderr holds no AddressSanitizer, UndefinedBehaviorSanitizer,
LeakSanitizer or valgrind report. Without a writable ns_last_pid (the test's own PID namespace)
the pid reuse is skipped with a note; the churn and the leakers still run.
"""

import ctypes
import json
import os
import random
import re
import select
import signal
import socket
import struct
import time
import traceback

import cwtest as t
import daemontest as dt

DURATION = float(os.environ.get("CLOSEWAITD_CHURN_SECONDS", "60"))
COUNT = 3          # close_wait.count and accept_backlog.count
HOLD = 0.3         # close_wait.hold and accept_backlog.hold (s)
STABLE_N = 5       # sockets of the stable leaker
LEAK_N = 4         # sockets of each passing leaker
QUIET_N = COUNT - 1
CONCURRENT = 10    # churn children alive at once (each may fork one copy)
MIN_CYCLES = 3     # one of each pid-reuse variant, however short the run
VARIANTS = ("after-resolve", "at-once", "at-once-leaky")
REUSE_MAX_LIFE = 20.0  # a reuse child is killed by the test long before this
NS_LAST_PID = "/proc/sys/kernel/ns_last_pid"
PY_EXE = os.readlink("/proc/self/exe")  # every leaker is a fork of this interpreter

CONF = dt.conf_text({
    "interval": "0.1",
    "close_wait": {"count": str(COUNT), "hold": str(HOLD), "age": "0.0"},
    "accept_backlog": {"count": str(COUNT), "hold": str(HOLD)},
    "alert": {"clear_ratio": "0.5", "repeat": "0.0"},
})

SANITIZER = re.compile(r"ERROR: AddressSanitizer|runtime error:|LeakSanitizer|^==\d+==")
# Not a report: valgrind could not remove its vgdb FIFOs (/tmp/vgdb-pipe-*-PID-...) because a
# daemon of another test, run under valgrind in a PID namespace of its own with the same pid,
# shares /tmp and removed them first.
VGDB_NOTE = re.compile(r"^==\d+== could not unlink /tmp/vgdb-pipe-")


def tool_reports(err):
    """The lines of err (the daemon's stderr) that belong to a sanitizer or valgrind report."""
    return [l for l in err.splitlines() if SANITIZER.search(l) and not VGDB_NOTE.search(l)]
ALERT_MIDS = {dt.MID_CLOSE_WAIT, dt.MID_ACCEPT_BACKLOG, dt.MID_TIME_WAIT, dt.MID_FD_PRESSURE,
              dt.MID_RESOLVED, dt.MID_DEGRADED}

_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36


# ---------------------------------------------------------------------------------------------
# the churn: a master process forking short-lived children, and the pid-reuse forks on command

def die_with_parent():
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def linger0(s):
    """close() of s sends a reset: no TIME_WAIT left behind, the peer's socket leaves its state."""
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def make_close_wait(n, unaccepted=0, keep_clients=False):
    """A listener with n accepted connections whose clients closed (n CLOSE_WAIT sockets held
    here) and `unaccepted` more that died in its queue. Returns (listener, held, clients)."""
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(8)
    addr = lst.getsockname()
    clients = [socket.create_connection(addr, timeout=5) for _ in range(n)]
    held = [lst.accept()[0] for _ in range(n)]
    clients += [socket.create_connection(addr, timeout=5) for _ in range(unaccepted)]
    for c in clients:
        if keep_clients:
            c.shutdown(socket.SHUT_WR)
        else:
            c.close()
    return lst, held, (clients if keep_clients else [])


def lifetime(rng):
    """A few ms, or up to ~0.5 s (longer than hold: stuck sockets, but fewer than count)."""
    return rng.uniform(0.002, 0.03) if rng.random() < 0.5 else rng.uniform(0.05, 0.5)


def churner(kind, rng):
    n = rng.randint(1, QUIET_N)
    unacc = rng.randint(1, QUIET_N) if kind == "backlog" else 0
    lst, held, clients = make_close_wait(n, unacc, keep_clients=(kind == "reset"))
    life = lifetime(rng)
    if rng.random() < 0.5:
        for s in held + [lst]:
            linger0(s)
    if kind == "fork":
        os.fork()  # both copies hold the same sockets, each exits on its own
        life = lifetime(rng)
    elif kind == "reset":
        time.sleep(rng.uniform(0.0, life))
        for c in clients:  # the peer resets: our sockets leave CLOSE_WAIT while we hold them
            linger0(c)
            c.close()
    elif kind == "close":
        for s in held:
            time.sleep(rng.uniform(0.0, life / n))
            s.close()
    elif kind == "exec":
        for s in held + [lst]:
            s.set_inheritable(True)
        os.execv("/bin/sleep", ["sleep", "%.3f" % life])
    time.sleep(life)


def fork_child(chan_sock, body):
    """Fork a child of the churn master that runs body() and exits: 0 when it returned, 3 when it
    raised (traceback on stderr). It dies with its parent and does not keep the channel open."""
    pid = os.fork()
    if pid == 0:
        code = 3
        try:
            die_with_parent()
            chan_sock.close()
            body()
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)
    return pid


def fork_churner(kind, chan_sock):
    def body():
        t.set_comm(("cwch-" + kind).encode())
        churner(kind, random.Random())
    return fork_child(chan_sock, body)


def reuse_child(want, comm, n, ready_w):
    """Body of the process forked to reuse a pid: n CLOSE_WAIT sockets, then wait to be killed."""
    if os.getpid() != want:
        os._exit(0)  # the pid went to someone else: this attempt is void
    t.set_comm(comm.encode())
    keep = make_close_wait(n, keep_clients=True)
    os.write(ready_w, b"k")
    os.close(ready_w)
    time.sleep(REUSE_MAX_LIFE)
    del keep


def fork_at_pid(want, comm, n, chan_sock, reaped, tries=200):
    """Fork a reuse child at exactly pid `want`: write want - 1 to ns_last_pid, fork, and try
    again when another fork of this namespace took the pid first. A churn child that took it and
    exited meanwhile is a zombie of ours (we are the subreaper) until reaped: it is reaped here
    and (pid, status) appended to reaped. Returns (pid or None, tries)."""
    for i in range(1, tries + 1):
        try:
            zpid, zstatus = os.waitpid(want, os.WNOHANG)
            if zpid == want:
                reaped.append((zpid, zstatus))
        except ChildProcessError:
            pass
        r, w = os.pipe()
        with open(NS_LAST_PID, "w") as f:
            f.write(str(want - 1))
        def body():
            os.close(r)
            reuse_child(want, comm, n, w)
        pid = fork_child(chan_sock, body)
        os.close(w)
        ok = os.read(r, 1) == b"k"
        os.close(r)
        if pid == want and ok:
            return pid, i
        if pid == want:
            raise RuntimeError("the reuse child at pid %d did not set up its sockets" % pid)
        os.waitpid(pid, 0)
        time.sleep(0.003)
    return None, tries


def churn_master(chan_sock):
    _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)  # the forked copies come back to us
    t.set_comm(b"cwchurn-master")
    chan = t.Chan(chan_sock)
    rng = random.Random()
    kinds = ("accepted", "backlog", "fork", "reset", "close", "exec")
    alive = {}  # pid -> kind, the direct churn children
    stats = {"spawned": 0, "failed": 0, "reaped": 0}
    for k in kinds:
        stats[k] = 0
    stopping = False
    while True:
        while not stopping and len(alive) < CONCURRENT:
            kind = rng.choice(kinds)
            alive[fork_churner(kind, chan_sock)] = kind
            stats["spawned"] += 1
            stats[kind] += 1
        if select.select([chan_sock], [], [], 0.003)[0]:
            msg = chan.recv(timeout=5)
            if msg is None or msg["cmd"] == "stop":
                stopping = True
            elif msg["cmd"] == "reuse":
                try:
                    reaped = []
                    pid, tries = fork_at_pid(msg["pid"], msg["comm"], msg["n"], chan_sock, reaped)
                    for zpid, zstatus in reaped:
                        stats["reaped"] += 1
                        if alive.pop(zpid, None) is not None and zstatus != 0:
                            stats["failed"] += 1
                    chan.send({"pid": pid, "tries": tries})
                except Exception as e:
                    chan.send({"pid": None, "error": repr(e)})
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            stats["reaped"] += 1
            if alive.pop(pid, None) is not None and status != 0:
                stats["failed"] += 1
        if stopping and not alive:
            break
    t.reap_all(10)  # the last forked copies and reuse children
    chan.send({"stats": stats})


class Churn:
    def __init__(self):
        parent, child = socket.socketpair()

        def run():
            t._close_fds_except({0, 1, 2, child.fileno()})
            churn_master(child)

        self.pid = t.fork_child(run)
        child.close()
        self.chan = t.Chan(parent)

    def reuse(self, pid, comm, n):
        self.chan.send({"cmd": "reuse", "pid": pid, "comm": comm, "n": n})
        msg = self.chan.recv(timeout=30)
        t.check(msg is not None, "the churn process answered the reuse request")
        t.check("error" not in msg, "the reuse fork worked", None, msg.get("error"))
        return msg

    def stop(self):
        self.chan.send({"cmd": "stop"})
        msg = self.chan.recv(timeout=30)
        t.check(msg is not None and "stats" in msg, "the churn process reported its numbers")
        os.waitpid(self.pid, 0)
        return msg["stats"]


# ---------------------------------------------------------------------------------------------
# leakers and the journal

class Leaker:
    """A process known to leak n CLOSE_WAIT sockets (its alerts are legitimate)."""

    def __init__(self, pid, comm, n, start_time, holder=None, stable=False):
        self.pid, self.comm, self.n, self.start_time = pid, comm, n, start_time
        self.holder, self.stable = holder, stable


def start_time_of(pid):
    with open("/proc/%d/stat" % pid) as f:
        return int(f.read().rsplit(")", 1)[1].split()[19])


def leak(holder, n):
    return dt.leak_clients(holder, n)[1]


def daemon_field(name):
    """A field the daemon writes (journald adds _*, __* and, for OBJECT_PID, OBJECT_* others)."""
    if name.startswith("_"):
        return False
    return not name.startswith("OBJECT_") or name in ("OBJECT_PID", "OBJECT_SYSTEMD_UNIT")


def foreign(e):
    """An accept_backlog or time_wait entry (or its resolved entry) that names no process: its
    listener or group belongs to a process outside the test's PID namespace (another program of
    the host; the daemon sees every socket of the network namespace). Every process the test
    starts is inside, so such an entry is about none of them."""
    return (e.get("CLOSEWAITD_KIND") in ("accept_backlog", "time_wait")
            and "CLOSEWAITD_PID" not in e)


def entries_for(es, mid, leaker):
    return [e for e in es if e.get("MESSAGE_ID") == mid
            and e.get("CLOSEWAITD_PID") == str(leaker.pid)
            and e.get("CLOSEWAITD_COMM") == leaker.comm]


def audit(es, leakers, quiet, final=False):
    """Every closewaitd entry against what the test did; returns the problems found."""
    known = {(str(l.pid), l.comm): l for l in leakers}
    problems = []
    for e in es:
        msg = e.get("MESSAGE")
        for k, v in e.items():
            if daemon_field(k) and not isinstance(v, str):
                problems.append("field %s is not text: %r (%r)" % (k, v, msg))
        mid = e.get("MESSAGE_ID")
        key = (e.get("CLOSEWAITD_PID"), e.get("CLOSEWAITD_COMM"))
        if mid == dt.MID_CLOSE_WAIT:
            l = known.get(key)
            if l is None:
                what = "a process under the thresholds" if key in quiet else "no leaker"
                problems.append("close_wait alert about %s: pid %s comm %r: %r"
                                % (what, key[0], key[1], msg))
                continue
            if e.get("CLOSEWAITD_EVENT") != "raise":
                problems.append("close_wait entry with event %r (repeat is off): %r"
                                % (e.get("CLOSEWAITD_EVENT"), msg))
            if e.get("CLOSEWAITD_EXE") != PY_EXE:
                problems.append("alert about pid %d has CLOSEWAITD_EXE %r, want %r"
                                % (l.pid, e.get("CLOSEWAITD_EXE"), PY_EXE))
            if e.get("OBJECT_PID") != str(l.pid):
                problems.append("alert about pid %d has OBJECT_PID %r"
                                % (l.pid, e.get("OBJECT_PID")))
            c = e.get("CLOSEWAITD_COUNT", "")
            if l.stable and c != str(l.n):
                problems.append("the stable leaker's alert has CLOSEWAITD_COUNT %r, want %d: %r"
                                % (c, l.n, msg))
            elif not c.isdigit() or not COUNT <= int(c) <= l.n:
                problems.append("alert about pid %d has CLOSEWAITD_COUNT %r, want %d..%d: %r"
                                % (l.pid, c, COUNT, l.n, msg))
        elif foreign(e):
            continue
        elif mid == dt.MID_RESOLVED:
            l = known.get(key)
            if e.get("CLOSEWAITD_KIND") != "close_wait" or l is None or l.stable:
                problems.append("unexpected resolved entry (kind %r, pid %s, comm %r): %r"
                                % (e.get("CLOSEWAITD_KIND"), key[0], key[1], msg))
            elif e.get("CLOSEWAITD_EVENT") != "resolve" or e.get("CLOSEWAITD_EXE") != PY_EXE:
                problems.append("resolved entry of pid %d with event %r, exe %r: %r"
                                % (l.pid, e.get("CLOSEWAITD_EVENT"), e.get("CLOSEWAITD_EXE"),
                                   msg))
        elif mid in ALERT_MIDS:
            problems.append("unexpected %s entry: %r"
                            % (e.get("CLOSEWAITD_KIND") or "degraded", msg))
        elif e.get("PRIORITY", "6") <= "4":
            problems.append("warning or error logged: %r" % msg)
    for l in leakers:
        raised = entries_for(es, dt.MID_CLOSE_WAIT, l)
        resolved = entries_for(es, dt.MID_RESOLVED, l)
        want = 0 if l.stable else 1
        if len(raised) > 1 or (final and len(raised) != 1):
            problems.append("%d alerts about leaker %s[%d], want exactly 1"
                            % (len(raised), l.comm, l.pid))
        if len(resolved) > want or (final and len(resolved) != want):
            problems.append("%d resolved entries about %sleaker %s[%d], want %d"
                            % (len(resolved), "the stable " if l.stable else "", l.comm, l.pid,
                               want))
    return problems


def check_audit(j, leakers, quiet, final=False):
    es = j.entries("SYSLOG_IDENTIFIER=closewaitd")
    problems = audit(es, leakers, quiet, final)
    t.check(not problems, "journal entries consistent with the leaks (%d problems)\n  %s"
            % (len(problems), "\n  ".join(problems[:20])))
    return es


def wait_one(j, mid, leaker, what, timeout=15.0):
    es = j.wait(lambda es: entries_for(es, mid, leaker), what, timeout, "MESSAGE_ID=" + mid,
                "CLOSEWAITD_PID=%d" % leaker.pid)
    return entries_for(es, mid, leaker)[0]


def wait_resolved(j, leaker, leakers, what):
    """The resolved entry about leaker's pid that is not about an earlier leaker with the same pid;
    it must name leaker itself (not a process that got its pid since)."""
    earlier = set()
    for l in leakers:
        if l is leaker:
            break
        if l.pid == leaker.pid:
            earlier.add(l.comm)

    def mine(es):
        return [e for e in es if e.get("CLOSEWAITD_COMM") not in earlier]

    es = j.wait(mine, what, 15.0, "MESSAGE_ID=" + dt.MID_RESOLVED, "CLOSEWAITD_PID=%d" % leaker.pid)
    e = mine(es)[0]
    t.check_eq(e.get("CLOSEWAITD_COMM"), leaker.comm,
               "CLOSEWAITD_COMM of the first resolved entry about pid %d since %s[%d] leaked"
               % (leaker.pid, leaker.comm, leaker.pid))
    return e


def reuse_cycle(i, j, churn, leakers, quiet, reuse_ok, counters):
    variant = VARIANTS[i % len(VARIANTS)]
    h = t.Holder("cwleak%d" % i)
    clients = leak(h, LEAK_N)
    old = Leaker(h.pid, "cwleak%d" % i, LEAK_N, start_time_of(h.pid), holder=h)
    leakers.append(old)
    wait_one(j, dt.MID_CLOSE_WAIT, old, "the alert about leaker %s[%d]" % (old.comm, old.pid))
    h.kill()
    t.close_all(clients)
    if variant == "after-resolve" or not reuse_ok:
        wait_resolved(j, old, leakers, "the resolved entry of %s[%d]" % (old.comm, old.pid))
    if not reuse_ok:
        return

    leaky = variant == "at-once-leaky"
    comm = ("cwreleak%d" if leaky else "cwreuse%d") % i
    n = LEAK_N if leaky else QUIET_N
    born = time.monotonic()
    r = churn.reuse(old.pid, comm, n)
    t.check(r["pid"] == old.pid, "a process forked at the dead leaker's pid %d" % old.pid,
            old.pid, r)
    counters["reused"] += 1
    counters["fork_tries"] += r["tries"]
    new = Leaker(old.pid, comm, n, start_time_of(old.pid))
    t.check(new.start_time != old.start_time, "the reused pid has another start time",
            "!= %d" % old.start_time, new.start_time)
    if leaky:
        leakers.append(new)
    else:
        quiet.add((str(new.pid), new.comm))

    # The dead leaker's alert resolves while the new process holds sockets under its pid (for
    # "after-resolve" it resolved before; its entry was checked above).
    if variant != "after-resolve":
        wait_resolved(j, old, leakers, "the resolved entry of %s[%d] (pid reused by %s)"
                      % (old.comm, old.pid, comm))
    t.check_eq(start_time_of(old.pid), new.start_time,
               "pid %d still belongs to %s when the resolved entry is read" % (old.pid, comm))
    if leaky:
        e = wait_one(j, dt.MID_CLOSE_WAIT, new, "the alert about %s[%d] (a reused pid)"
                     % (comm, new.pid))
        t.check_eq(e.get("CLOSEWAITD_COMM"), comm, "the alert names the new process's comm")
    else:
        # Its sockets are older than hold for a few scans before it goes.
        time.sleep(max(0.0, born + HOLD + 0.7 - time.monotonic()))
    os.kill(new.pid, signal.SIGKILL)
    if leaky:
        wait_resolved(j, new, leakers, "the resolved entry of %s[%d]" % (comm, new.pid))
    counters[variant] += 1


def ns_last_pid_usable():
    """Writable, and ours: the test runs as PID 1 of the PID namespace private_journal() made, so
    writing it never touches the host's pid allocation."""
    if os.getpid() != 1:
        return "the test is not the init of its own PID namespace"
    try:
        with open(NS_LAST_PID, "r+") as f:
            last = f.read().strip()
            f.seek(0)
            f.write(last)
    except OSError as e:
        return "%s is not writable: %s" % (NS_LAST_PID, e)
    return None


def main():
    j = dt.private_journal()
    why = ns_last_pid_usable()
    reuse_ok = why is None
    if not reuse_ok:
        print("note: no pid reuse (%s); churn only" % why)

    # The stable leaker's sockets are older than hold at the first scan: its alert counts all 5.
    sh = t.Holder("cwstable")
    leak(sh, STABLE_N)
    stable = Leaker(sh.pid, "cwstable", STABLE_N, start_time_of(sh.pid), holder=sh, stable=True)
    leakers = [stable]
    quiet = set()
    time.sleep(HOLD + 0.7)

    notify = dt.Notify()
    d = dt.Daemon(conf=CONF, notify=notify)
    notify.wait(lambda l: l == "READY=1", "READY=1", timeout=60)
    wait_one(j, dt.MID_CLOSE_WAIT, stable, "the stable leaker's alert", timeout=30)

    t0 = time.monotonic()
    churn = Churn()
    counters = {"cycles": 0, "reused": 0, "fork_tries": 0}
    for v in VARIANTS:
        counters[v] = 0
    i = 0
    while time.monotonic() - t0 < DURATION or i < MIN_CYCLES:
        reuse_cycle(i, j, churn, leakers, quiet, reuse_ok, counters)
        counters["cycles"] += 1
        d.check_alive()
        check_audit(j, leakers, quiet)
        i += 1
        time.sleep(0.2)
    while time.monotonic() - t0 < DURATION:
        time.sleep(0.2)
    stats = churn.stop()
    elapsed = time.monotonic() - t0
    t.check(stats["spawned"] >= 10, "the churn made short-lived processes", ">= 10", stats)
    t.check(stats["failed"] <= stats["spawned"] // 10, "at most 10%% of the churn children failed",
            "<= %d" % (stats["spawned"] // 10), stats)
    time.sleep(1.0)  # more scans after the churn
    d.check_alive()
    es = check_audit(j, leakers, quiet, final=True)
    e = entries_for(es, dt.MID_CLOSE_WAIT, stable)[0]
    t.check_eq(e.get("CLOSEWAITD_HELD"), str(STABLE_N), "CLOSEWAITD_HELD of the stable leaker")

    statuses = [l for l in notify.lines() if l.startswith("STATUS=")]
    others = [x.get("MESSAGE") for x in es if foreign(x)]
    if others:
        print("note: %d accept_backlog/time_wait entries about processes outside the test "
              "ignored, e.g. %s" % (len(others), others[:3]))
    else:
        t.check("; 1 alert active;" in statuses[-1], "the daemon counts one active alert (the "
                "stable leaker's)", "1 alert active", statuses[-1])
    rc = d.stop()
    err = d.err()
    t.check(not tool_reports(err), "no sanitizer or valgrind report on the daemon's stderr",
            None, err[-4000:])
    t.check_eq(rc, 0, "exit status on SIGTERM (stderr: %s)" % err[-2000:])
    t.check("STOPPING=1" in notify.lines(), "STOPPING=1 sent", "STOPPING=1", notify.lines()[-5:])
    after = j.entries("MESSAGE_ID=" + dt.MID_RESOLVED)
    t.check_eq(len(entries_for(after, dt.MID_RESOLVED, stable)), 0,
               "resolved entries of the stable leaker (it still holds its sockets) after exit")
    t.check(len(statuses) >= elapsed / 2, "the daemon kept scanning (a STATUS= every 2 s at least)",
            ">= %d" % (elapsed / 2), len(statuses))
    print("%.0f s of churn: %s; %d scans; leakers and pid reuse: %s; last %s"
          % (elapsed, json.dumps(stats, sort_keys=True), len(statuses),
             json.dumps(counters, sort_keys=True), statuses[-1]))


if __name__ == "__main__":
    t.main(main, timeout=int(DURATION) + 150)
