"""Real servers from Debian stopped mid-work: redis-server, memcached and nginx (master and two
workers), each when installed (skips, 77, when none is).

For each: K clients connect and send nothing; once the server has accepted them, every process
of the server is SIGSTOPped and M more clients connect (they stay in its accept queue); then all
clients close. The report must give the server's process(es) exactly K CLOSE_WAIT sockets with
the clients as peers, and the listener an accept backlog of exactly M, owned by the server (the
nginx master, with the workers in "pids").
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import cwtest as t

K = 4
M = 3


def free_port():
    for _ in range(20):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        if not t.ss(port=port, state="all"):
            return port
    raise t.Fail("no free port on 127.0.0.1")


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def start_redis(tmp, port):
    p = t.popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--dir", tmp, "--daemonize", "no"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return p, lambda: [p.pid]


def start_memcached(tmp, port):
    argv = ["memcached", "-l", "127.0.0.1", "-p", str(port), "-U", "0"]
    if os.geteuid() == 0:
        argv += ["-u", "root"]
    p = t.popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return p, lambda: [p.pid]


def start_nginx(tmp, port):
    os.makedirs(os.path.join(tmp, "logs"), exist_ok=True)
    conf = os.path.join(tmp, "nginx.conf")
    with open(conf, "w") as f:
        f.write("worker_processes 2;\ndaemon off;\npid %s/nginx.pid;\nerror_log %s/logs/error.log;\n"
                "events { worker_connections 64; }\n"
                "http { access_log off; client_body_temp_path %s; proxy_temp_path %s;\n"
                "  fastcgi_temp_path %s; uwsgi_temp_path %s; scgi_temp_path %s;\n"
                "  server { listen 127.0.0.1:%d; location / { return 200 \"ok\\n\"; } } }\n"
                % ((tmp,) * 7 + (port,)))
    p = t.popen(["nginx", "-p", tmp, "-c", conf], stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t.wait_for(lambda: len(children(p.pid)) == 2, "nginx to start its two workers")
    return p, lambda: [p.pid] + children(p.pid)


SERVERS = (("redis-server", start_redis), ("memcached", start_memcached), ("nginx", start_nginx))


def check_server(name, start, tmp):
    port = free_port()
    srv, pids_of = start(tmp, port)
    t.on_cleanup(lambda: [os.kill(p, signal.SIGCONT) for p in pids_of()] if srv.poll() is None else None)
    t.wait_ss_count(1, "%s to listen on %d" % (name, port), timeout=10, state="listening", sport=port)
    pids = pids_of()

    first = t.connect("127.0.0.1", port, K)

    def accepted():
        lines = t.ss(state="established", sport=port, extra=["-p"])
        return len([l for l in lines if "users:" in l["line"]]) == K

    t.wait_for(accepted, "%s to accept %d connections" % (name, K))
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    for pid in pids:
        t.wait_for(lambda: t.proc_state(pid) == "T", "%s pid %d to stop" % (name, pid))
    queued = t.connect("127.0.0.1", port, M)
    clients = sorted(t.sock_endpoint(s) for s in first)
    t.close_all(first + queued)
    t.wait_ss_count(K + M, "%s's sockets in CLOSE_WAIT" % name, state="close-wait", sport=port)

    rep = t.run_json()
    held = [e for e in rep["processes"] if e["pid"] in pids]
    t.check_eq(sum(e["close_wait"]["count"] for e in held), K,
               "CLOSE_WAIT sockets held by %s's processes %s" % (name, pids))
    for e in held:
        t.check_owner(e, e["pid"])
        t.check_fds(e, e["pid"])
    t.check_eq(sorted(p["remote"] for e in held for p in e["close_wait"]["peers"]), clients,
               "peers of %s" % name)
    bl = rep.backlogs(port)
    t.check_eq([b["local"] for b in bl], ["127.0.0.1:%d" % port], "%s accept_backlog entries" % name)
    t.check_eq(bl[0]["close_wait"], M, "%s accept_backlog close_wait" % name)
    t.check_eq(bl[0]["pid"], pids[0], "%s accept_backlog pid (the server, or nginx's master)" % name)
    t.check_eq(sorted(bl[0]["pids"]), sorted(pids), "%s accept_backlog pids" % name)

    print("%s: %d accepted sockets held by %s, %d in the backlog of pid %d: as expected"
          % (name, K, [e["pid"] for e in held], M, bl[0]["pid"]))
    for pid in pids:
        os.kill(pid, signal.SIGCONT)
    srv.terminate()
    srv.wait(timeout=10)


def main():
    found = [(n, s) for n, s in SERVERS if shutil.which(n) or os.path.exists("/usr/sbin/" + n)]
    if not found:
        raise t.Skip("none of redis-server, memcached, nginx is installed")
    if "nginx" in [n for n, _ in found] and not shutil.which("nginx"):
        os.environ["PATH"] += ":/usr/sbin"
    for name, start in found:
        with tempfile.TemporaryDirectory() as tmp:
            check_server(name, start, tmp)
    missing = sorted(set(n for n, _ in SERVERS) - set(n for n, _ in found))
    if missing:
        print("note: not installed, not tested: %s" % ", ".join(missing))


if __name__ == "__main__":
    t.main(main)
