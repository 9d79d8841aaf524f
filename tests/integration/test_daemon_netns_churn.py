"""Short-lived network namespaces are no monitoring failure: a process that lived in a namespace
of its own and exited between the /proc walk and the daemon's entering its namespace is an
expected race (it vanished), not a namespace that "could not be entered".

Hosts create and drop network namespaces all the time: systemd units with PrivateNetwork=, CI
jobs under `unshare -n`, containers starting and stopping. The daemon (interval 0.1 s) runs while
a churner keeps 4 children alive, each unsharing a network namespace of its own and exiting after
10 to 60 ms, for 8 s (~100 scans, ~600 namespaces). Expected: no "monitoring degraded" entry.

To make the race window wide enough to hit on every run, the test runs in a PID namespace of its
own and holds 300 idle processes at pids above 10000, while the churner's children get pids just
above 1000 (ns_last_pid): the daemon's walk of /proc reaches each child early, then spends the
walk of the 300 others before it enters the child's namespace. Measured before any fix: every run
had several degraded/recovered pairs. Also in mount and network namespaces of its own, with a
private journald and a tmpfs over /run/netns.
"""

import ctypes
import os
import random
import subprocess
import time

import cwtest as t
import daemontest as dt
import nstest as ns

CHILDREN = 4
LIFE = (0.01, 0.06)
DURATION = 8.0
FILLERS = 300
NS_LAST_PID = "/proc/sys/kernel/ns_last_pid"

_libc = ctypes.CDLL(None, use_errno=True)


def set_last_pid(n):
    with open(NS_LAST_PID, "w") as f:
        f.write("%d\n" % n)


def churn():
    """Keep CHILDREN children alive, each in a network namespace of its own for LIFE seconds,
    until DURATION has passed; print how many there were."""
    kids, n = set(), 0
    end = time.monotonic() + DURATION
    while time.monotonic() < end:
        while len(kids) < CHILDREN:
            life = random.uniform(*LIFE)
            set_last_pid(1000)
            pid = os.fork()
            if pid == 0:
                if _libc.unshare(ns.CLONE_NEWNET) != 0:
                    os._exit(1)
                time.sleep(life)
                os._exit(0)
            kids.add(pid)
            n += 1
        pid, status = os.wait()
        kids.discard(pid)
        if status != 0:
            raise t.Fail("a churn child could not unshare its network namespace")
    for pid in kids:
        os.waitpid(pid, 0)
    print("note: %d short-lived network namespaces" % n)


def main():
    j = dt.private_journal(net=True)
    ns.need_netns()
    ns.private_run_netns()
    if not os.access(NS_LAST_PID, os.W_OK):
        raise t.Skip("%s is not writable" % NS_LAST_PID)

    set_last_pid(10000)
    for _ in range(FILLERS):
        t.popen(["sleep", "1000"], stdin=subprocess.DEVNULL)
    set_last_pid(2000)  # the test's other processes (the daemon, ...) between the two ranges

    notify = dt.Notify()
    d = dt.Daemon(dt.conf_text({"interval": "0.1"}), notify=notify)
    notify.wait(lambda l: l == "READY=1", "READY=1", timeout=30)
    n0 = len(notify.lines())

    pid = t.fork_child(churn)
    _, status = os.waitpid(pid, 0)
    t.check_eq(status, 0, "exit status of the churner")
    scans = notify.lines()[n0:].count("WATCHDOG=1")
    print("note: %d scans during the churn" % scans)
    t.check(scans >= 20, "the daemon scanned during the churn", ">= 20", scans)
    d.check_alive()

    deg = [x.get("MESSAGE") for x in j.entries("MESSAGE_ID=" + dt.MID_DEGRADED)]
    t.check_eq(deg, [], "\"monitoring degraded\" entries while short-lived processes in network "
               "namespaces of their own come and go (a process gone before its namespace is "
               "entered vanished; it is no failure)")
    t.check_eq(d.stop(), 0, "exit status on SIGTERM")


if __name__ == "__main__":
    t.main(main)
