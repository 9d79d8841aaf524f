#!/usr/bin/env bash
# Install the build dependencies and build closewaitd into ./build (or the directory given).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true

tools/deps.sh
if [ -f "$dir/build.ninja" ]; then
	meson configure "$dir" "$@" >/dev/null
else
	meson setup "$dir" --werror "$@" >/dev/null
fi
ninja -C "$dir"
