"""A damaged state file (the socket ages kept across restarts) is ignored with a warning, never
fatal, and the next save writes a valid one, atomically.

In PID and network namespaces of its own (the file holds the test's sockets only), a holder leaks
5 CLOSE_WAIT sockets; a first daemon (RUNTIME_DIRECTORY a directory of the test)
alerts on it and stops: it leaves exactly one file, "state", complete (magic, this boot, count,
as many entries, "end"). Then, from that real file, for each damage:
  * an empty file, and the file cut at 7 points (inside the magic line, after the boot line,
    inside the count line, in the middle of the entries, inside an entry, before the "end" line,
    inside it);
  * bytes flipped (bit 7 or bit 5) in the magic line, the "boot" keyword, the count, an entry,
    and the "end" line; and last, bit 0 of the leading digit of an entry's first-seen time (still
    a number, but the wrong time: only a checksum finds it);
the daemon starts with a warning on stderr that names the file and says it is truncated or
corrupt (and does not claim it kept any age), sends READY=1, alerts on the leak (it works), and
exits 0 on SIGTERM leaving only a valid "state" in the directory (no temporary file); for every
third damage, a daemon started once more on that file keeps the ages ("kept the ages of N
sockets", no warning).
"""

import os
import re
import shutil
import tempfile

import cwtest as t
import daemontest as dt

N = 5
MAGIC = b"closewaitd-state 3\n"
WARN = re.compile(r"state.*(truncated|corrupt)|(truncated|corrupt).*state", re.I)


def boot_id():
    with open("/proc/sys/kernel/random/boot_id") as f:
        return f.read().strip().replace("-", "")


def check_valid(data, what):
    """The state file format, as the daemon writes it; returns the number of entries."""
    text = data.decode("ascii", "replace")
    lines = text.split("\n")
    t.check(re.search(r"\nend [0-9a-f]{16}\n\Z", text) is not None and data.startswith(MAGIC),
            what + ": complete (magic ... end CHECKSUM)",
            None, text[:200] + " ... " + text[-50:])
    t.check_eq(lines[1], "boot " + boot_id(), what + ": this boot's id")
    m = re.fullmatch(r"count (\d+)", lines[2])
    t.check(m is not None, what + ": a count line", "count N", lines[2])
    entries = lines[3:-2]
    t.check_eq(len(entries), int(m.group(1)), what + ": as many entries as the count says")
    bad = [l for l in entries if not re.fullmatch(r"[0-9a-f]+ \d+ \d+", l)]
    t.check_eq(bad, [], what + ": every entry is 'COOKIE NETNS FIRST_SEEN'")
    return len(entries)


def damages(good):
    """(name, bytes) of every damaged variant of the real file good."""
    lines = good.split(b"\n")
    starts = [0]
    for l in lines[:-1]:
        starts.append(starts[-1] + len(l) + 1)
    n_entries = len(lines) - 5  # magic, boot, count, entries..., end, ""
    end_line = starts[3 + n_entries]
    mid = starts[3 + n_entries // 2]
    out = [("empty", b"")]
    for name, cut in (("inside the magic", 7), ("after the boot line", starts[2]),
                      ("inside the count line", starts[2] + 3), ("in the middle of the entries", mid),
                      ("inside an entry", mid + 5), ("before the end line", end_line),
                      ("inside the end line", end_line + 2)):
        out.append(("cut " + name, good[:cut]))

    def flip(pos, bit):
        b = bytearray(good)
        b[pos] ^= bit
        return bytes(b)

    out += [("magic flipped", flip(3, 0x80)), ("boot keyword flipped", flip(starts[1], 0x20)),
            ("count flipped", flip(starts[2] + 6, 0x80)), ("entry flipped", flip(mid + 2, 0x80)),
            ("end flipped", flip(end_line + 1, 0x20))]
    # Last, as it needs a checksum to be found: a flip that leaves a valid number. Bit 0 of the
    # leading digit of a first-seen time turns it into another digit: accepted as it is, the
    # socket would be dated up to 10^k us off (older than it is, for a smaller digit), and ages
    # must never be larger than the truth.
    first_seen = mid + lines[3 + n_entries // 2].rindex(b" ") + 1
    out.append(("first-seen digit flipped", flip(first_seen, 0x01)))
    return out


def run_daemon(conf, state_dir, what):
    notify = dt.Notify()
    d = dt.Daemon(conf, notify=notify, state_dir=state_dir, log_target="stderr")
    notify.wait(lambda l: l == "READY=1", what + ": READY=1", timeout=30)
    return d


def stop_clean(d, state_dir, what):
    t.check_eq(d.stop(), 0, what + ": exit status on SIGTERM")
    t.check_eq(sorted(os.listdir(state_dir)), ["state"], what + ": only the state file is left "
               "in the directory (written atomically, no temporary file)")
    with open(os.path.join(state_dir, "state"), "rb") as f:
        return check_valid(f.read(), what + ": the state file written on exit")


def main():
    # Namespaces of our own (no journald: the daemon logs to stderr): the state file holds the
    # test's sockets only.
    dt.private_journal(start=False, net=True)
    h = t.Holder(t.unique_comm("cwstate"))
    dt.leak(h, N)
    name = "[%d]" % h.pid
    conf = dt.conf_text()
    state_dir = tempfile.mkdtemp(prefix="cwtest-state-")
    t.on_cleanup(lambda: shutil.rmtree(state_dir, ignore_errors=True))
    path = os.path.join(state_dir, "state")

    d = run_daemon(conf, state_dir, "first daemon")
    t.wait_for(lambda: name in d.err(), "the first daemon's alert", timeout=20)
    n = stop_clean(d, state_dir, "first daemon")
    t.check(n >= N, "the state file has the leak's sockets", ">= %d entries" % N, n)
    with open(path, "rb") as f:
        good = f.read()

    for i, (what, data) in enumerate(damages(good)):
        with open(path, "wb") as f:
            f.write(data)
        d = run_daemon(conf, state_dir, what)
        t.wait_for(lambda: name in d.err(), what + ": the alert on the leak", timeout=20)
        err = d.err()
        warn = [l for l in err.splitlines() if WARN.search(l)]
        t.check(warn and any(path in l for l in warn), what + ": a warning naming the state file "
                "as truncated or corrupt", path, err[-2000:])
        t.check("kept the ages" not in err, what + ": no age kept from the damaged file", None,
                err[-2000:])
        stop_clean(d, state_dir, what)
        if i % 3:
            continue  # the same save wrote it: a restart on every third is enough (valgrind)

        d = run_daemon(conf, state_dir, what + ", restarted")
        err = d.err()
        t.check(re.search(r"kept the ages of [1-9]\d* sockets?", err) is not None,
                what + ", restarted: the file written after the damage is accepted",
                "kept the ages of N sockets", err[-2000:])
        t.check(not any(WARN.search(l) for l in err.splitlines()), what + ", restarted: no "
                "warning", None, err[-2000:])
        stop_clean(d, state_dir, what + ", restarted")


if __name__ == "__main__":
    t.main(main)
