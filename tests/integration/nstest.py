"""Helpers for the tests of network namespaces: named namespaces (ip netns), a veth pair joining
two of them, and entering one from the test itself.

  * need_netns(): skip (77) unless root can make a named namespace and a veth pair here.
  * Netns(tag): `ip netns add cw<tag><pid>` with its loopback up; .ino is its inode (what
    /proc/PID/ns/net of a process inside shows with `stat -L -c %i`); deleted at cleanup.
  * Netns.entered(): a context in which the test's calling thread lives in the namespace (setns):
    sockets made there belong to it, `ss` run there dumps it. On the way out the thread goes back
    where it was; the sockets stay in the namespace (and keep it alive).
  * holder_in(ns, comm): a Holder that moved itself into the namespace. Not one forked inside
    entered(): its channel to the test would be a unix socket of that namespace, held by the test,
    keeping the namespace alive after the holder is gone.
  * veth(a, b): a veth pair with one end in each, A_ADDR in a and B_ADDR in b, so a client in b
    reaches a server in a and the server's CLOSE_WAIT sockets have no peer in their namespace.
  * private_run_netns(): for the daemon tests, which run in a mount namespace of their own
    (daemontest.private_journal()): a tmpfs over /run/netns, so the names this test adds are the
    only ones the daemon sees, and none is left on the host's disk whatever happens.

Names carry the test's pid, so runs side by side do not collide. Every namespace and link is
registered for cleanup before it is made, so a failure halfway still removes it.
"""

import contextlib
import ctypes
import os
import shutil
import socket
import subprocess

import cwtest as t

CLONE_NEWNET = 0x40000000
CAP_SYS_ADMIN = 21

A_ADDR, B_ADDR = "10.231.0.1", "10.231.0.2"
PREFIX = 24

_libc = ctypes.CDLL(None, use_errno=True)


def setns(fd):
    """Move the calling thread into the network namespace of fd (Python 3.11 has no os.setns)."""
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, "setns: " + os.strerror(e))


def ns_ino(pid="self"):
    """The inode of a process's network namespace, as `stat -L -c %i /proc/PID/ns/net` prints."""
    return os.stat("/proc/%s/ns/net" % pid).st_ino


def _h_setns(st, path):
    """Holder command: move the holder into the network namespace at path; returns its inode."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        setns(fd)
    finally:
        os.close(fd)
    return ns_ino()


# Holders are forked from the test: a command registered here before the first one is forked
# is one they all know.
t._HANDLERS.setdefault("setns", _h_setns)


def holder_in(netns, comm):
    """A Holder living in netns (made in the test's namespace, then moved)."""
    h = t.Holder(comm)
    t.check_eq(h.call("setns", path=netns.path), netns.ino, "namespace of holder %d" % h.pid)
    t.check_eq(ns_ino(h.pid), netns.ino, "/proc/%d/ns/net of the holder" % h.pid)
    return h


def ip(*args, check=True):
    """Run ip(8); returns its output. With check, fail on a non-zero exit."""
    p = subprocess.run(["ip"] + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=30)
    if check and p.returncode != 0:
        raise t.Fail("ip %s failed (%d): %s" % (" ".join(args), p.returncode, p.stdout.strip()))
    return p


def need_netns():
    """Skip unless root can add a named network namespace and a veth pair here."""
    t.need_root()
    if not shutil.which("ip"):
        raise t.Skip("ip (iproute2) is not installed")
    name = "cwprobe%d" % os.getpid()
    link = "cwp%d" % os.getpid()
    p = ip("netns", "add", name, check=False)
    if p.returncode != 0:
        raise t.Skip("`ip netns add` does not work here: %s" % p.stdout.strip())
    try:
        p = ip("link", "add", link + "a", "type", "veth", "peer", "name", link + "b", check=False)
        if p.returncode != 0:
            raise t.Skip("cannot create a veth pair here: %s" % p.stdout.strip())
        p = ip("link", "set", link + "b", "netns", name, check=False)
        if p.returncode != 0:
            raise t.Skip("cannot move a veth end into a namespace here: %s" % p.stdout.strip())
    finally:
        ip("link", "del", link + "a", check=False)
        ip("netns", "del", name, check=False)


def private_run_netns():
    """A tmpfs over /run/netns, for a test in a mount namespace of its own."""
    os.makedirs("/run/netns", exist_ok=True)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=0755", "tmpfs", "/run/netns"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if p.returncode != 0:
        raise t.Skip("cannot mount a private tmpfs on /run/netns (%s)" % p.stdout.strip())


class Netns:
    """A named network namespace (ip netns add), loopback up, deleted at cleanup."""

    def __init__(self, tag):
        self.name = "cw%s%d" % (tag, os.getpid())
        self.path = "/run/netns/" + self.name
        t.on_cleanup(self.delete)
        ip("netns", "add", self.name)
        ip("-n", self.name, "link", "set", "lo", "up")
        self.ino = os.stat(self.path).st_ino

    def exists(self):
        return os.path.exists(self.path)

    def delete(self):
        """`ip netns del`: the name goes; the namespace itself lives on while anything (a
        process, a socket, an open fd) keeps it."""
        if self.exists():
            ip("netns", "del", self.name, check=False)

    @contextlib.contextmanager
    def entered(self):
        back = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
            try:
                setns(fd)
            finally:
                os.close(fd)  # an open fd would keep the namespace alive
            try:
                yield self
            finally:
                setns(back)
        finally:
            os.close(back)


class Veth:
    """A veth pair: end .a in namespace a with A_ADDR, end .b in namespace b with B_ADDR."""

    def __init__(self, a, b):
        name = "cwv%d" % os.getpid()
        self.a, self.b = name + "a", name + "b"
        self.ns_a, self.ns_b = a, b

        def undo():
            # Deleting one end deletes both, wherever it is; a namespace that is gone took its
            # end and the pair with it.
            for args in (("link", "del", self.a), ("-n", a.name, "link", "del", self.a),
                         ("-n", b.name, "link", "del", self.b)):
                ip(*args, check=False)

        t.on_cleanup(undo)
        ip("link", "add", self.a, "type", "veth", "peer", "name", self.b)
        ip("link", "set", self.a, "netns", a.name)
        ip("link", "set", self.b, "netns", b.name)
        ip("-n", a.name, "addr", "add", "%s/%d" % (A_ADDR, PREFIX), "dev", self.a)
        ip("-n", b.name, "addr", "add", "%s/%d" % (B_ADDR, PREFIX), "dev", self.b)
        ip("-n", a.name, "link", "set", self.a, "up")
        ip("-n", b.name, "link", "set", self.b, "up")

    def b_end_exists(self):
        """Whether the end in b is still there: it goes when namespace a is destroyed (the pair
        dies with either end), so this tells whether anything still keeps a alive."""
        return ip("-n", self.ns_b.name, "link", "show", self.b, check=False).returncode == 0


def veth(a, b):
    return Veth(a, b)


def inside(netns):
    """netns.entered(), or no change for None (the test's own namespace)."""
    return netns.entered() if netns is not None else contextlib.nullcontext()


def close_wait_in(ns, holder, n, host="0.0.0.0", client_ns=None, connect_to=A_ADDR):
    """Holder (living in ns) listens on host, accepts n connections from clients made in
    client_ns, whose peers then shut down their side: n CLOSE_WAIT sockets in ns held by holder.
    The clients keep their fds (FIN_WAIT2, so the count stays exact) until cleanup. Returns
    (port, clients)."""
    port = holder.call("listen", host=host)["port"]
    with inside(client_ns or ns):
        clients = t.connect(connect_to, port, n)
    t.on_cleanup(lambda: t.close_all(clients))
    holder.call("accept", n=n)
    for c in clients:
        c.shutdown(socket.SHUT_WR)
    with ns.entered():
        t.wait_ss_count(n, "%d CLOSE_WAIT sockets in namespace %s" % (n, ns.name),
                        state="close-wait", sport=port)
    return port, clients


def dead_in_queue(port, n, server_ns=None, client_ns=None, connect_to="127.0.0.1"):
    """n connections to a listener on port in server_ns (None: the test's namespace) that never
    accepts, from clients made in client_ns that give up: n unaccepted CLOSE_WAIT sockets in
    its queue."""
    with inside(client_ns):
        t.close_all(t.connect(connect_to, port, n))
    with inside(server_ns):
        t.wait_ss_count(n, "%d unaccepted CLOSE_WAIT sockets on port %d" % (n, port),
                        state="close-wait", sport=port)


def server_time_wait(holder, port, n, server_ns=None, client_ns=None, connect_to="127.0.0.1"):
    """holder, listening on port in server_ns (None: the test's namespace), accepts n
    connections from clients made in client_ns and closes them first: n server-side TIME_WAIT
    sockets on port in server_ns."""
    with inside(client_ns):
        clients = t.connect(connect_to, port, n)
    holder.call("accept", n=n)
    holder.call("close_accepted")
    with inside(client_ns):
        t.wait_ss_count(n, "%d clients of port %d in CLOSE_WAIT" % (n, port),
                        state="close-wait", dport=port)
    t.close_all(clients)
    with inside(server_ns):
        t.wait_ss_count(n, "%d server-side TIME_WAIT sockets on port %d" % (n, port),
                        state="time-wait", sport=port)
