//! Fuzz-style property tests: a valid model file with random bytes changed,
//! or cut short, never panics the reader, the hyper-parameter and weight
//! checks, or the tokenizer builder — it loads or it is an error; and any
//! text survives the tokenizer unchanged. `KILN_PROPTEST_CASES` sets the
//! case count (256 by default).

use kiln_llm_zoo::llama::{load_weights, LlamaConfig};
use kiln_llm_zoo::testing::tiny_llama_gguf;
use kiln_llm_zoo::{Gguf, Tokenizer};
use proptest::prelude::*;
use std::path::Path;
use std::sync::OnceLock;

fn original() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| tiny_llama_gguf(9))
}

/// Everything `Model::load` does before compiling.
fn read(bytes: Vec<u8>) {
    let path = Path::new("mutated.gguf");
    let Ok(g) = Gguf::from_bytes(bytes) else { return };
    if let Ok(t) = Tokenizer::from_gguf(&g) {
        let _ = t.encode("hello <|im_start|> 123", true);
        let _ = t.decode(&[0, 1, 2, 250]);
    }
    if let Ok(config) = LlamaConfig::from_gguf(&g, path) {
        let _ = load_weights(&g, &config, path);
    }
}

fn cases() -> u32 {
    std::env::var("KILN_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn flipped_bytes_never_panic(flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let mut b = original().to_vec();
        // most flips land in the header and metadata, where parsing happens
        let header = b.len().min(8192);
        for (at, v) in flips {
            let i = at.index(header);
            b[i] = v;
        }
        read(b);
    }

    #[test]
    fn truncation_anywhere_never_panics(at in any::<prop::sample::Index>()) {
        let b = original();
        read(b[..at.index(b.len())].to_vec());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    /// Byte-level BPE loses nothing: any text decodes back to itself.
    #[test]
    fn any_text_round_trips_through_the_tokenizer(text in any::<String>()) {
        static TOKENIZER: OnceLock<Tokenizer> = OnceLock::new();
        let t = TOKENIZER.get_or_init(|| Tokenizer::from_gguf(&Gguf::from_bytes(original().to_vec()).unwrap()).unwrap());
        let ids = t.encode(&text, false).unwrap();
        prop_assert_eq!(t.decode(&ids), text);
    }
}
