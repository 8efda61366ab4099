"""The chapter's exercise in Python: multiprocessing.Pool(2) + openpyxl.

Sums the numbers in row 1 of the first sheet of each workbook given as an
argument, then all of them; prints one line per file and the total.

    python bench/py/excel_sum.py DIR/*.xlsx

openpyxl is opened read-only (its fast, streaming mode) with cached formula
values, which is what a careful Python programmer would do.
"""
import multiprocessing
import numbers
import sys

import openpyxl


def row_sum(path):
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = wb.worksheets[0]
        row = next(sheet.iter_rows(min_row=1, max_row=1, values_only=True), ())
        values = [v for v in row if isinstance(v, numbers.Number) and not isinstance(v, bool)]
    finally:
        wb.close()
    return path, len(values), sum(values)


if __name__ == "__main__":
    with multiprocessing.Pool(2) as pool:
        results = pool.map(row_sum, sys.argv[1:])
    for path, count, total in results:
        print(f"{path}\t{count}\t{total}")
    print(f"TOTAL\t{sum(r[1] for r in results)}\t{sum(r[2] for r in results)}")
