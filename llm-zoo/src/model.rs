//! A loaded model and what runs on it: a [`Session`] keeps the KV cache of
//! one conversation, [`Model::generate`] continues a prompt and
//! [`Model::perplexity`] scores a text (several conversations at once
//! share a paged cache: [`crate::paged`]).

use crate::chat::ChatTemplate;
use crate::error::ZooError;
use crate::gguf::Gguf;
use crate::llama::{build_module, load_weights, rope_table, LlamaConfig, Numerics};
use crate::sampler::{Sampler, SamplerConfig};
use crate::tokenizer::{Tokenizer, Utf8Stream};
use kiln_dsl::{Bindings, DType, HostTensor};
use kiln_runtime::{CompileOptions, CpuModule, Device, GpuModule, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The compiled functions, on the device they run on.
#[derive(Debug)]
pub(crate) enum Compiled {
    Cpu(CpuModule),
    Gpu(GpuModule),
}

impl Compiled {
    pub(crate) fn run(&self, name: &str, inputs: &[Value]) -> Result<Vec<Value>, ZooError> {
        Ok(match self {
            Compiled::Cpu(m) => {
                let inputs = inputs.iter().map(Value::to_host).collect::<Result<Vec<_>, _>>()?;
                m.run(name, &inputs, &Bindings::new())?.into_iter().map(Value::Host).collect()
            }
            Compiled::Gpu(m) => m.run(name, inputs, &Bindings::new())?,
        })
    }
}

/// A model ready to run on a device.
#[derive(Debug)]
pub struct Model {
    /// The file it came from.
    pub path: PathBuf,
    /// `general.name`, or the file name.
    pub name: String,
    /// Hyper-parameters.
    pub config: LlamaConfig,
    /// The model's tokenizer.
    pub tokenizer: Tokenizer,
    /// The model's chat template.
    pub chat_template: ChatTemplate,
    pub(crate) module: Compiled,
    /// The arithmetic it runs with.
    pub numerics: Numerics,
    /// How long building and compiling took.
    pub compile_time: Duration,
    /// Sequence counts [`Model::decode_batch`] takes, ascending.
    batch_sizes: Vec<usize>,
}

/// The graph of a GGUF model's functions (`prefill`, `extend`, `decode`)
/// under `numerics`, and the model's name, without compiling anything
/// (what `kiln compile` lowers).
pub fn model_graph(path: &Path, numerics: Numerics) -> Result<(String, kiln_dsl::Module), ZooError> {
    let g = Gguf::open(path)?;
    let config = LlamaConfig::from_gguf(&g, path)?;
    let (module, _) = graph_and_weights(&g, &config, path, numerics, &[])?;
    Ok((model_name(&g, path), module))
}

/// [`Numerics::fastest_on_gpu`] for the model in `path` (its header and
/// tensor table only) on a GPU with integer-dot GEMVs where
/// `integer_dot`: what `kiln` runs on a GPU unless told otherwise.
pub fn gpu_default_numerics(path: &Path, integer_dot: bool) -> Result<Numerics, ZooError> {
    let g = Gguf::open(path)?;
    let config = LlamaConfig::from_gguf(&g, path)?;
    let weights = config.matmul_weights().iter().map(|name| g.tensor(name).map(|t| (t.dtype, t.range.len()))).collect::<Result<Vec<_>, _>>()?;
    Ok(Numerics::fastest_on_gpu(weights, integer_dot))
}

/// A GGUF's weights (memory-mapped) and the graph that runs them.
fn graph_and_weights(g: &Gguf, config: &LlamaConfig, path: &Path, numerics: Numerics, batch_sizes: &[usize]) -> Result<(kiln_dsl::Module, HashMap<String, HostTensor>), ZooError> {
    let weights = load_weights(g, config, path)?;
    let dtypes: HashMap<String, DType> = weights.iter().map(|(k, v)| (k.clone(), v.dtype)).collect();
    let module = build_module(config, &dtypes, numerics, batch_sizes).map_err(|e| ZooError::Model { path: path.into(), message: format!("building the graph: {e}") })?;
    Ok((module, weights))
}

/// `general.name`, or the file name.
fn model_name(g: &Gguf, path: &Path) -> String {
    g.get_str("general.name").map(str::to_string).unwrap_or_else(|_| path.file_name().map_or_else(String::new, |f| f.to_string_lossy().into_owned()))
}

/// Which positions of a batch of tokens need logits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Logits {
    /// Only the last position (generation).
    Last,
    /// Every position (scoring a text).
    All,
}

impl Model {
    /// Load a GGUF file and compile the model's functions for the CPU.
    pub fn load(path: &Path) -> Result<Model, ZooError> {
        Model::load_with(path, &CompileOptions::default(), Numerics::default())
    }

    /// [`Model::load`] with compile options and a choice of arithmetic.
    pub fn load_with(path: &Path, options: &CompileOptions, numerics: Numerics) -> Result<Model, ZooError> {
        Model::load_on(path, &Device::Cpu, options, numerics)
    }

    /// Load a GGUF file and compile the model's functions for `device`
    /// (on a GPU the weights are uploaded once and the KV cache stays there).
    pub fn load_on(path: &Path, device: &Device, options: &CompileOptions, numerics: Numerics) -> Result<Model, ZooError> {
        Model::load_batched(path, device, options, numerics, &[])
    }

    /// [`Model::load_on`], also compiling a function that decodes one token
    /// of each of `B` sequences of a paged KV cache at once for every `B` of
    /// `batch_sizes` (see [`Model::decode_batch`]; what a server running
    /// several conversations uses).
    pub fn load_batched(path: &Path, device: &Device, options: &CompileOptions, numerics: Numerics, batch_sizes: &[usize]) -> Result<Model, ZooError> {
        let start = Instant::now();
        let mut batch_sizes: Vec<usize> = batch_sizes.iter().copied().filter(|&b| b > 0).collect();
        batch_sizes.sort_unstable();
        batch_sizes.dedup();
        let g = Gguf::open(path)?;
        let config = LlamaConfig::from_gguf(&g, path)?;
        let tokenizer = Tokenizer::from_gguf(&g)?;
        if tokenizer.vocab_size() != config.vocab {
            return Err(ZooError::Model { path: path.into(), message: format!("the vocabulary has {} tokens but the embedding {} rows", tokenizer.vocab_size(), config.vocab) });
        }
        let spelled = |id: Option<u32>| id.and_then(|i| tokenizer.token_text(i)).unwrap_or("").to_string();
        let chat_template = ChatTemplate::from_gguf(&g, &spelled(tokenizer.bos), &spelled(tokenizer.eos))?;
        let (module, weights) = graph_and_weights(&g, &config, path, numerics, &batch_sizes)?;
        let module = match device {
            Device::Cpu => Compiled::Cpu(CpuModule::compile(&module, weights, options)?),
            Device::Gpu(gpu, _) => Compiled::Gpu(GpuModule::compile(&module, &weights, gpu, options)?),
        };
        let name = model_name(&g, path);
        Ok(Model { path: path.into(), name, config, tokenizer, chat_template, module, numerics, compile_time: start.elapsed(), batch_sizes })
    }

    /// Error unless `more` tokens fit the context after `past` (`what`
    /// names them in the error).
    pub(crate) fn check_room(&self, past: usize, more: usize, what: &str) -> Result<(), ZooError> {
        let context = self.config.context;
        if past + more > context {
            return Err(ZooError::ContextFull { tokens: past + more, context, what: what.into() });
        }
        Ok(())
    }

    /// Error unless `tokens` fit the context after `past` and are in the
    /// vocabulary.
    pub(crate) fn check_tokens(&self, past: usize, tokens: &[u32], what: &str) -> Result<(), ZooError> {
        self.check_room(past, tokens.len(), what)?;
        let vocab = self.config.vocab;
        match tokens.iter().find(|&&t| t as usize >= vocab) {
            Some(bad) => Err(ZooError::Argument(format!("token id {bad} is outside the vocabulary of {vocab}"))),
            None => Ok(()),
        }
    }

    /// The sequence counts that [`Model::decode_batch`] takes.
    pub fn batch_sizes(&self) -> &[usize] {
        &self.batch_sizes
    }

    /// The compiled functions (`prefill`, `extend`, `decode`; see
    /// [`crate::llama`] for their inputs and outputs) when the model runs
    /// on the CPU.
    pub fn cpu_module(&self) -> Option<&CpuModule> {
        match &self.module {
            Compiled::Cpu(m) => Some(m),
            Compiled::Gpu(_) => None,
        }
    }

    /// The compiled functions when the model runs on a GPU.
    pub fn gpu_module(&self) -> Option<&GpuModule> {
        match &self.module {
            Compiled::Gpu(m) => Some(m),
            Compiled::Cpu(_) => None,
        }
    }

    /// A fresh conversation (empty KV cache).
    pub fn session(&self) -> Session<'_> {
        Session { model: self, caches: Vec::new(), tokens: Vec::new() }
    }

    /// Where one decode step's time goes after `prompt`: per kernel name,
    /// total time and launches, averaged over `steps` steps, slowest first.
    /// On the CPU each launch's wall time; on a GPU each kernel's time from
    /// timestamp queries.
    pub fn profile_decode(&self, prompt: &[u32], steps: usize) -> Result<Vec<KernelTime>, ZooError> {
        let mut session = self.session();
        session.feed(prompt, Logits::Last)?;
        let mut totals = KernelTimes::new(self.kernel_names("decode")?);
        for _ in 0..steps.max(1) {
            session.check_room(1, "profiling")?;
            let inputs = session.step_inputs(&[0], Logits::Last).0;
            let (out, times) = self.run_profiled("decode", &inputs)?;
            session.accept(&[0], out)?;
            totals.add(times);
        }
        Ok(totals.finish(steps))
    }

    /// Each prefill kernel's time for `prompt`, averaged over `runs` fresh
    /// sessions, slowest first (as [`Model::profile_decode`]).
    pub fn profile_prefill(&self, prompt: &[u32], runs: usize) -> Result<Vec<KernelTime>, ZooError> {
        let mut totals = KernelTimes::new(self.kernel_names("prefill")?);
        for _ in 0..runs.max(1) {
            let inputs = self.session().step_inputs(prompt, Logits::Last).0;
            totals.add(self.run_profiled("prefill", &inputs)?.1);
        }
        Ok(totals.finish(runs))
    }

    /// The names of `function`'s kernels, in launch order.
    fn kernel_names(&self, function: &str) -> Result<Vec<String>, ZooError> {
        Ok(match &self.module {
            Compiled::Cpu(m) => m.function(function)?.kernels().map(|(_, nest)| nest.to_string().lines().next().unwrap_or_default().trim_start_matches("kernel ").trim_end_matches(" {").to_string()).collect(),
            Compiled::Gpu(m) => m.function(function)?.kernels().map(|k| k.name.clone()).collect(),
        })
    }

    /// Run `function` timing each kernel launch.
    fn run_profiled(&self, function: &str, inputs: &[Value]) -> Result<(Vec<Value>, Vec<Duration>), ZooError> {
        Ok(match &self.module {
            Compiled::Cpu(m) => {
                let inputs = inputs.iter().map(Value::to_host).collect::<Result<Vec<_>, _>>()?;
                let (out, times) = m.run_profiled(function, &inputs, &Bindings::new())?;
                (out.into_iter().map(Value::Host).collect(), times)
            }
            Compiled::Gpu(m) => m.run_profiled(function, inputs, &Bindings::new())?,
        })
    }

    /// Kernels launched by one decode step.
    pub fn decode_kernel_count(&self) -> usize {
        match &self.module {
            Compiled::Cpu(m) => m.function("decode").map_or(0, |f| f.kernel_count()),
            Compiled::Gpu(m) => m.function("decode").map_or(0, |f| f.kernel_count()),
        }
    }

    /// Continue `prompt` (token ids) in a fresh session; see [`Session::generate`].
    pub fn generate(&self, prompt: &[u32], max_tokens: usize, sampler: &SamplerConfig, on_text: impl FnMut(&str)) -> Result<Generation, ZooError> {
        self.session().generate(prompt, max_tokens, sampler, on_text)
    }

    /// Perplexity of `ids`: the exponential of the mean negative
    /// log-likelihood of every token given the ones before it in its window
    /// (the first token of each window unscored). Windows hold at most
    /// `window` tokens and are evaluated independently.
    pub fn perplexity(&self, ids: &[u32], window: usize) -> Result<Perplexity, ZooError> {
        if ids.len() < 2 {
            return Err(ZooError::Argument(format!("perplexity needs at least 2 tokens, the text has {}", ids.len())));
        }
        if window < 2 {
            return Err(ZooError::Argument(format!("the window must hold at least 2 tokens, got {window}")));
        }
        let start = Instant::now();
        let (mut nll, mut scored) = (0.0f64, 0usize);
        for chunk in ids.chunks(window) {
            if chunk.len() < 2 {
                continue;
            }
            let mut session = self.session();
            let rows = session.feed(chunk, Logits::All)?;
            for (row, &next) in rows.iter().zip(&chunk[1..]) {
                let max = row.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v)) as f64;
                let lse = row.iter().map(|&v| (v as f64 - max).exp()).sum::<f64>().ln() + max;
                nll += lse - row[next as usize] as f64;
                scored += 1;
            }
        }
        Ok(Perplexity { n_tokens: ids.len(), n_scored: scored, ppl: (nll / scored as f64).exp(), seconds: start.elapsed().as_secs_f64() })
    }
}

/// What [`Model::generate`] produced.
#[derive(Clone, Debug)]
pub struct Generation {
    /// The prompt's ids.
    pub prompt_tokens: Vec<u32>,
    /// Generated ids (without a final end-of-generation token).
    pub tokens: Vec<u32>,
    /// Their text.
    pub text: String,
    /// Time to evaluate the prompt and pick the first token's logits.
    pub prefill_time: Duration,
    /// Time for the remaining tokens.
    pub decode_time: Duration,
    /// Whether generation ended at an end-of-generation token rather than
    /// at the token limit.
    pub stopped_at_end: bool,
}

impl Generation {
    /// Prompt tokens per second of prefill.
    pub fn prefill_tokens_per_s(&self) -> f64 {
        self.prompt_tokens.len() as f64 / self.prefill_time.as_secs_f64().max(1e-9)
    }

    /// Decode steps per second (each step evaluates one token; the first
    /// generated token comes from the prefill).
    pub fn decode_tokens_per_s(&self) -> f64 {
        let steps = self.tokens.len().saturating_sub(1) + usize::from(self.stopped_at_end && !self.tokens.is_empty());
        if steps == 0 {
            return 0.0;
        }
        steps as f64 / self.decode_time.as_secs_f64().max(1e-9)
    }
}

/// Time spent in the kernels of one name during a decode step.
#[derive(Clone, Debug)]
pub struct KernelTime {
    /// The kernel's signature: name, class, sources and output.
    pub name: String,
    /// Wall time per step.
    pub time: Duration,
    /// Launches per step.
    pub launches: usize,
}

/// Per-kernel times summed over runs of one function (launch order gives
/// each time its kernel's name).
struct KernelTimes {
    names: Vec<String>,
    totals: Vec<KernelTime>,
}

impl KernelTimes {
    fn new(names: Vec<String>) -> KernelTimes {
        KernelTimes { names, totals: Vec::new() }
    }

    fn add(&mut self, times: Vec<Duration>) {
        for (name, t) in self.names.iter().zip(times) {
            match self.totals.iter_mut().find(|k| &k.name == name) {
                Some(k) => {
                    k.time += t;
                    k.launches += 1;
                }
                None => self.totals.push(KernelTime { name: name.clone(), time: t, launches: 1 }),
            }
        }
    }

    /// The averages over `runs` runs, slowest first.
    fn finish(mut self, runs: usize) -> Vec<KernelTime> {
        for k in &mut self.totals {
            k.time /= runs.max(1) as u32;
            k.launches /= runs.max(1);
        }
        self.totals.sort_by(|a, b| b.time.cmp(&a.time));
        self.totals
    }
}

/// What [`Model::perplexity`] measured.
#[derive(Clone, Debug, PartialEq)]
pub struct Perplexity {
    /// Tokens in the text.
    pub n_tokens: usize,
    /// Tokens scored.
    pub n_scored: usize,
    /// The perplexity.
    pub ppl: f64,
    /// Wall time.
    pub seconds: f64,
}

/// One conversation's state: the tokens seen and their keys and values.
#[derive(Debug)]
pub struct Session<'m> {
    model: &'m Model,
    /// Per layer: keys then values, `[len, kv_heads, head_dim]` (on the
    /// model's device).
    pub(crate) caches: Vec<Value>,
    tokens: Vec<u32>,
}

/// A GPU keeps bind groups of a sequence's KV cache between calls; a
/// finished sequence lets them go, so that the next one's cache need not
/// fit beside its.
impl Drop for Session<'_> {
    fn drop(&mut self) {
        if let Compiled::Gpu(m) = &self.model.module {
            m.forget_callers_buffers();
        }
    }
}

pub(crate) fn i32s(v: impl IntoIterator<Item = usize>) -> HostTensor {
    let v: Vec<i32> = v.into_iter().map(|x| x as i32).collect();
    HostTensor::from_i32(&[v.len()], &v)
}

impl Session<'_> {
    /// Tokens evaluated so far.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Whether nothing has been evaluated yet.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The tokens evaluated so far.
    pub fn tokens(&self) -> &[u32] {
        &self.tokens
    }

    /// Forget every token after the first `n` (their keys and values too),
    /// so a conversation can continue from a shared prefix.
    pub fn truncate(&mut self, n: usize) {
        if n >= self.len() {
            return;
        }
        self.tokens.truncate(n);
        if n == 0 {
            self.caches.clear();
            return;
        }
        for c in &mut self.caches {
            *c = c.truncated(n);
        }
    }

    /// Error unless `more` tokens fit after the ones already seen.
    pub fn check_room(&self, more: usize, what: &str) -> Result<(), ZooError> {
        self.model.check_room(self.len(), more, what)
    }

    /// Evaluate `prompt` after the tokens already seen, then sample up to
    /// `max_tokens` tokens, stopping early at an end-of-generation token
    /// (which is not returned). `on_text` receives the text of each token as
    /// it completes. The last sampled token is not evaluated: the next call
    /// starts by evaluating its prompt, which should begin with it.
    pub fn generate(&mut self, prompt: &[u32], max_tokens: usize, sampler: &SamplerConfig, mut on_text: impl FnMut(&str)) -> Result<Generation, ZooError> {
        if prompt.is_empty() {
            return Err(ZooError::Argument("the prompt has no tokens".into()));
        }
        let mut sampler = Sampler::new(sampler.clone())?;
        self.check_room(prompt.len() + max_tokens.saturating_sub(1), "prompt plus the tokens to generate")?;
        let tokenizer = &self.model.tokenizer;
        let t0 = Instant::now();
        let mut logits = self.feed(prompt, Logits::Last)?.pop().expect("one row of logits");
        let prefill_time = t0.elapsed();
        let t1 = Instant::now();
        let mut history = self.tokens.clone();
        let mut tokens = Vec::new();
        let mut stream = Utf8Stream::default();
        let mut text = String::new();
        let mut stopped_at_end = false;
        loop {
            let next = sampler.sample(&logits, &history);
            if tokenizer.is_end_of_generation(next) {
                stopped_at_end = true;
                break;
            }
            tokens.push(next);
            history.push(next);
            let piece = stream.push(&tokenizer.token_bytes(next, false));
            on_text(&piece);
            text.push_str(&piece);
            if tokens.len() >= max_tokens {
                break;
            }
            logits = self.feed(&[next], Logits::Last)?.pop().expect("one row of logits");
        }
        let rest = stream.finish();
        on_text(&rest);
        text.push_str(&rest);
        Ok(Generation { prompt_tokens: prompt.to_vec(), tokens, text, prefill_time, decode_time: t1.elapsed(), stopped_at_end })
    }

    fn function_for(past: usize, n: usize, which: Logits) -> &'static str {
        match (past, n, which) {
            (0, _, _) => "prefill",
            (_, 1, Logits::Last) => "decode",
            _ => "extend",
        }
    }

    /// The inputs of the function that evaluates `tokens` next, and where
    /// the caches start among them. The caches move into the inputs (the
    /// session holds them again when it accepts the outputs): a GPU appends
    /// a token's keys and values in place only to a cache nothing else holds.
    fn step_inputs(&mut self, tokens: &[u32], which: Logits) -> (Vec<Value>, usize) {
        let (past, n) = (self.len(), tokens.len());
        let mut inputs = vec![Value::Host(i32s(tokens.iter().map(|&t| t as usize))), Value::Host(rope_table(&self.model.config.rope, past..past + n))];
        if Session::function_for(past, n, which) != "decode" {
            let rows = match which {
                Logits::Last => n - 1..n,
                Logits::All => 0..n,
            };
            inputs.push(Value::Host(i32s(rows)));
        }
        let first_cache = inputs.len();
        inputs.extend(std::mem::take(&mut self.caches));
        (inputs, first_cache)
    }

    /// Take a function's outputs: keep the grown caches (where they are),
    /// return the logits (read back to the host).
    fn accept(&mut self, tokens: &[u32], mut out: Vec<Value>) -> Result<Vec<f32>, ZooError> {
        self.caches = out.split_off(1);
        self.tokens.extend_from_slice(tokens);
        Ok(out.pop().expect("logits are the first output").to_host()?.to_f32())
    }

    /// Evaluate `tokens` after those already seen; returns the logits of the
    /// last position or of every position of `tokens`.
    pub fn feed(&mut self, tokens: &[u32], which: Logits) -> Result<Vec<Vec<f32>>, ZooError> {
        if tokens.is_empty() {
            return Err(ZooError::Argument("no tokens to evaluate".into()));
        }
        self.model.check_tokens(self.len(), tokens, "the conversation so far plus the new tokens")?;
        let vocab = self.model.config.vocab;
        let function = Session::function_for(self.len(), tokens.len(), which);
        let (mut inputs, first_cache) = self.step_inputs(tokens, which);
        let out = match self.model.module.run(function, &inputs) {
            Ok(out) => out,
            Err(e) => {
                // nothing was evaluated: the caches as they were
                self.caches = inputs.split_off(first_cache);
                return Err(e);
            }
        };
        drop(inputs);
        let logits = self.accept(tokens, out)?;
        Ok(logits.chunks(vocab).map(<[f32]>::to_vec).collect())
    }
}
