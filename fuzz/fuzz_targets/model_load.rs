//! Model loader: any bytes give `Ok` or `Err`, never a panic. Each input is tried twice: as a
//! whole model file, and as the payload of a file with a valid header and checksum (so the
//! fuzzer reaches the decoder behind the CRC check). A model that loads must re-encode to bytes
//! that load again and re-encode identically.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stance::model::{frame_payload, Model};

fn check(bytes: &[u8]) {
    if let Ok(model) = Model::from_bytes(bytes) {
        let first = model.to_bytes().expect("a loaded model encodes");
        let again = Model::from_bytes(&first).expect("re-encoded model loads");
        assert_eq!(
            again.to_bytes().expect("encodes"),
            first,
            "re-encoding is not stable"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    check(data);
    // A whole model file as input: also decode its payload under a fixed-up header.
    let payload = if data.starts_with(b"STANCEML") && data.len() >= 24 {
        &data[24..]
    } else {
        data
    };
    check(&frame_payload(payload));
});
