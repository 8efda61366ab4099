"""Prints a seeded heavy-tailed list of sleep durations in milliseconds:
Pareto with shape 1.5 and scale 10 ms, capped at 2 s (one per line).

Usage: pareto.py COUNT SEED
"""
import random
import sys

count, seed = int(sys.argv[1]), int(sys.argv[2])
rng = random.Random(seed)
for _ in range(count):
    print(min(2000, int(10 * rng.paretovariate(1.5))))
