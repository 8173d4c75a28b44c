//! Inputs that crashed a fuzz target (fuzz/regressions/), replayed as ordinary tests so the
//! bugs they found stay fixed. Each test does what its target does with the input.

use std::path::Path;

use stance::model::{frame_payload, Model};

fn regression(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/regressions")
            .join(name),
    )
    .unwrap()
}

/// model_predict-1: a payload that decodes but whose parts do not fit together (a classifier
/// sized for other features) made prediction index out of bounds. Now it is refused on load.
#[test]
fn model_predict_1() {
    let data = regression("model_predict-1");
    let payload = if data.starts_with(b"STANCEML") && data.len() >= 24 {
        &data[24..]
    } else {
        &data[..]
    };
    let bytes = frame_payload(payload);
    if let Ok(model) = Model::from_bytes(&bytes) {
        let texts = ["We back the new rent cap.", ""];
        let _ = model.predict(&texts, None);
        let topics = [Some("housing".to_string()), None];
        let _ = model.predict(&texts, Some(&topics));
    }
}

/// model_load-1: a model file whose stored term hashes disagree with its terms (here two terms
/// with the same spelling and different hashes) loaded, but was written back with hashes
/// computed from the terms, which then collided and made the re-encoded file inconsistent. A
/// model now writes back the hashes it was read with.
#[test]
fn model_load_1() {
    let data = regression("model_load-1");
    for bytes in [data.clone(), frame_payload(&data[24.min(data.len())..])] {
        if let Ok(model) = Model::from_bytes(&bytes) {
            let first = model.to_bytes().unwrap();
            let again = Model::from_bytes(&first).expect("re-encoded model loads");
            assert_eq!(again.to_bytes().unwrap(), first);
        }
    }
}
