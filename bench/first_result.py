#!/usr/bin/env python3
"""Starts a command (its arguments) and prints, in ms from its start, when
the first and the last stdout line with "index" arrived and when it
exited, then its exit code. For --jsonl runs: time to the first result.

    python3 bench/first_result.py mproc pool -n 6 --jsonl square 1000
    salloc -N3 -n6 --quiet python3 bench/first_result.py \\
        mproc pool --slurm --jsonl square 1000
"""
import subprocess
import sys
import time

t0 = time.monotonic()
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
first = last = None
for line in p.stdout:
    if b'"index"' in line:
        last = time.monotonic()
        first = first or last
p.wait()
end = time.monotonic()


def ms(t):
    return "-" if t is None else f"{(t - t0) * 1000:.0f}"


print(ms(first), ms(last), ms(end), p.returncode)
