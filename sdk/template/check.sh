#!/bin/sh
# Builds this template out of tree against an installed spatialboost and
# checks `spatialboost plugins` loads it.  usage: check.sh PREFIX
set -eu
prefix=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pc=$(dirname "$(find "$prefix" -name spatialboost.pc | head -n 1)")
[ -n "$pc" ] || { echo "no spatialboost.pc under $prefix"; exit 1; }
cp -r "$here"/meson.build "$here"/projector_linear.c "$work"/
cd "$work"
PKG_CONFIG_PATH=$pc meson setup build >/dev/null
ninja -C build >/dev/null
out=$(SPATIALBOOST_PLUGIN_PATH=$work/build "$prefix/bin/spatialboost" plugins projector_linear)
echo "$out"
echo "$out" | grep -q "projector_linear  (projector, version 1.0.0)"
echo "$out" | grep -q "file: $work/build/projector_linear.so"
echo "sdk template: built against $prefix and loaded"
