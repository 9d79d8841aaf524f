"""Hostile process names never reach the journal raw.

Holders named with an ANSI escape, a newline and printf directives, invalid UTF-8, DEL and a
tab, and a bidi override each leak 3 CLOSE_WAIT sockets. Each alert (private journald) carries
CLOSEWAITD_COMM equal to the escaped /proc comm; no field holds a control byte or invalid UTF-8
(journalctl -o json would print such a field as an array of numbers), and `journalctl -o cat`
shows no ESC byte.
"""

import cwtest as t
import daemontest as dt

NAMES = [b"\x1b[31mevil", b"a\nb%n%s", b"\xff\xfe\\x", b"\x7fdel\t", b"bidi\xe2\x80\xaeRLO"]


def main():
    j = dt.private_journal()
    holders = [t.Holder(name) for name in NAMES]
    d = dt.Daemon()
    for h in holders:
        dt.leak(h, 3)

    for h in holders:
        es = j.wait(lambda es: es, "the alert about pid %d" % h.pid, 30,
                    "MESSAGE_ID=" + dt.MID_CLOSE_WAIT, "CLOSEWAITD_PID=%d" % h.pid)
        e = es[0]
        raw = t.proc_comm(h.pid)
        for k, v in e.items():
            t.check(isinstance(v, str), "field %s of the alert about %r is text" % (k, raw), None, v)
            if k.startswith("CLOSEWAITD_") or k == "MESSAGE":
                bad = [c for c in v if ord(c) < 0x20 or ord(c) == 0x7F or 0x80 <= ord(c) <= 0x9F]
                t.check(not bad, "field %s has no control character (comm %r)" % (k, raw), None, v)
        t.check_eq(t.normalize_escapes(e["CLOSEWAITD_COMM"]), t.escape(raw),
                   "CLOSEWAITD_COMM of %r" % raw)
        t.check(t.normalize_escapes(e["CLOSEWAITD_COMM"]) in t.normalize_escapes(e["MESSAGE"]),
                "the MESSAGE names the escaped comm", e["CLOSEWAITD_COMM"], e["MESSAGE"])

    out = j.text("-o", "cat", "SYSLOG_IDENTIFIER=closewaitd")
    t.check("\x1b" not in out, "no ESC byte in what journalctl prints", None, out[-2000:])
    t.check_eq(d.stop(), 0, "exit status on SIGTERM")


if __name__ == "__main__":
    t.main(main)
