//! Finding one row of a sheet: row 1, or the first row that holds a value.
//!
//! For .xlsx, .xlsm and .xlsb the cells are streamed in file order and
//! reading stops once past the row, so the top of a huge sheet costs little;
//! other formats are read whole. calamine's ranges start at the first
//! non-empty cell, so positions here are always absolute (row 0 is row 1).

use std::io::{Read, Seek};

use calamine::{Data, DataRef, Reader, Sheets};

/// One row: its absolute index (0 is row 1) and its non-empty cells as
/// (absolute column, value), left to right.
#[derive(Debug)]
pub(super) struct Row {
    pub(super) number: u32,
    pub(super) cells: Vec<(u32, Data)>,
}

/// The wanted row of `sheet`, or `None` when it holds no value.
pub(super) fn read<RS: Read + Seek>(
    book: &mut Sheets<RS>,
    sheet: &str,
    first_nonempty: bool,
) -> Result<Option<Row>, calamine::Error> {
    let mut wanted = Wanted::new(first_nonempty);
    match book {
        Sheets::Xlsx(x) => {
            let mut cells = x.worksheet_cells_reader(sheet)?;
            while let Some(cell) = cells.next_cell()? {
                if !wanted.take_ref(cell.get_position(), cell.get_value()) {
                    break;
                }
            }
        }
        Sheets::Xlsb(x) => {
            let mut cells = x.worksheet_cells_reader(sheet)?;
            while let Some(cell) = cells.next_cell()? {
                if !wanted.take_ref(cell.get_position(), cell.get_value()) {
                    break;
                }
            }
        }
        _ => {
            let range = book.worksheet_range(sheet)?;
            let (start_row, start_col) = range.start().unwrap_or((0, 0));
            for (row, col, value) in range.used_cells() {
                let at = (start_row + row as u32, start_col + col as u32);
                if !wanted.take(at, value) {
                    break;
                }
            }
        }
    }
    let mut row = wanted.row;
    if let Some(r) = &mut row {
        r.cells.sort_by_key(|(col, _)| *col);
    }
    Ok(row)
}

/// Collects the cells of the wanted row from cells given in row order.
struct Wanted {
    /// `None`: the first row with a value; `Some(r)`: row r only.
    only: Option<u32>,
    row: Option<Row>,
}

impl Wanted {
    fn new(first_nonempty: bool) -> Self {
        Wanted {
            only: if first_nonempty { None } else { Some(0) },
            row: None,
        }
    }

    /// Takes one streamed cell; false once past the wanted row.
    fn take_ref(&mut self, at: (u32, u32), value: &DataRef<'_>) -> bool {
        matches!(value, DataRef::Empty) || self.take(at, &Data::from(value.clone()))
    }

    /// Takes one cell at (absolute row, column); false once past the wanted row.
    fn take(&mut self, (r, c): (u32, u32), value: &Data) -> bool {
        if matches!(value, Data::Empty) {
            return true;
        }
        let number = match (&self.row, self.only) {
            (Some(row), _) => row.number,
            (None, Some(only)) => only,
            (None, None) => r,
        };
        if r > number {
            return false;
        }
        if r == number {
            let row = self.row.get_or_insert_with(|| Row {
                number,
                cells: Vec::new(),
            });
            row.cells.push((c, value.clone()));
        }
        true
    }
}
