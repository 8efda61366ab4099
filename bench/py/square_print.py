"""The chapter's pool program as learners run it: each item prints its input
and the pid that computed it. Pool(P).map with Python's default chunksize."""
import multiprocessing
import os
import sys


def f(x):
    print(f"Input {x} in process {os.getpid()}")
    return x * x


if __name__ == "__main__":
    n, processes = int(sys.argv[1]), int(sys.argv[2])
    with multiprocessing.Pool(processes) as pool:
        result = pool.map(f, range(n))
    assert result[-1] == (n - 1) * (n - 1)
