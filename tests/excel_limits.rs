//! `pool excel` against hostile files: a FIFO named like a workbook, and
//! zip bombs (a few MB that inflate to gigabytes) in the sheet XML, in an
//! inline string of row 1 and in sharedStrings.xml. Each fails alone with
//! one line naming the limit; none blocks or takes a worker's memory.
//!
//! The bombs are written here, with a small zip writer: the deflate stream
//! of a long run of spaces is one compressed block repeated, so a 2 GiB
//! part costs about 2 MB on disk and no time to make.

use std::io::Write;
use std::path::Path;
use std::process::Stdio;

use flate2::write::DeflateEncoder;
use flate2::Compression;
use serde_json::Value;

use crate::support::*;

const NS: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
const RELS: &str = "http://schemas.openxmlformats.org/package/2006/relationships";
const DOC: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

/// One part of a zip: its name, its compressed bytes, and what its header
/// declares (inflated size and CRC).
struct Part {
    name: String,
    deflated: Vec<u8>,
    size: u32,
    crc: u32,
}

/// A part holding `text`, honestly declared.
fn part(name: &str, text: &str) -> Part {
    let mut e = DeflateEncoder::new(Vec::new(), Compression::default());
    e.write_all(text.as_bytes()).unwrap();
    let mut crc = flate2::Crc::new();
    crc.update(text.as_bytes());
    Part {
        name: name.into(),
        deflated: e.finish().unwrap(),
        size: text.len() as u32,
        crc: crc.sum(),
    }
}

/// A part of `head`, then `mib` MiB of `fill` bytes, then `tail`, declared
/// as `declared` bytes (the CRC is not computed: mproc must refuse the part
/// before it could check one).
fn bomb(name: &str, head: &str, fill: u8, mib: usize, tail: &str, declared: u32) -> Part {
    let mut e = DeflateEncoder::new(Vec::new(), Compression::default());
    let take = |e: &mut DeflateEncoder<Vec<u8>>| std::mem::take(e.get_mut());
    e.write_all(head.as_bytes()).unwrap();
    e.flush().unwrap();
    let mut deflated = take(&mut e);
    // Every back-reference in the block lands on `fill` bytes, so the block
    // decodes the same after any number of copies of itself.
    e.write_all(&vec![fill; 1 << 20]).unwrap();
    e.flush().unwrap();
    let block = take(&mut e);
    for _ in 0..mib {
        deflated.extend_from_slice(&block);
    }
    e.write_all(tail.as_bytes()).unwrap();
    deflated.extend(e.finish().unwrap());
    Part {
        name: name.into(),
        deflated,
        size: declared,
        crc: 0,
    }
}

/// Writes `parts` as a zip archive (deflated entries, no zip64).
fn write_zip(path: &Path, parts: &[Part]) {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for p in parts {
        let offset = out.len() as u32;
        let fields = |sig: u32, central: bool| {
            let mut h = sig.to_le_bytes().to_vec();
            if central {
                h.extend(20u16.to_le_bytes());
            }
            for v in [20u16, 0, 8, 0, 0] {
                h.extend(v.to_le_bytes());
            }
            for v in [p.crc, p.deflated.len() as u32, p.size] {
                h.extend(v.to_le_bytes());
            }
            h.extend((p.name.len() as u16).to_le_bytes());
            h.extend(0u16.to_le_bytes());
            if central {
                for v in [0u16, 0, 0] {
                    h.extend(v.to_le_bytes());
                }
                h.extend(0u32.to_le_bytes());
                h.extend(offset.to_le_bytes());
            }
            h.extend(p.name.as_bytes());
            h
        };
        out.extend(fields(0x0403_4b50, false));
        out.extend(&p.deflated);
        central.extend(fields(0x0201_4b50, true));
    }
    let (at, size, n) = (out.len() as u32, central.len() as u32, parts.len() as u16);
    out.extend(central);
    out.extend(0x0605_4b50u32.to_le_bytes());
    for v in [0u16, 0, n, n] {
        out.extend(v.to_le_bytes());
    }
    out.extend(size.to_le_bytes());
    out.extend(at.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    std::fs::write(path, out).unwrap();
}

/// The parts of a one-sheet .xlsx around `sheet` (and `extra` parts).
fn workbook(path: &Path, sheet: Part, extra: Vec<Part>) {
    let mut parts = vec![
        part(
            "[Content_Types].xml",
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"><Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/><Default Extension=\"xml\" ContentType=\"application/xml\"/><Override PartName=\"/xl/workbook.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/><Override PartName=\"/xl/worksheets/sheet1.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/></Types>",
        ),
        part(
            "_rels/.rels",
            &format!("<Relationships xmlns=\"{RELS}\"><Relationship Id=\"rId1\" Type=\"{DOC}/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>"),
        ),
        part(
            "xl/workbook.xml",
            &format!("<workbook xmlns=\"{NS}\" xmlns:r=\"{DOC}\"><sheets><sheet name=\"Sheet1\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>"),
        ),
        part(
            "xl/_rels/workbook.xml.rels",
            &format!("<Relationships xmlns=\"{RELS}\"><Relationship Id=\"rId1\" Type=\"{DOC}/worksheet\" Target=\"worksheets/sheet1.xml\"/></Relationships>"),
        ),
    ];
    parts.push(sheet);
    parts.extend(extra);
    write_zip(path, &parts);
}

const SHEET: &str = "xl/worksheets/sheet1.xml";
const ROW: &str = "<row r=\"1\"><c r=\"A1\"><v>2</v></c><c r=\"B1\"><v>3</v></c>";

fn sheet_head() -> String {
    format!("<worksheet xmlns=\"{NS}\"><sheetData>")
}

fn excel_json(args: &[&str], code: i32) -> Vec<Value> {
    let mut all = vec!["-q", "pool", "-n", "2", "--json", "excel"];
    all.extend(args);
    let mut child = mproc()
        .args(&all)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let r: Run = wait_bounded(&mut child, 120).into();
    assert_eq!(r.code, code, "{all:?}\n{}\n{}", r.stdout, r.stderr);
    r.json()["results"].as_array().unwrap().clone()
}

#[track_caller]
fn too_large(r: &Value, file: &str, limit: &str) {
    assert_eq!(r["outcome"], "failed", "{r}");
    let error = r["error"].as_str().unwrap();
    assert!(
        error.starts_with(&format!("cannot read {file}: workbook too large: ")),
        "{error}"
    );
    assert!(error.contains(limit), "the limit is named: {error}");
    assert!(
        error.contains("--max-inflated"),
        "the flag is named: {error}"
    );
}

#[test]
fn zip_bombs_fail_alone_naming_the_limit() {
    let dir = temp_dir("excel-bombs");
    let name = |n: &str| dir.join(n).to_str().unwrap().to_string();
    let sheet = |rest: &str| format!("{}{ROW}</row>{rest}</sheetData></worksheet>", sheet_head());
    // A workbook made the same way, without padding: it reads.
    let good = name("good.xlsx");
    workbook(Path::new(&good), part(SHEET, &sheet("")), vec![]);
    // 64 MiB of whitespace after row 1, declared as a few hundred bytes.
    let spaces = name("spaces.xlsx");
    let head = format!("{}{ROW}</row>", sheet_head());
    let tail = "</sheetData></worksheet>";
    workbook(
        Path::new(&spaces),
        bomb(SHEET, &head, b' ', 64, tail, 300),
        vec![],
    );
    let results = excel_json(&["--max-inflated", "4M", &good, &spaces], 1);
    assert_eq!(results[0]["outcome"], "ok", "{}", results[0]);
    assert_eq!(results[0]["sum"].as_f64(), Some(5.0));
    too_large(&results[1], &spaces, "4 MiB");
    assert!(results[1]["error"].as_str().unwrap().contains(SHEET));
    // It is a real workbook: with room enough, it reads.
    let results = excel_json(&["--max-inflated", "1G", &spaces], 0);
    assert_eq!(results[0]["sum"].as_f64(), Some(5.0), "{}", results[0]);
    let size = std::fs::metadata(&spaces).unwrap().len();
    assert!(size < 1 << 20, "the bomb is small on disk: {size} bytes");
}

#[test]
fn gigabyte_parts_are_refused_by_default_without_inflating_them() {
    let dir = temp_dir("excel-gigabytes");
    let name = |n: &str| dir.join(n).to_str().unwrap().to_string();
    const GIB2: u32 = 2 << 30;
    // A 2 GiB inline string in row 1.
    let inline = name("inline.xlsx");
    let head = format!("{}{ROW}<c r=\"C1\" t=\"inlineStr\"><is><t>", sheet_head());
    let tail = "</t></is></c></row></sheetData></worksheet>";
    workbook(
        Path::new(&inline),
        bomb(SHEET, &head, b'a', 2048, tail, GIB2),
        vec![],
    );
    // A 2 GiB shared string.
    let shared = name("shared.xlsx");
    let sheet = format!("{}{ROW}</row></sheetData></worksheet>", sheet_head());
    let strings = bomb(
        "xl/sharedStrings.xml",
        &format!("<sst xmlns=\"{NS}\" count=\"1\" uniqueCount=\"1\"><si><t>"),
        b'b',
        2048,
        "</t></si></sst>",
        GIB2,
    );
    workbook(Path::new(&shared), part(SHEET, &sheet), vec![strings]);
    let results = excel_json(&[&inline, &shared], 1);
    too_large(&results[0], &inline, "256 MiB");
    too_large(&results[1], &shared, "256 MiB");
    assert!(results[1]["error"]
        .as_str()
        .unwrap()
        .contains("xl/sharedStrings.xml"));
    // The flag is documented next to itself.
    let help = run_expect(&["pool", "excel", "--help"], 0).stdout;
    assert!(help.contains("--max-inflated <BYTES>"), "{help}");
    assert!(help.contains("[default: 256M]"), "{help}");
}

#[test]
fn a_fifo_named_like_a_workbook_fails_at_once() {
    let dir = temp_dir("excel-fifo");
    let fifo = dir.join("x.xlsx");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
    let fifo = fifo.to_str().unwrap();
    let results = excel_json(&[fifo], 1);
    assert_eq!(results[0]["outcome"], "failed");
    assert_eq!(
        results[0]["error"],
        format!("cannot read {fifo}: is a fifo, not a regular file")
    );
}
