"""Python's multiprocessing.Pool(P).map(f, range(N), chunksize=C), timed from start to exit."""
import multiprocessing
import sys


def f(x):
    return x * x


if __name__ == "__main__":
    n, processes, chunksize = (int(a) for a in sys.argv[1:4])
    with multiprocessing.Pool(processes) as pool:
        result = pool.map(f, range(n), chunksize=chunksize)
    assert result[-1] == (n - 1) * (n - 1)
