#!/bin/sh
# `spatialboost plugins` lists the real plugins with their options and, with
# the broken test plugins on SPATIALBOOST_PLUGIN_PATH, refuses each of them
# with its own message.  usage: test_plugins_cli.sh SPATIALBOOST BAD_DIR
set -u
sb=$1 bad=$2
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
fail=0
expect() { # file needle
  grep -qF -- "$2" "$1" || { echo "FAIL: '$2' not in $(basename "$1"):"; cat "$1"; fail=1; }
}
SPATIALBOOST_PLUGIN_PATH=$bad "$sb" plugins >"$out" 2>"$err"
[ $? -eq 0 ] || { echo "FAIL: plugins exited non-zero"; fail=1; }
expect "$out" "projector_mlp  (projector, version 1.0.0)"
expect "$out" "loss_sft  (loss, version 1.0.0)"
expect "$out" "weights            path"
expect "$out" "activation         enum gelu|gelu_tanh    default gelu"
expect "$out" "ignore_index       int                    default -100"
expect "$out" "search path: $bad"
# the broken plugins are built one major, or one minor, past this ABI
abi=$("$sb" --version | sed -n 's/.*plugin ABI \([0-9]*\)\.\([0-9]*\)).*/\1 \2/p')
set -- $abi
[ $# -eq 2 ] || { echo "FAIL: no 'plugin ABI M.N' in --version"; fail=1; set -- 0 0; }
expect "$err" "bad_abi_major.so: plugin was built for ABI $(($1 + 1)).$2, this spatialboost has ABI $1.$2"
expect "$err" "bad_abi_minor.so: plugin was built for ABI $1.$(($2 + 1)), newer than"
expect "$err" "wrong_name.so: descriptor names the plugin 'other_name'"
expect "$err" "dup_option.so: plugin 'dup_option': option 'alpha' is declared twice"
expect "$err" "no_entry.so: no symbol 'sb_plugin_entry'"
expect "$err" "cannot load plugin $bad/not_a_plugin.so"
"$sb" plugins no_such_plugin >"$out" 2>"$err" && { echo "FAIL: unknown plugin accepted"; fail=1; }
expect "$err" "no plugin named 'no_such_plugin'"
"$sb" plugins --brief projector_mlp >"$out" 2>"$err" || fail=1
expect "$out" "projector_mlp  (projector"
[ $fail -eq 0 ] && echo "plugins-cli: ok"
exit $fail
