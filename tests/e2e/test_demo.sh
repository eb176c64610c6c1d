#!/bin/sh
# The demo (recipes/demo/run.sh) on a few scenes and two steps of two
# samples a stage: every
# step of it runs through the real command line, the probe prints its table
# with the base and the boosted encoder, the export loads back, and chat
# answers with the demo's stage-3 checkpoint.
# usage: test_demo.sh SPATIALBOOST SOURCE_ROOT
set -u
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
die() { echo "FAIL: $*"; fail=1; }
SPATIALBOOST=$1 TRAIN_SCENES=6 PROBE_SCENES=10 "$2/recipes/demo/run.sh" "$work/demo" 3 \
  --set stages.align.train.max_steps=2 --set stages.instruct.train.max_steps=2 \
  --set stages.spatial.train.max_steps=2 --set stages.align.train.batch_size=2 \
  --set stages.instruct.train.batch_size=2 --set stages.spatial.train.batch_size=2 >"$work/log" 2>&1 || { cat "$work/log"; die "the demo"; }
grep -q "^base " "$work/log" && grep -q "^boosted " "$work/log" && grep -q "vs base" "$work/log" ||
  { cat "$work/log"; die "the probe table"; }
grep -q '"boosted"' "$work/demo/probe.json" || die "probe.json names the boosted encoder"
[ -f "$work/demo/boosted/model.safetensors" ] && [ -f "$work/demo/boosted/config.json" ] ||
  die "the exported encoder"
"$1" chat --checkpoint "$work/demo/train/stage3" --image "$work/demo/data/heldout/scene_000000/view_00/image.png" \
  --max-new-tokens 8 "How far is the nearest object?" >"$work/chat" 2>&1 || { cat "$work/chat"; die "chat"; }
[ -s "$work/chat" ] || die "chat printed nothing"
[ $fail -eq 0 ] && echo "demo: ok"
exit $fail
