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
            chunk: 99,
            count: 2,
            inputs: [encode(&12u64).unwrap(), encode(&300u64).unwrap()]
                .concat()
                .into(),
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
        Request::Run {
            key,
            chunk,
            count,
            inputs,
        } => {
            assert_eq!((key, chunk, count), (7, 99, 2));
            let (first, used) = decode_prefix::<u64>(&inputs).unwrap();
            assert_eq!(first, 12);
            assert_eq!(decode::<u64>(&inputs[used..]).unwrap(), 300);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(r.read::<Request>().unwrap().is_none(), "clean eof");
}

#[test]
fn truncated_length_and_payload_are_errors_not_eof() {
    let bytes = frames(&[Request::Run {
        key: 1,
        chunk: 0,
        count: 0,
        inputs: Bytes::default(),
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
fn a_length_inside_a_payload_is_bounded_before_allocation() {
    // A log record whose target claims 2^40 bytes, in a frame of a few.
    let mut payload = 1u32.to_le_bytes().to_vec(); // Reply::Log
    payload.push(3); // level 3
    payload.extend_from_slice(&(1u64 << 40).to_le_bytes()); // the target's length
    payload.extend_from_slice(b"abc");
    let mut bytes = (payload.len() as u32).to_le_bytes().to_vec();
    bytes.extend_from_slice(&payload);
    let mut r = FrameReader::new(Cursor::new(bytes), DEFAULT_MAX_FRAME);
    let err = r.read::<Reply>().unwrap_err();
    assert!(err.is_protocol(), "{err}");
    // And a claim under the limit but past the frame's end is refused too.
    let mut short = (16u64 << 20).to_le_bytes().to_vec();
    short.extend_from_slice(b"abc");
    assert!(decode::<String>(&short).is_err());
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

mod properties {
    use super::super::*;
    use proptest::prelude::*;
    use std::io::Cursor;

    fn failure() -> impl Strategy<Value = WireFailure> {
        prop_oneof![
            (
                ".{0,40}",
                proptest::option::of(proptest::collection::vec(any::<u8>(), 0..16))
            )
                .prop_map(|(message, data)| WireFailure::Failed { message, data }),
            (".{0,40}", proptest::option::of(".{0,20}"))
                .prop_map(|(message, location)| WireFailure::Panicked { message, location }),
        ]
    }

    fn reply() -> impl Strategy<Value = Reply> {
        let done = (
            any::<u64>(),
            any::<u32>(),
            any::<u64>(),
            proptest::collection::vec(any::<u8>(), 0..64),
            proptest::collection::vec(any::<u32>(), 0..8),
            proptest::collection::vec((any::<u32>(), failure()), 0..4),
        )
            .prop_map(|(chunk, from, started, outputs, ends, failures)| {
                let count = ends.len() + failures.len();
                Reply::Done(Done {
                    chunk,
                    from,
                    count: count as u32,
                    started,
                    times: (0..count as u64).map(|t| t << 20).collect(),
                    elapsed: started / 3,
                    outputs: outputs.into(),
                    ends: Ends::Many(ends),
                    failures,
                })
            });
        prop_oneof![
            done,
            (1u8..6, ".{0,20}", ".{0,60}").prop_map(|(level, target, message)| Reply::Log(
                LogRecord {
                    level,
                    target,
                    message
                }
            )),
        ]
    }

    fn request() -> impl Strategy<Value = Request> {
        prop_oneof![
            (
                any::<u32>(),
                ".{0,20}",
                any::<u32>(),
                any::<bool>(),
                any::<bool>()
            )
                .prop_map(
                    |(worker, log_filter, concurrency, report_each, item_times)| {
                        Request::Configure {
                            worker,
                            log_filter,
                            concurrency,
                            report_each,
                            item_times,
                        }
                    }
                ),
            (
                any::<u32>(),
                "[a-z]{1,12}",
                proptest::collection::vec(any::<u8>(), 0..32)
            )
                .prop_map(|(key, job, config)| Request::Setup { key, job, config }),
            (
                any::<u32>(),
                any::<u64>(),
                any::<u32>(),
                proptest::collection::vec(any::<u8>(), 0..64)
            )
                .prop_map(|(key, chunk, count, inputs)| Request::Run {
                    key,
                    chunk,
                    count,
                    inputs: inputs.into()
                }),
        ]
    }

    proptest! {
        #[test]
        fn replies_round_trip_through_frames(replies in proptest::collection::vec(reply(), 0..8)) {
            let mut bytes = Vec::new();
            for r in &replies {
                append_frame(&mut bytes, r).unwrap();
            }
            let mut reader = FrameReader::new(Cursor::new(bytes), DEFAULT_MAX_FRAME);
            for sent in &replies {
                let got: Reply = reader.read().unwrap().unwrap();
                prop_assert_eq!(format!("{got:?}"), format!("{sent:?}"));
            }
            prop_assert!(reader.read::<Reply>().unwrap().is_none());
        }

        #[test]
        fn requests_round_trip_through_frames(requests in proptest::collection::vec(request(), 0..8)) {
            let mut bytes = Vec::new();
            for r in &requests {
                append_frame(&mut bytes, r).unwrap();
            }
            let mut reader = FrameReader::new(Cursor::new(bytes), DEFAULT_MAX_FRAME);
            for sent in &requests {
                let got: Request = reader.read().unwrap().unwrap();
                prop_assert_eq!(format!("{got:?}"), format!("{sent:?}"));
            }
            prop_assert!(reader.read::<Request>().unwrap().is_none());
        }

        #[test]
        fn arbitrary_bytes_never_panic_and_respect_the_limit(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let mut reader = FrameReader::new(Cursor::new(bytes), 64);
            for _ in 0..16 {
                match reader.read::<Reply>() {
                    Ok(Some(_)) => {}
                    Ok(None) | Err(_) => break,
                }
            }
        }

        #[test]
        fn payloads_round_trip(values in proptest::collection::vec((any::<u64>(), ".{0,16}", any::<f64>()), 0..16)) {
            let bytes = encode(&values).unwrap();
            let back: Vec<(u64, String, f64)> = decode(&bytes).unwrap();
            prop_assert_eq!(back.len(), values.len());
            for (a, b) in back.iter().zip(&values) {
                prop_assert_eq!(&a.0, &b.0);
                prop_assert_eq!(&a.1, &b.1);
                prop_assert_eq!(a.2.to_bits(), b.2.to_bits());
            }
        }
    }
}

#[test]
fn a_done_that_does_not_add_up_is_told_apart() {
    let ok = Done {
        chunk: 1,
        from: 2,
        count: 3,
        started: 0,
        times: vec![5, 300, 70_000],
        elapsed: 70_305,
        outputs: vec![1, 2, 3].into(),
        ends: Ends::Many(vec![1, 3]),
        failures: vec![(3, WireFailure::message("x"))],
    };
    assert!(ok.is_consistent());
    let below = Done {
        failures: vec![(1, WireFailure::message("x"))],
        ..ok.clone()
    };
    let past_the_outputs = Done {
        ends: Ends::Many(vec![1, 9]),
        ..ok.clone()
    };
    let descending = Done {
        ends: Ends::Many(vec![3, 1]),
        ..ok.clone()
    };
    let too_few = Done {
        count: 4,
        ..ok.clone()
    };
    let untimed = Done {
        times: vec![5, 300],
        ..ok.clone()
    };
    let even_past_the_outputs = Done {
        ends: Ends::Even { width: 2, count: 2 },
        ..ok.clone()
    };
    let even_huge = Done {
        ends: Ends::Even {
            width: u32::MAX,
            count: 2,
        },
        ..ok.clone()
    };
    for bad in [
        below,
        past_the_outputs,
        descending,
        too_few,
        untimed,
        even_past_the_outputs,
        even_huge,
    ] {
        assert!(!bad.is_consistent(), "{bad:?}");
    }
    // Without item times (the parent asked for none) it adds up.
    let no_item_times = Done {
        times: Vec::new(),
        ..ok.clone()
    };
    assert!(no_item_times.is_consistent());
    let even = Done {
        outputs: vec![1, 2, 3, 4].into(),
        ends: Ends::Even { width: 2, count: 2 },
        ..ok.clone()
    };
    assert!(even.is_consistent());
}

#[test]
fn a_run_frame_read_in_place_gives_what_was_sent_and_other_requests_are_left_whole() {
    let inputs = [encode(&12u64).unwrap(), encode(&300u64).unwrap()].concat();
    let run = Request::Run {
        key: 7,
        chunk: 99,
        count: 2,
        inputs: inputs.clone().into(),
    };
    let payload = encode(&run).unwrap();
    let view = decode_run(&payload).expect("a run").expect("well formed");
    assert_eq!((view.key, view.chunk, view.count), (7, 99, 2));
    assert_eq!(view.inputs, &inputs[..]);
    // An empty chunk's inputs too.
    let empty = encode(&Request::Run {
        key: 1,
        chunk: 2,
        count: 0,
        inputs: Bytes::default(),
    })
    .unwrap();
    assert!(decode_run(&empty).unwrap().unwrap().inputs.is_empty());
    for other in [
        Request::Take { chunk: 3 },
        Request::Setup {
            key: 7,
            job: "square".into(),
            config: vec![1],
        },
        Request::Configure {
            worker: 0,
            log_filter: "info".into(),
            concurrency: 1,
            report_each: false,
            item_times: false,
        },
    ] {
        assert!(decode_run(&encode(&other).unwrap()).is_none());
    }
    // Cut short, or with bytes past its end, it is an error.
    assert!(decode_run(&payload[..payload.len() - 1]).unwrap().is_err());
    let mut longer = payload.clone();
    longer.push(0);
    assert!(decode_run(&longer).unwrap().is_err());
    assert!(decode_run(&[2, 0]).is_none());
}

#[test]
fn encoding_into_bytes_keeps_short_encodings_in_place_and_writes_what_encode_writes() {
    let mut out = Bytes::default();
    encode_bytes(&12u64, &mut out).unwrap();
    assert!(matches!(out, Bytes::Inline { len: 8, .. }));
    assert_eq!(&*out, &encode(&12u64).unwrap()[..]);
    let long = "a string longer than twenty-two bytes".to_string();
    encode_bytes(&long, &mut out).unwrap();
    assert!(matches!(out, Bytes::Heap(_)));
    assert_eq!(&*out, &encode(&long).unwrap()[..]);
}
