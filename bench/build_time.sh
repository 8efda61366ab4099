#!/usr/bin/env bash
# Clean release builds of the README's first command at two commits, one
# after the other, each in its own worktree and empty target folder:
#   bash bench/build_time.sh BEFORE [AFTER]   (AFTER defaults to HEAD)
# Prints wall and CPU time (/usr/bin/time) and the libraries built.
set -euo pipefail
cd "$(dirname "$0")/.."
before=${1:?give the commit to compare with}
after=${2:-HEAD}
tmp=$(mktemp -d)
trap 'git worktree remove --force "$tmp/before" 2>/dev/null; git worktree remove --force "$tmp/after" 2>/dev/null; rm -rf "$tmp"' EXIT
for side in before after; do
  commit=$([ "$side" = before ] && echo "$before" || echo "$after")
  git worktree add -q --detach "$tmp/$side" "$commit"
  (cd "$tmp/$side" && /usr/bin/time -f "$side ($commit): wall %e s, user %U s, sys %S s" \
    env CARGO_TARGET_DIR="$tmp/target-$side" cargo build --release --quiet)
  echo "$side: $(ls "$tmp/target-$side"/release/deps/*.rlib | wc -l) libraries; $(uptime)"
done
