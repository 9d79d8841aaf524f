#!/usr/bin/env bash
# Install what closewaitd needs to build and test on Debian 12 (as root). Skips apt when every
# package is already there, so repeated runs cost nothing.
set -euo pipefail

packages=(
	gcc meson ninja-build pkg-config
	libmnl-dev libsystemd-dev libconfig-dev libseccomp-dev
	libcmocka-dev python3 python3-jsonschema
	iproute2 systemd valgrind clang-format git
	redis-server memcached nginx-light   # real servers the integration tests stop mid-work
	groff-base                           # the install test renders the man pages with warnings on
	clang libclang-rt-14-dev             # libFuzzer (tools/fuzz.sh)
	cppcheck clang-tidy                  # static analysis (tools/lint.sh)
	prometheus                           # promtool: checks the metrics file and the alerting rules
	build-essential debhelper dpkg-dev lintian   # the Debian package (tests/system/test_package.py)
	debootstrap systemd-container        # a booted systemd in a container (tests/system/test_systemd.py)
)
# prometheus is the whole server (22 MB download, 96 MB installed, 11 small libjs-* packages for
# its web console; Debian ships promtool in no package of its own). Its postinst enables
# prometheus.service: on a host that runs systemd, Prometheus then listens on :9090. The tests
# need only /usr/bin/promtool; "systemctl disable --now prometheus" if the server is not wanted.

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing packages: ${missing[*]}; run as root (sudo) to install them" >&2
	exit 1
fi
echo "deps.sh: installing ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
