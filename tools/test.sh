#!/usr/bin/env bash
# Install the dependencies, build, and run every test: once in a plain build, once with
# AddressSanitizer + UndefinedBehaviorSanitizer. Ends with "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."

tools/build.sh build || exit 1
tools/build.sh build-san -Db_sanitize=address,undefined -Db_lundef=false \
	-Dc_args=-fno-sanitize-recover=all || exit 1

status=0
meson test -C build --print-errorlogs || status=1
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	meson test -C build-san --print-errorlogs || status=1

/usr/bin/python3 tools/test-summary.py build/meson-logs/testlog.json build-san/meson-logs/testlog.json || status=1
exit $status
