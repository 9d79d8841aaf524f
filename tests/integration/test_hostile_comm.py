"""Hostile process names (comm) are escaped in JSON and in the table.

Holders with names carrying ANSI escapes, newlines, format directives, invalid UTF-8,
backslashes, DEL, C1 controls, a bidi override and a UTF-8 sequence cut by the kernel's 15-byte
limit each hold one CLOSE_WAIT socket; one more never accepts (accept_backlog comm).
JSON: parses, comm has no control character, equals the escaped /proc comm (control bytes and
invalid UTF-8 as \\xNN, backslash doubled, valid UTF-8 kept). Table: no ESC byte, no raw
control byte, valid UTF-8, and each holder's row carries its pid and escaped comm.
"""

import re

import cwtest as t

NAMES = [
    b"\x1b[31mevil",
    b"a\nb%n%s",
    b"\xff\xfe\\x",
    b"caf\xc3\xa9\"q'",
    b"\x7fdel\t\r",
    b"bidi\xe2\x80\xaeRLO",
    b"alm\xd8\x9cls\xe2\x80\xa8",
    b"\xc2\x85nel\x00",  # C1 NEL; the NUL ends the name
    b"aaaaaaaaaaaaaa\xc3\xa9",  # cut to 15 bytes: a lone \xc3
    b"\\x1b",  # looks like an escape: must come out as \\x1b
]
BACKLOG_NAME = b"\x1b]0;pwn\x07"


def unsafe(raw):
    return any(c < 0x20 or c == 0x7F for c in raw) or _invalid_utf8(raw)


def _invalid_utf8(raw):
    try:
        raw.decode("utf-8")
        return False
    except UnicodeDecodeError:
        return True


def main():
    holders = []
    clients = []
    for name in NAMES:
        h = t.Holder(name)
        port = h.listen()
        clients += t.connect("127.0.0.1", port, 1)
        h.call("accept", n=1)
        holders.append((h, port))
    bh = t.Holder(BACKLOG_NAME)
    bport = bh.listen()
    clients += t.connect("127.0.0.1", bport, 1)
    t.close_all(clients)
    for h, port in holders + [(bh, bport)]:
        t.wait_ss_count(1, "CLOSE_WAIT on port %d" % port, state="close-wait", sport=port)

    rep = t.run_json()
    for h, _ in holders:
        e = rep.need_proc(h.pid)
        t.check_owner(e, h.pid)
        t.check_eq(e["close_wait"]["count"], 1, "count of pid %d" % h.pid)
    bl = rep.backlogs(bport)
    t.check_eq(len(bl), 1, "accept_backlog entries of the hostile listener")
    t.check_eq(bl[0]["pid"], bh.pid, "accept_backlog pid of the hostile listener")
    t.check_comm(bl[0]["comm"], bh.pid, "accept_backlog comm")

    # the table
    p = t.run(["--once"], check_rc=0)
    out = p.stdout
    t.check(b"\x1b" not in out, "table output contains an ESC byte")
    bad = sorted(set(c for c in out if (c < 0x20 and c not in (0x0A, 0x09)) or c == 0x7F))
    t.check(not bad, "table output contains raw control bytes", [], bad)
    try:
        text = out.decode("utf-8")
    except UnicodeDecodeError as e:
        raise t.Fail("table output is not valid UTF-8: %s" % e)
    lines = text.splitlines()
    t.check(not any(l.startswith("b%n%s") for l in lines),
            "a raw newline from comm 'a\\nb%n%s' split a table row")
    for h, _ in holders:
        raw = t.proc_comm(h.pid)
        if unsafe(raw):
            t.check(raw not in out, "raw comm %r appears in the table" % raw)
        want = t.escape(raw)
        rows = [l for l in lines if re.search(r"(?<![0-9])%d(?![0-9])" % h.pid, l)]
        t.check(rows, "no table row carries pid %d" % h.pid, None, text[:3000])
        t.check(any(want in t.normalize_escapes(l) for l in rows),
                "table row of pid %d lacks its escaped comm" % h.pid, want, rows)


if __name__ == "__main__":
    t.main(main)
