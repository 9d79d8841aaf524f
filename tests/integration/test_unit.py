"""The systemd unit of a holder: a fake unit made of cgroup directories (no systemd needed).

The holder is moved into cwtest-PID.slice/cwtest-PID.service of the systemd cgroup hierarchies
(sd_pid_get_unit() reads the cgroup path), then reported with "unit" = that name. Afterwards it
is moved back and the directories are removed. Root only; skipped when the cgroup directories
cannot be created, or when systemd runs on the host (its tree is not ours to edit).
"""

import os

import cwtest as t

N = 2


def hierarchies():
    """(mount point, key in /proc/PID/cgroup) of the hierarchies sd_pid_get_unit() may read."""
    root = "/sys/fs/cgroup"
    if os.path.exists(os.path.join(root, "cgroup.controllers")):  # unified mode
        return [(root, "")]
    found = []
    for sub, key in (("systemd", "name=systemd"), ("unified", "")):
        path = os.path.join(root, sub)
        if os.path.ismount(path):
            found.append((path, key))
    return found


def cgroup_paths(pid):
    out = {}
    with open("/proc/%d/cgroup" % pid) as f:
        for line in f.read().splitlines():
            _, ctrl, path = line.split(":", 2)
            out[ctrl] = path
    return out


def main():
    t.need_root()
    if os.path.exists("/run/systemd/system"):
        raise t.Skip("systemd runs on this host: not editing its cgroup tree")
    hs = hierarchies()
    if not hs:
        raise t.Skip("no systemd cgroup hierarchy mounted under /sys/fs/cgroup")
    # A slice of our own (sd_pid_get_unit() skips any *.slice), so that no directory is shared
    # with another test that may run at the same time.
    slice_ = "cwtest-%d.slice" % os.getpid()
    unit = "cwtest-%d.service" % os.getpid()

    h = t.Holder(t.unique_comm("cwunit"))
    orig = cgroup_paths(h.pid)
    made = []  # directories we created, deepest last

    def undo():
        for mnt, key in hs:
            back = os.path.join(mnt, orig.get(key, "/").lstrip("/"), "cgroup.procs")
            try:
                with open(back, "w") as f:
                    f.write("%d\n" % h.pid)
            except OSError:
                pass
        for d in reversed(made):
            try:
                os.rmdir(d)
            except OSError as e:
                print("note: could not remove %s: %s" % (d, e))

    t.on_cleanup(undo)
    try:
        for mnt, key in hs:
            for d in (os.path.join(mnt, slice_), os.path.join(mnt, slice_, unit)):
                os.mkdir(d)
                made.append(d)
            with open(os.path.join(mnt, slice_, unit, "cgroup.procs"), "w") as f:
                f.write("%d\n" % h.pid)
    except OSError as e:
        raise t.Skip("cannot create the fake unit's cgroup directories: %s" % e)

    port = h.listen()
    clients = t.connect("127.0.0.1", port, N)
    h.call("accept", n=N)
    t.close_all(clients)
    t.wait_ss_count(N, "the holder's sockets in CLOSE_WAIT", state="close-wait", sport=port)

    rep = t.run_json()
    e = rep.need_proc(h.pid)
    t.check_eq(e["unit"], unit, "unit of pid %d (cgroup %s)" % (h.pid, cgroup_paths(h.pid)))
    t.check_eq(e["close_wait"]["count"], N, "close_wait.count")
    t.check_owner(e, h.pid)


if __name__ == "__main__":
    t.main(main)
