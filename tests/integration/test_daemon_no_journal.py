"""The journal unreachable: alerts go to stderr and the daemon keeps going; once journald is
back, entries go to the journal again.

In private namespaces with no journald at first (no /run/systemd/journal/socket), the daemon runs
with --log-target journal: a leak's alert appears on stderr, with one line saying the journal is
unreachable. Then journald starts; the resolved entry of the fixed leak lands in the journal.
"""

import time

import cwtest as t
import daemontest as dt


def main():
    j = dt.private_journal(start=False)
    h = t.Holder(t.unique_comm("cwnojournal"))
    notify = dt.Notify()
    d = dt.Daemon(notify=notify, log_target="journal")
    notify.wait(lambda l: l == "READY=1", "READY=1 without a journal", timeout=30)

    dt.leak(h, 4)
    name = "[%d]" % h.pid
    t.wait_for(lambda: name in d.err(), "the alert on stderr while the journal is down", timeout=20)
    t.check("journal unreachable" in d.err(), "stderr says the journal is unreachable", None,
            d.err()[-2000:])
    d.check_alive()

    j.start()
    time.sleep(0.5)
    h.call("close_accepted")
    mine = "CLOSEWAITD_PID=%d" % h.pid
    j.wait(lambda es: es, "the resolved entry in the journal once it is back", 20,
           "MESSAGE_ID=" + dt.MID_RESOLVED, mine)
    d.check_alive()
    t.check_eq(d.stop(), 0, "exit status on SIGTERM")


if __name__ == "__main__":
    t.main(main)
