#!/usr/bin/env bash
# Fuzz closewaitd's parsers and writers for a bounded time: build the libFuzzer targets of
# tests/fuzz with clang, ASan and UBSan into ./build-fuzz, then run every target for SECONDS
# (default 60), two at a time, each on a scratch copy of its seed corpus (the repository's corpus
# does not grow). Crash inputs go to build-fuzz/artifacts/<target>/ (emptied before each run).
# Prints one line per target (executions, time, result); exits 1 when any target crashed, leaked,
# timed out or ran out of memory, 0 otherwise. Needs clang (tools/deps.sh installs the rest).
#
#   tools/fuzz.sh [SECONDS]
set -uo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
if ! [[ $seconds =~ ^[0-9]+$ ]] || [ "$seconds" -eq 0 ]; then
	echo "usage: tools/fuzz.sh [SECONDS]   (seconds per target, default 60)" >&2
	exit 1
fi

dir=build-fuzz
targets=(fuzz-diag fuzz-proc fuzz-conf fuzz-render fuzz-container)
parallel=2

tools/deps.sh || exit 1
# libFuzzer and the sanitizer runtimes are in libclang-rt-14-dev, which clang only recommends.
if ! command -v clang >/dev/null || ! [ -f "$(clang -print-file-name="libclang_rt.fuzzer-$(uname -m).a")" ]; then
	echo "fuzz.sh: clang with its libFuzzer runtime is needed: apt-get install clang libclang-rt-dev" >&2
	exit 1
fi

# The library must carry coverage instrumentation too (fuzzer-no-link), and UBSan must stop the
# run, not print and go on. A build directory made with another compiler cannot be reconfigured.
options=(-Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false
	"-Dc_args=['-fsanitize=fuzzer-no-link','-fno-sanitize-recover=all']")
if [ -f "$dir/build.ninja" ] && ! grep -q 'C compiler for the host machine: clang' "$dir/meson-logs/meson-log.txt"; then
	echo "fuzz.sh: $dir was not set up with clang; setting it up again"
	rm -rf "$dir"
fi
if [ -f "$dir/build.ninja" ]; then
	meson configure "$dir" "${options[@]}" >/dev/null || exit 1
else
	CC=clang meson setup "$dir" --werror "${options[@]}" >/dev/null || exit 1
fi
ninja -C "$dir" >/dev/null || { ninja -C "$dir"; exit 1; }

export LSAN_OPTIONS="suppressions=$PWD/tests/fuzz/lsan.supp"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

# libconfig leaks on many syntax errors (tests/fuzz/lsan.supp), and every input that leaks, even
# suppressed, costs libFuzzer a full leak scan: fuzz-conf ran 10x slower with them and covered
# less. So it fuzzes without leak checks, and its grown corpus is then run once with them.
leak_pass_targets=" fuzz-conf "

# One target: scratch corpus, artifacts, log; its exit status and seconds go to files.
run_target() {
	local t=$1 run="$dir/fuzz-run/$1" art="$dir/artifacts/$1" start rc leaks=()
	rm -rf "$run" "$art"
	mkdir -p "$run/corpus" "$art"
	cp tests/fuzz/corpus/"$t"/* "$run/corpus/" 2>/dev/null
	[[ $leak_pass_targets == *" $t "* ]] && leaks=(-detect_leaks=0)
	start=$(date +%s)
	"$dir/tests/fuzz/$t" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
		"${leaks[@]}" -artifact_prefix="$art/" "$run/corpus" >"$run/log" 2>&1
	rc=$?
	if [ "$rc" -eq 0 ] && [ ${#leaks[@]} -gt 0 ]; then
		echo "fuzz.sh: the leak pass over the corpus" >>"$run/log"
		"$dir/tests/fuzz/$t" -runs=0 -detect_leaks=1 -rss_limit_mb=2048 -timeout=10 \
			-artifact_prefix="$art/" "$run/corpus" >>"$run/log" 2>&1
		rc=$?
	fi
	echo $(($(date +%s) - start)) >"$run/seconds"
	echo "$rc" >"$run/rc"
}

echo "fuzz.sh: ${#targets[@]} targets, ${seconds} s each, $parallel at a time (logs in $dir/fuzz-run/)"
running=0
for t in "${targets[@]}"; do
	if [ "$running" -ge "$parallel" ]; then
		wait -n
		running=$((running - 1))
	fi
	run_target "$t" &
	running=$((running + 1))
done
wait

status=0
for t in "${targets[@]}"; do
	run="$dir/fuzz-run/$t"
	rc=$(cat "$run/rc" 2>/dev/null || echo 1)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$run/log" | tail -n 1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$run/log" | tail -n 1)
	crashes=$(find "$dir/artifacts/$t" -type f 2>/dev/null | sort)
	if [ "$rc" -eq 0 ] && [ -z "$crashes" ]; then
		result=ok
	else
		result="FAILED (exit $rc)"
		status=1
	fi
	printf '%-12s %10s execs %7s exec/s %5s s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "$(cat "$run/seconds")" "$result"
	if [ "$result" != ok ]; then
		grep -m 3 -E '^(==[0-9]+==ERROR|SUMMARY|.*property broken)' "$run/log" | sed 's/^/    /'
		for f in $crashes; do
			echo "    crash input: $f"
			echo "    reproduce: $dir/tests/fuzz/$t $f"
			echo "    copy it into tests/fuzz/corpus/$t/ to make it a regression test"
		done
		[ -n "$crashes" ] || echo "    no crash input was written; see $run/log"
	fi
done
exit $status
