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
