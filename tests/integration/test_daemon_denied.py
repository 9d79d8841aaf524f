"""closewaitd without CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH and CAP_DAC_OVERRIDE: what it cannot read
is counted and left unattributed, what it can read is reported exactly, and it says so once.

Both closewaitd --once --json and the daemon run under setpriv, those three capabilities dropped
from the bounding set (and so from the permitted set of root), valgrind's wrapper inside it. A
root holder (its own capabilities cut to the same set, or the kernel would refuse a reader with
fewer) leaks 3 CLOSE_WAIT sockets; a holder that became uid 65534 leaks 4.
  * The daemon (capabilities checked in /proc) alerts on the root holder with count 3, and writes
    one "monitoring degraded" entry naming "permission denied", no "recovered" one over 10 more
    scans, while the unreadable processes hold no socket (later scans need not walk them: the
    state must not flap with the walks).
  * The uid 65534 holder then leaks. With all capabilities, --once attributes both holders (the
    holders are what they seem); without them, --once reports the root holder with count 3 and
    not the other; its sockets are in totals.close_wait and totals.close_wait_unowned;
    scan.denied >= 1.
  * A second uid 65534 process leaks 5: over 10 more scans still exactly one degraded entry
    for the whole run, no "recovered" one, no alert on either unreadable holder, and STATUS=
    counts every socket.
The test runs in PID and network namespaces of its own: it has root processes with every
capability (the test itself, journald), unreadable without them, so the degraded entry is
expected from the first scan, on a host whose PID 1 is unreadable as on one where it is not; and
the daemon sees no socket of the host's other processes.
"""

import re
import shutil
import subprocess

import cwtest as t
import daemontest as dt

CAPS = ("sys_ptrace", "dac_read_search", "dac_override")
CAP_BITS = (t.CAP_SYS_PTRACE, t.CAP_DAC_READ_SEARCH, t.CAP_DAC_OVERRIDE)
UID = 65534
N_ROOT, N_NOBODY, N_NOBODY2 = 3, 4, 5


def setpriv_prefix():
    drop = ",".join("-" + c for c in CAPS)
    return ["setpriv", "--bounding-set=" + drop, "--inh-caps=" + drop, "--"]


def missing_caps(mask):
    return all(not mask & (1 << b) for b in CAP_BITS)


def need_setpriv():
    t.need_root()
    if not shutil.which("setpriv"):
        raise t.Skip("setpriv (util-linux) is not installed")
    p = subprocess.run(setpriv_prefix() + ["grep", "^CapPrm:", "/proc/self/status"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if p.returncode != 0:
        raise t.Skip("setpriv cannot drop capabilities here: %s" % p.stdout.strip())
    if not missing_caps(int(p.stdout.split()[1], 16)):
        raise t.Skip("setpriv ran a process that still has the capabilities: %s" % p.stdout)


def nobody_holder(comm):
    """A holder that setuid()s to UID: its open files are unreadable without the capabilities."""
    h = t.Holder(t.unique_comm(comm))
    t.check_eq(h.call("setuid", uid=UID), [UID, UID], "holder's uid after setuid")
    return h


def wait_scans(notify, n):
    n0 = len(notify.lines())
    t.wait_for(lambda: notify.lines()[n0:].count("WATCHDOG=1") >= n, "%d more scans" % n,
               timeout=30)


def check_one_degraded(j, what):
    every = j.entries("SYSLOG_IDENTIFIER=closewaitd")
    deg = [x for x in every if x.get("MESSAGE_ID") == dt.MID_DEGRADED]
    t.check_eq(len(deg), 1, "%s: exactly one degraded entry so far (%s)"
               % (what, [x.get("MESSAGE") for x in deg]))
    rec = [x.get("MESSAGE") for x in every if x.get("MESSAGE", "").startswith("monitoring recovered")]
    t.check_eq(rec, [], "%s: no \"monitoring recovered\" entry while processes stay unreadable"
               % what)


def main():
    # A network namespace of our own: no socket of the host (held by processes outside our PID
    # namespace, so never attributed) makes the daemon walk the unreadable processes every scan.
    j = dt.private_journal(net=True)
    need_setpriv()
    prefix = setpriv_prefix()

    root = t.Holder(t.unique_comm("cwdenroot"))
    left = root.call("drop_caps", caps=list(CAP_BITS))
    t.check(missing_caps(left), "the root holder dropped the capabilities", None, hex(left))
    dt.leak(root, N_ROOT)
    nobody = nobody_holder("cwdennobody")

    # The daemon, while the unreadable processes hold no CLOSE_WAIT socket: every socket has an
    # owner, so later scans need not walk them again; the degraded state must not flap with that.
    notify = dt.Notify()
    d = dt.Daemon(notify=notify, log_target="journal", prefix=prefix)
    notify.wait(lambda l: l == "READY=1", "READY=1", timeout=30)
    for key in ("CapEff", "CapPrm"):
        mask = t.caps_of(d.proc.pid, key)
        t.check(missing_caps(mask), "the daemon runs without the capabilities (%s)" % key,
                "bits %s clear" % (CAP_BITS,), hex(mask))
    es = j.wait(lambda es: es, "the alert on the root holder", 20,
                "MESSAGE_ID=" + dt.MID_CLOSE_WAIT, "CLOSEWAITD_PID=%d" % root.pid)
    t.check_eq(es[0].get("CLOSEWAITD_COUNT"), str(N_ROOT), "CLOSEWAITD_COUNT of the root holder")
    deg = j.wait(lambda es: es, "the degraded entry", 20, "MESSAGE_ID=" + dt.MID_DEGRADED)
    t.check("permission denied" in deg[0].get("MESSAGE", ""), "the degraded entry says "
            "\"permission denied\"", None, deg[0].get("MESSAGE"))
    t.check_eq(deg[0].get("PRIORITY"), "4", "PRIORITY of the degraded entry")
    wait_scans(notify, 10)
    check_one_degraded(j, "unreadable processes without sockets")

    # Now the uid 65534 holder leaks: sockets no readable process holds.
    dt.leak(nobody, N_NOBODY)
    # With every capability both holders are attributed: the holders are what they seem.
    full = t.run_json()
    t.check_eq(full.need_proc(root.pid)["close_wait"]["count"], N_ROOT,
               "with all capabilities: count of the root holder")
    t.check_eq(full.need_proc(nobody.pid)["close_wait"]["count"], N_NOBODY,
               "with all capabilities: count of the uid %d holder" % UID)
    rep = t.run_json(prefix=prefix)
    e = rep.need_proc(root.pid)
    t.check_owner(e, root.pid)
    t.check_eq(e["close_wait"]["count"], N_ROOT, "without the capabilities: count of the root holder")
    t.check_eq(rep.proc(nobody.pid), None, "without the capabilities: the uid %d holder is not "
               "attributed" % UID)
    tot = rep["totals"]
    t.check(tot["close_wait"] >= N_ROOT + N_NOBODY, "totals.close_wait counts the unattributed "
            "sockets", ">= %d" % (N_ROOT + N_NOBODY), tot["close_wait"])
    t.check(tot["close_wait_unowned"] >= N_NOBODY, "totals.close_wait_unowned counts the uid %d "
            "holder's sockets" % UID, ">= %d" % N_NOBODY, tot["close_wait_unowned"])
    t.check(rep["scan"]["denied"] >= 1, "scan.denied without the capabilities", ">= 1",
            rep["scan"]["denied"])

    # A second unreadable process with a leak, and time for many scans (and sweeps, now that
    # some sockets have no owner) to walk both.
    nobody2 = nobody_holder("cwdennobody2")
    dt.leak(nobody2, N_NOBODY2)
    wait_scans(notify, 10)
    d.check_alive()
    check_one_degraded(j, "more unreadable processes, with sockets")
    for h in (nobody, nobody2):
        t.check_eq(j.entries("MESSAGE_ID=" + dt.MID_CLOSE_WAIT, "CLOSEWAITD_PID=%d" % h.pid), [],
                   "no alert on the unreadable uid %d holder %d" % (UID, h.pid))
    status = [l for l in notify.lines() if l.startswith("STATUS=")][-1]
    m = re.match(r"STATUS=(\d+) CLOSE_WAIT", status)
    t.check(m is not None and int(m.group(1)) >= N_ROOT + N_NOBODY + N_NOBODY2,
            "STATUS= counts every CLOSE_WAIT socket, attributed or not",
            ">= %d" % (N_ROOT + N_NOBODY + N_NOBODY2), status)
    t.check_eq(d.stop(), 0, "exit status on SIGTERM")


if __name__ == "__main__":
    t.main(main)
