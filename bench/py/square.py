"""Python's multiprocessing.Pool(P).map(f, range(N), chunksize=C), timed from
start to exit. C = `default` leaves the chunksize to Python (its default)."""
import multiprocessing
import sys


def f(x):
    return x * x


if __name__ == "__main__":
    n, processes = int(sys.argv[1]), int(sys.argv[2])
    chunksize = None if sys.argv[3] == "default" else int(sys.argv[3])
    with multiprocessing.Pool(processes) as pool:
        result = pool.map(f, range(n), chunksize=chunksize)
    assert result[-1] == (n - 1) * (n - 1)
