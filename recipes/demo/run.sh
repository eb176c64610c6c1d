#!/bin/sh
# The SpatialBoost demo, start to finish on the CPU, with nothing downloaded:
#   1. tiny models with random weights (init-model, Hugging Face layout):
#      a DINOv3 ViT (4 layers, width 96, 128 px) and a Qwen2 (2 layers,
#      width 64, the real Qwen2 tokenizer);
#   2. synthetic scenes with exact depth and masks (datagen synth): one set
#      to train on, another, never trained on, to probe on;
#   3. the stages' data: captions (stage 1); captions, multi-view VQA and
#      spatial conversations (stage 2); stage 3 makes its own spatial
#      chain-of-thought conversations from the scenes as it reads them
#      (dataset_spatial);
#   4. the three stages (recipes/demo/demo.yaml), then the boosted encoder
#      exported as a Hugging Face folder;
#   5. linear probes of the base and the boosted encoder on the held-out
#      scenes: depth RMSE, segmentation mIoU, classification top-1.
#
# usage: recipes/demo/run.sh [OUT_DIR [SEED [TRAIN_ARGS...]]]
#   defaults: runs/demo 0; TRAIN_ARGS go to `spatialboost train`, e.g.
#   --set stages.spatial.train.epochs=2
# The spatialboost binary is $SPATIALBOOST, else the build tree's
# (build/core/spatialboost), else the one on PATH. Scales: TRAIN_SCENES,
# PROBE_SCENES (environment, defaults 160 and 200).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-runs/demo}
seed=${2:-0}
[ $# -gt 2 ] && shift 2 || set --
train_scenes=${TRAIN_SCENES:-160}
probe_scenes=${PROBE_SCENES:-200}
if [ -n "${SPATIALBOOST:-}" ]; then sb=$SPATIALBOOST
elif [ -x "$root/build/core/spatialboost" ]; then sb=$root/build/core/spatialboost
else sb=spatialboost; fi
tokenizer=${SB_TOKENIZER:-$root/tests/fixtures/tokenizer}

step() { printf '\n== %s\n' "$*"; }
start=$(date +%s)
mkdir -p "$out/data"

step "tiny models (random weights, seed $seed)"
"$sb" init-model --plugin dinov3 --config "$here/configs/encoder/config.json" -o "$out/models/encoder" --seed "$seed"
"$sb" init-model --plugin qwen2 --config "$here/configs/llm/config.json" -o "$out/models/llm" \
  --seed "$((seed + 1))" --tokenizer "$tokenizer"

step "synthetic scenes: $train_scenes to train on, $probe_scenes held out"
"$sb" datagen synth -n "$train_scenes" --views 2 --size 128x128 --seed "$seed" -o "$out/data/scenes"
"$sb" datagen synth -n "$probe_scenes" --views 2 --size 128x128 --seed "$((seed + 100000))" -o "$out/data/heldout"

step "stage 1 and 2 data: captions, multi-view VQA"
"$sb" datagen spatial --scenes "$out/data/scenes" -o "$out/data/captions.jsonl" --seed "$seed" \
  --pixel-turns 0 --object-turns 0 --scene-turns 0 --caption-turns 1 --min-points 10
# view pairs are picked by thumbnail distance: the paper measures it with the
# encoder, but a randomly initialised one sees every pair as alike
"$sb" datagen mvqa --scenes "$out/data/scenes" -o "$out/data/mvqa.jsonl" --seed "$seed" --metric pixels
# The paper's LLM is pre-trained and already speaks; this one starts from
# random weights, so stage 2 also shows it spatial conversations (other
# questions than stage 3 draws) to learn their wording. Stage 3's loss then
# rewards what the encoder sees rather than the words around it.
"$sb" datagen spatial --scenes "$out/data/scenes" -o "$out/data/spatial.jsonl" --seed "$((seed + 1))" \
  --pixel-turns 2 --object-turns 2 --scene-turns 1 --caption-turns 1 --min-points 10
cat "$out/data/captions.jsonl" "$out/data/mvqa.jsonl" "$out/data/spatial.jsonl" >"$out/data/instruct.jsonl"

step "the three stages"
"$sb" train "$here/demo.yaml" --set "demo=$out" --set "seed=$seed" "$@"
"$sb" export "$out/train/stage3" -o "$out/boosted"

step "linear probes on the held-out scenes"
"$sb" probe --data "$out/data/heldout" --encoder "base=dinov3:$out/models/encoder" \
  --encoder "boosted=dinov3:$out/boosted" --baseline --seed "$seed" --json "$out/probe.json"
echo "demo: done in $(($(date +%s) - start)) s; everything is under $out"
