#!/usr/bin/env python3
"""Times shell commands side by side: best and median wall time of N runs,
and the peak resident memory of the command's largest process.

Usage: timeit.py RUNS LABEL COMMAND [LABEL COMMAND ...]
Prints one markdown table row per command. Output of the commands is discarded.
"""
import os
import statistics
import subprocess
import sys
import time


def time_command(cmd, runs):
    times = []
    peak_kb = 0
    for _ in range(runs):
        t = time.perf_counter()
        p = subprocess.Popen(cmd, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(p.pid, 0)
        times.append(time.perf_counter() - t)
        peak_kb = max(peak_kb, usage.ru_maxrss)
        code = os.waitstatus_to_exitcode(status)
        if code not in (0, 1):
            sys.exit(f"command failed ({code}): {cmd}")
    return min(times), statistics.median(times), peak_kb / 1024


def main():
    runs = int(sys.argv[1])
    args = sys.argv[2:]
    for label, cmd in zip(args[0::2], args[1::2]):
        best, median, peak = time_command(cmd, runs)
        print(f"| {label} | {best:.4f} | {median:.4f} | {peak:.0f} | `{cmd}` |", flush=True)


if __name__ == "__main__":
    main()
