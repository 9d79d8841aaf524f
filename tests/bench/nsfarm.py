"""nsfarm: network namespaces with a small CLOSE_WAIT leak in each, for bench.py's netns phase.

    with nsfarm.NsFarm(n=100, sockets=20) as farm:
        farm.start()                 # `ip netns add` N names, one leaker in each
        with nsfarm.InNetns(farm.names[0]):
            ...                      # this thread is in the first namespace; spawned children too

The namespaces are named cwbench-<pid>-<i> (so a leftover says whose it was) and made by one
`ip -batch -` of "netns add" lines (ip bind-mounts each one on /run/netns/<name>). In each, a
forked child of ours (comm "cwns-leak") setns()es into it, brings its loopback up, connects K times
to a listener of its own on 127.0.0.1, accepts, and shuts the client side down for writing: the
accepted ends sit in CLOSE_WAIT, held by their fds, and their peers in FIN_WAIT2 are not orphaned
(an orphaned FIN_WAIT2 would expire after tcp_fin_timeout and take the CLOSE_WAIT with it). The
listener is closed once the K are accepted. A leaker reports "ok" once every accepted socket is in
CLOSE_WAIT (TCP_INFO), then blocks on a pipe: it exits when we close it or die.

stop() kills the leakers and deletes every namespace (`ip -force -batch -` of "netns del" lines),
whatever state start() reached. Root only (setns and ip netns need CAP_SYS_ADMIN).
"""

import ctypes
import fcntl
import os
import select
import signal
import socket
import struct
import subprocess
import time

CLONE_NEWNET = 0x40000000
NETNS_RUN_DIR = "/run/netns"
TCP_CLOSE_WAIT = 8
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
IP = "/usr/sbin/ip" if os.path.exists("/usr/sbin/ip") else "/sbin/ip"

_libc = ctypes.CDLL(None, use_errno=True)


def setns(fd, nstype=CLONE_NEWNET):
    if _libc.setns(fd, nstype) != 0:
        e = ctypes.get_errno()
        raise OSError(e, "setns: %s" % os.strerror(e))


def netns_path(name):
    return os.path.join(NETNS_RUN_DIR, name)


def netns_inode(name):
    return os.stat(netns_path(name)).st_ino


class InNetns:
    """Move this thread into a named network namespace, and back on exit. Children spawned in
    between (posix_spawn, fork) start in it; nothing else of the process moves."""

    def __init__(self, name):
        self.path = netns_path(name)
        self.home = None

    def __enter__(self):
        self.home = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            setns(fd)
        except BaseException:
            os.close(self.home)
            raise
        finally:
            os.close(fd)
        return self

    def __exit__(self, *exc):
        try:
            setns(self.home)
        except OSError as e:  # never go on in the wrong namespace
            os.write(2, ("nsfarm: cannot return to the own network namespace: %s\n" % e).encode())
            os._exit(1)
        finally:
            os.close(self.home)
        return False


def read_sysctl(path):
    try:
        with open(path) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def ehash_entries(name=None):
    """net.ipv4.tcp_ehash_entries of a namespace (ours when name is None); negative when the
    namespace shares the host's table; None when the kernel has no such sysctl (before 6.1)."""
    if name is None:
        return read_sysctl("/proc/sys/net/ipv4/tcp_ehash_entries")
    with InNetns(name):
        return read_sysctl("/proc/sys/net/ipv4/tcp_ehash_entries")


def _set_comm(name):
    try:
        with open("/proc/self/comm", "w") as f:
            f.write(name[:15])
    except OSError:
        pass


def _lo_up():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        ifr = fcntl.ioctl(s, SIOCGIFFLAGS, struct.pack("16sH14x", b"lo", 0))
        flags = struct.unpack("16sH14x", ifr)[1]
        if not flags & IFF_UP:
            fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | IFF_UP))


def _tcp_state(s):
    return s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[0]


def _leaker_main(name, k, ready_w, life_r):
    """In a forked child: never returns."""
    code = 1
    try:
        prev = 2  # close what the bench holds (its files, other leakers' pipe ends) but our two
        for fd in sorted((ready_w, life_r)):
            os.closerange(prev + 1, fd)
            prev = fd
        os.closerange(prev + 1, 1 << 20)
        null = os.open("/dev/null", os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(null, 1)
        os.close(null)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
        _set_comm("cwns-leak")
        fd = os.open(netns_path(name), os.O_RDONLY)
        setns(fd)
        os.close(fd)
        _lo_up()
        lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        lst.bind(("127.0.0.1", 0))
        lst.listen(k + 16)
        port = lst.getsockname()[1]
        held = []
        for _ in range(k):
            c = socket.create_connection(("127.0.0.1", port), timeout=5)
            s, _ = lst.accept()
            c.shutdown(socket.SHUT_WR)
            held += [c, s]
        lst.close()
        servers = held[1::2]
        deadline = time.monotonic() + 5
        while True:
            n = sum(1 for s in servers if _tcp_state(s) == TCP_CLOSE_WAIT)
            if n == k or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        os.write(ready_w, ("ok %d\n" % n if n == k else "err %d of %d in CLOSE_WAIT\n" % (n, k)).encode())
        os.close(ready_w)
        while os.read(life_r, 64):  # EOF: the bench closed its end or died
            pass
        code = 0
    except BaseException as e:
        try:
            os.write(ready_w, ("err %s: %s\n" % (type(e).__name__, e)).encode())
        except OSError:
            pass
    finally:
        os._exit(code)


class NsFarm:
    def __init__(self, n=100, sockets=20, prefix=None):
        self.n = n
        self.k = sockets
        self.prefix = prefix or "cwbench-%d" % os.getpid()
        self.names = ["%s-%d" % (self.prefix, i) for i in range(n)]
        self.leakers = {}  # name -> pid
        self.life_w = None
        self.created = False
        self.add_s = self.leak_s = 0.0

    def _ip_batch(self, lines, force=False):
        argv = [IP] + (["-force"] if force else []) + ["-batch", "-"]
        r = subprocess.run(argv, input="".join(l + "\n" for l in lines).encode(), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
        return r.returncode, r.stderr.decode(errors="replace").strip()

    def start(self):
        existing = [nm for nm in self.names if os.path.exists(netns_path(nm))]
        if existing:
            raise RuntimeError("namespace %s exists already" % existing[0])
        t0 = time.monotonic()
        self.created = True  # from here on stop() deletes whatever was made
        rc, err = self._ip_batch(["netns add %s" % nm for nm in self.names])
        if rc != 0:
            raise RuntimeError("ip netns add failed (%d): %s" % (rc, err[:300]))
        self.add_s = time.monotonic() - t0
        t0 = time.monotonic()
        life_r, self.life_w = os.pipe()
        os.set_inheritable(life_r, False)
        readies = {}
        try:
            for nm in self.names:
                ready_r, ready_w = os.pipe()
                pid = os.fork()
                if pid == 0:
                    _leaker_main(nm, self.k, ready_w, life_r)
                os.close(ready_w)
                self.leakers[nm] = pid
                readies[nm] = ready_r
            for nm, fd in readies.items():
                r, _, _ = select.select([fd], [], [], 30)
                line = os.read(fd, 256).decode(errors="replace").strip() if r else "timeout"
                if line != "ok %d" % self.k:
                    raise RuntimeError("leaker in %s: %s" % (nm, line or "exited"))
        finally:
            os.close(life_r)
            for fd in readies.values():
                os.close(fd)
        self.leak_s = time.monotonic() - t0
        return self

    def inodes(self):
        return {nm: netns_inode(nm) for nm in self.names}

    def stop(self):
        """Kill the leakers, delete the namespaces; returns the names left behind (none, normally)."""
        if self.life_w is not None:
            os.close(self.life_w)
            self.life_w = None
        for pid in self.leakers.values():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in self.leakers.values():
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
        self.leakers = {}
        if not self.created:
            return []
        left = [nm for nm in self.names if os.path.exists(netns_path(nm))]
        if left:
            self._ip_batch(["netns del %s" % nm for nm in left], force=True)
        for nm in left:  # one by one what the batch left
            if os.path.exists(netns_path(nm)):
                subprocess.run([IP, "netns", "del", nm], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.created = False
        return [nm for nm in self.names if os.path.exists(netns_path(nm))]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False
