#!/usr/bin/env bash
# Times `mproc fetch` against Python's multiprocessing.Pool + urllib on the
# offline demo site: 100 pages, each answered after 100 ms, on 127.0.0.1.
# One request at a time per process, 100 pages on 5 processes take at least
# 2.0 s; with K requests in flight per process, 100 / (processes x K)
# rounds of 0.1 s. Prints a markdown table (best and median of RUNS).
#
#   bash bench/fetch.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
if [ -z "${MPROC:-}" ]; then
  cargo build --release --quiet
  MPROC=${CARGO_TARGET_DIR:-target}/release/mproc
fi
mproc=$MPROC
py=${PYTHON:-python3}
dir=$(mktemp -d)

$mproc -q serve-demo --port 0 --latency-ms 100 --pages 100 > "$dir/base" &
server=$!
trap 'kill $server; rm -rf "$dir"' EXIT
while [ ! -s "$dir/base" ]; do sleep 0.05; done
base=$(head -1 "$dir/base")
# The same 100 URLs for every command, from a local file.
$py -c "import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1]).read().decode())" \
    "$base/urls.txt" > "$dir/urls.txt"
urls="$dir/urls.txt"

echo "machine: $(nproc) CPUs; python: $($py --version 2>&1); mproc: $($mproc --version)"
echo "server: mproc serve-demo --latency-ms 100 --pages 100 at $base"
echo
echo "| what | best s | median s | peak MB | command |"
echo "|---|---|---|---|---|"
$py bench/timeit.py "$runs" \
    "mproc: 5 processes x 1 (ideal 2.0 s)" "$mproc -q fetch -n 5 --concurrency 1 $urls" \
    "mproc pool: 5 processes x 1, the chapter's Pool(5) (ideal 2.0 s)" "$mproc -q pool -n 5 fetch $urls" \
    "python: Pool(5) + urllib (ideal 2.0 s)" "$py bench/py/fetch.py $urls 5" \
    "mproc: 2 processes x 50 (ideal 0.1 s)" "$mproc -q fetch -n 2 --concurrency 50 $urls" \
    "mproc: defaults, $(nproc) processes x 16 (ideal $(( (100 + $(nproc) * 16 - 1) / ($(nproc) * 16) ))00 ms)" "$mproc -q fetch $urls" \
    "mproc: 5 processes x 16 (ideal 0.2 s)" "$mproc -q fetch -n 5 $urls" \
    "mproc: the sitemap URL, 2 processes x 50" "$mproc -q fetch -n 2 --concurrency 50 $base/sitemap.xml"
