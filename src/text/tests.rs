//! The counter against a slow, obviously right model: decode the whole
//! text with `encoding_rs`, then look at each char.

use encoding_rs::{DecoderResult, Encoding, BIG5, EUC_JP, SHIFT_JIS, UTF_16BE, UTF_16LE, UTF_8};
use proptest::prelude::*;

use super::digits::is_decimal_digit;
use super::stream::{count_bytes, count_with};
use super::*;

/// The model: the whole text decoded at once, an undecodable sequence
/// standing as U+FFFD, then one char at a time.
fn model(bytes: &[u8], fallback: &'static Encoding) -> TextCounts {
    let (encoding, bom) = Encoding::for_bom(bytes).unwrap_or((fallback, 0));
    let mut decoder = encoding.new_decoder_without_bom_handling();
    let mut text = String::with_capacity(bytes.len() * 3 + 16);
    let mut invalid = 0;
    let mut src = &bytes[bom..];
    loop {
        let (result, read) = decoder.decode_to_string_without_replacement(src, &mut text, true);
        src = &src[read..];
        match result {
            DecoderResult::InputEmpty => break,
            DecoderResult::OutputFull => text.reserve(4096),
            DecoderResult::Malformed(..) => {
                invalid += 1;
                text.push('\u{FFFD}');
            }
        }
    }
    let mut c = TextCounts {
        bytes: bytes.len() as u64,
        invalid,
        encoding: encoding.name().to_string(),
        ..TextCounts::default()
    };
    for ch in text.chars() {
        c.chars += 1;
        if is_decimal_digit(ch) {
            c.digits += 1;
        } else if ch.is_alphabetic() {
            c.letters += 1;
        } else if ch == ' ' {
            c.spaces += 1;
        } else {
            c.other += 1;
        }
        if let Some(d) = ch.to_digit(10).filter(|_| ch.is_ascii()) {
            c.digit_counts[d as usize] += 1;
        }
    }
    c.lines =
        text.matches('\n').count() as u64 + u64::from(!text.is_empty() && !text.ends_with('\n'));
    c
}

fn counted(bytes: &[u8]) -> TextCounts {
    count_bytes(bytes, UTF_8)
}

#[test]
fn ascii_counts_every_class() {
    let c = counted(b"Hello World 123\nabc 0099\tx\n");
    assert_eq!(c.chars, 27);
    assert_eq!(c.bytes, 27);
    assert_eq!(c.lines, 2);
    assert_eq!(c.digits, 7);
    assert_eq!(c.letters, 14);
    assert_eq!(c.spaces, 3);
    assert_eq!(c.other, 3);
    assert_eq!(c.invalid, 0);
    assert_eq!(c.digit_counts, [2, 1, 1, 1, 0, 0, 0, 0, 0, 2]);
    assert_eq!(c.encoding, "UTF-8");
}

#[test]
fn lines_count_newlines_and_an_unfinished_last_line() {
    assert_eq!(counted(b"").lines, 0);
    assert_eq!(counted(b"\xEF\xBB\xBF").lines, 0);
    assert_eq!(counted(b"a").lines, 1);
    assert_eq!(counted(b"a\n").lines, 1);
    assert_eq!(counted(b"a\nb").lines, 2);
    assert_eq!(counted(b"\n\n").lines, 2);
    assert_eq!(counted(b"a\r\nb\r\n").lines, 2);
    assert_eq!(counted(b"a\rb").lines, 1);
    assert_eq!(counted(b"a\n\xFF").lines, 2);
}

#[test]
fn undecodable_sequences_count_once_each() {
    // \xFF; \xC3 cut by '('; \xE2\x82 cut by '\n'; a lone continuation byte;
    // a surrogate (\xED\xA0\x80: three errors, as WHATWG says).
    let c = counted(b"a\xFFb\xC3(\xE2\x82\n\x80\xED\xA0\x80");
    assert_eq!(c.invalid, 7);
    assert_eq!(c, model(b"a\xFFb\xC3(\xE2\x82\n\x80\xED\xA0\x80", UTF_8));
    // Cut off at the very end.
    assert_eq!(counted(b"ab\xF0\x9F\x98").invalid, 1);
}

#[test]
fn non_ascii_digits_are_digits_but_not_ascii_digits() {
    let c = counted("０１９ ٠١٢ ۳ 7".as_bytes());
    assert_eq!(c.digits, 8);
    assert_eq!(c.digit_counts, [0, 0, 0, 0, 0, 0, 0, 1, 0, 0]);
    assert_eq!(c.spaces, 3);
    assert_eq!(c.chars, 11);
}

#[test]
fn a_char_cut_between_pieces_counts_once() {
    for text in ["é€😀\r\n", "x😀", "€\n"] {
        let bytes = text.as_bytes();
        for cut in 0..=bytes.len() {
            let mut counter = CharCounter::new();
            counter.feed(&bytes[..cut]);
            counter.feed(&bytes[cut..]);
            assert_eq!(counter.finish(), {
                let mut whole = CharCounter::new();
                whole.feed(bytes);
                whole.finish()
            });
        }
    }
}

/// `text` in `encoding`, and whether some char could not be encoded
/// (`Encoding::encode` writes UTF-8 for UTF-16, so those are done here).
fn encode(text: &str, encoding: &'static Encoding) -> (Vec<u8>, bool) {
    let units = text.encode_utf16();
    if encoding == UTF_16LE {
        (units.flat_map(u16::to_le_bytes).collect(), false)
    } else if encoding == UTF_16BE {
        (units.flat_map(u16::to_be_bytes).collect(), false)
    } else {
        let (bytes, _, lossy) = encoding.encode(text);
        (bytes.into_owned(), lossy)
    }
}

#[test]
fn a_char_cut_between_histogram_blocks_counts_once() {
    let block = super::counter::BLOCK;
    for before in [block - 1, block - 2, block - 3] {
        let mut bytes = vec![b'7'; before];
        bytes.extend_from_slice("😀€\r\n".as_bytes());
        bytes.extend(std::iter::repeat_n(b' ', block));
        assert_eq!(counted(&bytes), model(&bytes, UTF_8), "{before}");
    }
}

#[test]
fn real_encodings_match_the_model() {
    let text = "Ａ１ かな漢字 123 ÿ\r\n";
    for encoding in [UTF_16LE, UTF_16BE, SHIFT_JIS, EUC_JP, BIG5] {
        let (bytes, lossy) = encode(text, encoding);
        let c = count_bytes(&bytes, encoding);
        assert_eq!(c, model(&bytes, encoding), "{}", encoding.name());
        if !lossy && encoding != BIG5 {
            assert_eq!(c.chars, text.chars().count() as u64, "{}", encoding.name());
        }
    }
}

#[test]
fn labels_follow_whatwg() {
    assert_eq!(encoding_for_label("Shift_JIS"), Some(SHIFT_JIS));
    assert_eq!(encoding_for_label("sjis"), Some(SHIFT_JIS));
    assert_eq!(encoding_for_label("utf-16"), Some(UTF_16LE));
    assert_eq!(
        encoding_for_label("latin1").map(Encoding::name),
        Some("windows-1252")
    );
    assert_eq!(encoding_for_label("klingon"), None);
    assert_eq!(encoding_for_label("iso-2022-kr"), None);
}

/// Text-like bytes: valid strings, CRLFs, digits of several scripts,
/// byte-order marks and stray bytes, in any order.
fn texty_bytes() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        any::<String>().prop_map(String::into_bytes),
        "[a-z0-9 \r\n]{0,12}".prop_map(String::into_bytes),
        "[０-９٠-٩é€😀]{0,4}".prop_map(String::into_bytes),
        prop::collection::vec(any::<u8>(), 0..6),
        Just(b"\xEF\xBB\xBF".to_vec()),
        Just(b"\xFF\xFE".to_vec()),
    ];
    prop::collection::vec(piece, 0..12).prop_map(|p| p.concat())
}

fn any_encoding() -> impl Strategy<Value = &'static Encoding> {
    prop_oneof![
        Just(UTF_8),
        Just(UTF_16LE),
        Just(UTF_16BE),
        Just(SHIFT_JIS),
        Just(EUC_JP)
    ]
}

proptest! {
    #[test]
    fn pieces_of_any_size_count_as_the_whole(
        bytes in texty_bytes(),
        cuts in prop::collection::vec(1usize..16, 1..8),
    ) {
        let mut whole = CharCounter::new();
        whole.feed(&bytes);
        let mut counter = CharCounter::new();
        let mut rest = &bytes[..];
        for &cut in cuts.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (piece, tail) = rest.split_at(cut.min(rest.len()));
            counter.feed(piece);
            rest = tail;
        }
        prop_assert_eq!(counter.finish(), whole.finish());
    }

    #[test]
    fn arbitrary_bytes_match_the_model(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        prop_assert_eq!(counted(&bytes), model(&bytes, UTF_8));
    }

    #[test]
    fn every_chunk_size_and_encoding_matches_the_model(
        bytes in texty_bytes(),
        chunk in 3usize..40,
        encoding in any_encoding(),
    ) {
        let counts = count_with(&bytes[..], Some(encoding), &mut vec![0; chunk]).unwrap();
        prop_assert_eq!(counts, model(&bytes, encoding));
    }
}

#[test]
fn utf16_without_a_bom_is_found_from_its_zero_bytes() {
    use super::stream::looks_utf16;
    let text = "Line 1: 12345\nZeile 2: Grüße, 67890\n";
    let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
    assert_eq!(looks_utf16(&le), Some(UTF_16LE));
    assert_eq!(looks_utf16(&be), Some(UTF_16BE));
    assert_eq!(looks_utf16(text.as_bytes()), None);
    assert_eq!(looks_utf16(&le[..10]), None, "too short to tell");
    let guessed = super::stream::count_reader_guessing(&le[..]).unwrap();
    assert_eq!(guessed, count_bytes(&le, UTF_16LE));
    assert_eq!(guessed.invalid, 0);
    assert_eq!(guessed.digits, 12);
    // A named encoding is used as it is.
    assert_eq!(count_bytes(&le, UTF_8).encoding, "UTF-8");
}
