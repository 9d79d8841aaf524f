#!/usr/bin/python3
"""bench: closewaitd at scale, against ss, on the targets of the scale issue.

    tests/bench/bench.py [--build DIR] [--sockets 100000] [--holders 7] [--fillers 210] [--runs 5]
                         [--phases cold,steady,new,rss,idle] [--churn-scans 10000]
                         [--netns 100] [--netns-sockets 20] [--netns-child-ehash 1024]

Root only (exit 77 otherwise). Phases, always run in this order whatever the order given:

  idle    a quiet host: 50 CLOSE_WAIT in one process, sleepers up to 300 /proc pids. Run first,
          so that no leftover of the big scenario (TIME_WAIT, sockets being freed) is in its way.
  netns   (only when asked) the cost of network namespaces; run before the big scenario, since
          in a namespace that shares the host's TCP established hash table a dump walks all of
          that table, the host's sockets included. First the daemon (interval 1.0 s) with no
          namespace of ours: its CPU per scan, the base. Then --netns namespaces (`ip netns add`
          cwbench-<pid>-<i>, nsfarm.py), in each a process of ours (setns()) holding
          --netns-sockets CLOSE_WAIT over that namespace's loopback, verified with
          `ss -Htn state close-wait` run there; `closewaitd --once --json` must report
          scan.netns_watched >= N+1 and every leaker's pid with its K CLOSE_WAIT and its
          namespace (T8). Then the daemon at interval 1.0 s, the first two scans skipped (the
          first enters the namespaces), CPU per scan (STATUS=) against `ss -tan state close-wait`
          run in each namespace after each scan, the CPU of the N summed (T7): what an operator
          runs to see the same. Only ss is measured: this process setns()es its thread into the
          namespace, posix_spawn()s ss there and comes back, so neither `ip netns exec` (which
          also makes a mount namespace and remounts /sys) nor nsenter is counted; one pass of each
          wrapper, its CPU included, is printed for information. T7i (information, no target):
          the scan CPU added per namespace, (scan CPU with N - the base) / N, beside ss per
          namespace. The kernel's table size (tcp_ehash_entries, the boot's dmesg line) and
          net.ipv4.tcp_child_ehash_entries are printed: they set what a dump costs. With
          --netns-child-ehash E > 0 (default 1024; 0: skipped) it is all done again with
          tcp_child_ehash_entries = E while the namespaces are made (the old value is put back
          right after, and in any case), so each gets a table of E buckets: T7e, T7ei, T8e. The
          namespaces and their processes are removed whatever happens.
  cold    --sockets CLOSE_WAIT in --holders processes, --fillers other processes with >= 100k
          other fds (leakfarm.py). `closewaitd --once --json` and `ss -tanp state close-wait`,
          alternated run by run, stdout to /dev/null: wall time and CPU (rusage of wait4).
  steady  the daemon running on the same scenario (interval 1.0 s): CPU per scan (its
          STATUS= "cpu N ms", CLOCK_PROCESS_CPUTIME_ID around the scan), the first two scans
          skipped; `ss -tan state close-wait` (no -p) run after each scan, between two scans.
  rss     the daemon's VmHWM (peak RSS) with the --sockets CLOSE_WAIT tracked (taken after
          steady, before new adds sockets; the figure after new is printed for information).
  new     1,000 new CLOSE_WAIT made after scan k (verified in CLOSE_WAIT before scan k+1
          starts): the CPU of scan k+1; ss after it.
  churn   (only when asked) interval 0.1 s, a small farm and churn between every two scans:
          --churn-scans scans, VmRSS at checkpoints; flat is judged from the first checkpoint
          after 1,500 scans of warm-up (closed sockets fill TIME_WAIT for 60 s, the allocator
          reaches the sizes of the largest scans), the warm-up's growth printed beside it.

Every target prints one line "Tn | measure | closewaitd | ss | ratio | target | MET/NOT MET";
figures with no target print "Tn | measure | closewaitd | ss | ratio | - | INFO" and are not
counted; the last line is "targets: N met, M not met". The exit status is 0 whether targets are met or
not (a benchmark, not a test); 1 when the scenario or the daemon failed; 77 when not root.
"""

import argparse
import json
import math
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import leakfarm  # noqa: E402
import nsfarm  # noqa: E402

SRC = os.path.abspath(os.path.join(HERE, "..", ".."))
CONF = os.path.join(HERE, "closewaitd-bench.conf")
CLK_TCK = os.sysconf("SC_CLK_TCK")
NEW_BATCH = 1000
IDLE_CW = 50
IDLE_PROCS = 300
CHURN_SOCKETS, CHURN_HOLDERS, CHURN_FILLERS, CHURN_FILLER_FDS = 3000, 3, 20, 200
RSS_FLAT_KIB = 1024
CHURN_WARMUP_SCANS = 1500  # ~4 min at interval 0.1 s: past the 60 s of TIME_WAIT the churn starts

RE_SCAN = re.compile(r"scan ([0-9.]+) ms, cpu ([0-9.]+) ms, ([0-9]+) /proc entries")
RE_CW = re.compile(r"([0-9]+) CLOSE_WAIT in ([0-9]+) process")
RE_NS = re.compile(r"in ([0-9]+) network namespace")
CHILD_EHASH = "/proc/sys/net/ipv4/tcp_child_ehash_entries"


class BenchError(Exception):
    pass


def out(line=""):
    print(line, flush=True)


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def fmt_list(xs, unit, nd=1):
    return "[" + ", ".join(("%." + str(nd) + "f") % x for x in xs) + "] " + unit


# ---------------------------------------------------------------------------------------------
# Host facts.


def meminfo(key):
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def git_describe():
    if not shutil.which("git"):
        return "unknown (no git)"
    env = dict(os.environ, GIT_OPTIONAL_LOCKS="0")  # read-only: never touch the index
    r = subprocess.run(["git", "-C", SRC, "describe", "--always", "--tags"], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, env=env)
    return r.stdout.decode().strip() if r.returncode == 0 else "unknown"


def proc_pids():
    return [int(e) for e in os.listdir("/proc") if e.isdigit()]


def count_fds(pids):
    total = 0
    for pid in pids:
        try:
            total += len(os.listdir("/proc/%d/fd" % pid))
        except OSError:
            pass
    return total


def proc_status(pid):
    d = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                d[k] = int(v.split()[0])  # kB
    return d


def proc_cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        s = f.read()
    fields = s[s.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])  # utime + stime: fields 14 and 15 of stat


# ---------------------------------------------------------------------------------------------
# Commands measured with wait4.


def run_measured(argv, stdout_path="/dev/null"):
    """(wall s, cpu s = ru_utime + ru_stime, exit code)."""
    fa = [(os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
          (os.POSIX_SPAWN_OPEN, 1, stdout_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)]
    t0 = time.monotonic()
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=fa)
    try:
        _, status, ru = os.wait4(pid, 0)
    except BaseException:  # interrupted: do not leave a 15 s `ss -tanp` behind
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise
    wall = time.monotonic() - t0
    return wall, ru.ru_utime + ru.ru_stime, os.waitstatus_to_exitcode(status)


SS = shutil.which("ss") or "/usr/bin/ss"


def ss_cpu(procs=False):
    argv = [SS, "-tanp" if procs else "-tan", "state", "close-wait"]
    wall, cpu, rc = run_measured(argv)
    if rc != 0:
        raise BenchError("%s exited %d" % (" ".join(argv), rc))
    return wall, cpu


def ss_count():
    return leakfarm.ss_count_close_wait()


# ---------------------------------------------------------------------------------------------
# The daemon, with an sd_notify socket of ours.


class Status:
    def __init__(self, text, t):
        self.text = text
        self.t = t
        m = RE_SCAN.search(text)
        self.scan_ms, self.cpu_ms, self.proc_entries = float(m.group(1)), float(m.group(2)), int(m.group(3))
        m = RE_CW.search(text)
        self.cw = int(m.group(1)) if m else -1
        self.procs = int(m.group(2)) if m else -1
        m = RE_NS.search(text)
        self.netns = int(m.group(1)) if m else -1


class Daemon:
    def __init__(self, binary, tmp, name, interval):
        self.binary = binary
        self.tmp = tmp
        self.name = name
        self.interval = interval
        self.conf = os.path.join(tmp, "%s.conf" % name)
        self.log = os.path.join(tmp, "%s.log" % name)
        self.notify_path = os.path.join(tmp, "%s.notify" % name)
        self.proc = None
        self.sock = None
        self.scans = 0
        self.failures = []

    def start(self):
        with open(CONF) as f:
            text = f.read()
        text, n = re.subn(r"(?m)^\s*interval\s*=.*$", "interval = %s;" % self.interval, text)
        if n == 0:
            text += "\ninterval = %s;\n" % self.interval
        with open(self.conf, "w") as f:
            f.write(text)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.bind(self.notify_path)  # before the daemon starts: datagrams to nowhere are lost
        env = {k: v for k, v in os.environ.items()
               if k not in ("WATCHDOG_USEC", "WATCHDOG_PID", "JOURNAL_STREAM", "LISTEN_FDS", "LISTEN_PID")}
        env["NOTIFY_SOCKET"] = self.notify_path
        env["RUNTIME_DIRECTORY"] = os.path.join(self.tmp, "%s.run" % self.name)  # a fresh state dir
        os.makedirs(env["RUNTIME_DIRECTORY"], mode=0o700, exist_ok=True)
        logf = open(self.log, "wb")
        self.proc = subprocess.Popen([self.binary, "--config", self.conf, "--log-target", "stderr"],
                                     stdin=subprocess.DEVNULL, stdout=logf, stderr=logf, env=env)
        logf.close()

    @property
    def pid(self):
        return self.proc.pid

    def _parse(self, data, t):
        got = []
        for line in data.decode("utf-8", "replace").split("\n"):
            if not line.startswith("STATUS="):
                continue
            text = line[7:]
            if RE_SCAN.search(text):
                got.append(Status(text, t))
            else:
                self.failures.append(text)
        return got

    def next_status(self, timeout=120.0):
        """The next scan's STATUS (datagrams without a scan are kept in self.failures)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BenchError("%s: no scan reported within %.0f s (log %s)" % (self.name, timeout, self.log))
            if self.proc.poll() is not None:
                raise BenchError("%s: the daemon exited with %d (log %s)" % (self.name, self.proc.returncode,
                                                                            self.log))
            self.sock.settimeout(min(left, 1.0))
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            got = self._parse(data, time.monotonic())
            if got:
                self.scans += len(got)
                if len(got) > 1:
                    raise BenchError("one datagram with several scans")
                return got[0]

    def drain(self):
        """Every STATUS queued now, without waiting."""
        got = []
        self.sock.setblocking(False)
        try:
            while True:
                try:
                    data = self.sock.recv(65536)
                except BlockingIOError:
                    break
                got += self._parse(data, time.monotonic())
        finally:
            self.sock.setblocking(True)
        self.scans += len(got)
        return got

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.sock:
            self.sock.close()
            self.sock = None
            try:
                os.unlink(self.notify_path)
            except OSError:
                pass

    def log_tail(self, n=5):
        try:
            with open(self.log, errors="replace") as f:
                return f.read().splitlines()[-n:]
        except OSError:
            return []


# ---------------------------------------------------------------------------------------------
# Results.


class Results:
    def __init__(self):
        self.rows = []

    def add(self, tid, measure, value, ss, ratio, target, met):
        row = "%s | %s | %s | %s | %s | %s | %s" % (tid, measure, value, ss, ratio, target,
                                                  "MET" if met else "NOT MET")
        self.rows.append((row, met))
        out(row)

    def info(self, tid, measure, value, ss, ratio):
        """A figure printed among the targets, with no target: "- | INFO", not counted."""
        row = "%s | %s | %s | %s | %s | - | INFO" % (tid, measure, value, ss, ratio)
        self.rows.append((row, None))
        out(row)

    def summary(self):
        out()
        out("== summary")
        out("id | measure | closewaitd | ss | ratio | target | result")
        for row, _ in sorted(self.rows, key=lambda r: r[0].split(" ", 1)[0]):
            out(row)
        met = sum(1 for _, m in self.rows if m is True)
        out("targets: %d met, %d not met" % (met, sum(1 for _, m in self.rows if m is False)))


def describe_scenario(label, info, extra_pids=()):
    pids = proc_pids()
    fds = count_fds(pids)
    holder_fds = count_fds(info["holders"])
    out("scenario %s: CLOSE_WAIT (ss) %d | farm CLOSE_WAIT %d in %d holders | processes (/proc pids) %d | fds "
        "(all /proc/*/fd) %d, of which holders %d, other %d | fillers %d x %d fds | sleepers %d | "
        "built in %.2f s (sockets %.2f s)"
        % (label, ss_count(), info["close_wait"], len(info["holders"]), len(pids), fds, holder_fds,
           fds - holder_fds, info["fillers"], info["filler_fds"], info["sleepers"], info["build_s"],
           info["sockets_s"]))
    if info["ss_close_wait"] != info["close_wait"] + info["baseline_close_wait"]:
        out("note %s: after the build ss counted %d CLOSE_WAIT, the farm made %d and the host had %d before "
            "(other activity on the host)" % (label, info["ss_close_wait"], info["close_wait"],
                                              info["baseline_close_wait"]))
    return len(pids), fds


def print_scans(label, scans):
    out("%s daemon scans: cpu %s; wall %s; /proc entries %s; CLOSE_WAIT seen %s"
        % (label, fmt_list([s.cpu_ms for s in scans], "ms"), fmt_list([s.scan_ms for s in scans], "ms"),
           [s.proc_entries for s in scans], [s.cw for s in scans]))


# ---------------------------------------------------------------------------------------------
# Phases.


def steady_scans(d, runs, label, with_ss=True):
    """Skip two scans, then runs scans with ss after each one; the /proc/PID/stat cross-check."""
    first = d.next_status(timeout=300)
    out("%s first (cold) scan: cpu %.1f ms, wall %.1f ms, %d /proc entries, %d CLOSE_WAIT"
        % (label, first.cpu_ms, first.scan_ms, first.proc_entries, first.cw))
    d.next_status()
    ticks0 = proc_cpu_ticks(d.pid)
    scans, ss = [], []
    for i in range(runs):
        scans.append(d.next_status())
        if i == runs - 1:
            ticks1 = proc_cpu_ticks(d.pid)
        if with_ss:
            ss.append(ss_cpu()[1] * 1000)
    stat_ms = (ticks1 - ticks0) * 1000.0 / CLK_TCK / runs
    return scans, ss, stat_ms


def phase_idle(args, binary, tmp, res):
    out()
    out("== phase idle: %d CLOSE_WAIT in 1 process, sleepers up to %d /proc pids, interval 0.5 s"
        % (IDLE_CW, IDLE_PROCS))
    farm = leakfarm.Farm(sockets=IDLE_CW, holders=1, fillers=0, procs_min=IDLE_PROCS + 5,
                         log_path=os.path.join(tmp, "farm-idle.log"))
    d = None
    try:
        info = farm.start()
        describe_scenario("idle", info)
        host_cw = ss_count()
        if host_cw >= 100:
            out("note idle: the host has %d CLOSE_WAIT sockets, not < 100" % host_cw)
        d = Daemon(binary, tmp, "idle", 0.5)
        d.start()
        scans, ss, stat_ms = steady_scans(d, args.runs, "idle")
        print_scans("idle", scans)
        out("idle ss -tan state close-wait cpu: %s" % fmt_list(ss, "ms", 2))
        cpu = median([s.cpu_ms for s in scans])
        out("idle cross-check: /proc/%d/stat utime+stime over %d scans = %.2f ms per scan (%d Hz ticks)"
            % (d.pid, args.runs, stat_ms, CLK_TCK))
        res.add("T5", "idle scan CPU (%d CW, %d pids)" % (host_cw, len(proc_pids())), "%.2f ms" % cpu,
                "%.2f ms" % median(ss), "%.2fx of ss" % (cpu / median(ss)), "<= 5 ms (absolute)", cpu <= 5.0)
    finally:
        if d:
            d.stop()
        farm.stop()


def phase_big(args, binary, tmp, res, phases):
    out()
    need_new = NEW_BATCH * args.runs if "new" in phases else 0
    hard = leakfarm.nofile_hard()
    per_max = hard - leakfarm.FD_RESERVE - 100
    holders = args.holders
    if math.ceil((args.sockets + need_new) / holders) > per_max:
        holders = math.ceil((args.sockets + need_new) / per_max)
        out("note: %d holders cannot take %d + %d sockets under the fd hard limit %d; using %d holders"
            % (args.holders, args.sockets, need_new, hard, holders))
    out("== building the scenario: %d CLOSE_WAIT in %d holders (<= %d each incl. %d to add), %d fillers x %d fds"
        % (args.sockets, holders, math.ceil((args.sockets + need_new) / holders), need_new, args.fillers,
           args.filler_fds))
    farm = leakfarm.Farm(sockets=args.sockets, holders=holders, fillers=args.fillers, filler_fds=args.filler_fds,
                         log_path=os.path.join(tmp, "farm-big.log"))
    d = None
    try:
        try:
            info = farm.start()
        except Exception as e:
            raise BenchError("the scenario failed to build: %s (log %s)" % (e, os.path.join(tmp, "farm-big.log")))
        out("farm build time: %.2f s (sockets %.2f s)" % (info["build_s"], info["sockets_s"]))
        describe_scenario("big", info)
        if holders < 6:
            out("note: fewer than 6 holder processes; the issue's scenario wants >= 6")

        if "cold" in phases:
            out()
            out("== phase cold: closewaitd --once --json vs ss -tanp state close-wait, alternated, %d runs each"
                % args.runs)
            once_w, once_c, ssp_w, ssp_c = [], [], [], []
            for i in range(args.runs):
                w, c, rc = run_measured([binary, "--once", "--json", "--config", CONF])
                if rc != 0:
                    raise BenchError("closewaitd --once exited %d" % rc)
                once_w.append(w)
                once_c.append(c)
                w, c = ss_cpu(procs=True)
                ssp_w.append(w)
                ssp_c.append(c)
                out("cold run %d: closewaitd --once wall %.3f s cpu %.3f s | ss -tanp wall %.3f s cpu %.3f s"
                    % (i + 1, once_w[-1], once_c[-1], ssp_w[-1], ssp_c[-1]))
            js = os.path.join(tmp, "once.json")
            w, c, rc = run_measured([binary, "--once", "--json", "--config", CONF], stdout_path=js)
            with open(js) as f:
                rep = json.load(f)
            sc = rep["scan"]
            out("cold --once JSON (one extra run, stdout to a file, wall %.3f s): totals %s; scan.duration_s %.3f, "
                "scan.cpu_s %.3f, proc_entries_read %s, pids_walked %s, links_read %s"
                % (w, json.dumps(rep["totals"]), sc["duration_s"], sc["cpu_s"], sc.get("proc_entries_read"),
                   sc.get("pids_walked"), sc.get("links_read")))
            mo, ms = median(once_w), median(ssp_w)
            out("cold cpu (user+sys): closewaitd --once %.3f s, ss -tanp %.3f s (medians)"
                % (median(once_c), median(ssp_c)))
            res.add("T1", "cold --once --json wall vs ss -tanp", "%.3f s" % mo, "%.3f s" % ms,
                    "%.2fx faster" % (ms / mo), ">= 5x faster", ms / mo >= 5.0)

        if not any(p in phases for p in ("steady", "new", "rss")):
            return
        out()
        out("== daemon at interval 1.0 s on the scenario (phases %s)"
            % ",".join(p for p in ("steady", "rss", "new") if p in phases))
        d = Daemon(binary, tmp, "big", 1.0)
        d.start()
        if "steady" in phases:
            scans, ss, stat_ms = steady_scans(d, args.runs, "steady")
            print_scans("steady", scans)
            out("steady ss -tan state close-wait cpu: %s" % fmt_list(ss, "ms"))
            cpu = median([s.cpu_ms for s in scans])
            out("steady cross-check: /proc/%d/stat utime+stime over %d scans = %.1f ms per scan vs STATUS median "
                "%.1f ms" % (d.pid, args.runs, stat_ms, cpu))
            out("steady daemon figures: scan wall median %.1f ms, /proc entries median %d"
                % (median([s.scan_ms for s in scans]), median([s.proc_entries for s in scans])))
            res.add("T2", "steady scan CPU vs ss -tan", "%.1f ms" % cpu, "%.1f ms" % median(ss),
                    "%.2fx" % (cpu / median(ss)), "<= 1.0x", cpu / median(ss) <= 1.0)
        else:
            d.next_status(timeout=300)
            d.next_status()

        if "rss" in phases:
            out()
            out("== phase rss (before any socket is added: %d CLOSE_WAIT of the farm tracked)" % args.sockets)
            last = d.next_status()
            mem = proc_status(d.pid)
            out("rss: daemon pid %d after %d scans tracking %d CLOSE_WAIT (%d /proc entries): VmRSS %.1f MiB, "
                "VmHWM %.1f MiB" % (d.pid, d.scans, last.cw, last.proc_entries, mem["VmRSS"] / 1024.0,
                                    mem["VmHWM"] / 1024.0))
            hwm = mem["VmHWM"] / 1024.0
            res.add("T4", "daemon peak RSS (VmHWM), %d CW tracked" % last.cw, "%.1f MiB" % hwm, "-", "-",
                    "<= 64 MiB", hwm <= 64.0)

        if "new" in phases:
            out()
            out("== phase new: %d new CLOSE_WAIT between scan k and k+1, %d times" % (NEW_BATCH, args.runs))
            cpus, ss, used = [], [], []
            attempts = 0
            while len(cpus) < args.runs and attempts < 3 * args.runs:
                attempts += 1
                k = d.next_status()
                t0 = time.monotonic()
                r = farm.add(NEW_BATCH)
                add_s = time.monotonic() - t0
                late = d.drain()
                if late:
                    out("new: a scan ended while the sockets were being added (%.3f s); retrying" % add_s)
                    continue
                k1 = d.next_status()
                if k1.t - k.t < d.interval:  # should never be: the next scan starts interval after the end
                    out("new: scan k+1 came %.3f s after scan k; retrying" % (k1.t - k.t))
                    continue
                delta = k1.cw - k.cw
                cpus.append(k1.cpu_ms)
                used.append(k1)
                ss.append(ss_cpu()[1] * 1000)
                out("new %d: +%d sockets in %.3f s (farm now %d); scan k %.1f ms cpu -> scan k+1 %.1f ms cpu "
                    "(wall %.1f ms, %d /proc entries); CLOSE_WAIT seen %d -> %d (delta %+d); ss after %.1f ms cpu"
                    % (len(cpus), NEW_BATCH, add_s, r["close_wait"], k.cpu_ms, k1.cpu_ms, k1.scan_ms,
                       k1.proc_entries, k.cw, k1.cw, delta, ss[-1]))
                if delta != NEW_BATCH:
                    out("note new: the daemon saw %+d CLOSE_WAIT between the scans, %d were added" % (delta, NEW_BATCH))
            if len(cpus) < args.runs:
                out("note new: only %d valid measurements" % len(cpus))
            cpu = median(cpus)
            res.add("T3", "scan CPU after +%d new CW vs ss -tan" % NEW_BATCH, "%.1f ms" % cpu, "%.1f ms" % median(ss),
                    "%.2fx" % (cpu / median(ss)), "<= 1.5x", cpu / median(ss) <= 1.5)
            mem = proc_status(d.pid)
            out("new: daemon after the additions, tracking %d CLOSE_WAIT: VmRSS %.1f MiB, VmHWM %.1f MiB (for "
                "information; T4 is taken before the additions)" % (used[-1].cw if used else -1,
                                                                    mem["VmRSS"] / 1024.0, mem["VmHWM"] / 1024.0))

        cnt = farm.count()
        out("end of the 100k phases: farm %d CLOSE_WAIT, ss %d" % (cnt["close_wait"], cnt["ss_close_wait"]))
        if d.failures:
            out("note: the daemon reported %d failed scans: %s" % (len(d.failures), d.failures[:3]))
    finally:
        if d:
            d.stop()
        farm.stop()


def read_int(path):
    try:
        with open(path) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def write_int(path, value):
    with open(path, "w") as f:
        f.write("%d\n" % value)


def dmesg_ehash():
    """The boot's "TCP established hash table entries: N (order ...)", if the ring still has it."""
    try:
        r = subprocess.run(["dmesg"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.search(r"TCP established hash table entries: ([^\n]*)", r.stdout.decode(errors="replace"))
    return m.group(1).strip() if m else None


def ss_in_netns(name, argv=None, stdout_path="/dev/null"):
    """ss run in a namespace, only ss measured: this thread setns()es into it, posix_spawn()s ss
    (which starts in the thread's namespace) and comes back; (wall s, cpu s) from wait4."""
    argv = argv or [SS, "-tan", "state", "close-wait"]
    with nsfarm.InNetns(name):
        wall, cpu, rc = run_measured(argv, stdout_path)
    if rc != 0:
        raise BenchError("%s in %s exited %d" % (" ".join(argv), name, rc))
    return wall, cpu


def wrapped_ss_pass(names, wrapper):
    """One pass of ss over the namespaces through `ip netns exec` or `nsenter`: summed cpu s (the
    wrapper's own CPU included: wait4 counts the process from its exec of the wrapper on)."""
    total = 0.0
    for nm in names:
        if wrapper == "ip":
            argv = [nsfarm.IP, "netns", "exec", nm, SS, "-tan", "state", "close-wait"]
        else:
            argv = [NSENTER, "--net=" + nsfarm.netns_path(nm), SS, "-tan", "state", "close-wait"]
        _, cpu, rc = run_measured(argv)
        if rc != 0:
            raise BenchError("%s exited %d" % (" ".join(argv), rc))
        total += cpu
    return total


NSENTER = shutil.which("nsenter") or "/usr/bin/nsenter"


def netns_daemon(binary, tmp, name, runs, names=()):
    """The daemon at interval 1.0 s: two scans skipped (the first enters the namespaces), then runs
    scans; after each one ss in each of names, the CPU summed. (first, scans, ss sums ms)."""
    d = Daemon(binary, tmp, name, 1.0)
    try:
        d.start()
        first = d.next_status(timeout=120)
        d.next_status()
        scans, ss = [], []
        for _ in range(runs):
            scans.append(d.next_status())
            if names:
                ss.append(sum(ss_in_netns(nm)[1] for nm in names) * 1000)
        if d.failures:
            out("note %s: the daemon reported %d failed scans: %s" % (name, len(d.failures), d.failures[:3]))
        return first, scans, ss
    finally:
        d.stop()


def print_netns_scans(label, first, scans):
    out("%s first scan (enters the namespaces): cpu %.1f ms, wall %.1f ms, %d namespaces, %d CLOSE_WAIT"
        % (label, first.cpu_ms, first.scan_ms, first.netns, first.cw))
    out("%s daemon scans: cpu %s; wall %s; namespaces dumped %s; CLOSE_WAIT seen %s"
        % (label, fmt_list([s.cpu_ms for s in scans], "ms", 2), fmt_list([s.scan_ms for s in scans], "ms", 2),
           sorted(set(s.netns for s in scans)), sorted(set(s.cw for s in scans))))


def netns_round(args, binary, tmp, res, base_cpu, child_ehash, ids):
    """One farm of --netns namespaces (made with tcp_child_ehash_entries = child_ehash when it is
    not None), its leaks verified, the --once JSON checked, the daemon against ss."""
    n, k = args.netns, args.netns_sockets
    tag = "netns" if child_ehash is None else "netns-ehash%d" % child_ehash
    farm = nsfarm.NsFarm(n=n, sockets=k)
    old = None
    try:
        if child_ehash is not None:
            old = read_int(CHILD_EHASH)
            write_int(CHILD_EHASH, child_ehash)
        try:
            farm.start()
        except Exception as e:
            raise BenchError("%s: the namespaces failed to build: %s" % (tag, e))
        finally:
            if old is not None:  # it only sizes namespaces made while it is set
                write_int(CHILD_EHASH, old)
                old = None
        own = nsfarm.ehash_entries(farm.names[0])
        out("%s: %d namespaces added in %.2f s (one ip -batch), leakers ready in %.2f s; tcp_ehash_entries in "
            "%s: %s (%s)" % (tag, n, farm.add_s, farm.leak_s, farm.names[0], own,
                             "no such sysctl" if own is None else
                             "shares the host's table" if own < 0 else "a table of its own"))

        # Every namespace has its leak, as ss sees it there; the host's ss does not see them.
        bad = []
        listing = os.path.join(tmp, "ns-ss.txt")
        for nm in farm.names:
            ss_in_netns(nm, [SS, "-Htn", "state", "close-wait"], listing)
            with open(listing) as f:
                got = sum(1 for line in f if line.strip())
            if got != k:
                bad.append("%s: %d" % (nm, got))
        if bad:
            raise BenchError("%s: CLOSE_WAIT per namespace (ss -Htn there) is not %d: %s"
                             % (tag, k, ", ".join(bad[:5])))
        out("%s: leak verified: `ss -Htn state close-wait` in each namespace lists %d sockets, %d in all; the "
            "host's own ss lists %d" % (tag, k, n * k, ss_count()))

        # What the daemon reports: every namespace, every leaker with its K in its namespace.
        js = os.path.join(tmp, "%s-once.json" % tag)
        w, c, rc = run_measured([binary, "--once", "--json", "--config", CONF], stdout_path=js)
        if rc != 0:
            raise BenchError("%s: closewaitd --once exited %d" % (tag, rc))
        with open(js) as f:
            rep = json.load(f)
        sc = rep["scan"]
        procs = {p["pid"]: p for p in rep["processes"]}
        inodes = farm.inodes()
        wrong = []
        for nm, pid in farm.leakers.items():
            p = procs.get(pid)
            if p is None:
                wrong.append("%s pid %d: absent" % (nm, pid))
            elif p["close_wait"]["count"] != k or p["netns"] != inodes[nm]:
                wrong.append("%s pid %d: count %d netns %s (want %d in %d)" % (nm, pid, p["close_wait"]["count"],
                                                                             p["netns"], k, inodes[nm]))
        out("%s --once --json (wall %.3f s, cpu %.3f s): netns_watched %d, netns_failed %d, totals.close_wait %d, "
            "%d processes%s" % (tag, w, c, sc["netns_watched"], sc["netns_failed"], rep["totals"]["close_wait"],
                                len(procs), "" if not wrong else "; wrong: " + "; ".join(wrong[:3])))
        ok = sc["netns_watched"] >= n + 1 and sc["netns_failed"] == 0 and not wrong
        res.add(ids[2], "netns reported (--once --json)%s" % ("" if child_ehash is None else ", own ehash"),
                "%d watched, %d/%d leakers: %d CW, own netns" % (sc["netns_watched"], n - len(wrong), n, k), "-", "-",
                ">= %d watched, every leaker" % (n + 1), ok)

        # The daemon against ss in each namespace.
        first, scans, ss = netns_daemon(binary, tmp, tag, args.runs, farm.names)
        print_netns_scans(tag, first, scans)
        out("%s ss -tan state close-wait in each of the %d namespaces (setns, then ss spawned; ss alone "
            "measured), cpu summed: %s" % (tag, n, fmt_list(ss, "ms")))
        ipx = wrapped_ss_pass(farm.names, "ip") * 1000
        nse = wrapped_ss_pass(farm.names, "nsenter") * 1000 if os.path.exists(NSENTER) else float("nan")
        out("%s one pass with the wrapper's CPU included, for information: `ip netns exec NS ss ...` %.1f ms, "
            "`nsenter --net=/run/netns/NS ss ...` %.1f ms (sums over %d)" % (tag, ipx, nse, n))
        cpu, sscpu = median([s.cpu_ms for s in scans]), median(ss)
        res.add(ids[0], "scan CPU, %d netns x %d CW%s vs ss in each (sum)"
                % (n, k, "" if child_ehash is None else ", child ehash %d" % child_ehash),
                "%.1f ms" % cpu, "%.1f ms" % sscpu, "%.2fx" % (cpu / sscpu), "<= 1.0x", cpu / sscpu <= 1.0)
        res.info(ids[1], "added scan CPU per netns%s" % ("" if child_ehash is None else ", child ehash %d"
                                                         % child_ehash),
                 "%.3f ms (%.1f - %.1f ms) / %d" % ((cpu - base_cpu) / n, cpu, base_cpu, n),
                 "%.3f ms" % (sscpu / n), "%.2fx" % ((cpu - base_cpu) / sscpu))
        return cpu
    finally:
        if old is not None:
            write_int(CHILD_EHASH, old)
        left = farm.stop()
        if left:
            out("note %s: namespaces left behind: %s" % (tag, ", ".join(left)))


def phase_netns(args, binary, tmp, res):
    n, k = args.netns, args.netns_sockets
    out()
    out("== phase netns: %d network namespaces (ip netns add), a process with %d CLOSE_WAIT over loopback in each; "
        "the daemon at interval 1.0 s vs `ss -tan state close-wait` in each namespace" % (n, k))
    host = nsfarm.ehash_entries()
    child = read_int(CHILD_EHASH)
    out("netns kernel: TCP established hash table: tcp_ehash_entries %s, dmesg \"%s\"; "
        "net.ipv4.tcp_child_ehash_entries = %s (0: new namespaces share the host's table, and a dump in any of "
        "them walks all of its buckets)" % ("n/a" if host is None else host, dmesg_ehash() or "n/a (not in the ring)",
                                             "n/a" if child is None else child))
    if child is None and args.netns_child_ehash:
        out("note netns: no net.ipv4.tcp_child_ehash_entries on this kernel (< 6.1): the second run is skipped")

    # No namespace of ours: what the daemon pays for the host alone.
    first, scans, _ = netns_daemon(binary, tmp, "netns-base", args.runs)
    print_netns_scans("netns-base", first, scans)
    base = median([s.cpu_ms for s in scans])
    out("netns-base: scan cpu median %.2f ms with %d namespace(s) on the host before ours"
        % (base, scans[-1].netns))

    shared = netns_round(args, binary, tmp, res, base, None, ("T7", "T7i", "T8"))
    if child is not None and args.netns_child_ehash:
        own = netns_round(args, binary, tmp, res, base, args.netns_child_ehash, ("T7e", "T7ei", "T8e"))
        out("netns: tables of their own (tcp_child_ehash_entries=%d) cut the %d namespaces' added scan CPU from "
            "%.1f to %.1f ms" % (args.netns_child_ehash, n, shared - base, own - base))


def phase_churn(args, binary, tmp, res):
    n = args.churn_scans
    if n >= 1500:
        first, step = 500, 1000
    else:
        step = max(1, n // 6)
        first = step
    checkpoints = list(range(first, n + 1, step))
    if checkpoints[-1] != n:
        checkpoints.append(n)
    out()
    out("== phase churn: %d scans at interval 0.1 s, %d CLOSE_WAIT in %d holders, %d fillers x %d fds; RSS after "
        "scans %s" % (n, CHURN_SOCKETS, CHURN_HOLDERS, CHURN_FILLERS, CHURN_FILLER_FDS,
                      ", ".join(map(str, checkpoints)) if len(checkpoints) <= 12 else
                      "%d, then every %d" % (first, step)))
    out("churn: between two scans 1% of the CLOSE_WAIT are closed and as many made, 2 short-lived children of "
        "holders share all their sockets (50-1500 ms), every 5th step a process with 1-8 leaks of its own lives "
        "0.2-3 s")
    farm = leakfarm.Farm(sockets=CHURN_SOCKETS, holders=CHURN_HOLDERS, fillers=CHURN_FILLERS,
                         filler_fds=CHURN_FILLER_FDS, log_path=os.path.join(tmp, "farm-churn.log"))
    d = None
    try:
        try:
            info = farm.start()
        except Exception as e:
            raise BenchError("the churn scenario failed to build: %s" % e)
        describe_scenario("churn", info)
        d = Daemon(binary, tmp, "churn", 0.1)
        d.start()
        t0 = time.monotonic()
        d.next_status(timeout=60)
        scans = 1
        cpus, walls = [], []
        rss = []
        ci = 0
        churn_s = []
        while scans < n:
            got = [d.next_status(timeout=60)] + d.drain()
            scans += len(got)
            cpus += [s.cpu_ms for s in got]
            walls += [s.scan_ms for s in got]
            while ci < len(checkpoints) and scans >= checkpoints[ci]:
                m = proc_status(d.pid)
                rss.append((scans, m["VmRSS"], m["VmHWM"]))
                el = time.monotonic() - t0
                out("churn rss after %d scans: VmRSS %.2f MiB (%d kB), VmHWM %.2f MiB; %d CLOSE_WAIT seen, "
                    "%.0f s elapsed, ~%.0f s to go" % (scans, m["VmRSS"] / 1024.0, m["VmRSS"], m["VmHWM"] / 1024.0,
                                                      got[-1].cw, el, el / scans * (n - scans)))
                ci += 1
            if scans < n:
                r = farm.churn()
                churn_s.append(r["s"])
        st = farm.status()
        # The first minutes are warm-up: closed sockets pile up in TIME_WAIT for the kernel's 60 s
        # and the allocator reaches the sizes of the largest scans. Flat is judged after that.
        base = next((i for i, r in enumerate(rss) if r[0] >= CHURN_WARMUP_SCANS), 0) if n >= 2 * CHURN_WARMUP_SCANS else 0
        growth = rss[-1][1] - rss[base][1]
        after = [r[1] for r in rss[base:]]
        cpus.sort()
        out("churn: %d scans in %.0f s; scan cpu median %.2f ms, p95 %.2f ms, max %.2f ms; wall median %.2f ms; "
            "churn step median %.1f ms; totals %s; failed scans %d"
            % (scans, time.monotonic() - t0, median(cpus), cpus[int(len(cpus) * 0.95) - 1], cpus[-1],
               median(walls), median(churn_s) * 1000, json.dumps(st["churn"]), len(d.failures)))
        out("churn rule: flat = VmRSS growth from the first checkpoint after the warm-up (%d scans) to the last "
            "(%d scans) <= %d KiB; warm-up growth (%d -> %d scans) %+d kB; VmRSS range after the warm-up %d kB"
            % (rss[base][0], rss[-1][0], RSS_FLAT_KIB, rss[0][0], rss[base][0], rss[base][1] - rss[0][1],
               max(after) - min(after)))
        res.add("T6", "RSS growth over %d churn scans (%d->%d)" % (n, rss[base][0], rss[-1][0]),
                "%+d kB (%.2f -> %.2f MiB)" % (growth, rss[base][1] / 1024.0, rss[-1][1] / 1024.0), "-", "-",
                "<= +1 MiB", growth <= RSS_FLAT_KIB)
    finally:
        if d:
            d.stop()
        farm.stop()


# ---------------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(SRC, "build"), help="meson build directory")
    ap.add_argument("--sockets", type=int, default=100000)
    ap.add_argument("--holders", type=int, default=7)
    ap.add_argument("--fillers", type=int, default=210)
    ap.add_argument("--filler-fds", type=int, default=500)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--phases", default="cold,steady,new,rss,idle",
                    help="comma-separated: cold, steady, new, rss, idle, churn, netns")
    ap.add_argument("--churn-scans", type=int, default=10000)
    ap.add_argument("--netns", type=int, default=100, help="namespaces of the netns phase")
    ap.add_argument("--netns-sockets", type=int, default=20, help="CLOSE_WAIT in each namespace")
    ap.add_argument("--netns-child-ehash", type=int, default=1024,
                    help="net.ipv4.tcp_child_ehash_entries of the netns phase's second run (0: no second run)")
    args = ap.parse_args()
    phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    bad = [p for p in phases if p not in ("cold", "steady", "new", "rss", "idle", "churn", "netns")]
    if bad:
        ap.error("unknown phase(s): %s" % ", ".join(bad))
    if args.runs < 1 or args.churn_scans < 10:
        ap.error("--runs must be >= 1 and --churn-scans >= 10")
    if args.netns < 1 or args.netns_sockets < 1 or args.netns_child_ehash < 0:
        ap.error("--netns and --netns-sockets must be >= 1, --netns-child-ehash >= 0")

    if os.geteuid() != 0:
        print("bench: skipped: root is needed (the daemon reads every process's /proc/PID/fd)", file=sys.stderr)
        return 77
    if not os.path.exists(SS):
        print("bench: skipped: ss (iproute2) is not installed", file=sys.stderr)
        return 77
    binary = os.path.join(os.path.abspath(args.build), "daemon", "closewaitd")
    if not os.access(binary, os.X_OK):
        print("bench: %s not found: build first (tools/build.sh)" % binary, file=sys.stderr)
        return 1

    version = subprocess.run([binary, "--version"], stdout=subprocess.PIPE).stdout.decode().strip()
    st = os.stat(binary)
    out("# closewaitd scale benchmark")
    out("date: %s" % time.strftime("%Y-%m-%d %H:%M:%S %z"))
    out("machine: nproc %d, MemTotal %.1f GiB, kernel %s, fd hard limit %d"
        % (os.cpu_count(), meminfo("MemTotal") / 1048576.0, os.uname().release, leakfarm.nofile_hard()))
    out("closewaitd: %s, git describe %s, binary %s (built %s)"
        % (version, git_describe(), binary, time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(st.st_mtime))))
    out("ss: %s" % subprocess.run([SS, "-V"], stdout=subprocess.PIPE).stdout.decode().strip())
    out("settings: sockets %d, holders %d, fillers %d x %d fds, runs %d, phases %s, churn scans %d, netns %d x %d "
        "CLOSE_WAIT (child ehash %d)"
        % (args.sockets, args.holders, args.fillers, args.filler_fds, args.runs, ",".join(phases),
           args.churn_scans, args.netns, args.netns_sockets, args.netns_child_ehash))
    out("host before: %d CLOSE_WAIT (ss), %d /proc pids" % (ss_count(), len(proc_pids())))

    res = Results()
    tmp = tempfile.mkdtemp(prefix="closewaitd-bench.")
    rc = 0

    def on_signal(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    try:
        if "idle" in phases:
            phase_idle(args, binary, tmp, res)
        if "netns" in phases:
            phase_netns(args, binary, tmp, res)
        if any(p in phases for p in ("cold", "steady", "new", "rss")):
            phase_big(args, binary, tmp, res, phases)
        if "churn" in phases:
            phase_churn(args, binary, tmp, res)
    except BenchError as e:
        out("bench: FAILED: %s" % e)
        rc = 1
    except KeyboardInterrupt:
        out("bench: interrupted")
        rc = 130
    except Exception as e:
        import traceback
        traceback.print_exc()
        out("bench: FAILED: %s: %s" % (type(e).__name__, e))
        rc = 1
    res.summary()
    if rc == 0:
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        out("bench: logs kept in %s" % tmp)
    return rc


if __name__ == "__main__":
    sys.exit(main())
