"""Hostile executable paths never reach JSON, the table or the journal raw.

The real python3 binary is copied into directories named with an ANSI escape (and an OSC title
sequence), a newline and a carriage return, a tab and DEL, invalid UTF-8 (\\xff\\xfe, a lone
lead byte, an overlong '/', an encoded surrogate), printf directives (%n%s), C1 controls, a bidi
override (U+202E), and backslash sequences that look like escapes, plus a nested path of 4000
bytes with control bytes in two components. From each copy a holder (a small script run by that
interpreter, with a hostile comm of its own) leaks its own number of CLOSE_WAIT sockets. A copy
of sleep at a path of 4095 bytes (the longest /proc/PID/exe can show; PATH_MAX is 4096), named
with an escape and invalid UTF-8 (its comm), holds sockets it inherited. Then:

  * `--once --json` is valid UTF-8, one JSON object, schema-valid; each holder is reported with
    its exact count, and its `exe` holds no control character (U+0000-U+001F, U+007F, C1), no
    bidi override, no lone surrogate, and equals the /proc/PID/exe bytes escaped as
    daemon/strutil.c's str_escape() does (\\xNN, backslash doubled), so the path can be
    recovered byte for byte, the long ones uncut; the literal "%n%s" is there (never
    interpreted); no raw path that needs escaping appears in the output;
  * the table (`--once`) has no control byte but the newline, no C1 control or bidi override, is
    valid UTF-8, and shows each holder's escaped comm;
  * the daemon (private journald, thresholds 3 sockets / 0.5 s) alerts once per holder with
    CLOSEWAITD_EXE equal to that same escaped path; every field the daemon writes is text
    (journalctl -o json prints a field with control bytes or invalid UTF-8 as an array of
    numbers), MESSAGE carries no control character and names the escaped comm and exe, and
    `journalctl -o cat` / `-o short` show no ESC byte and the literal %n%s; the daemon survives,
    its stderr holds no sanitizer or valgrind report, and SIGTERM exits 0.

The copies are removed at the end.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time

import cwtest as t
import daemontest as dt

# (directory name, comm of the holder, CLOSE_WAIT sockets it leaks)
HOSTILE = [
    (b"ansi-\x1b[31mred\x1b[0m-\x1b]0;title\x07", b"\x1b[32mexe", 3),
    (b"newline-a\nb\rc", b"x\ny", 4),
    (b"tab-\tdel-\x7f", b"\x7f\t", 5),
    (b"utf8-\xff\xfe-\xc3-\xc0\xaf-\xed\xa0\x80", b"\xff\xfe", 3),
    (b"fmt-%n%s%x%p%%n", b"%n%s%n", 4),
    (b"c1-\xc2\x9b31m-\xc2\x85", b"c1\xc2\x9b", 5),
    (b"bidi-\xe2\x80\xaeevil.txt", b"b\xe2\x80\xaeexe", 3),
    (b"bs-\\x1b-\\\\-\\", b"bs\\x41", 4),
]
LONG_PATH = 4000  # bytes of a long path to a python3 copy (python3 does not start from 4095)
LONG_COMM = b"long\x1b[1m"
LONG_N = 6
# The longest path /proc/PID/exe can show: 4095 bytes (the kernel's d_path() into PATH_MAX
# with the NUL), to a copy of sleep whose name (and so comm) is hostile too.
LONGEST_PATH = 4095
SLEEP_NAME = b"sleep\x1b[1m\xfe"
SLEEP_N = 3

HOLDER = r"""
import ctypes, signal, socket, sys
libc = ctypes.CDLL(None)
libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
libc.prctl(15, ctypes.c_char_p(bytes.fromhex(sys.argv[1])), 0, 0, 0)  # PR_SET_NAME
n = int(sys.argv[2])
lst = socket.socket()
lst.bind(("127.0.0.1", 0))
lst.listen(n)
sys.stdout.write("%d\n" % lst.getsockname()[1])
sys.stdout.flush()
held = [lst.accept()[0] for _ in range(n)]
sys.stdout.write("ok\n")
sys.stdout.flush()
sys.stdin.read()
"""

SANITIZER = re.compile(r"ERROR: AddressSanitizer|runtime error:|LeakSanitizer|^==\d+==")
# Not a report: valgrind could not remove its vgdb FIFOs (/tmp/vgdb-pipe-*-PID-...) because a
# daemon of another test, run under valgrind in a PID namespace of its own with the same pid,
# shares /tmp and removed them first.
VGDB_NOTE = re.compile(r"^==\d+== could not unlink /tmp/vgdb-pipe-")


def tool_reports(err):
    """The lines of err (the daemon's stderr) that belong to a sanitizer or valgrind report."""
    return [l for l in err.splitlines() if SANITIZER.search(l) and not VGDB_NOTE.search(l)]


def real_binary(path):
    p = os.path.realpath(path)
    if not os.access(p, os.X_OK):
        raise t.Skip("no %s binary to copy (%s)" % (path, p))
    return p


def copy_into(dir_fd, src, name):
    """Copy the binary src into the directory dir_fd as name (bytes), mode 0755."""
    s = os.open(src, os.O_RDONLY | os.O_CLOEXEC)
    try:
        d = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o755,
                    dir_fd=dir_fd)
        try:
            size = os.fstat(s).st_size
            off = 0
            while off < size:
                off += os.sendfile(d, s, off, size - off)
        finally:
            os.close(d)
    finally:
        os.close(s)


def make_long(base, src, total, name):
    """Nested directories under base so that the copy of src named name has a path of exactly
    total bytes, made through directory fds (no call sees a path near PATH_MAX but exec). Two
    components carry control bytes and invalid UTF-8. Returns the copy's path (bytes)."""
    path = base
    fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        i = 0
        room = total - len(base) - 1 - len(name)  # for the "component/" parts
        while room > 0:
            size = min(240, room - 1)  # NAME_MAX is 255
            if room - (size + 1) == 1:  # a 1-byte rest cannot hold "x/"
                size -= 1
            comp = (b"\x1b[7m\x01\xff" if i in (1, 7) and size >= 20 else b"") + b"L%02d" % i
            comp = (comp + b"_" * size)[:size]
            os.mkdir(comp, 0o755, dir_fd=fd)
            nfd = os.open(comp, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=fd)
            os.close(fd)
            fd = nfd
            path += b"/" + comp
            room -= size + 1
            i += 1
        copy_into(fd, src, name)
        path += b"/" + name
    finally:
        os.close(fd)
    t.check_eq(len(path), total, "length of the long path")
    return path


class ExeHolder:
    """A holder script run by the interpreter at exe (bytes), with comm, leaking n sockets."""

    named_in_message = True  # the alert names the exe: its basename is not the comm

    def __init__(self, exe, comm, n):
        self.exe_path, self.n = exe, n
        # -I: isolated (no environment variables, no user site): the copy finds its standard
        # library from the compiled-in prefix.
        self.proc = t.popen([exe, "-I", "-c", HOLDER, comm.hex(), str(n)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.pid = self.proc.pid
        line = self.proc.stdout.readline()
        t.check(line.strip().isdigit(), "the holder from %r printed its port" % exe, "a port",
                line)
        self.port = int(line)
        self.clients = t.connect("127.0.0.1", self.port, n)
        t.check_eq(self.proc.stdout.readline(), b"ok\n", "the holder from %r accepted" % exe)
        # shutdown(SHUT_WR) and keep the fds: the peers stay in FIN_WAIT2, the count stays exact.
        for c in self.clients:
            c.shutdown(socket.SHUT_WR)
        t.on_cleanup(lambda: t.close_all(self.clients))

    def raw_exe(self):
        return os.readlink(b"/proc/%d/exe" % self.pid)


class SleepHolder(ExeHolder):
    """A copy of sleep at exe (the path may be as long as execve() takes, which python3 does
    not start from), holding n CLOSE_WAIT sockets it inherits: the test accepts them, passes them
    through exec and closes its own fds. Its comm is the copy's (hostile) name, so the alert's
    MESSAGE does not repeat the exe."""

    named_in_message = False

    def __init__(self, exe, n):
        self.exe_path, self.n = exe, n
        lst = socket.socket()
        lst.bind(("127.0.0.1", 0))
        lst.listen(n)
        self.port = lst.getsockname()[1]
        self.clients = t.connect("127.0.0.1", self.port, n)
        held = [lst.accept()[0] for _ in range(n)]
        lst.close()
        for c in self.clients:
            c.shutdown(socket.SHUT_WR)
        t.on_cleanup(lambda: t.close_all(self.clients))
        self.proc = t.popen([exe, "3600"], pass_fds=[s.fileno() for s in held],
                            stdin=subprocess.DEVNULL)
        t.close_all(held)
        self.pid = self.proc.pid


def unsafe_chars(s):
    """Control characters (C0, DEL, C1), bidi embeddings, overrides and isolates, and lone
    surrogates (what json.loads makes of a \\udXXX escape)."""
    return [c for c in s if ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F
            or 0x202A <= ord(c) <= 0x202E or 0x2066 <= ord(c) <= 0x2069
            or 0xD800 <= ord(c) <= 0xDFFF]


def check_exe_string(exe, h, what):
    """exe (a str from JSON or the journal) is safe text and the escaped /proc/PID/exe."""
    raw = h.raw_exe()
    t.check(isinstance(exe, str), "%s of pid %d is a string" % (what, h.pid), None, exe)
    bad = unsafe_chars(exe)
    t.check(not bad, "%s of pid %d has no control, bidi or surrogate character" % (what, h.pid),
            None, exe[:300])
    try:
        exe.encode("utf-8", "strict")
    except UnicodeEncodeError as e:
        raise t.Fail("%s of pid %d is not valid UTF-8: %s" % (what, h.pid, e))
    t.check_eq(t.normalize_escapes(exe), t.escape(raw),
               "%s of pid %d is the escaped /proc/PID/exe (raw %r)" % (what, h.pid, raw[:120]))
    t.check_eq(t.unescape(exe), raw, "%s of pid %d unescaped gives the path back" % (what, h.pid))
    if b"%n" in raw:
        t.check("%n%s" in exe, "%s of pid %d keeps the literal %%n%%s" % (what, h.pid), None, exe)


def check_json(holders):
    rep = t.run_json()  # strict UTF-8, one JSON object, schema, invariants
    for h in holders:
        e = rep.need_proc(h.pid)
        t.check_eq(e["close_wait"]["count"], h.n, "close_wait.count of the holder from %r"
                   % h.exe_path[:80])
        t.check_comm(e["comm"], h.pid)
        check_exe_string(e["exe"], h, "exe")
    out = t.run(["--once", "--json"], check_rc=0).stdout
    bad = sorted(set(c for c in out if (c < 0x20 and c != 0x0A) or c == 0x7F))
    t.check(not bad, "raw control bytes in the --json output", [], bad)
    for h in holders:
        if t.escape(h.exe_path).encode() != h.exe_path:  # a path that must be escaped
            t.check(h.exe_path not in out, "the raw path %r is in the --json output"
                    % h.exe_path[:80])


def check_table(holders):
    out = t.run(["--once"], check_rc=0).stdout
    bad = sorted(set(c for c in out if (c < 0x20 and c != 0x0A) or c == 0x7F))
    t.check(not bad, "the table contains raw control bytes (only \\n allowed)", [], bad)
    try:
        text = out.decode("utf-8")
    except UnicodeDecodeError as e:
        raise t.Fail("the table is not valid UTF-8: %s" % e)
    t.check(not any(0x80 <= ord(c) <= 0x9F or 0x202A <= ord(c) <= 0x202E for c in text),
            "the table contains a C1 control or a bidi override")
    lines = text.splitlines()
    for h in holders:
        rows = [l for l in lines if re.match(r"\s*%d\s" % h.pid, l)]
        t.check_eq(len(rows), 1, "table rows of pid %d" % h.pid)
        want = t.escape(t.proc_comm(h.pid))
        t.check(want in t.normalize_escapes(rows[0]),
                "the table row of pid %d has its escaped comm" % h.pid, want, rows[0])


def journal_entries(j, *matches):
    """Entries as dicts, the output decoded strictly as UTF-8 (Journal.entries replaces)."""
    j.sync()
    p = subprocess.run(["journalctl", "--no-pager", "--all", "-o", "json"] + list(matches),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20)
    try:
        text = p.stdout.decode("utf-8")
    except UnicodeDecodeError as e:
        raise t.Fail("journalctl -o json printed invalid UTF-8: %s" % e)
    return [json.loads(l) for l in text.splitlines() if l.strip()]


def daemon_field(name):
    """A field the daemon writes. journald adds the others: its trusted fields (_*, __*) and,
    for OBJECT_PID= from uid 0, OBJECT_COMM, OBJECT_EXE, OBJECT_CMDLINE, ... read from /proc of
    that process by journald itself, raw (journalctl prints them as byte arrays here)."""
    if name.startswith("_"):
        return False
    if name.startswith("OBJECT_"):
        return name == "OBJECT_PID"
    return True


def check_daemon(j, holders):
    conf = dt.conf_text({"interval": "0.2", "close_wait": {"count": "3", "hold": "0.5"}})
    d = dt.Daemon(conf=conf)
    want = {str(h.pid): h for h in holders}
    deadline = time.monotonic() + 60
    while True:
        es = journal_entries(j, "MESSAGE_ID=" + dt.MID_CLOSE_WAIT)
        seen = {e.get("CLOSEWAITD_PID") if isinstance(e.get("CLOSEWAITD_PID"), str) else None
                for e in es}
        if set(want) <= seen:
            break
        d.check_alive()
        if time.monotonic() > deadline:
            raise t.Fail("alerts about the holders not all seen within 60 s: missing pids %s; "
                         "entries: %s" % (sorted(set(want) - seen), es[-5:]))
        time.sleep(0.3)
    time.sleep(1.0)  # more scans on the hostile strings
    d.check_alive()

    everything = journal_entries(j, "SYSLOG_IDENTIFIER=closewaitd")
    for e in everything:
        for k, v in e.items():
            if not daemon_field(k):
                continue
            t.check(isinstance(v, str), "field %s of a closewaitd entry is text (not bytes)" % k,
                    None, (v if not isinstance(v, list) else bytes(v)[:200], e.get("MESSAGE")))
    for h in holders:
        es = [e for e in everything if e.get("MESSAGE_ID") == dt.MID_CLOSE_WAIT
              and e.get("CLOSEWAITD_PID") == str(h.pid)]
        what = "the alert about the holder from %r" % h.exe_path[:80]
        t.check_eq(len(es), 1, "number of entries: " + what)
        e = es[0]
        check_exe_string(e.get("CLOSEWAITD_EXE"), h, "CLOSEWAITD_EXE")
        t.check_eq(t.normalize_escapes(e["CLOSEWAITD_COMM"]), t.escape(t.proc_comm(h.pid)),
                   "CLOSEWAITD_COMM: " + what)
        t.check(int(e["CLOSEWAITD_COUNT"]) in range(3, h.n + 1), "CLOSEWAITD_COUNT: " + what,
                "3..%d" % h.n, e["CLOSEWAITD_COUNT"])
        msg = e["MESSAGE"]
        t.check(not unsafe_chars(msg), "MESSAGE has no control, bidi or surrogate character: "
                + what, None, msg[:300])
        if h.named_in_message:
            t.check(t.normalize_escapes(e["CLOSEWAITD_EXE"]) in t.normalize_escapes(msg),
                    "MESSAGE names the escaped path: " + what, e["CLOSEWAITD_EXE"][:200],
                    msg[:400])
        t.check(t.normalize_escapes(e["CLOSEWAITD_COMM"]) in t.normalize_escapes(msg),
                "MESSAGE names the escaped comm: " + what, e["CLOSEWAITD_COMM"], msg[:400])
    # MESSAGE as journalctl shows it (-o verbose would also show journald's own raw OBJECT_*).
    for fmt in ("cat", "short"):
        out = subprocess.run(["journalctl", "--no-pager", "--all", "-o", fmt,
                              "SYSLOG_IDENTIFIER=closewaitd"],
                             stdout=subprocess.PIPE, timeout=20).stdout
        t.check(b"\x1b" not in out, "no ESC byte in journalctl -o %s" % fmt, None, out[-1500:])
        t.check(b"%n%s" in out, "the literal %%n%%s in journalctl -o %s" % fmt, None, out[-1500:])

    d.check_alive()
    rc = d.stop()
    err = d.err()
    t.check(not tool_reports(err), "no sanitizer or valgrind report on the daemon's stderr",
            None, err[-4000:])
    t.check_eq(rc, 0, "exit status on SIGTERM (stderr: %s)" % err[-1500:])


def main():
    j = dt.private_journal()
    python = real_binary("/usr/bin/python3")
    sleep = real_binary("/bin/sleep")
    base = tempfile.mkdtemp(prefix="cwtest-exe-").encode()
    t.on_cleanup(lambda: shutil.rmtree(base, ignore_errors=True))
    holders = []
    for name, comm, n in HOSTILE:
        d = os.path.join(base, name)
        os.mkdir(d)
        fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
        try:
            copy_into(fd, python, os.path.basename(python).encode())
        finally:
            os.close(fd)
        holders.append(ExeHolder(os.path.join(d, os.path.basename(python).encode()), comm, n))
    os.mkdir(os.path.join(base, b"long"))
    exe = make_long(os.path.join(base, b"long"), python, LONG_PATH,
                    os.path.basename(python).encode())
    holders.append(ExeHolder(exe, LONG_COMM, LONG_N))
    os.mkdir(os.path.join(base, b"longest"))
    exe = make_long(os.path.join(base, b"longest"), sleep, LONGEST_PATH, SLEEP_NAME)
    holders.append(SleepHolder(exe, SLEEP_N))

    for h in holders:
        t.wait_ss_count(h.n, "CLOSE_WAIT sockets of the holder from %r" % h.exe_path[:80],
                        state="close-wait", sport=h.port)
        t.check_eq(h.raw_exe(), h.exe_path, "/proc/%d/exe" % h.pid)
    check_json(holders)
    check_table(holders)
    check_daemon(j, holders)

    for h in holders:
        h.proc.kill()
        h.proc.wait(timeout=10)
    shutil.rmtree(base)
    t.check(not os.path.exists(base), "the copies are removed")


if __name__ == "__main__":
    t.main(main, timeout=110)
