use super::*;
use std::io::Cursor;

fn frames(messages: &[Request]) -> Vec<u8> {
    let mut out = Vec::new();
    for m in messages {
        append_frame(&mut out, m).unwrap();
    }
    out
}

#[test]
fn round_trip_requests() {
    let sent = vec![
        Request::Setup {
            key: 7,
            job: "square".into(),
            config: vec![1, 2, 3],
        },
        Request::Run {
            key: 7,
            items: vec![Item {
                seq: 99,
                input: encode(&12u64).unwrap(),
            }],
        },
    ];
    let bytes = frames(&sent);
    let mut r = FrameReader::new(Cursor::new(bytes), DEFAULT_MAX_FRAME);
    match r.read::<Request>().unwrap().unwrap() {
        Request::Setup { key, job, config } => {
            assert_eq!((key, job.as_str(), config), (7, "square", vec![1, 2, 3]))
        }
        other => panic!("unexpected {other:?}"),
    }
    match r.read::<Request>().unwrap().unwrap() {
        Request::Run { key, items } => {
            assert_eq!(key, 7);
            assert_eq!(items[0].seq, 99);
            assert_eq!(decode::<u64>(&items[0].input).unwrap(), 12);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(r.read::<Request>().unwrap().is_none(), "clean eof");
}

#[test]
fn truncated_length_and_payload_are_errors_not_eof() {
    let bytes = frames(&[Request::Run {
        key: 1,
        items: vec![],
    }]);
    for cut in 1..bytes.len() {
        let mut r = FrameReader::new(Cursor::new(&bytes[..cut]), DEFAULT_MAX_FRAME);
        let err = r.read::<Request>().unwrap_err();
        assert!(err.is_protocol(), "cut at {cut}: {err}");
        assert!(err.message().contains("truncated"), "{err}");
    }
}

#[test]
fn oversized_length_is_refused_before_allocation() {
    let mut bytes = u32::MAX.to_le_bytes().to_vec();
    bytes.extend_from_slice(b"abc");
    let mut r = FrameReader::new(Cursor::new(bytes), DEFAULT_MAX_FRAME);
    let err = r.read_raw().unwrap_err();
    assert!(err.message().contains("over the"), "{err}");
}

#[test]
fn garbage_payload_is_a_protocol_error() {
    let mut bytes = 5u32.to_le_bytes().to_vec();
    bytes.extend_from_slice(&[0xff; 5]);
    let mut r = FrameReader::new(Cursor::new(bytes), DEFAULT_MAX_FRAME);
    assert!(r.read::<Reply>().unwrap_err().is_protocol());
}

#[test]
fn hello_checks_magic_and_version() {
    assert!(check_hello(&Hello::new()).is_ok());
    let mut other = Hello::new();
    other.version = VERSION + 1;
    let err = check_hello(&other).unwrap_err();
    assert!(err.is_handshake());
    assert!(err.message().contains(&format!("version {}", VERSION + 1)));
    other = Hello::new();
    other.magic = *b"SSH-";
    assert!(check_hello(&other).unwrap_err().is_handshake());
}
