#!/usr/bin/env bash
# Times mproc against Python's multiprocessing and against the machine's
# limits, side by side in one run. Prints markdown tables for
# docs/PERFORMANCE.md.
#
#   bash bench/compare.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
if [ -z "${MPROC:-}" ]; then
  cargo build --release --quiet
  MPROC=${CARGO_TARGET_DIR:-target}/release/mproc
fi
mproc=$MPROC
mkdir -p bench/out
# A venv with openpyxl for the Excel comparison, made once.
if [ -z "${PYTHON:-}" ]; then
  if ! [ -x bench/out/venv/bin/python ]; then
    python3 -m venv bench/out/venv && bench/out/venv/bin/pip install -q openpyxl
  fi
  PYTHON=bench/out/venv/bin/python
fi
py=$PYTHON
t="$py bench/timeit.py $runs"

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "python: $($py --version 2>&1), mproc: $($mproc --version)"
echo
echo "| what | best s | median s | peak MB | command |"
echo "|---|---|---|---|---|"

# Pool start-up and tear-down: 10 items on 2 processes, start to exit.
$t "floor: start 2 processes of the binary" "$mproc --version & $mproc --version & wait" \
   "mproc: 2-process pool, 10 items" "$mproc -q pool -n 2 square 10" \
   "python: Pool(2).map, 10 items" "$py bench/py/square.py 10 2 1"

# Per-item overhead: 100,000 tiny items, chunksize 1, 2 processes.
$t "mproc: 100,000 items, chunksize 1, 2 processes" "$mproc -q pool -n 2 --chunksize 1 square 100000" \
   "python: 100,000 items, chunksize 1, Pool(2)" "$py bench/py/square.py 100000 2 1"

# The digits exercise: 100 generated files of 10,000 rows (about 41 MB),
# from the page cache.
txt=bench/out/text
rm -rf "$txt" && $mproc -q gen text "$txt" --files 100 --rows 10000 --seed 1
cat "$txt"/*.txt > /dev/null
$t "floor: cat the 100 files to /dev/null" "cat $txt/*.txt > /dev/null" \
   "mproc: pool -n 2 analyze, 100 files" "$mproc -q pool -n 2 analyze $txt/*.txt" \
   "mproc: pool --serial analyze (no workers), 100 files" "$mproc -q pool --serial analyze $txt/*.txt" \
   "python: Pool(2), per-character counts, 100 files" "$py bench/py/analyze.py $txt/*.txt"

# One worker alone on one large ASCII file: bytes per second.
big=bench/out/big.txt
for _ in 1 2 3 4 5; do cat "$txt"/*.txt; done > "$big"
echo "| (one file of $(stat -c %s "$big") bytes) | | | |"
$t "floor: cat one large file" "cat $big > /dev/null" \
   "mproc: one worker, one large file" "$mproc -q pool -n 1 analyze $big"

# The chapter's Excel exercise: sum row 1 of 100 generated workbooks with
# 2 processes (needs openpyxl: PYTHON=/path/to/venv/bin/python).
if $py -c 'import openpyxl' 2> /dev/null; then
  xl=bench/out/excel
  rm -rf "$xl" && $mproc -q gen excel "$xl" --files 100 --seed 1 > /dev/null
  $t "mproc: pool -n 2 excel, 100 workbooks" "$mproc -q pool -n 2 excel $xl/*.xlsx" \
     "python: Pool(2) + openpyxl, 100 workbooks" "$py bench/py/excel_sum.py $xl/*.xlsx"
else
  echo "(Excel comparison skipped: $py has no openpyxl; set PYTHON to one that has it)"
fi
