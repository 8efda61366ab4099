#!/usr/bin/env bash
# `mproc run` against xargs -P and GNU parallel (and rust-parallel when it
# is installed): 1000 runs of `true`, and 1000 runs of `sh -c 'echo X'`,
# 2 at a time, each tool with its default settings first. Prints markdown
# rows for docs/PERFORMANCE.md.
#
#   bash bench/run.sh [RUNS] [N]
#
# MPROC names the binary to time [default: a fresh release build].
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
n=${2:-1000}
if [ -z "${MPROC:-}" ]; then
  cargo build --release --quiet
  MPROC=${CARGO_TARGET_DIR:-target}/release/mproc
fi
if ! command -v parallel >/dev/null; then
  apt-get install -y parallel >/dev/null
fi
mkdir -p bench/out
inputs=bench/out/run-inputs.txt
seq "$n" > "$inputs"
t="python3 bench/timeit.py $runs"
m="env RUST_LOG=error $MPROC run -j 2"
p="parallel --will-cite -j 2"

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "mproc: $($MPROC --version), $(parallel --version | head -1), $(xargs --version | head -1)"
echo
echo "| what | best s | median s | peak MB | command |"
echo "|---|---|---|---|---|"
$t "xargs: $n x true" "xargs -P2 -n1 true < $inputs" \
   "mproc run: $n x true" "$m true < $inputs" \
   "GNU parallel: $n x true" "$p true < $inputs"
$t "xargs: $n x echo X" "xargs -P2 -n1 echo < $inputs" \
   "mproc run: $n x echo {}" "$m echo {} < $inputs" \
   "GNU parallel: $n x echo {}" "$p echo {} < $inputs"
$t "xargs: $n x sh -c 'echo X'" "xargs -P2 -n1 sh -c 'echo \$0' < $inputs" \
   "mproc run: $n x sh -c 'echo X' (default: through sh)" "$m \"sh -c 'echo {}'\" < $inputs" \
   "mproc run --no-shell: $n x sh -c 'echo X'" "$m --no-shell sh -c 'echo \$0' < $inputs" \
   "GNU parallel: $n x sh -c 'echo X'" "$p \"sh -c 'echo {}'\" < $inputs"
if command -v rust-parallel >/dev/null; then
  $t "rust-parallel: $n x true" "rust-parallel -j2 true < $inputs" \
     "rust-parallel: $n x sh -c 'echo X'" "rust-parallel -j2 sh -c 'echo \$0' < $inputs"
fi
