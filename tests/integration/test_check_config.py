"""--check-config and configuration errors on the command line (no root needed).

A valid file: "configuration OK", exit 0. A file with several mistakes: every one reported as
PATH:LINE: message, exit 78, for --check-config, --once and the daemon alike. The shipped
config/closewaitd.conf is valid, and so is every key of it uncommented.
"""

import os
import re
import tempfile

import cwtest as t
import daemontest as dt


def text(b):
    return b.decode("utf-8", "replace")


def write(dirname, name, content):
    path = os.path.join(dirname, name)
    with open(path, "w") as f:
        f.write(content)
    return path


def uncomment(conf):
    """Every commented-out setting of the shipped file, uncommented (the header stays comment)."""
    out = []
    for line in conf.splitlines():
        m = re.match(r"^#(\s*([a-z_]+\s*[=:]|[\]\[{}()]|#))", line)
        out.append(line[1:] if m else line)
    return "\n".join(out) + "\n"


def main():
    tmp = tempfile.mkdtemp(prefix="cwtest-conf-")
    t.on_cleanup(lambda: __import__("shutil").rmtree(tmp, ignore_errors=True))

    good = write(tmp, "good.conf", dt.conf_text(rules='{ comm = "java*"; close_wait = { count = 9; }; }'))
    p = t.run(["--check-config", "--config", good], check_rc=0)
    t.check_eq(text(p.stdout).strip(), "configuration OK", "--check-config on a valid file")

    shipped = os.path.join(dt.source_root(), "config", "closewaitd.conf")
    t.run(["--check-config", "--config", shipped], check_rc=0)
    with open(shipped) as f:
        full = uncomment(f.read())
    t.check("interval = 5.0;" in full and "repeat" in full, "uncommenting the shipped file", None, full)
    t.run(["--check-config", "--config", write(tmp, "full.conf", full)], check_rc=0)

    lines = [
        "interval = 0.01;",                                  # 1: out of range
        "close_wait: { count = \"many\"; hold = 1.0; };",    # 2: wrong type
        "accept_backlog: { cont = 5; };",                    # 3: unknown key
        "alert: { clear_ratio = 0.5; };",
        "rules = ( { ignore = true; } );",                   # 5: a rule that matches nothing
    ]
    bad = write(tmp, "bad.conf", "\n".join(lines) + "\n")
    for args in (["--check-config"], ["--once"], []):
        p = t.run(args + ["--config", bad], timeout=20, check_rc=78)
        err = text(p.stderr)
        for n in (1, 2, 3, 5):
            t.check(re.search(r"^%s:%d: \S" % (re.escape(bad), n), err, re.M),
                    "`closewaitd %s` reports line %d as PATH:LINE: message" % (" ".join(args), n),
                    "%s:%d: ..." % (bad, n), err)
        t.check_eq(text(p.stdout), "", "nothing on stdout for a bad configuration")

    syntax = write(tmp, "syntax.conf", "interval = 5.0;\nclose_wait: {\n  count = ;\n};\n")
    p = t.run(["--check-config", "--config", syntax], check_rc=78)
    t.check(re.search(r"^%s:3: " % re.escape(syntax), text(p.stderr), re.M),
            "a syntax error is reported with its line", "%s:3: ..." % syntax, text(p.stderr))

    missing = os.path.join(tmp, "missing.conf")
    p = t.run(["--check-config", "--config", missing], check_rc=78)
    t.check(missing in text(p.stderr), "a missing --config file is named", missing, text(p.stderr))


if __name__ == "__main__":
    t.main(main)
