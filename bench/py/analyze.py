#!/usr/bin/env python3
"""The exercise in Python, for comparison with `mproc pool analyze`.

Counts, per file, how many of each ASCII digit there are, and all decimal
digits, letters, spaces and other characters, with multiprocessing.Pool;
then prints the same table and totals as mproc's human report.

    python3 bench/py/analyze.py [-n PROCESSES] FILE...

Files are read as UTF-8 (a UTF-8 byte-order mark is skipped), in 64 KiB
pieces; undecodable bytes become U+FFFD and count as other. Counting uses
collections.Counter, which walks the text in C, then classifies each
distinct character once: str.isdecimal() for digits, str.isalpha() for
letters. For ASCII text the counts equal mproc's; elsewhere they can differ
slightly (Python's isalpha is the L* categories, Rust's is_alphabetic is
Unicode Alphabetic, which adds Nl and some marks). UTF-16 files are not
detected.
"""

import argparse
import collections
import multiprocessing

CHUNK = 64 * 1024


def analyze(path):
    seen = collections.Counter()
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as f:
        while True:
            piece = f.read(CHUNK)
            if not piece:
                break
            seen.update(piece)
    digit_counts = [0] * 10
    digits = letters = spaces = other = 0
    for ch, n in seen.items():
        if ch.isdecimal():
            digits += n
            if "0" <= ch <= "9":
                digit_counts[ord(ch) - ord("0")] += n
        elif ch.isalpha():
            letters += n
        elif ch == " ":
            spaces += n
        else:
            other += n
    return {
        "file": path,
        "digit_counts": digit_counts,
        "chars": digits + letters + spaces + other,
        "digits": digits,
        "letters": letters,
        "spaces": spaces,
        "other": other,
    }


def report(results):
    width = max([5] + [len(r["file"]) for r in results])
    total = [sum(r["digit_counts"][d] for r in results) for d in range(10)]
    cell = max(len(str(n)) for n in total)
    lines = [f"{'file':<{width}}" + "".join(f" {d:>{cell}}" for d in range(10))]
    for r in results:
        lines.append(f"{r['file']:<{width}}" + "".join(f" {n:>{cell}}" for n in r["digit_counts"]))
    lines.append(f"{'TOTAL':<{width}}" + "".join(f" {n:>{cell}}" for n in total))
    lines.append("")
    for key in ("chars", "digits", "letters", "spaces", "other"):
        lines.append(f"{key:<8}{sum(r[key] for r in results)}")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--processes", type=int, default=2)
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    with multiprocessing.Pool(args.processes) as pool:
        results = pool.map(analyze, args.files)
    print(report(results))


if __name__ == "__main__":
    main()
