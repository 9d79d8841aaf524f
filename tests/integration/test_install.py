"""meson install into a DESTDIR: every file where it belongs, and each one valid.

The binary, the unit (with the installed binary's path, passing `systemd-analyze verify` with no
message at all), the catalog (accepted by `journalctl --update-catalog`), the man pages (no
warnings from groff), and the configuration, which a second install must not overwrite.
"""

import os
import shutil
import subprocess
import tempfile

import cwtest as t


def build_dir():
    # CLOSEWAITD is BUILD/daemon/closewaitd
    return os.path.dirname(os.path.dirname(t.closewaitd_path()))


def install(dest):
    p = subprocess.run(["meson", "install", "-C", build_dir(), "--no-rebuild", "--destdir", dest,
                        "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    t.check_eq(p.returncode, 0, "meson install exit status (output: %s)"
               % p.stdout.decode("utf-8", "replace")[-2000:])


def find(dest, name):
    hits = []
    for root, _, files in os.walk(dest):
        if name in files:
            hits.append(os.path.join(root, name))
    t.check_eq(len(hits), 1, "installed copies of %s" % name)
    return hits[0]


def main():
    if not shutil.which("meson"):
        raise t.Skip("meson is not installed")
    dest = tempfile.mkdtemp(prefix="cwtest-install-")
    t.on_cleanup(lambda: shutil.rmtree(dest, ignore_errors=True))
    install(dest)

    exe = os.path.join(dest, "usr", "sbin", "closewaitd")
    t.check(os.access(exe, os.X_OK), "the binary is in /usr/sbin", exe)
    conf = os.path.join(dest, "etc", "closewaitd", "closewaitd.conf")
    t.check(os.path.isfile(conf), "the configuration is /etc/closewaitd/closewaitd.conf", conf)
    catalog = os.path.join(dest, "usr", "lib", "systemd", "catalog", "closewaitd.catalog")
    t.check(os.path.isfile(catalog), "the catalog is in /usr/lib/systemd/catalog", catalog)
    readme = os.path.join(dest, "usr", "share", "doc", "closewaitd", "README.md")
    t.check(os.path.isfile(readme), "the README the catalog's Support: line names", readme)
    unit = find(dest, "closewaitd.service")
    man8 = os.path.join(dest, "usr", "share", "man", "man8", "closewaitd.8")
    man5 = os.path.join(dest, "usr", "share", "man", "man5", "closewaitd.conf.5")
    for m in (man8, man5):
        t.check(os.path.isfile(m), "man page installed", m)

    with open(unit) as f:
        text = f.read()
    t.check("ExecStart=/usr/sbin/closewaitd\n" in text, "the unit starts the installed binary", None,
            [l for l in text.splitlines() if l.startswith("ExecStart")])
    for key in ("Type=notify", "ExecReload=", "WatchdogSec=", "Restart=on-failure",
                "RestartPreventExitStatus=78", "RuntimeDirectory=closewaitd",
                "CapabilityBoundingSet=CAP_SYS_PTRACE CAP_DAC_READ_SEARCH"):
        t.check(key in text, "the unit has %s" % key, key, None)
    settings = [l for l in text.splitlines() if l and not l.startswith("#")]
    t.check(not [l for l in settings if l.startswith("PrivateNetwork")],
            "no PrivateNetwork= (it would hide the host's sockets)")

    if shutil.which("systemd-analyze"):
        # Verify against the installed binary: the unit's ExecStart points into the DESTDIR copy.
        check_unit = os.path.join(dest, "closewaitd.service")
        with open(check_unit, "w") as f:
            f.write(text.replace("ExecStart=/usr/sbin/closewaitd", "ExecStart=" + exe))
        p = subprocess.run(["systemd-analyze", "verify", "--man=no", check_unit],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        err = p.stderr.decode("utf-8", "replace").strip()
        t.check(p.returncode == 0 and not err, "systemd-analyze verify is silent", "",
                "rc %d: %s" % (p.returncode, err))
        os.unlink(check_unit)

    root = tempfile.mkdtemp(prefix="cwtest-catroot-")
    t.on_cleanup(lambda: shutil.rmtree(root, ignore_errors=True))
    os.makedirs(os.path.join(root, "usr", "lib", "systemd", "catalog"))
    shutil.copy(catalog, os.path.join(root, "usr", "lib", "systemd", "catalog"))
    p = subprocess.run(["journalctl", "--root", root, "--update-catalog"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60)
    t.check_eq(p.returncode, 0, "journalctl --update-catalog accepts the catalog (%s)"
               % p.stdout.decode("utf-8", "replace").strip())
    p = subprocess.run(["journalctl", "--root", root, "--list-catalog"], stdout=subprocess.PIPE,
                       timeout=60)
    ids = {l.split()[0] for l in p.stdout.decode().splitlines() if l.strip()}
    for mid in ("fd90960cbac74d8d928e85956d41cad2", "17353e799a934f2889f044f6c273ad8c",
                "7f6e0a4999384f6cbd5132003a53b366", "2de4c1457c69400a989b55c82dadf085",
                "14f5b9873616466aaa8faa39c2ba4566", "fb00b5d9cfdf403ea21f70fcf92990b3"):
        t.check(mid in ids, "the catalog explains MESSAGE_ID %s" % mid, mid, sorted(ids))

    if shutil.which("groff"):
        for m in (man8, man5):
            p = subprocess.run(["groff", "-man", "-ww", "-z", m], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=60)
            t.check(p.returncode == 0 and not p.stderr.strip(), "groff renders %s without warnings"
                    % os.path.basename(m), "", p.stderr.decode("utf-8", "replace"))

    # An operator's configuration survives a second install (an upgrade).
    with open(conf, "w") as f:
        f.write("interval = 7.0;\n")
    install(dest)
    with open(conf) as f:
        t.check_eq(f.read(), "interval = 7.0;\n", "the configuration after a second install")


if __name__ == "__main__":
    t.main(main)
