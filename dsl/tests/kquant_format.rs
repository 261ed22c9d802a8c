//! K-quant blocks decoded by kiln against an independent decoder:
//! `data/kquant_blocks.json` holds two random blocks of each type and their
//! values as decoded by gguf-py 0.19.0 (`gguf.quants.dequantize`, the
//! llama.cpp project's Python reader). Made with NumPy's
//! `default_rng(7)`: per type, two blocks of random bytes whose f16 `d` (and
//! `dmin`) are drawn from U(-0.1, 0.1), then `dequantize(blocks, type)`.

use kiln_dsl::quant::dequantize_one;
use kiln_dsl::DType;

fn numbers(text: &str, key: &str, field: &str) -> Vec<f64> {
    // the file is {"q4_k": {"bytes": [...], "values": [...]}, ...}
    let at = text.find(&format!("\"{key}\"")).expect("key present");
    let rest = &text[at..];
    let f = rest.find(&format!("\"{field}\": [")).expect("field present") + field.len() + 5;
    let end = rest[f..].find(']').unwrap() + f;
    rest[f..end].split(',').map(|v| v.trim().parse().unwrap()).collect()
}

#[test]
fn kquant_blocks_decode_as_gguf_py_decodes_them() {
    let text = include_str!("data/kquant_blocks.json");
    for (key, dtype) in [("q4_k", DType::Q4_K), ("q6_k", DType::Q6_K)] {
        let bytes: Vec<u8> = numbers(text, key, "bytes").into_iter().map(|b| b as u8).collect();
        let want = numbers(text, key, "values");
        assert_eq!(bytes.len(), 2 * dtype.block_bytes());
        for (i, w) in want.iter().enumerate() {
            let got = dequantize_one(dtype, &bytes, i) as f64;
            assert!((got - w).abs() <= 1e-6 * w.abs().max(1e-3), "{dtype} element {i}: kiln {got} vs gguf-py {w}");
        }
    }
}
