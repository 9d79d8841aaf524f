"""The Debian package, built once per source tree for the system tests.

build() copies the source tree (the files git knows, tracked or not ignored; or the whole tree
without build directories when it is no git checkout) into the build directory, makes the source
package from it (`dpkg-source -b`) and runs `dpkg-buildpackage -us -uc -b` there, as a user would
in a checkout. The result is kept with the
hash of the sources it came from, so the second test of a run (and a rerun with unchanged
sources) reuses it.
"""

import fcntl
import hashlib
import os
import shutil
import subprocess

import cwtest as t

BUILD_TOOLS = ("dpkg-buildpackage", "dh", "dpkg-deb")


def _source_files(src):
    try:
        out = subprocess.run(["git", "-C", src, "ls-files", "-z", "-co", "--exclude-standard"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True).stdout
        files = [f for f in out.decode().split("\0") if f and os.path.isfile(os.path.join(src, f))]
    except (OSError, subprocess.CalledProcessError):
        files = []
        for root, dirs, names in os.walk(src):
            rel = os.path.relpath(root, src)
            if rel == ".":
                dirs[:] = [d for d in dirs if not d.startswith(("build", "obj-", ".git"))]
            for n in names:
                files.append(os.path.normpath(os.path.join(rel, n)))
    return sorted(files)


def _digest(src, files):
    h = hashlib.sha256()
    for f in files:
        h.update(f.encode() + b"\0")
        with open(os.path.join(src, f), "rb") as fh:
            h.update(hashlib.sha256(fh.read()).digest())
    return h.hexdigest()[:16]


def version(src):
    """The package version from debian/changelog (its first line)."""
    with open(os.path.join(src, "debian", "changelog")) as f:
        first = f.readline()
    return first.split("(", 1)[1].split(")", 1)[0]


def need_tools():
    missing = [p for p in BUILD_TOOLS if shutil.which(p) is None]
    if missing:
        raise t.Skip("needs %s (apt-get install debhelper dpkg-dev; tools/deps.sh installs them)"
                     % ", ".join(missing))


def build(src, workdir):
    """Build the package from src under workdir (once per source digest); return the directory
    holding closewaitd_VERSION_ARCH.deb and its .changes."""
    need_tools()
    os.makedirs(workdir, exist_ok=True)
    with open(os.path.join(workdir, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        files = _source_files(src)
        digest = _digest(src, files)
        out = os.path.join(workdir, "pkg-" + digest)
        if os.path.exists(os.path.join(out, "done")):
            return out
        for old in os.listdir(workdir):
            if old.startswith("pkg-"):
                shutil.rmtree(os.path.join(workdir, old))
        tree = os.path.join(out, "closewaitd-" + version(src))
        for f in files:
            dst = os.path.join(tree, f)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copy2(os.path.join(src, f), dst)
        log = os.path.join(out, "build.log")
        env = dict(os.environ)
        for k in ("CFLAGS", "LDFLAGS", "CPPFLAGS", "DEB_BUILD_OPTIONS", "DEB_BUILD_PROFILES",
                  "MESON_TESTTHREADS", "MALLOC_PERTURB_"):
            env.pop(k, None)
        # the source package first, from the clean tree (for lintian), then the binary one
        for argv, where in ((["dpkg-source", "-b", os.path.basename(tree)], out),
                            (["dpkg-buildpackage", "-us", "-uc", "-b"], tree)):
            with open(log, "a") as lf:
                p = subprocess.run(argv, cwd=where, env=env, stdin=subprocess.DEVNULL, stdout=lf,
                                   stderr=subprocess.STDOUT)
            if p.returncode != 0:
                with open(log) as lf:
                    tail = lf.read()[-4000:]
                raise t.Fail("%s failed (exit %d); the end of %s:\n%s"
                             % (" ".join(argv), p.returncode, log, tail))
        open(os.path.join(out, "done"), "w").close()
        return out


def arch():
    return subprocess.run(["dpkg", "--print-architecture"], stdout=subprocess.PIPE,
                          check=True).stdout.decode().strip()


def deb_path(out, src):
    return os.path.join(out, "closewaitd_%s_%s.deb" % (version(src), arch()))


def field(deb, name):
    return subprocess.run(["dpkg-deb", "-f", deb, name], stdout=subprocess.PIPE,
                          check=True).stdout.decode().strip()


def depends_names(deb):
    """The package names in the Depends: field (versions and alternatives after the first
    dropped): what a root must hold to install the package without a network."""
    names = []
    for dep in field(deb, "Depends").split(","):
        dep = dep.split("|")[0].strip()
        if dep:
            names.append(dep.split()[0].split(":")[0])
    return names


def repack(deb, new_version, outdir):
    """The same package under another version: an upgrade as dpkg sees one (the maintainer
    scripts get the old version), without a second build."""
    tmp = os.path.join(outdir, "repack")
    shutil.rmtree(tmp, ignore_errors=True)
    subprocess.run(["dpkg-deb", "-R", deb, tmp], check=True)
    ctl = os.path.join(tmp, "DEBIAN", "control")
    with open(ctl) as f:
        lines = f.read().splitlines()
    lines = ["Version: " + new_version if ln.startswith("Version:") else ln for ln in lines]
    with open(ctl, "w") as f:
        f.write("\n".join(lines) + "\n")
    out = os.path.join(outdir, "closewaitd_%s_%s.deb" % (new_version, arch()))
    subprocess.run(["dpkg-deb", "--root-owner-group", "-b", tmp, out], check=True,
                   stdout=subprocess.DEVNULL)
    shutil.rmtree(tmp)
    return out
