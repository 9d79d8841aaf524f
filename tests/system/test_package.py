"""The Debian package: `dpkg-buildpackage -us -uc -b` builds it from this tree, it holds what an
installed service needs, and lintian finds nothing in it or in the source package that the
overrides in debian/ do not explain.

Run: meson test -C build --suite system -v   (needs debhelper and lintian: tools/deps.sh)
"""

import os
import re
import subprocess
import sys

import cwtest as t
import debpkg

SRC = sys.argv[1]
WORK = sys.argv[2]


def meson_version():
    with open(os.path.join(SRC, "meson.build")) as f:
        m = re.search(r"version\s*:\s*'([^']+)'", f.read())
    return m.group(1)


def main():
    if subprocess.run(["sh", "-c", "command -v lintian"], stdout=subprocess.DEVNULL).returncode:
        raise t.Skip("needs lintian (apt-get install lintian; tools/deps.sh installs it)")
    t.check_eq(debpkg.version(SRC), meson_version(),
               "debian/changelog's version is the project's (meson.build)")

    out = debpkg.build(SRC, WORK)
    deb = debpkg.deb_path(out, SRC)
    t.check(os.path.exists(deb), "dpkg-buildpackage made %s" % deb)
    with open(os.path.join(out, "build.log")) as f:
        log = f.read()
    ok = re.search(r"^Ok:\s+(\d+)", log, re.M)
    t.check(ok and int(ok.group(1)) > 0 and re.search(r"^Fail:\s+0\s*$", log, re.M),
            "the build ran the unit tests and none failed (dh_auto_test)")
    t.check("warning:" not in log.split("dh_auto_build", 1)[-1].split("dh_auto_test", 1)[0],
            "the compiler printed no warning in the package build")

    listing = subprocess.run(["dpkg-deb", "-c", deb], stdout=subprocess.PIPE,
                             check=True).stdout.decode()
    files = {line.split()[-1].lstrip(".") for line in listing.splitlines()
             if not line.startswith("d")}
    for path in ("/usr/sbin/closewaitd", "/lib/systemd/system/closewaitd.service",
                 "/usr/lib/systemd/catalog/closewaitd.catalog",
                 "/usr/share/man/man8/closewaitd.8.gz", "/usr/share/man/man5/closewaitd.conf.5.gz",
                 "/etc/closewaitd/closewaitd.conf", "/usr/share/doc/closewaitd/copyright",
                 "/usr/share/doc/closewaitd/README.md",  # the catalog's Support: link
                 "/usr/share/doc/closewaitd/examples/closewaitd.rules.yml"):
        t.check(path in files, "the package installs %s" % path, path, sorted(files))

    ctl = subprocess.run(["dpkg-deb", "--ctrl-tarfile", deb], stdout=subprocess.PIPE,
                         check=True).stdout
    conffiles = subprocess.run(["tar", "-xOf", "-", "./conffiles"], input=ctl,
                               stdout=subprocess.PIPE, check=True).stdout.decode().split()
    t.check_eq(conffiles, ["/etc/closewaitd/closewaitd.conf"], "the conffiles")
    shipped = subprocess.run(["dpkg-deb", "--fsys-tarfile", deb], stdout=subprocess.PIPE,
                             check=True).stdout
    conf = subprocess.run(["tar", "-xOf", "-", "./etc/closewaitd/closewaitd.conf"], input=shipped,
                          stdout=subprocess.PIPE, check=True).stdout
    with open(os.path.join(SRC, "config", "closewaitd.conf"), "rb") as f:
        t.check(conf == f.read(), "/etc/closewaitd/closewaitd.conf is config/closewaitd.conf")
    unit = subprocess.run(["tar", "-xOf", "-", "./lib/systemd/system/closewaitd.service"],
                          input=shipped, stdout=subprocess.PIPE, check=True).stdout.decode()
    t.check("\nExecStart=/usr/sbin/closewaitd\n" in unit, "the unit starts /usr/sbin/closewaitd")

    # Every tag, info, pedantic and experimental ones too (lintian fails only on those it
    # displays); an override that no tag uses any more shows as unused-override.
    # The binary packages (.changes) and the source package (.dsc); the overrides are
    # debian/closewaitd.lintian-overrides and debian/source/lintian-overrides.
    changes = os.path.join(out, "closewaitd_%s_%s.changes" % (debpkg.version(SRC), debpkg.arch()))
    dsc = os.path.join(out, "closewaitd_%s.dsc" % debpkg.version(SRC))
    p = subprocess.run(["lintian", "--display-info", "--pedantic", "--display-experimental",
                        "--fail-on", "error,warning,info,pedantic,experimental", changes, dsc],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    report = p.stdout.decode("utf-8", "replace")
    print("lintian:\n" + report)
    tags = [ln for ln in report.splitlines() if re.match(r"^[EWIPX]: ", ln)]
    t.check(not tags and p.returncode == 0,
            "lintian reports no tag that the overrides in debian/ do not explain",
            [], tags or report)


if __name__ == "__main__":
    t.main(main, timeout=600)
