//! Bad model files give clear errors naming the problem, never a panic.

mod common;

use common::write_temp;
use kiln_llm_zoo::testing::tiny_llama;
use kiln_llm_zoo::gguf::Value;
use kiln_llm_zoo::{Gguf, GgufError, GgufWriter, Model, ZooError};

/// A GGUF with one tensor `t` of ggml type `type_id`, `dims` (innermost
/// first), at `offset` in the data section, followed by `data_len` bytes.
fn raw_gguf(type_id: u32, dims: &[u64], offset: u64, data_len: usize) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend(b"GGUF");
    b.extend(3u32.to_le_bytes());
    b.extend(1u64.to_le_bytes()); // tensors
    b.extend(0u64.to_le_bytes()); // metadata
    b.extend(1u64.to_le_bytes());
    b.extend(b"t");
    b.extend((dims.len() as u32).to_le_bytes());
    for d in dims {
        b.extend(d.to_le_bytes());
    }
    b.extend(type_id.to_le_bytes());
    b.extend(offset.to_le_bytes());
    b.resize(b.len().div_ceil(32) * 32, 0);
    b.extend(vec![0u8; data_len]);
    b
}

fn open(bytes: Vec<u8>) -> Result<Gguf, GgufError> {
    Gguf::from_bytes(bytes)
}

#[test]
fn a_truncated_file_names_what_is_cut_off() {
    let full = tiny_llama(1).to_bytes();
    assert!(open(full.clone()).is_ok());
    for cut in [3, 10, 23, 100, 5000, full.len() / 2, full.len() - 1] {
        let err = open(full[..cut].to_vec()).unwrap_err().to_string();
        assert!(err.contains("truncated") || err.contains("past the end") || err.contains("not a GGUF"), "cut at {cut}: {err}");
    }
    // through the model loader, from disk
    let (_dir, path) = write_temp(&full[..full.len() - 100]);
    let err = Model::load(&path).unwrap_err().to_string();
    assert!(err.contains("past the end of the file"), "{err}");
}

#[test]
fn wrong_magic_is_not_a_gguf_file() {
    let mut b = tiny_llama(1).to_bytes();
    b[..4].copy_from_slice(b"GGML");
    let err = open(b).unwrap_err().to_string();
    assert!(err.contains("not a GGUF file") && err.contains("GGML"), "{err}");
    let (_dir, path) = write_temp(b"hello, world");
    assert!(matches!(Model::load(&path), Err(ZooError::Gguf(GgufError::BadMagic { .. }))));
}

#[test]
fn an_unsupported_tensor_type_is_named() {
    // ggml type 6 is Q5_0: 22 bytes per 32 values
    let err = open(raw_gguf(6, &[32], 0, 22)).unwrap_err().to_string();
    assert!(err.contains("tensor `t`") && err.contains("Q5_0"), "{err}");
    let err = open(raw_gguf(99, &[32], 0, 64)).unwrap_err().to_string();
    assert!(err.contains("99"), "{err}");
}

#[test]
fn a_tensor_offset_past_the_end_is_refused() {
    assert!(open(raw_gguf(0, &[8], 0, 32)).is_ok());
    let err = open(raw_gguf(0, &[8], 1 << 20, 32)).unwrap_err().to_string();
    assert!(err.contains("tensor `t`") && err.contains("past the end"), "{err}");
    // an offset so large the end overflows
    let err = open(raw_gguf(0, &[8], u64::MAX - 3, 32)).unwrap_err().to_string();
    assert!(err.contains("past the end"), "{err}");
    // element counts that overflow
    let err = open(raw_gguf(0, &[u64::MAX, 4], 0, 32)).unwrap_err().to_string();
    assert!(err.contains("too many elements"), "{err}");
    // a count that fits but whose byte size does not (found by mutated_files.rs)
    let err = open(raw_gguf(0, &[1 << 62], 0, 32)).unwrap_err().to_string();
    assert!(err.contains("past the end"), "{err}");
}

#[test]
fn huge_counts_do_not_allocate() {
    let mut b = raw_gguf(0, &[8], 0, 32);
    b[8..16].copy_from_slice(&u64::MAX.to_le_bytes());
    let err = open(b).unwrap_err().to_string();
    assert!(err.contains("truncated") && err.contains("tensor descriptions"), "{err}");
}

#[test]
fn a_model_kiln_cannot_build_says_why() {
    let with = |f: &dyn Fn(&mut GgufWriter)| {
        let mut w = tiny_llama(1);
        f(&mut w);
        let (dir, path) = write_temp(&w.to_bytes());
        let r = Model::load(&path).map(|_| ()).map_err(|e| e.to_string());
        drop(dir);
        r
    };
    let err = with(&|w| {
        w.metadata("general.architecture", Value::Str("gemma3".into()));
    })
    .unwrap_err();
    // the later entry wins in the parser's map
    assert!(err.contains("architecture `gemma3` is not supported"), "{err}");
    let err = with(&|w| {
        w.metadata("llama.attention.head_count_kv", Value::U64(3));
    })
    .unwrap_err();
    assert!(err.contains("kv heads"), "{err}");
    let err = with(&|w| {
        w.metadata("llama.block_count", Value::U64(3));
    })
    .unwrap_err();
    assert!(err.contains("block_count is 3 but the file holds only 20 tensors"), "{err}");
    // a weight of the wrong shape for the hyper-parameters
    let err = with(&|w| {
        w.metadata("llama.feed_forward_length", Value::U64(96));
    })
    .unwrap_err();
    assert!(err.contains("tensor `blk.0.ffn_gate.weight` has shape [128, 64]; the hyper-parameters need [96, 64]"), "{err}");
    // a block count the file cannot hold is refused before anything is sized by it
    let err = with(&|w| {
        w.metadata("llama.block_count", Value::U64(1 << 60));
    })
    .unwrap_err();
    assert!(err.contains("block_count is 1152921504606846976 but the file holds only"), "{err}");
    let err = with(&|w| {
        w.metadata("tokenizer.ggml.pre", Value::Str("qwen2".into()));
    })
    .unwrap_err();
    assert!(err.contains("pre-tokenizer `qwen2` is not supported"), "{err}");
    let err = with(&|w| {
        w.metadata("llama.embedding_length", Value::Str("wide".into()));
    })
    .unwrap_err();
    assert!(err.contains("llama.embedding_length") && err.contains("unsigned integer"), "{err}");
}
