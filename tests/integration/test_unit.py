"""The systemd unit of a holder: a fake unit made of cgroup directories (no systemd needed).

The holder is moved into cwtest-PID.slice/cwtest-PID.service of the systemd cgroup hierarchies
(sd_pid_get_unit() reads the cgroup path), then reported with "unit" = that name. Afterwards it
is moved back and the directories are removed. Root only; skipped when the cgroup directories
cannot be created, or when systemd runs on the host (its tree is not ours to edit).
"""

import cwtest as t
import daemontest as dt

N = 2


def main():
    t.need_root()
    h = t.Holder(t.unique_comm("cwunit"))
    unit = dt.fake_unit(h.pid)

    port = h.listen()
    clients = t.connect("127.0.0.1", port, N)
    h.call("accept", n=N)
    t.close_all(clients)
    t.wait_ss_count(N, "the holder's sockets in CLOSE_WAIT", state="close-wait", sport=port)

    rep = t.run_json()
    e = rep.need_proc(h.pid)
    t.check_eq(e["unit"], unit, "unit of pid %d (cgroup %s)" % (h.pid, dt.cgroup_paths(h.pid)))
    t.check_eq(e["close_wait"]["count"], N, "close_wait.count")
    t.check_owner(e, h.pid)


if __name__ == "__main__":
    t.main(main)
