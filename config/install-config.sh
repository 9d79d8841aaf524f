#!/bin/sh
# Install the shipped configuration into $DESTDIR<sysconfdir>/closewaitd unless one is there.
# meson passes the source file and the directory (relative sysconfdir is made absolute with the prefix).
set -eu
src=$1
dir=$2
case $dir in
/*) ;;
*) dir=$MESON_INSTALL_PREFIX/$dir ;;
esac
dest=${DESTDIR:-}$dir/closewaitd.conf
if [ -e "$dest" ]; then
	echo "keeping the existing $dest"
	exit 0
fi
install -D -m 0644 "$src" "$dest"
echo "installed $dest"
