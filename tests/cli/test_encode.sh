#!/bin/sh
# `spatialboost encode` on the fixtures' pixel tensors reproduces the
# reference last_hidden_state (and every hidden state) of each encoder, and
# refuses bad input with one clear message.
# usage: test_encode.sh SPATIALBOOST ST_COMPARE MAKE_PNG ST_MERGE FIXTURES
set -u
sb=$1 cmp=$2 png=$3 merge=$4 fx=$5
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
# Tolerance: the fixtures' float64 reference vs our float32, as the model
# tests hold them (fixtures/README.md allows 1e-4 / 1e-3).
atol=2e-5 rtol=1e-4
check_encoder() { # plugin fixture layers
  name=$2
  if ! "$sb" encode --encoder "$1" --weights "$fx/$name" --pixels "$fx/$name/inputs.safetensors" \
       -o "$tmp/$name.safetensors" --all-layers >"$tmp/out" 2>&1; then
    echo "FAIL: encode $name:"; cat "$tmp/out"; fail=1; return
  fi
  names="last_hidden_state pooler_output"
  i=0; while [ $i -le "$3" ]; do names="$names hidden_states.$i"; i=$((i + 1)); done
  # shellcheck disable=SC2086
  "$cmp" "$tmp/$name.safetensors" "$fx/$name/expected.safetensors" $atol $rtol $names || { echo "FAIL: $name"; fail=1; }
}
check_encoder dinov3 dinov3_tiny 2
check_encoder dinov3 dinov3_tiny_gated 2
check_encoder siglip2 siglip2_fixedres_tiny 2
check_encoder siglip2 siglip2_naflex_tiny 2

# the boosted encoder: llava_tiny's tower with its perturbed dual weights
"$sb" encode --encoder dinov3 --weights "$fx/llava_tiny/vision_tower" --pixels "$fx/llava_tiny/inputs.safetensors" \
  --dual "$fx/llava_tiny/dual_init.safetensors" -o "$tmp/boosted.safetensors" >"$tmp/out" 2>&1 || { echo "FAIL: --dual"; cat "$tmp/out"; fail=1; }
"$sb" encode --encoder dinov3 --weights "$fx/llava_tiny/vision_tower" --pixels "$fx/llava_tiny/inputs.safetensors" \
  -o "$tmp/base.safetensors" >"$tmp/out" 2>&1 || { echo "FAIL: base"; fail=1; }
if "$cmp" "$tmp/boosted.safetensors" "$tmp/base.safetensors" 1e-3 0 last_hidden_state >/dev/null; then
  echo "FAIL: the dual weights did not change the output"; fail=1
fi

# a boosted checkpoint (base + dual weights in one folder) runs boosted without --dual
mkdir "$tmp/boosted" && cp "$fx/llava_tiny/vision_tower/config.json" "$tmp/boosted/"
"$merge" "$tmp/boosted/model.safetensors" "$fx/llava_tiny/vision_tower/model.safetensors" \
  "$fx/llava_tiny/dual_init.safetensors" || fail=1
"$sb" encode --encoder dinov3 --weights "$tmp/boosted" --pixels "$fx/llava_tiny/inputs.safetensors" \
  -o "$tmp/boosted2.safetensors" >"$tmp/out" 2>&1 || { echo "FAIL: boosted folder:"; cat "$tmp/out"; fail=1; }
"$cmp" "$tmp/boosted2.safetensors" "$tmp/boosted.safetensors" 0 0 last_hidden_state >/dev/null ||
  { echo "FAIL: the boosted folder and --dual differ"; fail=1; }

# images, preprocessed by the plugin: two 100x75 PNGs -> [2, 1 + 2 registers + 4x4, 32]
"$png" "$tmp/a.png" 100 75 && "$png" "$tmp/b.png" 100 75
if "$sb" encode --encoder dinov3 --weights "$fx/dinov3_tiny" --image "$tmp/a.png" "$tmp/b.png" \
     -o "$tmp/img.safetensors" >"$tmp/out" 2>&1; then
  grep -qF "last_hidden_state [2, 19, 32]" "$tmp/out" || { echo "FAIL: image shapes:"; cat "$tmp/out"; fail=1; }
else
  echo "FAIL: encode --image:"; cat "$tmp/out"; fail=1
fi

expect_error() { # needle args...
  needle=$1; shift
  if "$sb" encode "$@" >"$tmp/out" 2>&1; then echo "FAIL: encode $* succeeded"; fail=1; fi
  grep -qF -- "$needle" "$tmp/out" || { echo "FAIL: '$needle' not in:"; cat "$tmp/out"; fail=1; }
}
expect_error "--encoder, --weights and -o are required" --weights "$fx/dinov3_tiny"
expect_error "give either --image files or --pixels" --encoder dinov3 --weights "$fx/dinov3_tiny" -o "$tmp/x.safetensors"
expect_error "no plugin named 'vit'" --encoder vit --weights "$fx/dinov3_tiny" --pixels "$fx/dinov3_tiny/inputs.safetensors" -o "$tmp/x.safetensors"
echo "not an image" >"$tmp/bad.png"
expect_error "bad.png: cannot decode image" --encoder dinov3 --weights "$fx/dinov3_tiny" --image "$tmp/bad.png" -o "$tmp/x.safetensors"
expect_error "unknown key 'model.encoder.selct_layer'" --encoder dinov3 --weights "$fx/dinov3_tiny" \
  --pixels "$fx/dinov3_tiny/inputs.safetensors" -o "$tmp/x.safetensors" --set selct_layer=-2
expect_error "no tensor named 'pixel_values'" --encoder dinov3 --weights "$fx/dinov3_tiny" \
  --pixels "$fx/dinov3_tiny/expected.safetensors" -o "$tmp/x.safetensors"
[ $fail -eq 0 ] && echo "encode: ok"
exit $fail
