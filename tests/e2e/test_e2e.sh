#!/bin/sh
# End to end on tiny models the project makes itself: each stage lowers the
# training loss; stage 3 changes only the dual-channel weights and the
# projector (every other tensor byte-identical); the encoder at the start of
# stage 3 is the base encoder; a stopped and resumed run ends byte-identical
# to a straight one; a pipeline chains the stages; export, encode and chat
# work on the results.
# usage: test_e2e.sh SPATIALBOOST ST_COMPARE MAKE_PNG SOURCE_ROOT
set -u
sb=$1 cmp=$2 png=$3 src=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
say() { echo "e2e: $*"; }
die() { echo "FAIL: $*"; fail=1; }
cp "$src/tests/e2e/data/stage.yaml" "$src/tests/e2e/data/pipeline.yaml" "$work/"
cd "$work" || exit 1

# tiny models (the demo's configs) and eight captioned images
"$sb" init-model --plugin dinov3 --config "$src/recipes/demo/configs/encoder/config.json" -o models/encoder --seed 1 >/dev/null || die "init encoder"
"$sb" init-model --plugin qwen2 --config "$src/recipes/demo/configs/llm/config.json" -o models/llm --seed 2 \
  --tokenizer "$src/tests/fixtures/tokenizer" >/dev/null || die "init llm"
mkdir -p data
printf '[' >data/caps.json
for i in 0 1 2 3 4 5 6 7; do
  "$png" data/img$i.png $((40 + 5 * i)) $((36 + 3 * i)) || die "png"
  [ $i -gt 0 ] && printf ',' >>data/caps.json
  printf '{"id":"%d","image":"img%d.png","conversations":[{"from":"human","value":"What is shown?"},{"from":"gpt","value":"Pattern %d, %d stripes."}]}' \
    $i $i $i $((i + 2)) >>data/caps.json
done
printf ']\n' >>data/caps.json

# mean loss of the first and of the last logged steps of a run
first_last() { # metrics.jsonl -> "first last"
  awk -F'"loss": ' '{split($2, a, ","); v[NR] = a[1]} END {
    n = NR < 4 ? NR : 4; f = 0; l = 0
    for (i = 1; i <= n; i++) { f += v[i]; l += v[NR - i + 1] }
    printf "%f %f\n", f / n, l / n }' "$1"
}
lowers() { # run label
  set -- $(first_last "$1/metrics.jsonl") "$2"
  awk -v f="$1" -v l="$2" 'BEGIN { exit !(l < f) }' || die "$3: loss did not go down ($1 -> $2)"
  say "$3: loss $1 -> $2"
}

# stage 1: the projector
"$sb" train stage.yaml --set output_dir=runs/s1 >s1.log 2>&1 || { cat s1.log; die "stage 1"; }
lowers runs/s1 "stage 1"
[ -f runs/s1/final/projector.safetensors ] && [ ! -d runs/s1/final/llm ] && [ ! -d runs/s1/final/encoder ] ||
  die "stage 1 outputs"

# stage 2: projector and LLM, from stage 1's projector
"$sb" train stage.yaml --set output_dir=runs/s2 --set 'train.trainable=[projector, llm]' --set train.optimizer.lr=1.0e-3 \
  --set model.projector.weights=runs/s1/final/projector.safetensors >s2.log 2>&1 || { cat s2.log; die "stage 2"; }
lowers runs/s2 "stage 2"
[ -d runs/s2/final/llm ] && [ -f runs/s2/final/llm/tokenizer.json ] || die "stage 2 writes the LLM with its tokenizer"

# stage 3: dual-channel attention and projector, LLM frozen
s3="--set model.encoder.dual_attention.enabled=true --set train.trainable=[encoder.dual,projector]
    --set model.projector.weights=runs/s2/final/projector.safetensors --set model.llm.weights=runs/s2/final/llm"
# shellcheck disable=SC2086
"$sb" train stage.yaml --set output_dir=runs/s3 $s3 >s3.log 2>&1 || { cat s3.log; die "stage 3"; }
lowers runs/s3 "stage 3"
[ -d runs/s3/final/encoder ] && [ ! -d runs/s3/final/llm ] || die "stage 3 writes the encoder, not the LLM"
# every base encoder tensor is byte-identical to the model it started from;
# the dual ones and the projector moved
bases=$("$cmp" --names models/encoder/model.safetensors)
# shellcheck disable=SC2086
"$cmp" runs/s3/final/encoder/model.safetensors models/encoder/model.safetensors 0 0 $bases >cmp.log || { cat cmp.log; die "stage 3 changed a base encoder weight"; }
"$cmp" runs/s3/final/encoder/model.safetensors runs/s3/final/encoder/model.safetensors 0 0 layer.0.attention_dual_alpha >/dev/null ||
  die "stage 3 encoder lacks its dual weights"
if "$cmp" runs/s3/final/encoder/model.safetensors models/encoder/model.safetensors 0 0 \
     layer.0.attention_dual.q_proj.weight=layer.0.attention.q_proj.weight >/dev/null; then
  die "stage 3 did not move the dual copy"
fi
if "$cmp" runs/s3/final/projector.safetensors runs/s2/final/projector.safetensors 0 0 0.weight >/dev/null; then
  die "stage 3 did not move the projector"
fi
# the LLM and everything frozen is not in stage 3's checkpoint at all
names=$("$cmp" --names runs/s3/checkpoint-000012/trainable.safetensors)
echo "$names" | grep -q '^llm\.' && die "stage 3's checkpoint holds LLM weights"
echo "$names" | grep -q 'encoder\.layer\.0\.attention\.q_proj' && die "stage 3's checkpoint holds base encoder weights"

# the encoder at the start of stage 3 is the base encoder: one step at lr 0
# (no change), exported, encodes exactly as the base
# shellcheck disable=SC2086
"$sb" train stage.yaml --set output_dir=runs/s3zero $s3 --set train.optimizer.lr=0.0 --set 'train.optimizer.groups=[]' \
  --stop-after 1 >z.log 2>&1
"$sb" export runs/s3zero -o exported0 >/dev/null 2>&1 || die "export at the start"
"$png" probe.png 96 96
"$sb" encode --encoder dinov3 --weights models/encoder --image probe.png -o base.st >/dev/null 2>&1 || die "encode base"
"$sb" encode --encoder dinov3 --weights exported0 --image probe.png -o start.st >/dev/null 2>&1 || die "encode start"
"$cmp" start.st base.st 0 0 last_hidden_state >/dev/null || die "the encoder at the start of stage 3 is not the base"
# the trained one differs and loads back through export
"$sb" export runs/s3 -o exported >/dev/null 2>&1 || die "export"
"$sb" encode --encoder dinov3 --weights exported --image probe.png -o boosted.st >/dev/null 2>&1 || die "encode boosted"
"$cmp" boosted.st base.st 0 0 last_hidden_state >/dev/null && die "the boosted encoder encodes as the base"

# stage 3's frozen output layer is fused into the loss by default; unfused,
# in chunks of 2 labelled tokens (train.logit_chunk_rows): the same first
# loss up to float32 summation order; a negative count is refused
# shellcheck disable=SC2086
"$sb" train stage.yaml --set output_dir=runs/s3chunk $s3 --set train.fuse_output_layer=false \
  --set train.logit_chunk_rows=2 --stop-after 1 >k.log 2>&1
first_loss() { head -1 "$1/metrics.jsonl" | sed 's/.*"loss": \([-0-9.e+]*\).*/\1/'; }
awk -v a="$(first_loss runs/s3)" -v b="$(first_loss runs/s3chunk)" \
  'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && b != "" && d <= 1e-5 * a) }' ||
  { cat k.log; die "chunked output layer: first loss $(first_loss runs/s3chunk), unchunked $(first_loss runs/s3)"; }
"$sb" train stage.yaml --set output_dir=runs/bad --set train.logit_chunk_rows=-1 >bad.log 2>&1 && die "logit_chunk_rows -1 accepted"
grep -q "logit_chunk_rows.*expected 0 (automatic) or more" bad.log || { cat bad.log; die "logit_chunk_rows message"; }

# resume: 12 steps straight == 5 steps, stop, resume the rest (bytes)
# shellcheck disable=SC2086
"$sb" train stage.yaml --set output_dir=runs/r $s3 --stop-after 5 >r1.log 2>&1
[ $? -eq 130 ] || die "--stop-after exits 130"
"$sb" train --resume runs/r >r2.log 2>&1 || { cat r2.log; die "resume"; }
for f in trainable optimizer; do
  cmp -s runs/r/checkpoint-000012/$f.safetensors runs/s3/checkpoint-000012/$f.safetensors ||
    die "resumed $f state differs from the straight run"
done
cmp -s runs/r/final/encoder/model.safetensors runs/s3/final/encoder/model.safetensors || die "resumed encoder differs"

# Ctrl-C: a checkpoint, exit 130, and resume finishes
"$sb" train stage.yaml --set output_dir=runs/c --set train.epochs=200 >c.log 2>&1 &
pid=$!
n=0
while [ $n -lt 200 ] && [ "$(wc -l <runs/c/metrics.jsonl 2>/dev/null || echo 0)" -lt 3 ]; do sleep 0.1; n=$((n + 1)); done
kill -INT $pid
wait $pid
[ $? -eq 130 ] || die "Ctrl-C exits 130"
ls -d runs/c/checkpoint-* >/dev/null 2>&1 || die "Ctrl-C left no checkpoint"
grep -q "interrupted at step" c.log || die "Ctrl-C message"

# a pipeline chains the three stages and resume skips the finished ones
"$sb" train pipeline.yaml >p.log 2>&1 || { cat p.log; die "pipeline"; }
[ -d runs/pipeline/spatial/final/encoder ] || die "pipeline's last stage"
"$sb" train pipeline.yaml --resume >p2.log 2>&1 || die "pipeline resume"
[ "$(grep -c 'already done' p2.log)" -eq 3 ] || die "pipeline resume skips finished stages"

# chat answers (something) with a trained run
"$sb" chat --checkpoint runs/s3 --image probe.png --max-new-tokens 4 "What is shown?" >chat.log 2>&1 || { cat chat.log; die "chat"; }
"$sb" chat --checkpoint runs/s3 --image probe.png --temperature 0.8 --top-p 0.9 --seed 3 --max-new-tokens 4 "What?" \
  >chat2.log 2>&1 || die "sampled chat"
"$sb" chat --checkpoint runs/nope "What?" >chat3.log 2>&1 && die "chat on a missing run"
grep -q "not a run folder" chat3.log || die "chat's missing-run message"

[ $fail -eq 0 ] && say ok
exit $fail
