#!/bin/sh
# `spatialboost tokenize`: encoding texts and standard input, --split-special,
# --decode of JSON arrays and bare ids, --help, and each usage or input error
# with its one-line message and exit status.
# usage: test_tokenize_cli.sh SPATIALBOOST TOKENIZER_DIR
set -u
sb=$1 tok=$2
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
fail=0
run() { # expected-status args...
  want=$1; shift
  "$sb" tokenize "$@" >"$out" 2>"$err"; got=$?
  if [ "$got" -ne "$want" ]; then
    echo "FAIL: spatialboost tokenize $* exited $got, expected $want"; cat "$out" "$err"; fail=1
  fi
}
expect() { # file exact-content
  if [ "$(cat "$1")" != "$2" ]; then
    echo "FAIL: expected:"; echo "$2"; echo "got:"; cat "$1"; fail=1
  fi
}
contains() { # file needle
  grep -qF -- "$2" "$1" || { echo "FAIL: '$2' not in:"; cat "$1"; fail=1; }
}
nl='
'

run 0 --help;                           contains "$out" "usage: spatialboost tokenize"
"$sb" --help | grep -q "tokenize" || { echo "FAIL: tokenize not in spatialboost --help"; fail=1; }

run 0 --tokenizer "$tok" "Hello world" "You are a helpful assistant."
expect "$out" "[9707, 1879]${nl}[2610, 525, 264, 10950, 17847, 13]"
run 0 --tokenizer "$tok/tokenizer.json" "<|im_start|>user${nl}Hello<|im_end|>${nl}"
expect "$out" "[151644, 872, 198, 9707, 151645, 198]"
run 0 --tokenizer "$tok" --split-special "<|im_start|>user"
expect "$out" "[27, 91, 318, 4906, 91, 29, 872]"
run 0 --tokenizer "$tok" ""
expect "$out" "[]"
printf 'Hello\nsystem\n' | "$sb" tokenize --tokenizer "$tok" >"$out" 2>"$err" || { echo "FAIL: stdin"; fail=1; }
expect "$out" "[9707]${nl}[8948]"

run 0 --tokenizer "$tok" --decode "[9707, 1879]" "[151644, 872]"
expect "$out" "Hello world${nl}<|im_start|>user"
run 0 --tokenizer "$tok" --decode 9707 1879
expect "$out" "Hello world"
run 0 --tokenizer "$tok" --decode --skip-special "151644 872 198 9707 151645"
expect "$out" "user${nl}Hello"
run 0 --tokenizer "$tok" --decode --json "[9707, 198, 1, 61804]"
expect "$out" '"Hello\n\" �"'

run 2 "Hello";                          contains "$err" "spatialboost tokenize: --tokenizer PATH is required"
run 2 --tokenizer;                      contains "$err" "--tokenizer needs a value"
run 2 --tokenizer "$tok" --frobnicate x; contains "$err" "unknown option '--frobnicate'"
run 2 --tokenizer "$tok" --json x;      contains "$err" "--skip-special and --json go with --decode"
run 1 --tokenizer /nonexistent/tok.json x
contains "$err" "spatialboost tokenize: /nonexistent/tok.json: no such file"
run 1 --tokenizer "$tok" "$(printf 'bad \377 byte')"
contains "$err" "spatialboost tokenize: the text is not valid UTF-8 (at byte 4)"
run 1 --tokenizer "$tok" --decode "[9707, 999999]"
contains "$err" "spatialboost tokenize: token id 999999 (position 1) is not in the vocabulary"
run 1 --tokenizer "$tok" --decode "[9707, hello]"
contains "$err" "spatialboost tokenize: 'hello' is not a token id"
[ "$(wc -l <"$err")" -eq 1 ] || { echo "FAIL: more than one line of error"; cat "$err"; fail=1; }

exit $fail
