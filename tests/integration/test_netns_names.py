"""/run/netns entries that are not network namespaces are no namespace to watch, and no failure.

/run/netns holds network namespaces by name (ip-netns(8)), but nothing stops a file of another
kind there: a leftover plain file (ip leaves one when its bind mount fails), or a namespace file
of another type bind-mounted by mistake (here a UTS namespace, also on nsfs). Neither can be
entered as a network namespace; counting it as "could not be entered" would report monitoring
as degraded (the daemon's "monitoring degraded" entry) for as long as the file stays.
With one real named namespace A beside them: --once --json says netns_watched 2 (own and A) and
netns_failed 0, and the table's last line "2 network namespaces watched" without "could not be
entered". Runs in mount, PID and network namespaces of its own (no journald started), with a
tmpfs over /run/netns: the files are the test's alone and go with it.
"""

import os
import re
import subprocess

import cwtest as t
import daemontest as dt
import nstest as ns


def main():
    dt.private_journal(net=True, start=False)  # only for the namespaces
    ns.need_netns()
    ns.private_run_netns()
    a = ns.Netns("A")

    plain = "/run/netns/cwplain%d" % os.getpid()
    open(plain, "w").close()
    uts = "/run/netns/cwuts%d" % os.getpid()
    open(uts, "w").close()
    p = subprocess.run(["mount", "--bind", "/proc/self/ns/uts", uts], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    if p.returncode != 0:
        raise t.Skip("cannot bind-mount a UTS namespace file: %s" % p.stdout.strip())
    t.check_eq(os.stat(uts).st_dev, os.stat(a.path).st_dev, "the UTS namespace file is on nsfs "
               "like A's")
    t.check(os.stat(uts).st_ino != a.ino, "the UTS namespace file is not A")

    rep = t.run_json()
    got = (rep["scan"].get("netns_watched"), rep["scan"].get("netns_failed"))
    t.check_eq(got, (2, 0), "(scan.netns_watched, scan.netns_failed) with A, a plain file and a "
               "UTS namespace file in /run/netns")
    out = t.run(["--once"], check_rc=0).stdout.decode("utf-8", "replace")
    last = out.strip().splitlines()[-1]
    ok = re.search(r"\b2 network namespaces watched", last) and "could not be entered" not in last
    t.check(ok, "the table's last line", "2 network namespaces watched, none failing", last)


if __name__ == "__main__":
    t.main(main)
