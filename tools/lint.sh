#!/usr/bin/env bash
# Static analysis as CI runs it: clang-tidy (checks in .clang-tidy, relaxed for tests in
# tests/.clang-tidy) and cppcheck (suppressions in tools/cppcheck.supp, each with its reason) over
# every C file in daemon/ and tests/ (the fuzz targets included: they are built with a replay
# driver in the normal build). Flags come from the compile database of a
# gcc build directory of its own, build-lint (configured, never compiled). Any finding fails; the
# last line says "lint: clang-tidy N files clean, cppcheck clean" when there is none. About 75 s
# of CPU, nearly all of it clang-tidy's path-sensitive analyzer: some 40 s on two idle cores.
set -euo pipefail
cd "$(dirname "$0")/.."

dir=build-lint
jobs=${LINT_JOBS:-$(nproc)}
# A pattern of paths to leave out; nothing is, today.
exclude=''

# The build dependencies (meson setup needs them) and the analyzers, both in tools/deps.sh. Debian
# 12's clang-tidy is 14, the version .clang-tidy was tuned on (a newer one adds checks to the
# enabled families, so expect new findings there).
tools/deps.sh
for tool in cppcheck clang-tidy; do
	command -v "$tool" >/dev/null || { echo "lint: $tool not installed (tools/deps.sh installs it)" >&2; exit 1; }
done
tidy=$(command -v clang-tidy-14 || command -v clang-tidy)

# Configure only: the database and config.h are all the analyzers need.
if [ -f "$dir/build.ninja" ]; then
	setup=(meson setup --reconfigure "$dir")
else
	rm -rf "$dir"
	setup=(meson setup "$dir" -Db_colorout=never)
fi
if ! log=$(CC=gcc "${setup[@]}" 2>&1); then
	printf '%s\n' "$log" >&2
	echo "lint: meson setup $dir failed" >&2
	exit 1
fi

# The database narrowed to daemon/ and tests/ (less the exclusion), in $dir/lint/ for both tools.
# Every .c there must be in it: a file that no target builds would otherwise go unchecked.
mkdir -p "$dir/lint"
python3 - "$dir" "$exclude" >"$dir/lint/files" <<'PY'
import json, os, re, sys

build = sys.argv[1]
exclude = re.compile(sys.argv[2] or "(?!)")  # an empty pattern excludes nothing
keep, seen = [], set()
for e in json.load(open(os.path.join(build, "compile_commands.json"))):
    rel = os.path.relpath(os.path.normpath(os.path.join(e["directory"], e["file"])))
    if rel.split(os.sep)[0] in ("daemon", "tests") and not exclude.search(rel) and rel not in seen:
        seen.add(rel)
        keep.append(e)
with open(os.path.join(build, "lint", "compile_commands.json"), "w") as f:
    json.dump(keep, f, indent=1)
unbuilt = sorted(os.path.join(d, n) for top in ("daemon", "tests") for d, _, names in os.walk(top)
                 for n in names if n.endswith(".c"))
unbuilt = [rel for rel in unbuilt if not exclude.search(rel) and rel not in seen]
for rel in unbuilt:
    print("lint: %s is in no build target: build it, or exclude it in tools/lint.sh" % rel, file=sys.stderr)
print("\n".join(sorted(seen, key=lambda rel: -os.path.getsize(rel))))  # the longest first: better packing
sys.exit(1 if unbuilt or not seen else 0)
PY
mapfile -t files <"$dir/lint/files"

# clang-tidy, one file per process; a file's output is printed whole, so two files never mix.
tidy_ok=true
# shellcheck disable=SC2016 # $0, $1 and $2 belong to the inner shell
printf '%s\0' "${files[@]}" | xargs -0 -n1 -P"$jobs" sh -c \
	'out=$("$0" -p "$1" --quiet "$2" 2>&1) || { printf "%s\n" "$out"; exit 1; }' \
	"$tidy" "$dir/lint" || tidy_ok=false

# cppcheck over the same files with the same flags; --library=posix knows that open() and
# opendir() results leak like malloc()'s.
cpp_ok=true
cppcheck --project="$dir/lint/compile_commands.json" --std=c11 --library=posix \
	--enable=warning,performance,portability,style --inline-suppr \
	--suppress=missingIncludeSystem --suppressions-list=tools/cppcheck.supp \
	--error-exitcode=1 --quiet -j"$jobs" --template=gcc || cpp_ok=false

if $tidy_ok && $cpp_ok; then
	echo "lint: clang-tidy ${#files[@]} files clean, cppcheck clean"
	exit 0
fi
$tidy_ok && t="clang-tidy ${#files[@]} files clean" || t="clang-tidy found problems (above)"
$cpp_ok && c="cppcheck clean" || c="cppcheck found problems (above)"
echo "lint: $t, $c"
exit 1
