"""Command line: --version, --help, bad usage (64), missing --config file (78), the table.
"""

import re

import cwtest as t

MISSING = "/nonexistent/closewaitd-test/x.conf"


def text(b):
    return b.decode("utf-8", "replace")


def main():
    p = t.run(["--version"], check_rc=0)
    t.check(re.search(r"\d+\.\d+", text(p.stdout)), "--version prints a version on stdout", None,
            text(p.stdout))

    p = t.run(["--help"], check_rc=0)
    t.check("--once" in text(p.stdout), "--help describes --once on stdout", None,
            text(p.stdout)[:2000])

    for args in (["--no-such-option"], ["--once", "--no-such-option"], ["--once", "extra-arg"]):
        p = t.run(args, timeout=10, check_rc=64)
        t.check(p.stderr.strip(), "`closewaitd %s` explains the bad usage on stderr"
                % " ".join(args))

    for args in (["--once", "--config", MISSING], ["--config", MISSING]):
        p = t.run(args, timeout=10, check_rc=78)
        t.check(MISSING in text(p.stderr), "`closewaitd %s`: stderr names the missing file"
                % " ".join(args), MISSING, text(p.stderr))

    # the table lists a holder's pid and comm
    h = t.Holder(t.unique_comm("cwcli"))
    port = h.listen()
    clients = t.connect("127.0.0.1", port, 2)
    h.call("accept", n=2)
    t.close_all(clients)
    t.wait_ss_count(2, "the holder's sockets in CLOSE_WAIT", state="close-wait", sport=port)
    p = t.run(["--once"], check_rc=0)
    out = text(p.stdout)
    comm = t.escape(t.proc_comm(h.pid))
    rows = [l for l in out.splitlines()
            if re.search(r"(?<![0-9])%d(?![0-9])" % h.pid, l) and comm in l]
    t.check(rows, "the table (--once) has a row with pid %d and comm %r" % (h.pid, comm), None,
            out[:3000])


if __name__ == "__main__":
    t.main(main)
