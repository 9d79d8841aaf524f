"""The default configuration path, --log-target auto and -v.

In its own mount namespace (a tmpfs over /etc/closewaitd, so the host's file is untouched):
  * no /etc/closewaitd/closewaitd.conf: built-in defaults, "configuration OK", and the daemon
    starts with them ("scanning every 5.0s");
  * --log-target auto without a journal socket logs to stderr, and -v adds a line per scan;
  * a broken default file: every error as /etc/closewaitd/closewaitd.conf:LINE, exit 78, for
    --check-config, --once and the daemon.
"""

import os
import shlex
import shutil
import subprocess
import tempfile

import cwtest as t
import daemontest as dt

DEFAULT = "/etc/closewaitd/closewaitd.conf"


def main():
    dt.private_journal(start=False)  # own namespaces, and no journal socket
    os.makedirs("/etc/closewaitd", exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=0755", "tmpfs", "/etc/closewaitd"],
                   check=True)

    p = t.run(["--check-config"], check_rc=0)
    t.check_eq(p.stdout.decode().strip(), "configuration OK", "no default file: the defaults")

    # The daemon without --config or --log-target.
    tmp = tempfile.mkdtemp(prefix="cwtest-default-")
    t.on_cleanup(lambda: shutil.rmtree(tmp, ignore_errors=True))
    notify = dt.Notify()
    env = dict(os.environ, RUNTIME_DIRECTORY=os.path.join(tmp, "run"), NOTIFY_SOCKET=notify.path)
    err_path = os.path.join(tmp, "stderr")
    with open(err_path, "wb") as err:
        proc = t.popen(shlex.split(os.environ.get("CLOSEWAITD_WRAPPER", ""))
                       + [t.closewaitd_path(), "-v"],
                       stdin=subprocess.DEVNULL, stdout=err, stderr=err, env=env)

    def stderr():
        with open(err_path) as f:
            return f.read()

    notify.wait(lambda l: l == "READY=1", "READY=1 with the built-in defaults", timeout=30)
    t.wait_for(lambda: "closewaitd: scan 1: " in stderr(), "the -v line of the first scan", 10)
    proc.terminate()
    t.check_eq(proc.wait(timeout=30), 0, "exit status on SIGTERM")
    out = stderr()
    t.check("scanning every 5.0s" in out and DEFAULT in out,
            "auto without a journal logs to stderr: the defaults, from the default path", None, out)

    with open(DEFAULT, "w") as f:
        f.write("interval = 0;\nclose_wait: { count = 0; };\n")
    for args in (["--check-config"], ["--once"], []):
        p = t.run(args, timeout=30, check_rc=78)
        err = p.stderr.decode("utf-8", "replace")
        for line in (1, 2):
            want = "%s:%d: " % (DEFAULT, line)
            t.check(want in err, "`closewaitd %s` reports %s" % (" ".join(args), want), want, err)


if __name__ == "__main__":
    t.main(main)
