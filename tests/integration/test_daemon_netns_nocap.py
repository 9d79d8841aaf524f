"""closewaitd without CAP_SYS_ADMIN: it says so once, watches its own network namespace only, and
still reports the leaks there.

closewaitd runs under setpriv with CAP_SYS_ADMIN dropped from the bounding set (and so from the
permitted set of root; every other capability kept), valgrind's wrapper inside it. The test runs
in mount, PID and network namespaces of its own (the daemon's "host"), with a private journald and
a tmpfs over /run/netns. A host process leaks 4 CLOSE_WAIT sockets; a server in namespace A leaks
5 to clients in B (veth pair).
  * With every capability, --once sees the server in A (the leak is real and visible).
  * Without CAP_SYS_ADMIN, --once reports the host process and not the server, scan.netns_watched
    is 1, no namespace counted as failed, and stderr says "no CAP_SYS_ADMIN".
  * The daemon (capabilities checked in /proc) alerts on the host process (CLOSEWAITD_NETNS the
    host's), never on the server in A, and writes the warning "no CAP_SYS_ADMIN: watching this
    network namespace only ..." (PRIORITY 4) exactly once over 10 scans, a SIGHUP reload and 10
    more scans; no "monitoring degraded" entry (A is not watched, not failing). SIGTERM exits 0.
"""

import shutil
import signal
import subprocess

import cwtest as t
import daemontest as dt
import nstest as ns

N_HOST, N_A = 4, 5
WARNING = "no CAP_SYS_ADMIN"


def setpriv_prefix():
    return ["setpriv", "--bounding-set=-sys_admin", "--inh-caps=-sys_admin", "--"]


def lacks_sys_admin(mask):
    return not mask & (1 << ns.CAP_SYS_ADMIN)


def need_setpriv():
    if not shutil.which("setpriv"):
        raise t.Skip("setpriv (util-linux) is not installed")
    p = subprocess.run(setpriv_prefix() + ["grep", "^CapEff:", "/proc/self/status"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if p.returncode != 0:
        raise t.Skip("setpriv cannot drop CAP_SYS_ADMIN here: %s" % p.stdout.strip())
    if not lacks_sys_admin(int(p.stdout.split()[1], 16)):
        raise t.Skip("setpriv ran a process that still has CAP_SYS_ADMIN: %s" % p.stdout)


def wait_scans(notify, n):
    n0 = len(notify.lines())
    t.wait_for(lambda: notify.lines()[n0:].count("WATCHDOG=1") >= n, "%d more scans" % n,
               timeout=30)


def logged(j, prefix):
    return [e for e in j.entries("SYSLOG_IDENTIFIER=closewaitd")
            if e.get("MESSAGE", "").startswith(prefix)]


def main():
    j = dt.private_journal(net=True)
    ns.need_netns()
    ns.private_run_netns()
    need_setpriv()
    prefix = setpriv_prefix()
    own = ns.ns_ino()
    a, b = ns.Netns("A"), ns.Netns("B")
    ns.veth(a, b)

    host = t.Holder(t.unique_comm("cwncH"))
    dt.leak(host, N_HOST)
    srv = ns.holder_in(a, t.unique_comm("cwncA"))
    ns.close_wait_in(a, srv, N_A, client_ns=b)

    full = t.run_json()
    e = full.need_proc(srv.pid)
    t.check_eq((e["close_wait"]["count"], e.get("netns")), (N_A, a.ino),
               "with every capability: (count, netns) of the server in A")

    rep = t.run_json(prefix=prefix)
    t.check_eq(rep.proc(srv.pid), None, "without CAP_SYS_ADMIN: the server in A is not reported")
    e = rep.need_proc(host.pid)
    t.check_eq((e["close_wait"]["count"], e.get("netns")), (N_HOST, own),
               "without CAP_SYS_ADMIN: (count, netns) of the host process")
    t.check_eq((rep["scan"].get("netns_watched"), rep["scan"].get("netns_failed")), (1, 0),
               "without CAP_SYS_ADMIN: (scan.netns_watched, scan.netns_failed)")
    p = t.run(["--once"], check_rc=0, prefix=prefix)
    err = p.stderr.decode("utf-8", "replace")
    t.check(WARNING in err, "--once without CAP_SYS_ADMIN says so on stderr", WARNING, err)

    notify = dt.Notify()
    d = dt.Daemon(notify=notify, log_target="journal", prefix=prefix)
    notify.wait(lambda l: l == "READY=1", "READY=1", timeout=30)
    for key in ("CapEff", "CapPrm"):
        mask = t.caps_of(d.proc.pid, key)
        t.check(lacks_sys_admin(mask), "the daemon runs without CAP_SYS_ADMIN (%s)" % key,
                "bit %d clear" % ns.CAP_SYS_ADMIN, hex(mask))

    es = j.wait(lambda es: es, "the alert on the host process", 30,
                "MESSAGE_ID=" + dt.MID_CLOSE_WAIT, "CLOSEWAITD_PID=%d" % host.pid)
    t.check_eq(es[0].get("CLOSEWAITD_COUNT"), str(N_HOST), "CLOSEWAITD_COUNT of the host process")
    t.check_eq(es[0].get("CLOSEWAITD_NETNS"), str(own), "CLOSEWAITD_NETNS of the host process")

    wait_scans(notify, 10)
    d.signal(signal.SIGHUP)  # a reload applies the netns setting again: still no second warning
    t.wait_for(lambda: logged(j, "configuration reloaded"), "the reload", timeout=30)
    wait_scans(notify, 10)
    d.check_alive()

    warn = logged(j, WARNING)
    t.check_eq(len(warn), 1, "number of \"%s\" entries over 20 scans and a reload (%s)"
               % (WARNING, [x.get("MESSAGE") for x in warn]))
    t.check(warn[0]["MESSAGE"].startswith(WARNING + ": watching this network namespace only"),
            "the warning says what is watched", WARNING + ": watching this network namespace only",
            warn[0]["MESSAGE"])
    t.check_eq(warn[0].get("PRIORITY"), "4", "PRIORITY of the warning")
    t.check_eq(j.entries("MESSAGE_ID=" + dt.MID_CLOSE_WAIT, "CLOSEWAITD_PID=%d" % srv.pid), [],
               "alerts on the server in A (its namespace is not watched)")
    t.check_eq([x.get("MESSAGE") for x in j.entries("MESSAGE_ID=" + dt.MID_DEGRADED)], [],
               "\"monitoring degraded\" entries")
    t.check_eq(d.stop(), 0, "exit status on SIGTERM")


if __name__ == "__main__":
    t.main(main)
