#!/usr/bin/env python3
"""Times shell commands side by side: best and median wall time of N runs.

Usage: timeit.py RUNS LABEL COMMAND [LABEL COMMAND ...]
Prints one markdown table row per command. Output of the commands is discarded.
"""
import statistics
import subprocess
import sys
import time


def time_command(cmd, runs):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        p = subprocess.run(cmd, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - t)
        if p.returncode not in (0, 1):
            sys.exit(f"command failed ({p.returncode}): {cmd}")
    return min(times), statistics.median(times)


def main():
    runs = int(sys.argv[1])
    args = sys.argv[2:]
    for label, cmd in zip(args[0::2], args[1::2]):
        best, median = time_command(cmd, runs)
        print(f"| {label} | {best:.4f} | {median:.4f} | `{cmd}` |", flush=True)


if __name__ == "__main__":
    main()
