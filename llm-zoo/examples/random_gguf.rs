//! Writes the random-weight stand-in that `kiln bench --model
//! random:SHAPE:DTYPE` measures to a GGUF file, so another implementation
//! (llama.cpp's `llama-bench`) can be measured on the very same weights:
//! `random_gguf SHAPE:DTYPE OUT.gguf`, e.g. `random_gguf llama-2-7b:q4_0
//! /tmp/7b.gguf`. The file is written beside OUT and renamed into place, so
//! an interrupted run leaves no half-written model.

use kiln_llm_zoo::testing::{random_llama, random_llama_spec, STAND_IN_SEED};
use std::io::Write;
use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, spec, out] = args.as_slice() else {
        return Err("usage: random_gguf SHAPE:DTYPE OUT.gguf (e.g. llama-2-7b:q4_0)".into());
    };
    let (shape, dtype) = random_llama_spec(spec)?;
    let out = Path::new(out);
    let dir = out.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    {
        let mut w = std::io::BufWriter::new(file.as_file_mut());
        random_llama(shape, dtype, STAND_IN_SEED).write_to(&mut w)?;
        w.flush()?;
    }
    file.persist(out)?;
    eprintln!("wrote random {} weights in {} to {}", shape.name, dtype.name(), out.display());
    Ok(())
}
