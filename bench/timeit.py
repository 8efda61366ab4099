#!/usr/bin/env python3
"""Times shell commands side by side: best and median wall time of N runs,
and the peak resident memory of the command's largest process.

Usage: timeit.py RUNS LABEL COMMAND [LABEL COMMAND ...]
The commands are timed in rounds: each round runs every command once, in
the given order, then in reverse order the next round, so the commands
of one call see the same moments of a machine whose speed drifts (on the
build machine it moves by a third within minutes).
Prints one markdown table row per command. Output of the commands is discarded.
"""
import os
import statistics
import subprocess
import sys
import time


def time_once(cmd):
    """Wall time and peak resident memory (KiB) of one run of `cmd`."""
    t = time.perf_counter()
    p = subprocess.Popen(cmd, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(p.pid, 0)
    elapsed = time.perf_counter() - t
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        sys.exit(f"command failed ({code}): {cmd}")
    return elapsed, usage.ru_maxrss


def main():
    runs = int(sys.argv[1])
    args = sys.argv[2:]
    pairs = list(zip(args[0::2], args[1::2]))
    times = [[] for _ in pairs]
    peaks = [0 for _ in pairs]
    for r in range(runs):
        order = range(len(pairs)) if r % 2 == 0 else reversed(range(len(pairs)))
        for i in order:
            elapsed, peak = time_once(pairs[i][1])
            times[i].append(elapsed)
            peaks[i] = max(peaks[i], peak)
    for (label, cmd), t, peak in zip(pairs, times, peaks):
        print(f"| {label} | {min(t):.4f} | {statistics.median(t):.4f} | {peak / 1024:.0f} | `{cmd}` |", flush=True)


if __name__ == "__main__":
    main()
