"""A real server stopped mid-work: `python3 -m http.server`.

K clients connect and send nothing; once the server has accepted them (ss shows them established
with the server's pid), the server is SIGSTOPped and M more clients connect (they stay in its
accept queue). All clients close. Then: a processes entry for the server pid with count K, and an
accept_backlog entry for 127.0.0.1:PORT with pid = the server, close_wait = M.
"""

import os
import re
import select
import subprocess
import signal
import sys
import tempfile

import cwtest as t

K = 3
M = 3


def start_server(tmp):
    py = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
    for _ in range(10):
        p = t.popen([py, "-u", "-m", "http.server", "--bind", "127.0.0.1", "0"], cwd=tmp,
                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL)
        line = b""
        r, _, _ = select.select([p.stdout], [], [], 10)
        if r:
            line = p.stdout.readline()
        m = re.search(rb"port (\d+)", line)
        if not m:
            raise t.Fail("http.server did not report its port: %r" % line)
        port = int(m.group(1))
        if len(t.ss(port=port, state="all")) == 1:
            return p, port
        p.kill()
        p.wait()
    raise t.Fail("no fresh port for http.server")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        srv, port = start_server(tmp)
        pid = srv.pid
        t.on_cleanup(lambda: os.kill(pid, signal.SIGCONT) if srv.poll() is None else None)
        first = t.connect("127.0.0.1", port, K)

        def accepted():
            lines = t.ss(state="established", sport=port, extra=["-p"])
            return len([l for l in lines if "pid=%d," % pid in l["line"]]) == K

        t.wait_for(accepted, "http.server to accept %d connections" % K)
        os.kill(pid, signal.SIGSTOP)
        t.wait_for(lambda: t.proc_state(pid) == "T", "http.server to stop")
        queued = t.connect("127.0.0.1", port, M)
        first_ends = sorted(t.sock_endpoint(s) for s in first)
        t.close_all(first + queued)
        lines = t.wait_ss_count(K + M, "the server's sockets in CLOSE_WAIT", state="close-wait",
                                sport=port)
        t.check_eq(len([l for l in lines if l["ino"] == 0]), M,
                   "unaccepted CLOSE_WAIT sockets (ino 0) per ss")

        rep = t.run_json()
        e = rep.need_proc(pid)
        t.check_owner(e, pid)
        t.check_eq(e["close_wait"]["count"], K, "close_wait.count of the stopped http.server")
        t.check_eq(sorted(p["remote"] for p in e["close_wait"]["peers"]),
                   first_ends, "peers of the http.server")
        t.check_fds(e, pid)
        bl = rep.backlogs(port)
        t.check_eq([b["local"] for b in bl], ["127.0.0.1:%d" % port],
                   "accept_backlog entries for the http.server's port")
        t.check_eq(bl[0]["pid"], pid, "accept_backlog pid")
        t.check_comm(bl[0]["comm"], pid, "accept_backlog comm")
        t.check_eq(bl[0]["close_wait"], M, "accept_backlog close_wait")

        os.kill(pid, signal.SIGCONT)
        srv.kill()
        srv.wait(timeout=10)


if __name__ == "__main__":
    t.main(main)
