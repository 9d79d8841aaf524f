"""closewaitd installed from its Debian package on a booted systemd, checked as an operator would.

A minimal Debian root (debootstrap, cached in the build directory) boots under systemd-nspawn with
a throwaway overlay (--volatile=overlay: the cached root is never written). Inside it, with the
package from debpkg.build():

  1. `apt-get install ./closewaitd_*.deb` enables and starts the service; `systemctl status` says
     active (running) with the daemon's STATUS line.
  2. a service started with `systemd-run --unit=leaky` leaks 60 CLOSE_WAIT sockets: one alert in
     `journalctl -u closewaitd`, the same one in `journalctl -u leaky`, naming the leaker's pid,
     its unit and the count that `ss` shows; `journalctl -x` shows the catalog's explanation.
  3. the leak is fixed (the service closes its sockets): the resolved entry is logged.
  4. `systemctl reload` with a tuned configuration (close_wait.count 20) applies it; with a broken
     one it logs PATH:LINE and keeps the tuned one: a leak of 30, under the shipped threshold
     but over the tuned one, gets its alert.
  5. SIGSTOP on the daemon: the shipped watchdog (WatchdogSec=60) restarts it.
  6. an upgrade restarts the service and keeps the tuned configuration (a conffile); with it
     the daemon writes metrics_file into node_exporter's directory through the unit's sandbox.
  7. `systemctl stop` exits cleanly (Result=success, status 0).
  8. `apt-get remove` stops the service, removes the program and its metrics file and keeps the
     configuration;
     `apt-get purge` removes the configuration and leaves nothing behind: the file system is as
     it was before the install (minus logs and caches), and the catalog database no longer has
     closewaitd's entries.

Skips (exit 77) with the reason when this host cannot do it: not root, no systemd-nspawn or
debootstrap, no Debian mirror for debootstrap, or a container that does not boot.

Run: meson test -C build --suite system -v
"""

import ctypes
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import signal
import time

import cwtest as t
import debpkg

SRC = sys.argv[1]
WORK = sys.argv[2]
HERE = os.path.dirname(os.path.abspath(__file__))

# What the root holds besides the package's own dependencies: a booted systemd with its D-Bus,
# python3 for the leaking service, ss (iproute2) and ps/kill (procps) for the checks.
BASE_PACKAGES = ["systemd", "systemd-sysv", "dbus", "iproute2", "procps", "python3"]

CONF = "/etc/closewaitd/closewaitd.conf"
MID_CLOSE_WAIT = "fd90960cbac74d8d928e85956d41cad2"
MID_RESOLVED = "14f5b9873616466aaa8faa39c2ba4566"
LEAK = 60  # over the shipped close_wait.count = 50
SMALL_LEAK, SMALL_THRESHOLD = 30, 20  # under it, over a tuned one
INSIDE_PKG = "/run/closewaitd-test"
NODE_EXPORTER = "/var/lib/prometheus/node-exporter"  # Debian's textfile directory
METRICS = NODE_EXPORTER + "/closewaitd.prom"  # where the package directory is bound, read-only

ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8",
       "SYSTEMD_PAGER": "", "SYSTEMD_COLORS": "0", "DEBIAN_FRONTEND": "noninteractive",
       "TERM": "dumb"}


def step(msg):
    print("== %s" % msg, flush=True)


# ---------------------------------------------------------------------------------------------
# the root

def usable_mirror(uri):
    """A URI of apt's sources that debootstrap can fetch from, or None. Cloud images name a list
    (mirror+file:///etc/apt/mirrors/debian.list): its first entry."""
    if uri.startswith("mirror+file:"):
        try:
            with open(uri[len("mirror+file:"):].replace("//", "", 1)) as f:
                for line in f:
                    if line.strip() and not line.lstrip().startswith("#"):
                        return usable_mirror(line.split()[0])
        except OSError:
            return None
    if uri.startswith(("http://", "https://")):
        return uri
    return None


def host_suite_and_mirror():
    suite = None
    with open("/etc/os-release") as f:
        for line in f:
            if line.startswith("VERSION_CODENAME="):
                suite = line.split("=", 1)[1].strip().strip('"')
    mirror = None
    sources = "/etc/apt/sources.list.d/debian.sources"
    if os.path.exists(sources):
        with open(sources) as f:
            for block in f.read().split("\n\n"):
                fields = dict(ln.split(":", 1) for ln in block.splitlines() if ":" in ln and not ln.startswith("#"))
                if suite in fields.get("Suites", "").split() and "main" in fields.get("Components", ""):
                    mirror = usable_mirror(fields["URIs"].split()[0])
                    break
    if mirror is None and os.path.exists("/etc/apt/sources.list"):
        with open("/etc/apt/sources.list") as f:
            for line in f:
                w = line.split()
                if len(w) >= 4 and w[0] == "deb" and w[2] == suite and not w[1].startswith("["):
                    mirror = usable_mirror(w[1])
                    break
    if not suite:
        raise t.Skip("cannot tell this host's Debian release (no VERSION_CODENAME in /etc/os-release)")
    return suite, mirror or "http://deb.debian.org/debian"


def make_root(includes):
    """A minbase root with includes, built once per (suite, mirror, includes) and kept beside
    the build's other outputs."""
    suite, mirror = host_suite_and_mirror()
    key = hashlib.sha256(("%s %s %s" % (suite, mirror, ",".join(sorted(includes)))).encode()).hexdigest()[:12]
    root = os.path.join(WORK, "root-" + key)
    if os.path.exists(root + ".ok"):
        return root
    for old in os.listdir(WORK):
        if old.startswith("root-"):
            path = os.path.join(WORK, old)
            shutil.rmtree(path) if os.path.isdir(path) else os.unlink(path)
    tmp = root + ".tmp"
    log = root + ".debootstrap.log"
    step("debootstrap %s from %s into %s (once; about 70 s)" % (suite, mirror, root))
    for attempt in (1, 2):  # once more after a failed download
        shutil.rmtree(tmp, ignore_errors=True)
        with open(log, "w") as lf:
            p = subprocess.run(["debootstrap", "--variant=minbase", "--include=" + ",".join(sorted(includes)),
                                suite, tmp, mirror], stdin=subprocess.DEVNULL, stdout=lf,
                               stderr=subprocess.STDOUT)
        if p.returncode == 0:
            break
    if p.returncode != 0:
        with open(log) as lf:
            text = lf.read()
        shutil.rmtree(tmp, ignore_errors=True)
        what = "debootstrap of a %s root from %s exited %d; the end of %s:\n%s" % (
            suite, mirror, p.returncode, log, text[-1500:])
        # no mirror reachable is this host's lack; anything else (a package the --include list
        # names that does not exist, say) is an error of the test or the package
        if re.search(r"Failed getting release file|Couldn't download|Temporary failure resolving|"
                     r"Could not resolve|Connection refused|Network is unreachable|Failed to connect", text):
            raise t.Skip("no Debian mirror reachable for debootstrap, so there is no system to boot: " + what)
        raise t.Fail(what)
    os.rename(tmp, root)
    open(root + ".ok", "w").close()
    return root


# ---------------------------------------------------------------------------------------------
# the container

def process_tree():
    """{ppid: [pid]} and {pid: comm} of every process, from /proc/PID/stat."""
    children, comm = {}, {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        name = st[st.index("(") + 1:st.rindex(")")]
        ppid = int(st[st.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(d))
        comm[int(d)] = name
    return children, comm


def descendants(children, pid):
    """Every descendant of pid in a process_tree() map, nearest first."""
    found = list(children.get(pid, []))
    for p in found:
        found += children.get(p, [])
    return found


def kill_leftovers():
    """Containers of earlier runs of this test whose process is gone (killed before it could
    clean up): their systemd-nspawn is told to power off, then killed with the container."""
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if not argv or os.path.basename(argv[0]) != b"systemd-nspawn" or b"-M" not in argv:
            continue
        m = re.fullmatch(rb"cwsys(\d+)", (argv + [b""])[argv.index(b"-M") + 1])
        if not m or os.path.exists("/proc/%s" % m.group(1).decode()):
            continue
        print("stopping the container %s left by an earlier run (pid %s)" % (m.group(0).decode(), d))
        pid = int(d)
        family = [pid] + descendants(process_tree()[0], pid)
        try:
            os.kill(pid, signal.SIGTERM)  # nspawn: power the container off
        except ProcessLookupError:
            continue
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and os.path.exists("/proc/%d" % pid):
            time.sleep(0.2)
        for p in family:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _nspawn_dies_with_us():
    # when the test is killed (meson's timeout sends SIGKILL), nspawn powers the container off
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG

class Container:
    def __init__(self, root, binds):
        self.root = root
        self.binds = binds
        self.name = "cwsys%d" % os.getpid()
        self.log = os.path.join(WORK, "console.log")
        self.nspawn = None
        self.leader = None

    def boot(self, timeout=60):
        argv = ["systemd-nspawn", "-D", self.root, "--volatile=overlay", "-b", "-M", self.name,
                "--register=no", "--keep-unit", "--private-network", "--console=pipe"]
        argv += ["--bind-ro=%s:%s" % b for b in self.binds]
        self.logf = open(self.log, "w")
        self.nspawn = t.popen(argv, stdin=subprocess.DEVNULL, stdout=self.logf, stderr=subprocess.STDOUT,
                              preexec_fn=_nspawn_dies_with_us)
        t.on_cleanup(self.shutdown)
        deadline = time.monotonic() + timeout
        state = "no systemd yet"
        while time.monotonic() < deadline:
            if self.nspawn.poll() is not None:
                break
            if self.leader is None:
                self.leader = self._find_leader()
            if self.leader is not None:
                try:
                    p = self.run(["systemctl", "is-system-running"], check=False, timeout=10)
                    state = p.stdout.strip()
                except subprocess.TimeoutExpired:
                    state = "no answer from systemctl is-system-running within 10 s"
                if state in ("running", "degraded"):
                    return state
            time.sleep(0.2)
        console = self.console()
        if re.search(r"unrecognized option|Unknown option|invalid option|--help", console):
            raise t.Fail("systemd-nspawn refused the test's command line: %s\n%s" % (argv, console[-1500:]))
        raise t.Skip("systemd-nspawn did not boot a container here (state: %s; nspawn %s); "
                     "the end of %s:\n%s" % (state, "exited %s" % self.nspawn.returncode
                                             if self.nspawn.poll() is not None else "still running",
                                             self.log, self.console()[-1500:]))

    def _find_leader(self):
        # PID 1 of the container: a descendant of systemd-nspawn whose comm is "systemd"
        children, comm = process_tree()
        return next((p for p in descendants(children, self.nspawn.pid) if comm.get(p) == "systemd"), None)

    def console(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def run(self, argv, check=True, timeout=120, input=None):
        """argv inside the container (all of its namespaces), as root; text output."""
        p = subprocess.run(["nsenter", "-t", str(self.leader), "-a", "--"] + argv, env=ENV,
                           input=input, stdin=None if input is not None else subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
        if check and p.returncode != 0:
            raise t.Fail("in the container, `%s` exited %d\nstdout: %s\nstderr: %s"
                         % (" ".join(argv), p.returncode, p.stdout[-3000:], p.stderr[-3000:]))
        return p

    def write(self, path, text):
        self.run(["sh", "-c", 'cat > "$1"', "sh", path], input=text)

    def read(self, path):
        return self.run(["cat", path]).stdout

    def show(self, unit, *props):
        out = self.run(["systemctl", "show", unit, "-p", ",".join(props)]).stdout
        return dict(ln.split("=", 1) for ln in out.splitlines() if "=" in ln)

    def journal(self, *args):
        """Entries of `journalctl -b ARGS -o json`, as dicts of str."""
        out = self.run(["journalctl", "-b", "--no-pager", "--all", "-o", "json"] + list(args)).stdout
        entries = []
        for line in out.splitlines():
            e = json.loads(line)
            for k, v in e.items():
                if isinstance(v, list):  # binary or repeated fields
                    v = v[0] if v and isinstance(v[0], list) else v
                    e[k] = bytes(v).decode("utf-8", "replace") if v and isinstance(v[0], int) else str(v)
            entries.append(e)
        return entries

    def shutdown(self):
        if self.nspawn is None or self.nspawn.poll() is not None:
            return
        if self.leader is not None:
            subprocess.run(["nsenter", "-t", str(self.leader), "-a", "--", "systemctl", "poweroff"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
        try:
            self.nspawn.wait(timeout=30)
        except subprocess.TimeoutExpired:
            print("the container did not power off within 30 s; killing it")
            if self.leader is not None:
                try:
                    os.kill(self.leader, 9)
                except ProcessLookupError:
                    pass


def wait_for(what, fn, timeout, interval=0.5):
    """fn() every interval seconds until it returns something true (each call starts processes
    in the container: not at cwtest's default pace)."""
    return t.wait_for(fn, what, timeout, interval)


# ---------------------------------------------------------------------------------------------
# the checks

def snapshot(c):
    """Every path of the container's file system, but for kernel file systems, logs, caches,
    apt's own bookkeeping (its first install creates /var/lib/apt/extended_states; what it says
    is checked apart) and runtime state other than /run/closewaitd."""
    prune = ["/proc", "/sys", "/dev", "/tmp", "/var/tmp", "/var/log", "/var/cache", "/var/lib/apt",
             "/run"]
    expr = []
    for p in prune:
        expr += ["-path", p, "-o"]
    out = c.run(["find", "/", "-xdev", "("] + expr[:-1] + [")", "-prune", "-o", "-print"]).stdout
    paths = set(out.splitlines())
    paths |= set(c.run(["sh", "-c", "ls -d /run/closewaitd 2>/dev/null; true"]).stdout.split())
    return paths


def alerts(c, unit, mid):
    return [e for e in c.journal("-u", unit) if e.get("MESSAGE_ID") == mid]


def main():
    t.need_root()
    for tool in ("systemd-nspawn", "debootstrap", "nsenter"):
        if shutil.which(tool) is None:
            raise t.Skip("needs %s (apt-get install systemd-container debootstrap util-linux; "
                         "tools/deps.sh installs them)" % tool)
    if shutil.which("modprobe"):  # overlay is a module in Debian's kernels
        subprocess.run(["modprobe", "-q", "overlay"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open("/proc/filesystems") as f:
        if "overlay" not in f.read():
            raise t.Skip("needs overlayfs for systemd-nspawn --volatile=overlay (not in /proc/filesystems after modprobe overlay)")
    kill_leftovers()

    step("building the package")
    out = debpkg.build(SRC, WORK)
    deb = debpkg.deb_path(out, SRC)
    version = debpkg.version(SRC)
    upgrade_version = version + "+systemtest1"
    pkgdir = os.path.join(WORK, "inside")
    shutil.rmtree(pkgdir, ignore_errors=True)
    os.makedirs(pkgdir)
    shutil.copy2(deb, pkgdir)
    debpkg.repack(deb, upgrade_version, pkgdir)
    shutil.copy2(os.path.join(HERE, "leaky.py"), pkgdir)
    deb_in = "%s/%s" % (INSIDE_PKG, os.path.basename(deb))
    upgrade_in = "%s/closewaitd_%s_%s.deb" % (INSIDE_PKG, upgrade_version, debpkg.arch())

    root = make_root(BASE_PACKAGES + debpkg.depends_names(deb))
    c = Container(root, [(pkgdir, INSIDE_PKG)])
    step("booting %s" % root)
    t0 = time.monotonic()
    state = c.boot()
    print("booted in %.1f s, system %s" % (time.monotonic() - t0, state))
    # nothing else may change the file system meanwhile (dpkg-db-backup at midnight, apt-daily)
    c.run(["systemctl", "stop", "*.timer"])
    before = snapshot(c)

    # 1. install: enabled, started, a STATUS line
    step("apt-get install %s" % deb_in)
    p = c.run(["apt-get", "install", "-q", "-y", "--no-install-recommends", deb_in])
    print(p.stdout[-1500:])
    t.check_eq(c.run(["systemctl", "is-enabled", "closewaitd"], check=False).stdout.strip(), "enabled",
               "the package enables closewaitd.service")
    wait_for("closewaitd.service active with a STATUS line",
             lambda: c.show("closewaitd", "StatusText")["StatusText"], 30)
    st = c.run(["systemctl", "status", "--no-pager", "closewaitd"], check=False)
    print(st.stdout)
    t.check_eq(st.returncode, 0, "`systemctl status closewaitd` exits 0 (active)")
    t.check(re.search(r"^\s*Active: active \(running\)", st.stdout, re.M), "systemctl status: active (running)",
            "Active: active (running)", st.stdout)
    t.check(re.search(r"^\s*Status: \"\d+ CLOSE_WAIT", st.stdout, re.M),
            "systemctl status shows the daemon's STATUS line", 'Status: "N CLOSE_WAIT ...', st.stdout)

    support = re.search(r"^Support: file://(\S+)", c.read("/usr/lib/systemd/catalog/closewaitd.catalog"), re.M)
    t.check(support, "the installed catalog has a Support: line")
    t.check(c.run(["test", "-f", support.group(1)], check=False).returncode == 0,
            "the catalog's Support: link names an installed file", support.group(1))

    # 2. a leaking service: one alert, in both units' journals
    step("systemd-run --unit=leaky: %d CLOSE_WAIT sockets" % LEAK)
    c.run(["systemd-run", "--unit=leaky", "/usr/bin/python3", INSIDE_PKG + "/leaky.py", str(LEAK)])
    leaky_pid = int(wait_for("leaky.service running",
                             lambda: (lambda pid: pid != "0" and pid)(c.show("leaky", "MainPID")["MainPID"]), 10))
    wait_for("leaky.py holds its sockets", lambda: "holding" in c.run(["journalctl", "-b", "-u", "leaky",
                                                                        "-o", "cat"]).stdout, 20)
    ss = c.run(["ss", "-Htn", "state", "close-wait"]).stdout.splitlines()
    t.check_eq(len(ss), LEAK, "ss sees the leaked sockets")
    wait_for("a close_wait alert in journalctl -u closewaitd", lambda: alerts(c, "closewaitd", MID_CLOSE_WAIT), 60)
    time.sleep(12)  # two more scans: an alert is raised once, not at every scan
    got = alerts(c, "closewaitd", MID_CLOSE_WAIT)
    t.check_eq(len(got), 1, "alerts in journalctl -u closewaitd")
    a = got[0]
    print("entry: %s" % a["MESSAGE"])
    for k, v in (("CLOSEWAITD_PID", str(leaky_pid)), ("OBJECT_PID", str(leaky_pid)),
                 ("CLOSEWAITD_UNIT", "leaky.service"), ("OBJECT_SYSTEMD_UNIT", "leaky.service"),
                 ("CLOSEWAITD_COUNT", str(LEAK)), ("CLOSEWAITD_KIND", "close_wait"),
                 ("SYSLOG_IDENTIFIER", "closewaitd"), ("_SYSTEMD_UNIT", "closewaitd.service")):
        t.check_eq(a.get(k), v, "the alert's %s" % k)
    in_leaky = alerts(c, "leaky", MID_CLOSE_WAIT)
    t.check_eq([e["__CURSOR"] for e in in_leaky], [a["__CURSOR"]],
               "journalctl -u leaky has the same one alert")
    x = c.run(["journalctl", "-b", "-x", "--no-pager", "-u", "leaky", "MESSAGE_ID=" + MID_CLOSE_WAIT]).stdout
    print(x)
    t.check("Subject: CLOSE_WAIT leak suspected in python3[%d]: %d stuck sockets" % (leaky_pid, LEAK) in x,
            "journalctl -x shows the catalog's subject, filled in", "Subject: CLOSE_WAIT leak ...", x)
    t.check("The kernel never times CLOSE_WAIT out" in x, "journalctl -x shows the catalog's explanation")

    # 3. the fix: resolved
    step("the leak is fixed")
    c.run(["systemctl", "kill", "-s", "USR1", "--kill-who=main", "leaky"])
    res = wait_for("the resolved entry", lambda: [e for e in alerts(c, "closewaitd", MID_RESOLVED)
                                                  if e.get("CLOSEWAITD_PID") == str(leaky_pid)], 30)
    t.check_eq(len(res), 1, "resolved entries for the leak")
    t.check_eq(res[0].get("CLOSEWAITD_KIND"), "close_wait", "the resolved entry's kind")
    t.check_eq([e["__CURSOR"] for e in alerts(c, "leaky", MID_RESOLVED)], [res[0]["__CURSOR"]],
               "journalctl -u leaky has the resolved entry")
    print("entry: %s" % res[0]["MESSAGE"])

    # 4. reload: a tuned configuration applies; a broken one is refused with PATH:LINE and the
    # tuned one stays in force, as a second, smaller leak shows
    step("systemctl reload, tuned then broken")
    shipped = c.read(CONF)
    lines = shipped.splitlines(True)
    n = next(i for i, ln in enumerate(lines) if ln.startswith("#interval = "))
    tuning = "close_wait: { count = %d; hold = 2.0; };\n" % SMALL_THRESHOLD
    tuned = "".join(lines[:n] + ["interval = 1.0;\n"] + lines[n + 1:] + [tuning])
    broken = "".join(lines[:n] + ["interval = 1.0 fast;\n"] + lines[n + 1:] + [tuning])
    pid = c.show("closewaitd", "MainPID")["MainPID"]
    c.write(CONF, tuned)
    c.run(["systemctl", "reload", "closewaitd"])
    wait_for("the reload applied", lambda: "configuration reloaded from %s: interval 1.0s" % CONF
             in c.run(["journalctl", "-b", "-u", "closewaitd", "-o", "cat"]).stdout, 15)
    c.write(CONF, broken)
    since = c.run(["date", "+%s.%N"]).stdout.strip()
    c.run(["systemctl", "reload", "closewaitd"])
    bad = wait_for("the reload refused", lambda: [e["MESSAGE"] for e in c.journal("-u", "closewaitd", "--since", "@" + since)
                                                  if "keeping the running configuration" in e["MESSAGE"]], 15)
    msgs = [e["MESSAGE"] for e in c.journal("-u", "closewaitd", "--since", "@" + since)]
    where = "%s:%d: " % (CONF, n + 1)
    t.check(any(m.startswith(where) for m in msgs), "the refused reload names the file and line",
            where + "...", msgs)
    print("\n".join(m for m in msgs if m.startswith(where)) + "\n" + bad[0])
    now = c.show("closewaitd", "MainPID", "ActiveState")
    t.check_eq((now["MainPID"], now["ActiveState"]), (pid, "active"), "the daemon after the refused reload")
    c.run(["systemd-run", "--unit=leaky2", "/usr/bin/python3", INSIDE_PKG + "/leaky.py", str(SMALL_LEAK)])
    got = wait_for("an alert for %d sockets under the tuned threshold" % SMALL_LEAK,
                   lambda: alerts(c, "leaky2", MID_CLOSE_WAIT), 20)
    t.check_eq((got[0].get("CLOSEWAITD_COUNT"), got[0].get("CLOSEWAITD_THRESHOLD")),
               (str(SMALL_LEAK), str(SMALL_THRESHOLD)),
               "after the refused reload, the tuned threshold is in force (count, threshold)")
    c.run(["systemctl", "stop", "leaky2"])
    c.write(CONF, tuned)

    # 5. the watchdog
    step("SIGSTOP: the watchdog restarts the daemon")
    before_wd = c.show("closewaitd", "MainPID", "NRestarts", "WatchdogUSec")
    t.check_eq(before_wd["WatchdogUSec"], "1min", "the shipped WatchdogSec")
    c.run(["kill", "-STOP", before_wd["MainPID"]])
    t0 = time.monotonic()

    def restarted():
        s = c.show("closewaitd", "MainPID", "NRestarts", "ActiveState", "StatusText")
        return (s["MainPID"] not in ("0", before_wd["MainPID"]) and s["ActiveState"] == "active"
                and s["StatusText"] and s)
    s = wait_for("a restart by the watchdog", restarted, 120, 1)
    print("restarted after %.0f s: %s" % (time.monotonic() - t0, s))
    t.check_eq(int(s["NRestarts"]), int(before_wd["NRestarts"]) + 1, "NRestarts")
    log = c.run(["journalctl", "-b", "-u", "closewaitd", "-o", "cat"]).stdout
    t.check("closewaitd.service: Watchdog timeout" in log, "systemd logged the watchdog timeout")

    # 6. upgrade: restarted, configuration kept. The operator also turned on the metrics file
    # for node_exporter's textfile directory (a change that takes a restart): the upgrade's
    # restart starts writing it, through the shipped unit's sandbox.
    step("upgrade to %s" % upgrade_version)
    c.run(["mkdir", "-p", NODE_EXPORTER])
    tuned += 'metrics_file = "%s";\n' % METRICS
    c.write(CONF, tuned)
    pid = c.show("closewaitd", "MainPID")["MainPID"]
    p = c.run(["apt-get", "install", "-q", "-y", "--no-install-recommends", upgrade_in])
    print(p.stdout[-1000:])
    t.check_eq(c.run(["dpkg-query", "-W", "-f=${Version}", "closewaitd"]).stdout, upgrade_version,
               "the installed version")
    s = wait_for("closewaitd active after the upgrade", lambda: (lambda s: s["ActiveState"] == "active" and s)(
        c.show("closewaitd", "MainPID", "ActiveState")), 30)
    t.check(s["MainPID"] != pid, "the upgrade restarted the daemon", "a new pid", s["MainPID"])
    t.check_eq(c.read(CONF), tuned, "the tuned configuration after the upgrade")
    t.check_eq(c.run(["sh", "-c", "ls /etc/closewaitd"]).stdout.split(), ["closewaitd.conf"],
               "/etc/closewaitd after the upgrade (no .dpkg-new or .dpkg-old)")
    mode = wait_for("the metrics file", lambda: c.run(["stat", "-c", "%a", METRICS], check=False).stdout.strip(), 15)
    t.check_eq(mode, "644", "the metrics file's mode (node_exporter reads it as another user)")
    t.check("\nclosewaitd_scans_total " in c.read(METRICS), "the metrics file has the scan counter")

    # quiet when healthy: from the daemon, nothing at warning or above but what the test caused
    # (no capability missing, no namespace or /proc entry it could not read under the shipped
    # sandbox, nothing from the restarts)
    own = [e for e in c.journal("-u", "closewaitd") if e.get("SYSLOG_IDENTIFIER") == "closewaitd"]
    caused = re.compile(r"^(%s:%d: |reload failed: )" % (re.escape(CONF), n + 1))
    t.check_eq([e["MESSAGE"] for e in own if int(e.get("PRIORITY", "6")) <= 4
                and e.get("MESSAGE_ID") != MID_CLOSE_WAIT and not caused.match(e["MESSAGE"])], [],
               "warnings from the daemon that the test did not cause")

    # 7. stop
    step("systemctl stop")
    c.run(["systemctl", "stop", "closewaitd"])
    s = c.show("closewaitd", "ActiveState", "Result", "ExecMainCode", "ExecMainStatus")
    t.check_eq(s, {"ActiveState": "inactive", "Result": "success", "ExecMainCode": "1", "ExecMainStatus": "0"},
               "closewaitd.service after systemctl stop (exited, status 0)")

    # 8. remove, purge
    step("apt-get remove, then purge")
    c.run(["systemctl", "start", "closewaitd"])
    c.run(["apt-get", "remove", "-q", "-y", "closewaitd"])
    t.check_eq(c.show("closewaitd", "ActiveState")["ActiveState"], "inactive", "the service after apt-get remove")
    t.check_eq(c.run(["pgrep", "-x", "closewaitd"], check=False).stdout.split(), [],
               "closewaitd processes after apt-get remove")
    t.check(c.run(["test", "-e", "/usr/sbin/closewaitd"], check=False).returncode != 0,
            "apt-get remove removes /usr/sbin/closewaitd")
    t.check_eq(c.read(CONF), tuned, "the configuration after apt-get remove")
    t.check(c.run(["test", "-e", METRICS], check=False).returncode != 0,
            "apt-get remove removes the metrics file (node_exporter would serve its last values)")
    t.check_eq(c.run(["dpkg-query", "-W", "-f=${Status}", "closewaitd"]).stdout, "deinstall ok config-files",
               "dpkg's status after apt-get remove")
    c.run(["apt-get", "purge", "-q", "-y", "closewaitd"])
    t.check(c.run(["dpkg-query", "-W", "closewaitd"], check=False).returncode != 0,
            "dpkg no longer knows closewaitd after apt-get purge")
    c.run(["rm", "-r", "/var/lib/prometheus"])  # the test's stand-in for node_exporter's
    after = snapshot(c)
    t.check_eq((sorted(after - before), sorted(before - after)), ([], []),
               "paths added and removed between before the install and after the purge")
    t.check_eq(c.run(["grep", "-rl", "closewaitd", "/var/lib/apt", "/var/lib/dpkg/status",
                      "/var/lib/systemd"], check=False).stdout.split(), [],
               "files of apt, dpkg and systemd that still name closewaitd after the purge")
    t.check_eq(c.show("closewaitd", "LoadState")["LoadState"], "not-found", "closewaitd.service after the purge")
    cat = c.run(["journalctl", "--list-catalog"]).stdout
    t.check(MID_CLOSE_WAIT not in cat, "the catalog database no longer has closewaitd's entries")
    print("purge left nothing behind (%d paths compared)" % len(after))


if __name__ == "__main__":
    t.main(main, timeout=1100)  # under meson's 1200: a hang ends here, with its cleanup
