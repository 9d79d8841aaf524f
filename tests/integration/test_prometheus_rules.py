"""contrib/prometheus/closewaitd.rules.yml: valid for Prometheus (`promtool check rules`), and
right (`promtool test rules` with closewaitd.rules.test.yml, whose series fire and do not fire each
alert). Needs no root; skips without promtool (Debian: apt install prometheus).
"""

import os
import shutil
import subprocess

import cwtest as t
import daemontest as dt

DIR = os.path.join(dt.source_root(), "contrib", "prometheus")


def promtool(*args):
    p = subprocess.run(["promtool"] + list(args), cwd=DIR, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60)
    out = p.stdout.decode("utf-8", "replace")
    t.check(p.returncode == 0, "`promtool %s` succeeds" % " ".join(args), "exit 0",
            "exit %d:\n%s" % (p.returncode, out))
    return out


def main():
    if not shutil.which("promtool"):
        raise t.Skip("promtool is not installed (Debian: apt install prometheus)")
    out = promtool("check", "rules", "closewaitd.rules.yml")
    t.check("SUCCESS: 6 rules found" in out, "all six rules are read", "SUCCESS: 6 rules found", out)
    out = promtool("test", "rules", "closewaitd.rules.test.yml")
    t.check("SUCCESS" in out, "the rule tests pass", "SUCCESS", out)


if __name__ == "__main__":
    t.main(main, timeout=60)
