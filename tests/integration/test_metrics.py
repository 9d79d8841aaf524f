"""The Prometheus metrics file (metrics_file) of the running daemon, end to end.

In its own namespaces (a private journald, a network namespace of its own: the sockets are the
test's), the daemon runs with metrics_file in a directory of the test, under umask 077 as the
unit's UMask= sets it, and faultnl.so preloaded:
  * the file is mode 0644 whatever the umask, and `promtool check metrics` prints nothing on it
    (it warns on names, units, HELP, counters without _total);
  * a process leaking 5 CLOSE_WAIT sockets gets its series: the count, the stuck count (after
    close_wait.hold), its open fds and limit, its thresholds, with its pid, comm and unit, and
    closewaitd_alerts_active{kind="close_wait"} goes to 1 with the daemon's own alert;
  * the counters grow from one read to the next;
  * the file is replaced atomically: a reader that opens and reads it as fast as it can while the
    daemon rewrites it 5 times a second sees only complete files, and more than one inode;
  * a file that cannot be written (its temporary name taken by a directory) is logged once, not
    at every scan, and once when it works again;
  * while the socket dump fails, closewaitd_scan_errors_total grows and the values are gone
    (unknown, not zero); they come back with the dump;
  * a reload that moves metrics_file says that it takes a restart, and the old file goes on;
  * at SIGTERM the last file keeps the counters and drops the values.
Skips without promtool (Debian: apt install prometheus) or root.
"""

import os
import re
import shutil
import stat
import subprocess
import tempfile
import threading
import time

import cwtest as t
import daemontest as dt

N = 5
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[^"}]|"(?:[^"\\]|\\.)*")*\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text):
    """The samples of a complete file as {(name, ((label, value), ...)): value}; fails on anything
    the text format does not allow, a family written twice or a series twice."""
    t.check(text.endswith("\n"), "the file ends with a newline (complete)", "...\\n", text[-80:])
    samples, families, family = {}, set(), None
    for line in text.splitlines():
        if line.startswith("# HELP "):
            family = line.split()[2]
            t.check(family not in families, "family %s written once" % family)
            families.add(family)
        elif line.startswith("# TYPE "):
            t.check(line.split()[2] == family, "TYPE right after HELP", family, line)
        else:
            m = SAMPLE.match(line)
            t.check(m is not None, "a sample line", "name{labels} value", line)
            t.check(m.group(1) == family, "sample of its family", family, line)
            labels = tuple(LABEL.findall(m.group(2) or ""))
            key = (m.group(1), labels)
            t.check(key not in samples, "series written once", None, line)
            samples[key] = float(m.group(3))
    return samples


def value(samples, name, **labels):
    """The value of the one series of name whose labels include labels; None when there is none."""
    found = [v for (n, ls), v in samples.items() if n == name and all(
        dict(ls).get(k) == w for k, w in labels.items())]
    t.check(len(found) <= 1, "at most one %s series with %s" % (name, labels), None, found)
    return found[0] if found else None


def read(path):
    with open(path) as f:
        return f.read()


def promtool_check(path):
    with open(path, "rb") as f:
        p = subprocess.run(["promtool", "check", "metrics"], stdin=f, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=30)
    out = p.stdout.decode("utf-8", "replace")
    t.check(p.returncode == 0 and out.strip() == "", "`promtool check metrics` is silent on %s" % path,
            "exit 0, no output", "exit %d: %s\n%s" % (p.returncode, out, read(path)[:3000]))


def messages(j, part):
    return [e["MESSAGE"] for e in j.entries("SYSLOG_IDENTIFIER=closewaitd") if part in e.get("MESSAGE", "")]


def main():
    if not shutil.which("promtool"):
        raise t.Skip("promtool is not installed (Debian: apt install prometheus)")
    j = dt.private_journal(net=True)
    fault = dt.FaultNetlink()
    mdir = tempfile.mkdtemp(prefix="cwtest-metrics-")
    t.on_cleanup(lambda: shutil.rmtree(mdir, ignore_errors=True))
    os.chmod(mdir, 0o755)
    path = os.path.join(mdir, "closewaitd.prom")
    tmp_name = os.path.join(mdir, ".closewaitd.prom.tmp")
    conf = dt.conf_text() + 'metrics_file = "%s";\n' % path

    h = t.Holder(t.unique_comm("cwmetric"))
    try:
        unit = dt.fake_unit(h.pid)
    except t.Skip:
        unit = ""  # systemd runs here: no fake unit, the label stays empty
    notify = dt.Notify()
    d = dt.Daemon(conf=conf, notify=notify, env=fault.env(),
                  prefix=["sh", "-c", 'umask 077 && exec "$@"', "sh"])
    notify.wait(lambda l: l == "READY=1", "READY=1", timeout=30)
    t.wait_for(lambda: os.path.exists(path), "the metrics file", 10)
    mode = stat.S_IMODE(os.stat(path).st_mode)
    t.check_eq(oct(mode), oct(0o644), "mode of the metrics file under umask 077")
    promtool_check(path)

    # A leak: the process's series, and the daemon's alert counted.
    dt.leak(h, N)
    pid = str(h.pid)

    def leak_seen():
        s = parse(read(path))
        ok = value(s, "closewaitd_process_close_wait_stuck_sockets", pid=pid) == N and \
            value(s, "closewaitd_alerts_active", kind="close_wait") == 1
        return s if ok else None
    s = t.wait_for(leak_seen, "the leaking process's series with %d stuck sockets" % N, 20)
    promtool_check(path)
    labels = dict(k for (n, ls) in s for k in ls if n == "closewaitd_process_close_wait_sockets"
                  and dict(ls).get("pid") == pid)
    t.check_eq(labels.get("comm"), t.escape(t.proc_comm(h.pid)), "comm label")
    t.check_eq(labels.get("unit"), unit, "unit label")
    t.check_eq(labels.get("container"), "", "container label")
    t.check_eq(set(labels), {"pid", "comm", "unit", "container", "pod", "netns"}, "process labels")
    for name, want in (("closewaitd_process_close_wait_sockets", N),
                       ("closewaitd_process_open_fds", t.proc_fd_count(h.pid)),
                       ("closewaitd_process_max_fds", t.proc_nofile_soft(h.pid)),
                       ("closewaitd_process_close_wait_threshold_sockets", 3),
                       ("closewaitd_process_close_wait_threshold_age_seconds", 0),
                       ("closewaitd_process_fd_pressure_threshold_ratio", 0)):
        t.check_eq(value(s, name, pid=pid), want, "%s of the leaking process" % name)
    t.check(value(s, "closewaitd_process_close_wait_oldest_age_seconds", pid=pid) >= 1.0,
            "its oldest socket is at least hold old")
    t.check_eq(value(s, "closewaitd_close_wait_sockets"), N, "closewaitd_close_wait_sockets")
    t.check_eq(value(s, "closewaitd_close_wait_processes"), 1, "closewaitd_close_wait_processes")
    journal_alerts = j.entries("MESSAGE_ID=" + dt.MID_CLOSE_WAIT, "CLOSEWAITD_PID=" + pid)
    t.check_eq(len(journal_alerts), 1, "the daemon's own alert for the same process")

    # Counters grow.
    scans = value(s, "closewaitd_scans_total")
    spent = value(s, "closewaitd_scan_duration_seconds_total")
    stamp = value(s, "closewaitd_last_scan_timestamp_seconds")
    time.sleep(1.0)
    s2 = parse(read(path))
    t.check(value(s2, "closewaitd_scans_total") > scans, "closewaitd_scans_total grows",
            "> %s" % scans, value(s2, "closewaitd_scans_total"))
    t.check(value(s2, "closewaitd_scan_duration_seconds_total") > spent,
            "closewaitd_scan_duration_seconds_total grows")
    t.check(value(s2, "closewaitd_last_scan_timestamp_seconds") > stamp,
            "closewaitd_last_scan_timestamp_seconds moves on")
    t.check(abs(value(s2, "closewaitd_last_scan_timestamp_seconds") - time.time()) < 5,
            "closewaitd_last_scan_timestamp_seconds is the wall clock")
    t.check_eq(value(s2, "closewaitd_scan_errors_total"), 0, "no scan errors yet")

    # Atomic replacement: never a partial file, while it is replaced many times.
    stop = threading.Event()
    seen = {"reads": 0, "inodes": set(), "bad": None}

    def reader():
        while not stop.is_set():
            try:
                with open(path) as f:
                    seen["inodes"].add(os.fstat(f.fileno()).st_ino)
                    text = f.read()
                parse(text)
                if "closewaitd_process_close_wait_sockets{" not in text:
                    raise t.Fail("a file without the process's series")
                seen["reads"] += 1
            except Exception as e:  # pylint: disable=broad-except
                seen["bad"] = e
                return
    th = threading.Thread(target=reader)
    th.start()
    time.sleep(2.0)
    stop.set()
    th.join(10)
    t.check(seen["bad"] is None, "every read is a complete file", None, repr(seen["bad"]))
    t.check(len(seen["inodes"]) >= 3, "the file was replaced while it was read", ">= 3 inodes",
            len(seen["inodes"]))
    leftovers = [n for n in os.listdir(mdir) if n.endswith(".prom") and n != "closewaitd.prom"]
    t.check_eq(leftovers, [], "no other .prom file in the directory")

    # Cannot write: one entry when it starts, one when it ends, not one per scan.
    os.mkdir(tmp_name)
    t.wait_for(lambda: messages(j, "cannot write the metrics"), "the entry about the metrics file", 10)
    before = os.stat(path).st_ino
    time.sleep(1.5)
    t.check_eq(len(messages(j, "cannot write the metrics")), 1,
               "one entry while the metrics file cannot be written")
    t.check_eq(os.stat(path).st_ino, before, "the old file stays while the new one cannot be written")
    os.rmdir(tmp_name)
    t.wait_for(lambda: messages(j, "the metrics are written to"), "the entry saying it works again", 10)
    t.wait_for(lambda: os.stat(path).st_ino != before, "a new file", 5)
    t.check_eq(len(messages(j, "cannot write the metrics")), 1, "still one failure entry")

    # The socket dump fails: errors counted, the values gone; back afterwards.
    fault.on()

    def failing():
        s = parse(read(path))
        return s if (value(s, "closewaitd_scan_errors_total") or 0) >= 2 else None
    s = t.wait_for(failing, "closewaitd_scan_errors_total >= 2", 15)
    promtool_check(path)
    t.check(value(s, "closewaitd_close_wait_sockets") is None, "no totals while the scan fails",
            None, value(s, "closewaitd_close_wait_sockets"))
    t.check(value(s, "closewaitd_process_close_wait_sockets", pid=pid) is None,
            "no process values while the scan fails")
    t.check_eq(value(s, "closewaitd_alerts_active", kind="close_wait"), 1,
               "the raised alert stays counted while the scan fails")
    errors = value(s, "closewaitd_scan_errors_total")
    fault.off()

    def back():
        s = parse(read(path))
        return s if value(s, "closewaitd_process_close_wait_sockets", pid=pid) == N else None
    s = t.wait_for(back, "the process's series after the dump works again", 20)
    t.check(value(s, "closewaitd_scan_errors_total") >= errors, "the error counter does not go back")

    # A reload cannot move the file.
    other = os.path.join(mdir, "other.prom")
    d.write_conf(dt.conf_text() + 'metrics_file = "%s";\n' % other)
    d.signal(1)  # SIGHUP
    t.wait_for(lambda: messages(j, "metrics_file changed"), "the entry about metrics_file", 10)
    msg = messages(j, "metrics_file changed")[0]
    t.check("takes a restart" in msg and path in msg and other in msg,
            "it says the change takes a restart, and names both files", None, msg)
    ino = os.stat(path).st_ino
    t.wait_for(lambda: os.stat(path).st_ino != ino, "the old file, still written after the reload", 5)
    t.check(not os.path.exists(other), "the new file is not made", None, other)

    # Stopping: the counters stay, the values go.
    t.check_eq(d.stop(), 0, "exit status on SIGTERM")
    s = parse(read(path))
    promtool_check(path)
    t.check(value(s, "closewaitd_scans_total") > 0, "the last file keeps the counters")
    for name in ("closewaitd_alerts_active", "closewaitd_close_wait_sockets",
                 "closewaitd_process_close_wait_sockets"):
        t.check(not any(n == name for n, _ in s), "no %s in the file of a stopped daemon" % name)
    t.check_eq(sorted(os.listdir(mdir)), ["closewaitd.prom"], "the directory holds the file alone")


if __name__ == "__main__":
    t.main(main, timeout=110)
