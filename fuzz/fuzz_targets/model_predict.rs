//! A model that `Model::from_bytes` accepts must be usable: predicting (alone and within an
//! article), explaining and inspecting with it must not panic.
//! The input is a model payload; the target adds a valid header and checksum, so it reaches
//! models that are well-formed postcard but internally inconsistent (for example fewer idf
//! weights than vocabulary terms, or a classifier sized for other features).
#![no_main]

use libfuzzer_sys::fuzz_target;
use stance::model::{frame_payload, Model};

fuzz_target!(|data: &[u8]| {
    let payload = if data.starts_with(b"STANCEML") && data.len() >= 24 {
        &data[24..]
    } else {
        data
    };
    let bytes = frame_payload(payload);
    if let Ok(model) = Model::from_bytes(&bytes) {
        let texts = [
            "We back the new rent cap.",
            "The bus lane plan was published in the U.S. on Monday.",
            "",
        ];
        let _ = model.predict(&texts, None);
        let topics = [
            Some("housing".to_string()),
            None,
            Some("transport".to_string()),
        ];
        let _ = model.predict(&texts, Some(&topics));
        let _ = model.predict_in_article(&texts, &[true, true, false], 0.5);
        let _ = model.explain(texts[0], None, None, 3);
        let _ = model.explain(texts[1], Some("housing"), Some("transport"), 3);
        let _ = model.inspect(3, &Default::default());
    }
});
