"""Helpers for the tests of the long-running daemon: a private journald, an sd_notify listener,
a fake systemd unit, and the daemon itself.

  * private_journal(): re-runs the calling test inside new mount and PID namespaces
    (`unshare --mount --pid --fork --mount-proc`), mounts tmpfs over the journal's directories and
    starts a systemd-journald of its own there, so that the test reads back exactly what the
    daemon wrote, and the host's journal is untouched. Root only.
  * Notify: an AF_UNIX datagram socket bound before the daemon starts (datagrams sent to an
    unbound path are lost), collecting every sd_notify message.
  * fake_unit(pid): moves a process into cwtest-PID.slice/NAME.service of the systemd cgroup
    hierarchies, so that sd_pid_get_unit() and journald see it as part of that unit.
  * Daemon: closewaitd in the foreground with a config written by the test, the notify socket,
    a private RuntimeDirectory, and the CLOSEWAITD_WRAPPER (valgrind) when set.
"""

import json
import os
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

import cwtest as t

MID_CLOSE_WAIT = "fd90960cbac74d8d928e85956d41cad2"
MID_ACCEPT_BACKLOG = "17353e799a934f2889f044f6c273ad8c"
MID_TIME_WAIT = "7f6e0a4999384f6cbd5132003a53b366"
MID_FD_PRESSURE = "2de4c1457c69400a989b55c82dadf085"
MID_RESOLVED = "14f5b9873616466aaa8faa39c2ba4566"
MID_DEGRADED = "fb00b5d9cfdf403ea21f70fcf92990b3"

JOURNALD = "/lib/systemd/systemd-journald"
_NS_MARK = "CWTEST_PRIVATE_NS"
_JOURNAL_DIRS = ("/run/systemd/journal", "/run/log/journal", "/var/log/journal",
                 "/var/lib/systemd/catalog")
CATALOG_DIR = "/usr/lib/systemd/catalog"
_SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)  # Linux; Python does not name it


def source_root():
    return os.path.abspath(os.path.join(t.HERE, "..", ".."))


def _reexec_in_namespaces(net=False):
    """Run this very script again inside new mount and PID namespaces (and a network namespace
    of its own with net); exit with its status."""
    if not shutil.which("unshare"):
        raise t.Skip("unshare (util-linux) is not installed")
    unshare = ["unshare", "--mount", "--propagation", "private", "--pid", "--fork", "--mount-proc"]
    if net:
        unshare.append("--net")
    probe = subprocess.run(unshare + ["true"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if probe.returncode != 0:
        raise t.Skip("cannot create %s namespaces here (%s)"
                     % ("mount, PID and network" if net else "mount and PID",
                        probe.stdout.decode("utf-8", "replace").strip()))
    env = dict(os.environ)
    env[_NS_MARK] = "1"
    argv = unshare + [sys.executable] + sys.argv
    sys.stdout.flush()
    p = subprocess.run(argv, env=env)
    if p.returncode in (0, 1, t.EXIT_SKIP):
        sys.exit(p.returncode)
    print("FAIL: the test in its own namespaces exited %d" % p.returncode)
    sys.exit(1)


class Journal:
    """The private journald of this test."""

    def __init__(self):
        self.proc = None

    def start(self):
        log = open(os.path.join(tempfile.gettempdir(), "cwtest-journald-%d.log" % os.getpid()), "a")
        self.proc = t.popen([JOURNALD], stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        deadline = time.monotonic() + 10
        while subprocess.run(["journalctl", "--sync"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL).returncode != 0:
            if time.monotonic() > deadline:
                raise t.Fail("the private journald did not come up")
            if self.proc.poll() is not None:
                raise t.Fail("the private journald exited %d" % self.proc.returncode)
            time.sleep(0.01)

    def stop(self, timeout=10):
        """Stop journald as a service manager would (SIGTERM, then wait for it to exit). Its
        socket file stays behind, with nothing reading it: a sender gets ECONNREFUSED, as from
        a real journald that is down. start() brings up a new one on the same directories (the
        entries written so far stay readable)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise t.Fail("the private journald did not exit within %d s of SIGTERM" % timeout)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def sync(self):
        subprocess.run(["journalctl", "--sync"], check=True, timeout=10)

    def entries(self, *matches, extra=()):
        """Every entry matching the journalctl matches (e.g. "MESSAGE_ID=..."), as dicts."""
        self.sync()
        p = subprocess.run(["journalctl", "--no-pager", "-o", "json", "--output-fields="]
                           + list(extra) + list(matches),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20)
        out = []
        for line in p.stdout.decode("utf-8", "replace").splitlines():
            line = line.strip()
            if line:
                out.append(json.loads(line))
        return out

    def text(self, *args):
        """journalctl's own output with args (e.g. "-x", "-u", "x.service")."""
        self.sync()
        p = subprocess.run(["journalctl", "--no-pager"] + list(args), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=20)
        return p.stdout.decode("utf-8", "replace")

    def wait(self, pred, what, timeout=20.0, *matches):
        """Poll entries(*matches) until pred(entries) is true; returns the entries."""
        deadline = time.monotonic() + timeout
        while True:
            es = self.entries(*matches)
            if pred(es):
                return es
            if time.monotonic() > deadline:
                raise t.Fail("%s: not seen within %.0f s; entries: %s"
                             % (what, timeout, [e.get("MESSAGE") for e in es][-20:]))
            time.sleep(0.2)


def private_journal(catalog=False, start=True, net=False):
    """Make sure this test runs in its own namespaces with its own journal directories; returns a
    Journal, its journald started unless start is False (then there is no journal socket until
    Journal.start()). With catalog, closewaitd's catalog is installed into a writable copy of the
    catalog directory so that `journalctl -x` explains the entries. With net, the test also gets
    a network namespace of its own (loopback up) and an empty /run/netns: the daemon, which
    watches every network namespace it finds (through /proc, private to the test, and
    /run/netns), sees no socket of the host, only the test's, and every one of those has an owner
    in the test's PID namespace."""
    t.need_root()
    if not os.access(JOURNALD, os.X_OK):
        raise t.Skip("%s is missing (apt install systemd)" % JOURNALD)
    if os.environ.get(_NS_MARK) != "1":
        _reexec_in_namespaces(net)
    if net:
        p = subprocess.run(["ip", "link", "set", "lo", "up"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
        if p.returncode != 0:
            raise t.Skip("cannot bring up loopback in the private network namespace (%s)"
                         % p.stdout.decode("utf-8", "replace").strip())
        os.makedirs("/run/netns", exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=0755", "tmpfs", "/run/netns"], check=True)
    for d in _JOURNAL_DIRS:
        os.makedirs(d, exist_ok=True)
        p = subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=0755", "tmpfs", d],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if p.returncode != 0:
            raise t.Skip("cannot mount a private tmpfs on %s (%s)"
                         % (d, p.stdout.decode("utf-8", "replace").strip()))
    if catalog:
        copy = tempfile.mkdtemp(prefix="cwtest-catalog-")
        if os.path.isdir(CATALOG_DIR):
            for name in os.listdir(CATALOG_DIR):
                shutil.copy(os.path.join(CATALOG_DIR, name), copy)
        shutil.copy(os.path.join(source_root(), "systemd", "closewaitd.catalog"), copy)
        os.makedirs(CATALOG_DIR, exist_ok=True)
        subprocess.run(["mount", "--bind", copy, CATALOG_DIR], check=True)
        subprocess.run(["journalctl", "--update-catalog"], check=True)
    j = Journal()
    if start:
        j.start()
    return j


class KeepSending:
    """A thread that has holder send a byte on each accepted socket every 0.2 s: traffic after the
    peer's FIN (acknowledged, so tcp_info's last-ACK stamp moves) on sockets that stay in
    CLOSE_WAIT, until stop() or the end of the test."""

    def __init__(self, holder):
        self._stop = threading.Event()
        self._holder = holder
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        t.on_cleanup(self._stop.set)

    def _run(self):
        while not self._stop.wait(0.2):
            try:
                self._holder.call("send_accepted")
            except t.Fail:
                return

    def stop(self):
        self._stop.set()
        self._thread.join()


class Notify:
    """An sd_notify listener: NOTIFY_SOCKET for the daemon; messages as (arrival, lines).

    A thread drains the socket all the time, as systemd does: a datagram socket's queue is short
    (net.unix.max_dgram_qlen), and a sender whose datagrams are not read blocks in sd_notify()."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="cwtest-notify-")
        self.path = os.path.join(self.dir, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
        self.sock.bind(self.path)
        self.sock.settimeout(0.1)
        self.messages = []  # (time.monotonic(), [lines])
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()
        t.on_cleanup(self.close)

    def _drain(self):
        while not self._stop.is_set():
            try:
                data, anc, _, _ = self.sock.recvmsg(65536, socket.CMSG_SPACE(16))
            except (socket.timeout, BlockingIOError):
                continue
            except OSError:
                return
            with self._lock:
                self.messages.append((self._arrival(anc),
                                      data.decode("utf-8", "replace").splitlines()))

    @staticmethod
    def _arrival(anc):
        """When the datagram reached the socket (the kernel's SCM_TIMESTAMPNS), on the
        time.monotonic() scale; now when the kernel gave no stamp. Not when this thread got to
        it: on a loaded host that can be much later, and tests time the daemon's messages."""
        now_mono, now_real = time.monotonic(), time.time()
        for level, kind, data in anc:
            if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS and len(data) >= 16:
                sec, nsec = struct.unpack("qq", data[:16])
                return now_mono - max(0.0, now_real - (sec + nsec / 1e9))
        return now_mono

    def close(self):
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def snapshot(self):
        with self._lock:
            return list(self.messages)

    def wait(self, pred, what, timeout=20.0, since=0):
        """Wait until pred(line) is true for a line of a message (from message index since on);
        returns that message's lines."""
        deadline = time.monotonic() + timeout
        while True:
            for _, lines in self.snapshot()[since:]:
                if any(pred(l) for l in lines):
                    return lines
            if time.monotonic() > deadline:
                raise t.Fail("%s: no such sd_notify message within %.0f s; got %s"
                             % (what, timeout, [m for _, m in self.snapshot()][-10:]))
            time.sleep(0.02)

    def lines(self):
        return [l for _, m in self.snapshot() for l in m]


def hierarchies():
    """(mount point, key in /proc/PID/cgroup) of the hierarchies sd_pid_get_unit() may read."""
    root = "/sys/fs/cgroup"
    if os.path.exists(os.path.join(root, "cgroup.controllers")):  # unified mode
        return [(root, "")]
    found = []
    for sub, key in (("systemd", "name=systemd"), ("unified", "")):
        path = os.path.join(root, sub)
        if os.path.ismount(path):
            found.append((path, key))
    return found


def cgroup_paths(pid):
    out = {}
    with open("/proc/%d/cgroup" % pid) as f:
        for line in f.read().splitlines():
            _, ctrl, path = line.split(":", 2)
            out[ctrl] = path
    return out


def fake_unit(pid, name=None):
    """Put pid into a unit of its own (cgroup directories, no systemd); returns the unit name.
    Undone at cleanup. Skips when systemd runs on the host or the directories cannot be made."""
    if os.path.exists("/run/systemd/system"):
        raise t.Skip("systemd runs on this host: not editing its cgroup tree")
    hs = hierarchies()
    if not hs:
        raise t.Skip("no systemd cgroup hierarchy mounted under /sys/fs/cgroup")
    # A slice of our own (sd_pid_get_unit() skips any *.slice): no directory is shared with
    # another test that may run at the same time.
    slice_ = "cwtest-%d-%d.slice" % (os.getpid(), pid)
    unit = name or "cwtest-%d.service" % pid
    orig = cgroup_paths(pid)
    made = []  # directories we created, deepest last

    def undo():
        for mnt, key in hs:
            back = os.path.join(mnt, orig.get(key, "/").lstrip("/"), "cgroup.procs")
            try:
                with open(back, "w") as f:
                    f.write("%d\n" % pid)
            except OSError:
                pass
        for d in reversed(made):
            try:
                os.rmdir(d)
            except OSError as e:
                print("note: could not remove %s: %s" % (d, e))

    t.on_cleanup(undo)
    try:
        for mnt, key in hs:
            for d in (os.path.join(mnt, slice_), os.path.join(mnt, slice_, unit)):
                os.mkdir(d)
                made.append(d)
            with open(os.path.join(mnt, slice_, unit, "cgroup.procs"), "w") as f:
                f.write("%d\n" % pid)
    except OSError as e:
        raise t.Skip("cannot create the fake unit's cgroup directories: %s" % e)
    return unit


class FaultNetlink:
    """faultnl.c (built by meson, its path in $CLOSEWAITD_FAULTNL) preloaded into the daemon:
    while on, socket(AF_NETLINK) and I/O on netlink sockets fail with the errno given.

    env() is the daemon's environment for it (Daemon(env=...)): LD_PRELOAD, FAULTNL_FILE, and
    ASAN_OPTIONS with verify_asan_link_order=0 (the library comes before the ASan runtime of
    the sanitizer build; valgrind passes LD_PRELOAD through to the program)."""

    def __init__(self):
        self.lib = os.environ.get("CLOSEWAITD_FAULTNL") or os.path.join(
            source_root(), "build", "tests", "integration", "faultnl.so")
        if not os.path.isfile(self.lib):
            raise t.Skip("the fault-injection library faultnl.so is not built (%s); set "
                         "CLOSEWAITD_FAULTNL or run through meson test" % self.lib)
        self.dir = tempfile.mkdtemp(prefix="cwtest-faultnl-")
        self.path = os.path.join(self.dir, "fault")
        t.on_cleanup(lambda: shutil.rmtree(self.dir, ignore_errors=True))

    def env(self):
        asan = os.environ.get("ASAN_OPTIONS", "")
        return {"LD_PRELOAD": os.path.abspath(self.lib), "FAULTNL_FILE": self.path,
                "ASAN_OPTIONS": (asan + ":" if asan else "") + "verify_asan_link_order=0"}

    def on(self, err=None):
        """Netlink fails from now on, with errno err (EIO when None)."""
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            f.write("" if err is None else "%d\n" % err)
        os.rename(tmp, self.path)

    def off(self):
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


def netlink_fds(pid):
    """Inodes of the netlink sockets pid holds (its fds against /proc/net/netlink)."""
    nl = set()
    with open("/proc/net/netlink") as f:
        next(f)
        for line in f:
            fields = line.split()
            if fields:
                nl.add(int(fields[-1]))
    out = []
    fd_dir = "/proc/%d/fd" % pid
    for name in os.listdir(fd_dir):
        try:
            target = os.readlink(os.path.join(fd_dir, name))
        except OSError:
            continue
        if target.startswith("socket:["):
            ino = int(target[len("socket:["):-1])
            if ino in nl:
                out.append(ino)
    return sorted(out)


# A configuration for tests: fast scans, small thresholds; keys override these.
TEST_CONF = {
    "interval": "0.2",
    "close_wait": {"count": "3", "hold": "1.0", "age": "0.0"},
    "accept_backlog": {"count": "3", "hold": "1.0"},
    "time_wait": {"count": "1000000", "hold": "1.0"},
    "fd_pressure": {"ratio": "0.0", "hold": "1.0"},
    "alert": {"clear_ratio": "0.5", "repeat": "0.0"},
}


def conf_text(overrides=None, rules=""):
    """libconfig text of TEST_CONF with overrides ({"close_wait": {"count": "5"}, "interval": ..})."""
    conf = json.loads(json.dumps(TEST_CONF))
    for k, v in (overrides or {}).items():
        if isinstance(v, dict):
            conf[k].update(v)
        else:
            conf[k] = v
    out = []
    for k, v in conf.items():
        if isinstance(v, dict):
            out.append("%s: {\n%s\n};" % (k, "\n".join("  %s = %s;" % kv for kv in v.items())))
        else:
            out.append("%s = %s;" % (k, v))
    if rules:
        out.append("rules = (\n%s\n);" % rules)
    return "\n".join(out) + "\n"


class Daemon:
    """closewaitd running in the foreground."""

    def __init__(self, conf=None, notify=None, watchdog_usec=None, log_target=None, args=(),
                 state_dir=None, env=None, prefix=()):
        """env: variables added to the daemon's environment (only the daemon's: e.g. an
        LD_PRELOAD for it alone). prefix: a command the daemon runs under, outside the
        CLOSEWAITD_WRAPPER (e.g. setpriv dropping capabilities from valgrind and the daemon)."""
        self.dir = tempfile.mkdtemp(prefix="cwtest-daemon-")
        t.on_cleanup(lambda: shutil.rmtree(self.dir, ignore_errors=True))
        self.conf_path = os.path.join(self.dir, "closewaitd.conf")
        self.write_conf(conf if conf is not None else conf_text())
        self.state_dir = state_dir or os.path.join(self.dir, "run")
        full_env = dict(os.environ)
        full_env["RUNTIME_DIRECTORY"] = self.state_dir
        full_env.pop("NOTIFY_SOCKET", None)
        full_env.pop("WATCHDOG_USEC", None)
        if notify is not None:
            full_env["NOTIFY_SOCKET"] = notify.path
        if watchdog_usec is not None:
            full_env["WATCHDOG_USEC"] = str(watchdog_usec)
        full_env.update(env or {})
        argv = list(prefix) + shlex.split(os.environ.get("CLOSEWAITD_WRAPPER", "")) + [
            t.closewaitd_path(), "--config", self.conf_path]
        if log_target:
            argv += ["--log-target", log_target]
        argv += list(args)
        self.stderr_path = os.path.join(self.dir, "stderr")
        self.stderr = open(self.stderr_path, "wb")
        self.proc = t.popen(argv, stdin=subprocess.DEVNULL, stdout=self.stderr, stderr=self.stderr,
                            env=full_env)
        self.argv = argv

    def write_conf(self, text):
        tmp = self.conf_path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.rename(tmp, self.conf_path)

    def err(self):
        with open(self.stderr_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def alive(self):
        return self.proc.poll() is None

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=30):
        """SIGTERM; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise t.Fail("closewaitd did not exit within %d s of SIGTERM; stderr:\n%s"
                         % (timeout, self.err()))

    def wait_exit(self, timeout=30):
        """Wait for the daemon to exit on its own; returns the exit status."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise t.Fail("closewaitd did not exit within %d s; stderr:\n%s" % (timeout, self.err()))

    def check_alive(self):
        t.check(self.alive(), "closewaitd is running", "running",
                "exited %s; stderr:\n%s" % (self.proc.returncode, self.err()))


def leak(holder, n):
    """Make holder accept n connections whose peers then close: n CLOSE_WAIT sockets in holder.
    Returns the listener's port."""
    return leak_clients(holder, n)[0]


def leak_clients(holder, n):
    """leak(), returning (the listener's port, the peers' sockets) so that they can be closed."""
    port = holder.listen()
    clients = t.connect("127.0.0.1", port, n)
    holder.call("accept", n=n)
    # shutdown(SHUT_WR) and keep the fds: the peers stay in FIN_WAIT2 and the count stays exact.
    for c in clients:
        c.shutdown(socket.SHUT_WR)
    t.on_cleanup(lambda: t.close_all(clients))
    t.wait_ss_count(n, "the holder's sockets in CLOSE_WAIT", state="close-wait", sport=port)
    return port, clients
