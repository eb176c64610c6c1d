#!/bin/sh
# The spatialboost command line: --version, --help of every command, and
# `train --check` on good recipes and on each kind of bad input, which must
# fail with one clear message naming the file, line and key.
# usage: test_cli.sh SPATIALBOOST DATA_DIR
set -u
sb=$1 data=$2
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
fail=0
run() { # expected-status args...
  want=$1; shift
  "$sb" "$@" >"$out" 2>"$err"; got=$?
  if [ "$got" -ne "$want" ]; then
    echo "FAIL: spatialboost $* exited $got, expected $want"; cat "$out" "$err"; fail=1
  fi
}
expect() { # file needle
  grep -qF -- "$2" "$1" || { echo "FAIL: '$2' not in output:"; cat "$1"; fail=1; }
}

run 0 --version;                expect "$out" "spatialboost 0.1.0 (plugin ABI 1.1)"; expect "$out" "OpenBLAS"
run 0 --help;                   expect "$out" "usage: spatialboost"; expect "$out" "train"; expect "$out" "plugins"
run 2;                          expect "$err" "usage: spatialboost"
run 2 frobnicate;               expect "$err" "'frobnicate' is not a command"
for cmd in train encode tokenize init-model plugins; do
  run 0 "$cmd" --help;          expect "$out" "usage: spatialboost $cmd"
done

run 0 train "$data/good.yaml" --check
expect "$out" "projector projector_mlp 1.0.0"
expect "$out" "parameters: 416, trainable: 416"   # 16*8+16 + 16*16+16
expect "$out" "is valid"
run 0 train "$data/good.yaml" --check --set model.projector.depth=3 --set train.batch_size=4
expect "$out" "parameters: 688"
run 1 train "$data/good.yaml"
expect "$err" "training needs an llm in model:"

run 1 train "$data/typo.yaml" --check
expect "$err" "typo.yaml:4:5: unknown key 'model.projector.activaton' for projector_mlp (did you mean 'activation'?)"
run 1 train "$data/bad_type.yaml" --check
expect "$err" "bad_type.yaml:4:15: train.batch_size: expected an integer, got \"four\""
run 1 train "$data/bad_yaml.yaml" --check
expect "$err" "bad_yaml.yaml:3:"
run 1 train "$data/no_plugin.yaml" --check
expect "$err" "no_plugin.yaml:3:5: model.projector: no plugin named 'projector_transformer'"
run 1 train "$data/missing_weights.yaml" --check
expect "$err" "does/not/exist.safetensors"
run 1 train "$data/stray_key.yaml" --check
expect "$err" "stray_key.yaml:2:1: unknown key 'lerning_rate'"
run 1 train "$data/good.yaml" --check --set model.projector.depth=0
expect "$err" "model.projector.depth: 0 layers; expected 1 to 8"
run 1 train "$data/good.yaml" --check --set train.trainable=[llm]
expect "$err" "train.trainable: 'llm' matches no parameter"
run 1 train "$data/good.yaml" --check --set device=cuda
expect "$err" "no plugin named 'cuda' or 'backend_cuda'"
run 1 train "$data/nonexistent.yaml" --check
expect "$err" "nonexistent.yaml"
run 2 train --check
expect "$err" "no recipe given"

run 0 train "$data/pipeline.yaml" --check
expect "$out" "stage 1 (first): cli-good"
expect "$out" "stage 2 (second): cli-good"

[ $fail -eq 0 ] && echo "cli: ok"
exit $fail
