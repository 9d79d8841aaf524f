"""journald going away while the daemon runs, and coming back: alerts due meanwhile go to stderr,
the daemon goes on, and once journald is back alerts go to the journal again.

The daemon logs to the journal (--log-target journal) of a private journald.
  1. A first leak's alert is in the journal, not on stderr.
  2. journald is stopped as a service manager stops it (SIGTERM): its socket file stays, nothing
     reads it (a sender gets ECONNREFUSED). A second leak, in another process: its alert is on
     stderr after a line saying the journal is unreachable, and never reaches the journal.
  3. journald starts again on the same socket path. A third leak's alert is in the journal (not
     on stderr), after an entry saying the journal is reachable again.
  4. The same once more with the socket file gone too (journald stopped and its socket removed):
     the fourth leak's alert on stderr, the fifth's in the journal after journald is back.
The daemon runs throughout and exits 0 on SIGTERM.
"""

import os

import cwtest as t
import daemontest as dt

SOCKET = "/run/systemd/journal/socket"


def alert_in_journal(j, h, what):
    es = j.wait(lambda es: es, what, 20, "MESSAGE_ID=" + dt.MID_CLOSE_WAIT,
                "CLOSEWAITD_PID=%d" % h.pid)
    t.check_eq(len(es), 1, what + ": one entry")


def check_not_on_stderr(d, h, what):
    t.check(("[%d]" % h.pid) not in d.err(), what + ": not on stderr", None, d.err()[-2000:])


def outage(j, d, comm, remove_socket):
    """Stop journald (and remove its socket with remove_socket); a leak while it is down must be
    alerted on stderr only. Returns that holder."""
    err_before = len(d.err())
    j.stop()
    if remove_socket:
        os.unlink(SOCKET)
    else:
        t.check(os.path.exists(SOCKET), "journald's socket file stays behind when it stops", SOCKET,
                os.listdir(os.path.dirname(SOCKET)))
    h = t.Holder(t.unique_comm(comm))
    dt.leak(h, 3)
    name = "[%d]" % h.pid
    t.wait_for(lambda: name in d.err()[err_before:], "the alert of %s on stderr while the "
               "journal is down" % name, timeout=20)
    new = d.err()[err_before:]
    t.check("journal unreachable" in new, "stderr says the journal is unreachable", None,
            new[-2000:])
    t.check(new.index("journal unreachable") < new.index(name), "the unreachable line comes "
            "before the alert", None, new[-2000:])
    d.check_alive()
    return h


def main():
    j = dt.private_journal(net=True)
    notify = dt.Notify()
    d = dt.Daemon(notify=notify, log_target="journal")
    notify.wait(lambda l: l == "READY=1", "READY=1", timeout=30)

    h1 = t.Holder(t.unique_comm("cwjr1-"))
    dt.leak(h1, 3)
    alert_in_journal(j, h1, "the first alert, journald up")
    check_not_on_stderr(d, h1, "the first alert")

    for i, remove in ((2, False), (4, True)):
        n_back = len([e for e in j.entries("SYSLOG_IDENTIFIER=closewaitd")
                      if e.get("MESSAGE", "").startswith("journal reachable again")])
        down = outage(j, d, "cwjr%d-" % i, remove)
        j.start()
        up = t.Holder(t.unique_comm("cwjr%d-" % (i + 1)))
        dt.leak(up, 3)
        alert_in_journal(j, up, "the alert after journald restarted (outage %d)" % (i // 2))
        check_not_on_stderr(d, up, "the alert after journald restarted")
        t.check_eq(j.entries("MESSAGE_ID=" + dt.MID_CLOSE_WAIT, "CLOSEWAITD_PID=%d" % down.pid),
                   [], "the alert made while journald was down is not in the journal")
        back = [e for e in j.entries("SYSLOG_IDENTIFIER=closewaitd")
                if e.get("MESSAGE", "").startswith("journal reachable again")]
        t.check_eq(len(back), n_back + 1, "one \"journal reachable again\" entry per outage")
        d.check_alive()

    t.check_eq(d.stop(), 0, "exit status on SIGTERM")


if __name__ == "__main__":
    t.main(main)
