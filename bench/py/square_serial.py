"""The floor for `square`: the same work in one process, no IPC."""
import sys


def f(x):
    return x * x


if __name__ == "__main__":
    n = int(sys.argv[1])
    result = list(map(f, range(n)))
    assert result[-1] == (n - 1) * (n - 1)
