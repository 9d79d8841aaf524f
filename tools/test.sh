#!/usr/bin/env bash
# Install the dependencies, build, and run every test three ways: a plain build; the same build
# under valgrind (unit tests wrapped, the daemon wrapped in the integration tests); and a build
# with AddressSanitizer + UndefinedBehaviorSanitizer. The plain run includes the system tests: the
# Debian package built and checked by lintian, then installed on a systemd booted in a container
# (tests/system; once per run: they test the package, not the sanitized build). Then static
# analysis and fuzzing. Ends with
# "N passed, N failed, N skipped" (lint and fuzzing count as one check each).
set -uo pipefail
cd "$(dirname "$0")/.."

tools/build.sh build || exit 1
tools/build.sh build-san -Db_sanitize=address,undefined -Db_lundef=false \
	-Dc_args=-fno-sanitize-recover=all || exit 1

valgrind="valgrind --vgdb=no --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect -q"
status=0

meson test -C build --print-errorlogs || status=1
meson test -C build --print-errorlogs --suite unit --suite fuzz-regress --logbase unit --wrap "$valgrind" || status=1
CLOSEWAITD_WRAPPER="$valgrind" \
	meson test -C build --print-errorlogs --suite integration --logbase valgrind-integration || status=1
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	meson test -C build-san --print-errorlogs --no-suite system || status=1

# Static analysis (clang-tidy, cppcheck), then every fuzz target for 60 s (libFuzzer, clang).
tools/lint.sh
lint=$?
tools/fuzz.sh 60
fuzz=$?

/usr/bin/python3 tools/test-summary.py build/meson-logs/testlog.json build/meson-logs/unit-valgrind.json \
	build/meson-logs/valgrind-integration.json build-san/meson-logs/testlog.json \
	"lint (tools/lint.sh)=$lint" "fuzzing (tools/fuzz.sh 60)=$fuzz" || status=1
exit $status
