//! Writes kiln's logits for a token sequence, for comparing against
//! another implementation: `dump_logits MODEL.gguf IDS.json OUT.f32`
//! (IDS.json a JSON array of token ids; OUT gets `len(ids) * vocab`
//! little-endian f32 values, one row per position).

use kiln_llm_zoo::{Logits, Model};
use std::io::Write;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, model, ids, out] = args.as_slice() else {
        return Err("usage: dump_logits MODEL.gguf IDS.json OUT.f32".into());
    };
    let model = Model::load(std::path::Path::new(model))?;
    let ids: Vec<u32> = serde_json::from_str(&std::fs::read_to_string(ids)?)?;
    let rows = model.session().feed(&ids, Logits::All)?;
    let mut f = std::io::BufWriter::new(std::fs::File::create(out)?);
    for r in rows {
        for v in r {
            f.write_all(&v.to_le_bytes())?;
        }
    }
    Ok(())
}
