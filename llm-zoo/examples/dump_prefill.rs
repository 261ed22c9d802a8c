//! Runs `prefill` on a token sequence and writes every output — the logits
//! of all positions, then each layer's keys and values — as raw
//! little-endian files `OUT_DIR/NN.<dtype>` (`00.f32` the logits, `01` layer
//! 0's keys, `02` its values, ...), for finding where kiln and another
//! implementation part: `dump_prefill MODEL.gguf IDS.json OUT_DIR`.

use kiln_dsl::{Bindings, HostTensor};
use kiln_llm_zoo::{llama::rope_table, Model};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, model, ids, out] = args.as_slice() else {
        return Err("usage: dump_prefill MODEL.gguf IDS.json OUT_DIR".into());
    };
    let model = Model::load(std::path::Path::new(model))?;
    let ids: Vec<i32> = serde_json::from_str(&std::fs::read_to_string(ids)?)?;
    let n = ids.len();
    let rows: Vec<i32> = (0..n as i32).collect();
    let inputs = [HostTensor::from_i32(&[n], &ids), rope_table(&model.config.rope, 0..n), HostTensor::from_i32(&[n], &rows)];
    let outputs = model.cpu_module().expect("loaded for the CPU").run("prefill", &inputs, &Bindings::new())?;
    std::fs::create_dir_all(out)?;
    for (i, t) in outputs.iter().enumerate() {
        std::fs::write(std::path::Path::new(out).join(format!("{i:02}.{}", t.dtype)), &t.data)?;
    }
    println!("{} outputs -> {out}", outputs.len());
    Ok(())
}
