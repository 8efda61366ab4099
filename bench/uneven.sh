#!/usr/bin/env bash
# Uneven work, 2 processes, default settings, side by side in one run:
# mproc's chaos sleep:MS items against Python's Pool(2).map(time.sleep) at
# its default chunksize, and the bound (the makespan of an ideal pool with
# no overhead that hands the next item, in input order, to whichever
# worker is free). Then `mproc run` against GNU parallel and xargs on
# `sleep 2 0.1 2 0.1`. Prints markdown rows for docs/PERFORMANCE.md.
#
#   bash bench/uneven.sh [RUNS]
#
# MPROC names the binary to time [default: a fresh release build].
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
if [ -z "${MPROC:-}" ]; then
  cargo build --release --quiet
  MPROC=${CARGO_TARGET_DIR:-target}/release/mproc
fi
py=${PYTHON:-python3}
t="$py bench/timeit.py $runs"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# The bound: items in input order to whichever of 2 workers is free.
bound() {
  $py -c 'import sys, heapq
free = [0.0, 0.0]
for ms in map(int, sys.argv[1:]):
    heapq.heappush(free, heapq.heappop(free) + ms / 1000)
print(f"{max(free):.3f}")' "$@"
}

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| work (ms per item) | bound s | what | best s | median s | peak MB | command |"
echo "|---|---|---|---|---|---|---|"
# One row: the work's name, then its milliseconds per item (kept in files,
# so that the commands shown stay short).
row() {
  local name=$1
  shift
  local b
  b=$(bound "$@")
  local f=$out/$(echo "$name" | tr -c 'a-zA-Z0-9' _)
  echo "$*" > "$f.ms"
  printf 'sleep:%s ' "$@" > "$f.chaos"
  $t "python: Pool(2).map, default chunksize" "$py bench/py/sleep_map.py 2 \$(cat $f.ms)" \
     "mproc: pool -n 2 chaos, default settings" "$MPROC -q pool -n 2 chaos \$(cat $f.chaos)" |
    sed "s/^|/| $name | $b |/"
}
row "3000, 1000, 1000, 1000" 3000 1000 1000 1000
row "2000, 100, 2000, 100" 2000 100 2000 100
row "2000 then 20 x 100" 2000 $(printf '100 %.0s' $(seq 20))
row "20 x 100 then 2000" $(printf '100 %.0s' $(seq 20)) 2000
# shellcheck disable=SC2046
row "Pareto(1.5) x 10 ms, 200 items, seed 7" $($py bench/py/pareto.py 200 7)

if ! command -v parallel >/dev/null; then
  apt-get install -y parallel >/dev/null
fi
echo
echo "| what | best s | median s | peak MB | command |"
echo "|---|---|---|---|---|"
$t "xargs -P 2: sleep 2 0.1 2 0.1" "printf '%s\n' 2 0.1 2 0.1 | xargs -P2 -n1 sleep" \
   "GNU parallel -j 2: sleep 2 0.1 2 0.1" "parallel --will-cite -j 2 'sleep {}' ::: 2 0.1 2 0.1" \
   "mproc run -j 2: sleep 2 0.1 2 0.1" "$MPROC -q run -j 2 'sleep {}' ::: 2 0.1 2 0.1"
