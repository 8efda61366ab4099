#!/usr/bin/env bash
# The core's per-item costs, side by side in one run with Python's
# multiprocessing at its default settings first, then at chunksize 1, and
# with the floors: the same work in one process, and a pipe's throughput.
# Prints markdown rows for docs/PERFORMANCE.md (wall time and the peak
# resident memory of the largest process).
#
#   bash bench/core.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
if [ -z "${MPROC:-}" ]; then
  cargo build --release --quiet
  MPROC=${CARGO_TARGET_DIR:-target}/release/mproc
fi
mproc=$MPROC
py=${PYTHON:-python3}
t="$py bench/timeit.py $runs"

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "python: $($py --version 2>&1), mproc: $($mproc --version)"
echo
echo "| what | best s | median s | peak MB | command |"
echo "|---|---|---|---|---|"

# 1,000,000 tiny items, default settings, 2 processes: the pair in four
# times the rounds (a run takes 50 ms against Python's 300, and this
# machine's speed moves within seconds), then the other forms and floors.
$py bench/timeit.py $((runs * 4)) "python: Pool(2).map(f, range(1000000)), default chunksize" "$py bench/py/square.py 1000000 2 default" \
   "mproc: pool -n 2 square 1000000, default settings" "$mproc -q pool -n 2 square 1000000"
$t "mproc: the same, --jsonl" "$mproc -q pool -n 2 --jsonl square 1000000" \
   "mproc: the same, --json" "$mproc -q pool -n 2 --json square 1000000" \
   "floor: python, list(map(f, range(1000000))) in one process" "$py bench/py/square_serial.py 1000000" \
   "floor: mproc --serial (one process, no IPC)" "$mproc -q pool --serial square 1000000" \
   "floor: 100 MB through a pipe" "head -c 100000000 /dev/zero | cat > /dev/null"

# Start to exit: 10 items, against two bare starts of the binary one after
# the other (the parent, then a worker); and a library program that maps
# 1,000 items and drops its pool, against the command line doing the same.
example=${CARGO_TARGET_DIR:-target}/release/examples/map_drop
cargo build --release --quiet -p mproc --example map_drop
# A start takes milliseconds and this machine's speed drifts by a third
# within minutes: 20 times the rounds, in one call, so the pair is timed
# side by side many times.
$py bench/timeit.py $((runs * 20)) \
   "floor: two bare starts of the binary, one after the other" "$mproc --version > /dev/null; $mproc --version" \
   "mproc: pool -n 2 square 10" "$mproc -q pool -n 2 square 10" \
   "mproc: pool -n 2 square 1000" "$mproc -q pool -n 2 square 1000" \
   "library: map 1,000 squares on 2 workers, drop the pool (examples/map_drop.rs)" "$example 1000 2"
$t "python: Pool(2).map, 10 items" "$py bench/py/square.py 10 2 default"

# 100,000 tiny items, chunksize 1: the per-item round trip (twice the
# rounds: Python's time moves by a fifth from run to run).
$py bench/timeit.py $((runs * 2)) "python: Pool(2).map(f, range(100000), chunksize=1)" "$py bench/py/square.py 100000 2 1" \
   "mproc: pool -n 2 --chunksize 1 square 100000" "$mproc -q pool -n 2 --chunksize 1 square 100000"

# The chapter's program as learners run it: a line per item.
$t "python: Pool(2).map, each item prints its input and pid, 100,000 items" "$py bench/py/square_print.py 100000 2" \
   "mproc: pool -n 2 square 100000, each item logs its input and pid" "$mproc pool -n 2 square 100000"

# A list of inputs: read before the run from a file, or streamed from
# stdin (one item a chunk, pulled as results are taken).
list=$(mktemp -d)
trap 'rm -rf "$list"' EXIT
echo "one 1" > "$list/a.txt"
for _ in $(seq 20000); do echo "$list/a.txt"; done > "$list/paths"
$t "mproc: pool -n 2 analyze --files-from FILE (20,000 paths, read first)" "$mproc -q pool -n 2 --jsonl analyze --files-from $list/paths" \
   "mproc: the same list on stdin (streamed)" "$mproc -q pool -n 2 --jsonl analyze --files-from - < $list/paths" \
   "mproc: the same on stdin, --chunksize 64" "$mproc -q pool -n 2 --jsonl --chunksize 64 analyze --files-from - < $list/paths" \
   "xargs -P 2 -n 64 wc (the same list)" "xargs -P 2 -n 64 wc < $list/paths"
