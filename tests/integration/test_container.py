"""Processes in container-like places are named by their container, pod and network namespace.

A container is, to the kernel, a process in namespaces of its own and a cgroup its runtime named.
Two such processes are made here for real: each unshare()s a network namespace of its own, leaks
CLOSE_WAIT sockets over its loopback there (invisible to the host's ss), and is moved into a cgroup
named as a runtime names it:

  A: docker (systemd driver)   .../docker-<64 hex>.scope   (cgroup v2; v1: /docker/<64 hex>)
  B: Kubernetes with cgroupfs  /kubepods/burstable/pod<uid>/<64 hex>

Checked in `closewaitd --once --json`: each pid with its count, its own netns (the inode of its
/proc/PID/ns/net, not the host's), its container id and pod; the table's NETNS and CONTAINER
columns; the test process itself on the host, with no container.
"""

import ctypes
import json
import os
import secrets
import socket
import subprocess
import time

import cwtest as t

N = 4
CLONE_NEWNET = 0x40000000


def cgroup_root():
    """A writable cgroup hierarchy: (mount point, v2?)."""
    with open("/proc/self/mounts") as f:
        mounts = [l.split() for l in f]
    for dev, mnt, fstype, *_ in mounts:
        if fstype == "cgroup2" and os.access(os.path.join(mnt, "cgroup.procs"), os.W_OK):
            return mnt, True
    for dev, mnt, fstype, opts, *_ in mounts:
        if fstype == "cgroup" and "pids" in opts.split(","):
            return mnt, False
    raise t.Skip("no writable cgroup hierarchy (cgroup2, or cgroup v1 pids)")


def leaker(comm, ready_w):
    """In the child: a network namespace of its own, N CLOSE_WAIT sockets in it, then sleep."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET) != 0:
        os.write(ready_w, b"unshare failed: %d\n" % ctypes.get_errno())
        os._exit(1)
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(N)
    held = []
    for _ in range(N):
        c = socket.create_connection(srv.getsockname())
        s, _ = srv.accept()
        c.close()
        held.append(s)
    os.write(ready_w, b"ok\n")
    while True:
        time.sleep(60)


def start(comm):
    r, w = os.pipe()
    pid = t.fork_child(lambda: leaker(comm, w), comm=comm)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        line = f.readline()
    if line != b"ok\n":
        raise t.Skip("cannot make a network namespace for the leaker: %r" % line)
    return pid


def into_cgroup(root, rel, pid):
    path = os.path.join(root, rel)
    os.makedirs(path, exist_ok=True)

    def remove():
        # Back to the root, then the empty directories, deepest first.
        try:
            with open(os.path.join(path, "cgroup.procs")) as f:
                for p in f.read().split():
                    with open(os.path.join(root, "cgroup.procs"), "w") as g:
                        g.write(p)
        except OSError:
            pass
        d = path
        while d != root:
            try:
                os.rmdir(d)
            except OSError:
                break
            d = os.path.dirname(d)

    t.on_cleanup(remove)
    with open(os.path.join(path, "cgroup.procs"), "w") as f:
        f.write(str(pid))


def netns_of(pid):
    return os.stat("/proc/%d/ns/net" % pid).st_ino


def main():
    t.need_root()
    root, v2 = cgroup_root()
    id_a, id_b = secrets.token_hex(32), secrets.token_hex(32)
    pod = "0f1e2d3c-4b5a-4978-8a9b-%s" % secrets.token_hex(6)

    comm_a, comm_b = t.unique_comm("cwctA"), t.unique_comm("cwctB")
    a, b = start(comm_a), start(comm_b)
    tag = "cwtest-%d" % os.getpid()  # a parent of our own: nothing of the host is touched
    into_cgroup(root, "%s/system.slice/docker-%s.scope" % (tag, id_a) if v2 else
                "%s/docker/%s" % (tag, id_a), a)
    into_cgroup(root, "%s/kubepods/burstable/pod%s/%s" % (tag, pod, id_b), b)

    host_ns = netns_of(os.getpid())
    t.check(netns_of(a) != host_ns and netns_of(b) != host_ns and netns_of(a) != netns_of(b),
            "the leakers have network namespaces of their own", None,
            (host_ns, netns_of(a), netns_of(b)))

    binary = t.closewaitd_path()
    out = subprocess.run([binary, "--once", "--json"], stdout=subprocess.PIPE, check=True).stdout
    report = json.loads(out)
    procs = {p["pid"]: p for p in report["processes"]}
    for pid, comm, cid, cpod in ((a, comm_a, id_a, None), (b, comm_b, id_b, pod)):
        p = procs.get(pid)
        t.check(p is not None, "%s (pid %d) is reported" % (comm, pid), None, sorted(procs))
        t.check_eq(p["close_wait"]["count"], N, "%s: CLOSE_WAIT count" % comm)
        t.check_eq(p["netns"], netns_of(pid), "%s: netns is its own namespace's inode" % comm)
        t.check_eq(p["container"], cid, "%s: container id from its cgroup" % comm)
        t.check_eq(p["pod"], cpod, "%s: pod" % comm)
    t.check_eq(report["scan"]["netns_own"], host_ns, "scan.netns_own is the host's namespace")
    t.check(report["scan"]["netns_watched"] >= 3, "at least the host's and both leakers' namespaces "
            "are watched", ">= 3", report["scan"]["netns_watched"])

    # ss in the host's namespace sees none of them: only closewaitd does.
    seen = subprocess.run(["ss", "-Htn", "state", "close-wait"], stdout=subprocess.PIPE,
                          text=True).stdout
    t.check("127.0.0.1" not in seen or all(str(p) not in seen for p in (a, b)),
            "the host's ss does not list the leakers' sockets", None, seen)

    table = subprocess.run([binary, "--once"], stdout=subprocess.PIPE, text=True, check=True).stdout
    rows = {int(l.split()[0]): l for l in table.splitlines()
            if l.strip() and l.split()[0].isdigit()}
    for pid, cid in ((a, id_a), (b, id_b)):
        row = rows.get(pid, "")
        t.check(str(netns_of(pid)) in row.split() and cid[:12] in row.split(),
                "table row of %d shows its netns and the 12-digit container id" % pid,
                "%d ... %s" % (netns_of(pid), cid[:12]), row)
    t.check("network namespaces watched" in table, "the table says how many namespaces it watched",
            None, table.splitlines()[-1])


if __name__ == "__main__":
    t.main(main)
