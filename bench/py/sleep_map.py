"""Python's Pool(N).map over sleeps of the given milliseconds, at its
default chunksize: the side Python takes in bench/uneven.sh.

Usage: sleep_map.py PROCESSES MS [MS ...]
"""
import sys
import time
from multiprocessing import Pool


def nap(ms):
    time.sleep(ms / 1000)
    return ms


if __name__ == "__main__":
    processes = int(sys.argv[1])
    work = [int(a) for a in sys.argv[2:]]
    with Pool(processes) as pool:
        pool.map(nap, work)
