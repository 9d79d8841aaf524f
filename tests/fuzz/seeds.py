#!/usr/bin/python3
"""seeds.py: writes the seed corpora of the fuzz targets into tests/fuzz/corpus/fuzz-<target>/.

Run once by hand when a target's input format changes; the build does not run it. Existing files
of the same names are overwritten, other files (crash inputs saved as regression tests) are kept.

    tests/fuzz/seeds.py diag proc conf render container

diag needs root on Linux: it makes LISTEN, CLOSE_WAIT (accepted and still queued), FIN_WAIT2 and
TIME_WAIT sockets on loopback (IPv4 and IPv6), dumps them through NETLINK_SOCK_DIAG as closewaitd
does (with and without INET_DIAG_INFO, per family and with the old both-families request), and
saves the kernel's replies, then edits one of them into the hostile cases the decoder must refuse.
proc reads this machine's /proc; conf uses config/closewaitd.conf and the cases of test-conf.c;
container writes the cgroup layouts of test-container.c (a host's own cgroups hold no container).
"""

import os
import socket
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def write(target, name, data):
    d = os.path.join(HERE, "corpus", "fuzz-" + target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("latin-1")
    assert len(data) < 8192, name
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- diag ----------------------------------------------------------------------------------------

NETLINK_SOCK_DIAG = 4
TCPDIAG_GETSOCK = 18
SOCK_DIAG_BY_FAMILY = 20
NLMSG_NOOP, NLMSG_ERROR, NLMSG_DONE, NLMSG_OVERRUN = 1, 2, 3, 4
NLM_F_REQUEST, NLM_F_MULTI, NLM_F_DUMP_INTR, NLM_F_DUMP = 1, 2, 0x10, 0x300
INET_DIAG_INFO = 2
STATES = (1 << 5) | (1 << 6) | (1 << 8) | (1 << 10)  # FIN_WAIT2, TIME_WAIT, CLOSE_WAIT, LISTEN
HDR = struct.Struct("=IHHII")  # struct nlmsghdr


def align(n):
    return (n + 3) & ~3


def nlmsg(mtype, flags, seq, pid, payload):
    return HDR.pack(HDR.size + len(payload), mtype, flags, seq, pid) + payload


def pad(m):
    return m + b"\0" * (align(len(m)) - len(m))


def make_sockets(family, addr):
    """A listener with two accepted CLOSE_WAIT sockets (one with unread data), one CLOSE_WAIT
    never accepted, and a TIME_WAIT pair; returns what must stay open, and the port."""
    ls = socket.socket(family, socket.SOCK_STREAM)
    ls.bind((addr, 0))
    ls.listen(16)
    port = ls.getsockname()[1]
    keep = [ls]
    for data in (b"", b"unread"):
        c = socket.create_connection((addr, port))
        s, _ = ls.accept()
        if data:
            c.send(data)
        c.close()
        keep.append(s)
    c = socket.create_connection((addr, port))
    c.close()  # in the accept queue, closed by the peer
    c = socket.create_connection((addr, port))
    s, _ = ls.accept()
    s.close()
    time.sleep(0.05)
    c.close()  # the server closed first: TIME_WAIT on its side
    return keep, port


def dump(nl, request, seq):
    nl.send(request)
    msgs = []
    while True:
        b = nl.recv(65536)
        off = 0
        while off + HDR.size <= len(b):
            length, mtype = HDR.unpack_from(b, off)[:2]
            msgs.append(b[off:off + length])
            off += align(length)
            if mtype in (NLMSG_DONE, NLMSG_ERROR):
                return msgs


def seeds_diag():
    keep4, port4 = make_sockets(socket.AF_INET, "127.0.0.1")
    keep6, port6 = make_sockets(socket.AF_INET6, "::1")
    time.sleep(0.2)
    nl = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_SOCK_DIAG)
    nl.bind((0, 0))
    portid = nl.getsockname()[0]
    info = 1 << (INET_DIAG_INFO - 1)

    def ours(msgs):
        """Our sockets (by port) and the closing NLMSG_DONE: other sockets of the host stay out."""
        kept = []
        for m in msgs:
            if HDR.unpack_from(m)[1] in (NLMSG_DONE, NLMSG_ERROR):
                kept.append(m)
            elif {*struct.unpack_from(">HH", m, HDR.size + 4)} & {port4, port6}:
                kept.append(m)
        return kept

    def save(name, seq, msgs, header_seq=None, header_pid=None):
        buf = b"".join(pad(m) for m in msgs)
        hs = seq if header_seq is None else header_seq
        hp = portid if header_pid is None else header_pid
        write("diag", name, struct.pack("<II", hs, hp) + buf)

    requests = [
        ("dump-v4-info", socket.AF_INET, info),
        ("dump-v6-info", socket.AF_INET6, info),
        ("dump-v4-noinfo", socket.AF_INET, 0),
    ]
    seq = 1000
    captured = {}
    for name, family, ext in requests:
        seq += 1
        body = struct.pack("=BBBBI", family, socket.IPPROTO_TCP, ext, 0, STATES) + b"\0" * 48
        msgs = ours(dump(nl, nlmsg(SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, seq, 0, body), seq))
        captured[name] = (seq, msgs)
        save(name, seq, msgs)
    seq += 1
    body = struct.pack("=BBBB", 0, 0, 0, info) + b"\0" * 48 + struct.pack("=II", STATES, 0)
    msgs = ours(dump(nl, nlmsg(TCPDIAG_GETSOCK, NLM_F_REQUEST | NLM_F_DUMP, seq, 0, body), seq))
    save("dump-both-families-tcpdiag-getsock-info", seq, msgs)

    # Hostile variants of the IPv4 dump with tcp_info.
    seq, msgs = captured["dump-v4-info"]
    socks = [m for m in msgs if HDR.unpack_from(m)[1] == SOCK_DIAG_BY_FAMILY]
    done = [m for m in msgs if HDR.unpack_from(m)[1] == NLMSG_DONE]
    first = socks[0]

    def with_header(m, **kw):
        length, mtype, flags, s, p = HDR.unpack_from(m)
        f = dict(length=length, mtype=mtype, flags=flags, seq=s, pid=p)
        f.update(kw)
        return HDR.pack(f["length"], f["mtype"], f["flags"], f["seq"], f["pid"]) + m[HDR.size:]

    save("dump-v4-unchecked-seq-portid", seq, msgs, header_seq=0, header_pid=0)
    save("dump-v4-wrong-seq", seq, msgs, header_seq=seq + 1)
    save("dump-v4-wrong-portid", seq, msgs, header_pid=portid + 1)
    save("dump-intr-flag", seq, [with_header(first, flags=NLM_F_MULTI | NLM_F_DUMP_INTR)] + socks[1:] + done)
    save("dump-duplicate-cookies", seq, [first, first, socks[1], first] + done)
    cookie0 = bytearray(first)
    cookie0[HDR.size + 4 + 4 + 64:HDR.size + 4 + 4 + 72] = b"\0" * 8  # idiag_cookie
    save("dump-cookie-zero-twice", seq, [bytes(cookie0), bytes(cookie0)] + done)
    nofam = bytearray(first)
    nofam[HDR.size] = 0  # idiag_family
    save("dump-bad-family", seq, [bytes(nofam)] + socks[1:] + done)
    # The attribute after inet_diag_msg (72 bytes) claims more than the message holds.
    attr = bytearray(first)
    struct.pack_into("=H", attr, HDR.size + 72, 0xfff0)
    save("msg-attr-past-end", seq, [bytes(attr)] + done)
    # tcp_info cut short: 8 bytes, before the two timestamps.
    short = first[:HDR.size + 72] + struct.pack("=HH", 12, INET_DIAG_INFO) + b"\x08\x00\x00\x00\x07\x00\x00\x00"
    save("msg-tcp-info-short", seq, [with_header(short, length=len(short))] + done)
    save("msg-length-unaligned", seq, [with_header(first[:-1], length=len(first) - 1)])
    save("msg-length-2gib", seq, [with_header(first, length=0x80000000)])
    save("msg-header-only", seq, [nlmsg(SOCK_DIAG_BY_FAMILY, NLM_F_MULTI, seq, portid, b"")] + done)
    save("msg-noop-overrun-then-done",
         seq, [nlmsg(NLMSG_NOOP, 0, seq, portid, b""), nlmsg(NLMSG_OVERRUN, 0, seq, portid, b"")] + done)
    request = nlmsg(SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, seq, 0, b"\0" * 56)
    save("reply-error-ebusy", seq, [nlmsg(NLMSG_ERROR, 0, seq, portid, struct.pack("=i", -16) + request)])
    save("reply-error-ack", seq, [nlmsg(NLMSG_ERROR, 0, seq, portid, struct.pack("=i", 0) + request)])
    save("reply-error-short", seq, [nlmsg(NLMSG_ERROR, 0, seq, portid, b"\xff\xff")])
    save("reply-error-not-errno", seq, [nlmsg(NLMSG_ERROR, 0, seq, portid, struct.pack("=i", -0x6a000000))])
    save("reply-done-with-enobufs", seq, socks[:1] + [nlmsg(NLMSG_DONE, NLM_F_MULTI, seq, portid,
                                                             struct.pack("=i", -105))])
    save("reply-done-int-min", seq, [nlmsg(NLMSG_DONE, NLM_F_MULTI, seq, portid, struct.pack("=i", -2**31))])
    for s in keep4 + keep6:
        s.close()


# ---- proc ----------------------------------------------------------------------------------------

def seeds_proc():
    for src, name in (("/proc/self/stat", "stat-self"), ("/proc/1/stat", "stat-pid1"),
                      ("/proc/2/stat", "stat-kthreadd"), ("/proc/self/limits", "limits-self"),
                      ("/proc/self/status", "status-self"), ("/proc/2/status", "status-kthreadd")):
        try:
            with open(src, "rb") as f:
                write("proc", name, f.read())
        except OSError:
            pass
    fields = " ".join(str(i) for i in range(1, 19))  # fields 4 to 21
    cases = {
        "stat-comm-with-parens": "42 (a) b) (c) S 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654321 "
                                 "1000 10 18446744073709551615\n",
        "stat-start-time-max": "7 (x) S %s 18446744073709551615 0\n" % fields,
        "stat-start-time-overflow": "7 (x) S %s 18446744073709551616 0\n" % fields,
        "limits-unlimited": "Limit                     Soft Limit           Hard Limit           Units     \n"
                            "Max open files            unlimited            unlimited            files     \n",
        "status-uid-max": "Name:\tx\nUid:\t4294967295\t0\t0\t0\n",
        "link-socket": "socket:[12345]",
        "link-socket-max-inode": "socket:[4294967295]",
        "link-socket-inode-overflow": "socket:[4294967296]",
        "link-socket-zero": "socket:[0]",
        "link-socket-leading-zero": "socket:[012]",
        "link-pipe": "pipe:[1]",
        "link-dev-null": "/dev/null",
        "link-anon-inode": "anon_inode:[eventpoll]",
        "comm-plain": "redis-server\n",
        "comm-ansi-bell": "a\x1b[31mred\x07\n",
        "comm-format-backslash": "%n%s%x\\\n",
        "comm-invalid-utf8-bidi-c1": "\xff\xfe\xc3\x28\xe2\x80\xae\xc2\x9b\n",
        "comm-newlines": "two\nlines\n\n",
        "comm-nul": "x\x00y\n",
    }
    for name, text in cases.items():
        write("proc", name, text)


# ---- conf ----------------------------------------------------------------------------------------

def seeds_conf():
    with open(os.path.join(ROOT, "config", "closewaitd.conf"), "rb") as f:
        write("conf", "shipped-closewaitd.conf", f.read())
    cases = {
        "full-every-key": "# every key, none at its default\ninterval = 2.5;\nclose_wait: {\n  count = 7;\n"
                          "  age = 600.0;\n  hold = 1.5;\n};\naccept_backlog: { count = 3; hold = 2.0; };\n"
                          "time_wait: { count = 500; hold = 60.0; };\nfd_pressure: { ratio = 0.9; hold = 5.0; };\n"
                          "alert: { clear_ratio = 0.25; repeat = 120.0; };\nrules = (\n"
                          "  { unit = \"nginx.service\"; close_wait = { count = 500; }; },\n"
                          "  { comm = \"java*\"; exe = \"/usr/lib/jvm/*\";\n"
                          "    close_wait = { age = 900.0; hold = 0.0; };\n"
                          "    accept_backlog = { count = 4; hold = 3.0; };\n"
                          "    time_wait = { count = 20; hold = 1.0; };\n"
                          "    fd_pressure = { ratio = 0.0; hold = 9.0; }; },\n"
                          "  { exe = \"/usr/sbin/haproxy\"; ignore = true; }\n);\n",
        "empty": "",
        "comments-only": "# nothing\n/* at all */\n// here\n",
        "bounds-integers-hex-64bit": "interval = 3600;\nclose_wait: { age = 0; hold = 86400; count = 10000000; };\n"
                                     "accept_backlog: { hold = 7L; count = 0x10; };\n"
                                     "time_wait: { count = 1; hold = 0; };\nfd_pressure: { ratio = 1; };\n"
                                     "alert: { clear_ratio = 0; repeat = 0; };\n",
        "bounds-floats": "interval = 0.1; alert: { repeat = 31536000; clear_ratio = 0.999; };",
        "rules-before-sections": "rules = ( { comm = \"redis*\"; close_wait = { age = 60; }; "
                                 "time_wait = { hold = 1; }; } );\nclose_wait: { count = 99; hold = 4; };\n"
                                 "time_wait: { count = 77; };\nfd_pressure: { ratio = 0.5; };\n",
        "rules-globs": "rules = (\n  { comm = \"nginx\"; unit = \"web-*.service\"; close_wait = { count = 1; }; },\n"
                       "  { comm = \"ng*\"; close_wait = { count = 2; }; },\n"
                       "  { exe = \"/opt/*/bin/[a-c]*\"; ignore = true; },\n"
                       "  { unit = \"*\"; close_wait = { count = 4; }; }\n);\n",
        "not-confused-comments-strings": "/* 99999999999\n@include \"x\" */\n# 99999999999\n// @include \"y\"\n"
                                         "rules = ( { comm = \"99999999999\n@include \\\"z\\\"\"; exe = \"a\\\\\"; } );\n"
                                         "close_wait: { age = 99999999999.0e-5; };\n",
        "err-syntax-unclosed-group": "interval = 5;\nclose_wait: {\n count = 1;\n",
        "err-duplicate-setting": "a = 1;\n\nclose_wait: { count = 2; count = 3; };\n",
        "err-wide-integer-then-syntax": "close_wait: { count = 4294967346; };\nx = ;\ny = 99999999999;\n",
        "err-unknown-keys-in-rule": "rules = ( { comm = \"x\"; interval = 1; alert = { repeat = 1; }; } );\n",
        "err-wrong-types": "interval: { };\ntime_wait: { hold = true; };\nfd_pressure: { ratio = [0.5]; };\n"
                           "close_wait = 5;\nrules = ( { comm = 5; } );\n",
        "err-out-of-range": "interval = 1e999;\nclose_wait: { age = -1e999; hold = -1; count = 0; };\n"
                            "alert: { clear_ratio = 1.0; repeat = -2147483649; };\n"
                            "time_wait: { count = 0xFFFFFFFF; };\n",
        "err-rules-shapes": "rules = (\n  { ignore = true; },\n  5,\n  { unit = \"\"; exe = \"\"; }\n);\n",
        "err-include": "interval = 5;\n  @include \"/etc/passwd\"\n",
        "metrics-file-netns": "netns = false;\nmetrics_file = \"/var/lib/prometheus/node-exporter/\" \"closewaitd.prom\";\n",
        "err-metrics-file": "netns = 1;\nmetrics_file = \"x.prom\";\n",
        "err-metrics-file-shapes": "metrics_file = \"/a/.prom\";\nmetrics_file2 = \"/a\\n.prom\";\n"
                                   "rules = ( { comm = \"x\"; metrics_file = \"/b.txt\"; } );\n",
        "err-everything-in-file-order": "rules = (\n  { comm = \"a\"; close_wait = { count = 0; }; },\n  { }\n);\n"
                                        "interval = 0.01;\nclose_wait: {\n  count = \"x\";\n  age = -1;\n};\n"
                                        "bogus = 1;\n",
        "err-binary-junk": "interval = 5;\x1b[31m\xff\xfe\n\x7f;\n",
    }
    for name, text in cases.items():
        write("conf", name, text)


# ---- render --------------------------------------------------------------------------------------
# The layout read_world() in fuzz-render.c reads: little-endian numbers, strings as a length byte
# and the bytes.

def u8(v): return struct.pack("<B", v & 0xff)
def u32(v): return struct.pack("<I", v & 0xffffffff)
def u64(v): return struct.pack("<Q", v & 0xffffffffffffffff)
def string(s): return u8(len(s)) + (s.encode("latin-1") if isinstance(s, str) else s)


def addr(ip, port):
    if ":" in ip:
        return u8(0x80) + u8(port) + u8(port >> 8) + socket.inet_pton(socket.AF_INET6, ip)
    if ip == "?":
        return u8(0xf0) + u8(port) + u8(port >> 8)
    return u8(0x10) + u8(port) + u8(port >> 8) + socket.inet_pton(socket.AF_INET, ip)


def ages(oldest_usec, step_usec):
    return u64(oldest_usec) + u8(0) + u32(step_usec)


def proc(pid, comm, exe, unit, close_wait, unread, peers, uid=0, fds=40, limit=1024):
    flags = (2 if exe is not None else 0) | (4 if unit is not None else 0)
    b = u8(flags) + u32(pid) + u64(123456) + u8(uid) + u32(fds) + u64(limit)
    b += string(comm) + string(exe or "") + string(unit or "")
    b += u8(close_wait) + u8(unread) + ages(412_500_000, 1_000_000)
    b += u8(len(peers))
    for ip, port, count in peers:
        b += addr(ip, port) + (u8(0) + u32(count) if count != 1 else u8(1))
    return b


def render_seed(procs, backlogs, tws, event, message, tail):
    b = u8(1) + u8(len(procs)) + b"".join(procs)
    b += u8(len(backlogs))
    for owner, ip, port, count in backlogs:
        b += u8(owner) + addr(ip, port) + (u8(1) if owner < len(procs) else b"") + u8(count) + ages(30_000_000, 500)
    b += u8(len(tws))
    for server, owner, ip, port, count in tws:
        o = (0x80 if server else 0) | owner
        b += u8(o) + addr(ip, port) + (u8(1) if server and owner < len(procs) else b"") + u32(count) + u64(42_000_000)
    b += u32(2)  # unowned
    b += u64(1764000000) + u64(12_345) + u64(6_789) + u32(1000) + u32(3) + u32(1) + u32(0)
    b += event + u64(7) + u64(100) + u8(4) + string(message) + tail
    return b


def event(kind, etype, reason, which, comm, exe, unit, server=False, ip="10.0.0.9", port=5432,
          threshold=50.0):
    flags = kind | (0x08 if comm is not None else 0) | (0x10 if exe is not None else 0) | \
        (0x20 if unit is not None else 0) | (0x80 if server else 0)
    b = u8(flags) + u8(which) + u32(1234) + u64(123456) + addr(ip, port)
    b += string(comm or "") + string(exe or "") + string(unit or "")
    b += u8(etype) + u8(reason) + u32(60) + struct.pack("<d", threshold) + u64(412_500_000)
    b += u32(1000) + u64(1024) + u64(3_600_000_000)
    return b


def seeds_render():
    peers = [("10.0.0.5", 5432, 40), ("::ffff:10.0.0.6", 5432, 3), ("127.0.0.1", 40001, 1),
             ("127.0.0.1", 40002, 1), ("2001:db8::1", 443, 1), ("?", 1, 1)]
    plain = [proc(1234, "redis-server", "/usr/bin/redis-server", "redis-server.service", 12, 5, peers[:3]),
             proc(88, "nginx", "/usr/sbin/nginx (deleted)", None, 3, 0, peers[3:], uid=33, limit=2**64 - 1)]
    write("render", "report-plain", render_seed(
        plain, [(0, "127.0.0.1", 6379, 7), (9, "::", 80, 1)], [(True, 1, "0.0.0.0", 80, 3000),
                                                               (False, 0, "10.0.0.9", 5432, 400)],
        event(0, 0, 0, 0, "redis-server", "/usr/bin/redis-server", "redis-server.service"),
        "closewaitd started", b"plain tail"))
    hostile = [
        proc(666, "\x1b[2J\x1b[31mevil\x07", "/tmp/\n\rfake log line\x00", "a\x7fb.service", 64, 64, peers),
        proc(667, "%n%s%x%p\\", "/opt/\xe2\x80\xaeexe.txt\xef\xbb\xbf", "\xff\xfe\xc0\xaf", 1, 0, peers[:1], uid=200),
        proc(-5, "", None, None, 0, 9, [], fds=0, limit=2**63),
        proc(2**31 - 1, "\xc2\x85\xc2\x9b\xe2\x80\x8b\xe2\x81\xa6x", "\\x41", "\\\\", 2, 1,
             [("::", 0, 1), ("255.255.255.255", 65535, 2**32 - 1)]),
    ]
    tws = [(True, i % 4, "10.0.%d.1" % i, 80, 10 * i) for i in range(12)]
    for kind, name in ((0, "close-wait"), (1, "accept-backlog"), (2, "time-wait"), (3, "fd-pressure")):
        write("render", "report-hostile-strings-event-" + name, render_seed(
            hostile, [(0, "127.0.0.1", 6379, 64), (1, "?", 1, 1)], tws,
            event(kind, kind % 3, kind % 3, 0x15, "\x1b]0;title\x07", "/bin/\x08\x08sh\n", "x\xe2\x80\xaey.service",
                  server=kind == 2),
            "config error:\n\x1b[1mforged\x1b[0m %n \xff", b"\x1b[31m\\x00\xc3\x28\xed\xa0\x80\xf4\x90\x80\x80\x00z"))
    write("render", "event-resolve-gone-process", render_seed(
        [], [], [], event(0, 2, 1, 0xff, "java", "/usr/lib/jvm/bin/java", "app.service", threshold=900.5),
        "", b""))
    write("render", "event-nan-threshold-bad-kind", render_seed(
        plain[:1], [], [], event(4, 3, 3, 0, None, None, None, threshold=float("nan")), "\x00", b"\xff"))
    # Empty but present exe and unit: the alert's "(exe, unit)" detail printed nothing.
    write("render", "event-empty-exe-and-unit", render_seed(
        [], [], [], event(3, 1, 2, 0, "x", "", ""), "m", b""))
    write("render", "strings-only-all-bytes", b"\x00" * 5 + bytes(range(256)))


# ---- container -----------------------------------------------------------------------------------

def seeds_container():
    id1 = "4f797c539e6c745de61a93ca3ff892358ecbcaccd8414d5db545c38428142970"
    id2 = "9ec39b91f3d70e1beff50a308f77067065ea6be0d91a3378375056cd4422cf3d"
    pod = "8b2bd0a8-5a3c-4c1e-9f1a-0d2c6e7f8a9b"
    pod_ = pod.replace("-", "_")
    static = "d41d8cd98f00b204e9800998ecf8427e"
    burstable = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod%s.slice" % pod_
    besteffort = "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod%s.slice" % pod_
    user = "/user.slice/user-1000.slice/user@1000.service"

    def v1(path):
        """Every hierarchy of a cgroup v1 host, the ones runc's systemd driver leaves at the root,
        and the hybrid "0::" line."""
        return ("12:hugetlb:/\n11:pids:{0}\n10:net_cls,net_prio:/\n9:devices:{0}\n8:memory:{0}\n"
                "7:cpuset:/\n6:blkio:{0}\n5:perf_event:/\n4:freezer:{0}\n3:rdma:/\n2:cpu,cpuacct:{0}\n"
                "1:name=systemd:{0}\n0::/\n").format(path)

    paths = {
        "docker-systemd": "/system.slice/docker-%s.scope" % id1,
        "docker-cgroupfs": "/docker/" + id1,
        "docker-rootless": user + "/user.slice/docker-%s.scope" % id1,
        "docker-in-docker": "/docker/%s/docker/%s" % (id1, id2),
        "docker-systemd-inside": "/system.slice/docker-%s.scope/init.scope" % id1,
        "docker-zombie-deleted": "/system.slice/docker-%s.scope (deleted)" % id1,
        "docker-cgroupns-relative": "/../../system.slice/docker-%s.scope" % id1,
        "cri-dockerd": burstable + "/docker-%s.scope" % id1,
        "k8s-containerd-burstable": burstable + "/cri-containerd-%s.scope" % id1,
        "k8s-containerd-besteffort": besteffort + "/cri-containerd-%s.scope" % id1,
        "k8s-containerd-guaranteed": "/kubepods.slice/kubepods-pod%s.slice/cri-containerd-%s.scope" % (pod_, id1),
        "k8s-static-pod": "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod%s.slice/"
                          "cri-containerd-%s.scope" % (static, id1),
        "k8s-kind": "/system.slice/docker-%s.scope/kubelet.slice/kubelet-kubepods.slice/"
                    "kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod%s.slice/"
                    "cri-containerd-%s.scope" % (id1, pod_, id2),
        "k8s-runc-cgroupfs-cri-systemd": "/kubepods-burstable-pod%s.slice:cri-containerd:%s" % (pod_, id1),
        "k8s-cgroupfs-burstable": "/kubepods/burstable/pod%s/%s" % (pod, id1),
        "k8s-cgroupfs-guaranteed": "/kubepods/pod%s/%s" % (pod, id1),
        "k8s-cgroupfs-cgroup-root": "/kubelet/kubepods/besteffort/pod%s/%s" % (static, id1),
        "k8s-pod-slice-only": besteffort,
        "k8s-pod-dir-only": "/kubepods/burstable/pod" + pod,
        "nerdctl-systemd": "/system.slice/nerdctl-%s.scope" % id1,
        "ctr-cgroupfs": "/default/" + id1,
        "crio-systemd": burstable + "/crio-%s.scope" % id1,
        "crio-container-subcgroup": burstable + "/crio-%s.scope/container" % id1,
        "crio-cgroupfs": "/kubepods/besteffort/pod%s/crio-%s" % (pod, id1),
        "crio-conmon-pod": burstable + "/crio-conmon-%s.scope" % id1,
        "crio-conmon-host": "/system.slice/crio-conmon-%s.scope" % id1,
        "podman-root": "/machine.slice/libpod-%s.scope" % id1,
        "podman-rootless": user + "/user.slice/libpod-%s.scope" % id1,
        "podman-container-subcgroup": "/machine.slice/libpod-%s.scope/container" % id1,
        "podman-pod": "/machine.slice/machine-libpod_pod_%s.slice/libpod-%s.scope" % (id2, id1),
        "podman-cgroupfs": "/libpod_parent/libpod-" + id1,
        "podman-split": "/system.slice/web.service/libpod-payload-" + id1,
        "podman-conmon": "/machine.slice/libpod-conmon-%s.scope" % id1,
        "host-service": "/system.slice/nginx.service",
        "host-session": "/user.slice/user-1000.slice/session-3.scope",
        "host-init": "/init.scope",
        "bad-uppercase-id": "/docker/" + id1.upper(),
        "bad-non-hex-id": "/docker/" + id1[:-3] + "g70",
        "bad-id-65-digits": "/docker/" + id1 + "0",
        "bad-pod-dashes-in-slice": "/kubepods.slice/kubepods-pod%s.slice" % pod,
    }
    for name, path in paths.items():
        write("container", "v2-" + name, "0::%s\n" % path)
    for name in ("docker-systemd", "docker-cgroupfs", "k8s-containerd-besteffort", "k8s-cgroupfs-burstable",
                 "crio-cgroupfs", "podman-cgroupfs", "host-service"):
        write("container", "v1-" + name, v1(paths[name]))
    cases = {
        "v1-container-beats-pod": "4:cpuset:/kubepods/pod%s\n3:net_cls:/docker/%s\n" % (pod, id1),
        "v1-preferred-hierarchy": "5:net_cls:/docker/%s\n4:memory:/docker/%s\n" % (id1, id2),
        "v1-colon-in-path": "1:name=systemd:/a:b/docker/%s\n" % id1,
        "cut-in-id": "0::/docker/" + id1[:20],
        "cut-after-good-line": "0::/docker/%s\n1:name=systemd:/docker/%s" % (id1, id2),
        "nul-in-id": "0::/docker/%s\x00%s\n" % (id1[:30], id1[31:]),
        "nul-in-other-line": "0::/sys\x00tem\n1:name=systemd:/docker/%s\n" % id1,
        "crlf": "0::/docker/%s\r\n" % id1,
        "damaged-lines": "x::/docker/%s\n0:/docker/%s\n0::docker/%s\n:name=systemd:/docker/%s\n0::\n"
                         "0:: (deleted)\n" % (id1, id1, id1, id1),
        "binary": b"\xff\xfe\x00\x01:\x80:/\xc3\x28\n\n\n0::////\n",
    }
    for name, text in cases.items():
        write("container", name, text)


def main():
    targets = sys.argv[1:] or ["proc", "conf", "render", "container"]
    for t in targets:
        {"diag": seeds_diag, "proc": seeds_proc, "conf": seeds_conf, "render": seeds_render,
         "container": seeds_container}[t]()


if __name__ == "__main__":
    main()
