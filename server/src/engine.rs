//! The engine: one thread that owns the model and runs every request's
//! sequence, a step at a time, so concurrent requests share the device.
//!
//! Requests arrive as [`Job`]s. The engine tokenizes each at once (a prompt
//! that does not fit the context is refused before it waits), queues it
//! (refused when `max_queue` are already waiting), and admits it when fewer
//! than `max_concurrent` sequences are running and the KV cache has pages
//! for its prompt. Every sequence keeps its keys and values in pages of
//! one pool ([`KvPool`], sized once at start: memory stays bounded), taking
//! pages as it grows and giving them back when it ends. Each round every
//! running sequence takes one step: its prompt's prefill, or one sampled
//! token and that token's decode; the decodes of a round run together, as
//! batches of the sizes the model was compiled for ([`Model::decode_batch`]:
//! each weight read once per batch and one attention per layer over every
//! sequence's pages, which is what raises the throughput of many clients
//! above one client's). When the pool has no page for a sequence's next
//! token, the most recently admitted sequences are evicted until the rest
//! fit: their pages are freed, and once pages are free again each
//! evaluates its prompt and then its generated tokens again, one decode at
//! a time without sampling (vLLM's recompute preemption, made exact: the
//! keys and values come out as they were, so the reply is the one the
//! request would have got without the eviction). A sequence whose client
//! went away (its event channel closed) or whose time ran out is dropped
//! at its next step, with its pages; one whose client stopped reading
//! waits (its events are kept in a short outbox) without taking steps.

use crate::api::{ApiError, Limits, Usage};
use crate::stop::StopMatcher;
use kiln_llm_zoo::tokenizer::Utf8Stream;
use kiln_llm_zoo::paged::pages_for;
use kiln_llm_zoo::{KvPool, Message, Model, PagedSequence, Sampler, SamplerConfig, ZooError};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::mpsc::Sender;

/// Events a request's channel should hold: a sequence whose client has
/// not read this many pauses (it takes no steps) until the client catches
/// up, so a slow or stalled client costs neither compute nor memory.
pub const EVENTS_IN_FLIGHT: usize = 16;

/// How many requests run and wait, and for how long.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Sequences generating at once (each holds its KV cache).
    pub max_concurrent: usize,
    /// Requests waiting for a place beyond those; more are refused (503).
    pub max_queue: usize,
    /// Longest a request may take, waiting included (504 after it).
    pub timeout: Duration,
    /// Print a line on stderr as each request ends (tokens, times, why).
    pub log_requests: bool,
    /// Tokens the paged KV cache holds, all sequences together (`None`:
    /// enough for every sequence to reach [`DEFAULT_TOKENS_PER_SEQUENCE`]
    /// tokens, or the context if shorter). A request may use at most the
    /// context or this, whichever is smaller.
    pub kv_cache_tokens: Option<usize>,
}

/// Tokens per concurrent sequence the KV cache holds by default.
pub const DEFAULT_TOKENS_PER_SEQUENCE: usize = 2048;

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig { max_concurrent: 8, max_queue: 64, timeout: Duration::from_secs(600), log_requests: false, kv_cache_tokens: None }
    }
}

impl EngineConfig {
    /// Tokens of the KV cache for a model of `context` tokens.
    pub fn kv_tokens(&self, context: usize) -> usize {
        self.kv_cache_tokens.unwrap_or_else(|| self.max_concurrent.saturating_mul(context.min(DEFAULT_TOKENS_PER_SEQUENCE)))
    }
}

/// What to generate from.
#[derive(Clone, Debug)]
pub enum PromptInput {
    /// A conversation, rendered with the model's chat template.
    Chat(Vec<Message>),
    /// Text, tokenized as written (control tokens recognised).
    Text(String),
}

/// One request for the engine.
#[derive(Debug)]
pub struct Job {
    /// The prompt.
    pub prompt: PromptInput,
    /// Validated sampling and length settings.
    pub limits: Limits,
    /// Where the engine reports (a channel of [`EVENTS_IN_FLIGHT`] or more:
    /// a sequence whose client does not read pauses when it is full);
    /// dropping the receiver cancels the job.
    pub events: Sender<Event>,
}

/// Why generation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FinishReason {
    /// An end-of-generation token or a stop sequence.
    Stop,
    /// `max_tokens` (or the context) ran out.
    Length,
}

impl FinishReason {
    /// As the API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            FinishReason::Stop => "stop",
            FinishReason::Length => "length",
        }
    }
}

/// What the engine tells a request, in order: `Accepted` or `Failed`
/// first; then text; then `Done` or `Failed`.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// The prompt fits and the request is queued.
    Accepted {
        /// Tokens of the prompt.
        prompt_tokens: usize,
    },
    /// Generated text (complete UTF-8, never part of a stop sequence).
    Text(String),
    /// Generation ended.
    Done {
        /// Why.
        finish_reason: FinishReason,
        /// Token counts.
        usage: Usage,
    },
    /// The request failed (refused, timed out, or the model failed).
    Failed(ApiError),
}

/// Counters the engine keeps (read by `GET /health`).
#[derive(Debug, Default)]
pub struct Stats {
    /// Sequences generating now.
    pub active: AtomicUsize,
    /// Requests waiting for a place.
    pub queued: AtomicUsize,
    /// Requests finished with a reply.
    pub completed: AtomicUsize,
    /// Requests dropped because their client went away.
    pub cancelled: AtomicUsize,
    /// Requests refused or failed.
    pub failed: AtomicUsize,
    /// Tokens generated, all requests together.
    pub generated_tokens: AtomicUsize,
    /// Calls that decoded several sequences' tokens at once.
    pub batched_steps: AtomicUsize,
    /// Pages of the KV cache.
    pub kv_pages: AtomicUsize,
    /// Free pages of the KV cache.
    pub kv_pages_free: AtomicUsize,
    /// Sequences evicted from the KV cache to make room (each evaluates
    /// its tokens again later).
    pub preempted: AtomicUsize,
    /// The engine thread has ended (a panic in the model): no request
    /// will be served, and `GET /health` says so with 503.
    pub stopped: AtomicBool,
}

/// Marks the engine stopped when the engine thread ends, however it ends
/// (a panic unwinds through it too).
struct StopsOnDrop(Arc<Stats>);

impl Drop for StopsOnDrop {
    fn drop(&mut self) {
        self.0.stopped.store(true, Ordering::Relaxed);
    }
}

/// The served model's description.
#[derive(Clone, Debug)]
pub struct ModelInfo {
    /// The id clients name in `model`.
    pub id: String,
    /// The model's own name (`general.name`).
    pub name: String,
    /// Tokens a request may use, prompt and completion: the model's
    /// context, or the KV cache's size if smaller.
    pub context: usize,
    /// Tokens and bytes of the KV cache.
    pub kv_cache: (usize, usize),
    /// When it was loaded (Unix seconds; `created` in `/v1/models`).
    pub created: u64,
}

/// A running engine thread.
#[derive(Debug)]
pub struct Engine {
    jobs: mpsc::Sender<Job>,
    stats: Arc<Stats>,
    info: ModelInfo,
    config: EngineConfig,
}

impl Engine {
    /// Start the engine thread: `load` builds the model there (a model
    /// stays on the thread that loaded it; it must decode batches of 1, see
    /// [`Model::load_batched`], and of any other sizes it should batch), and
    /// this returns once it has, with its KV cache, or with its error.
    pub fn start<F>(id: &str, config: EngineConfig, load: F) -> Result<Engine, String>
    where
        F: FnOnce() -> Result<Model, String> + Send + 'static,
    {
        if config.max_concurrent == 0 {
            return Err("max_concurrent must be at least 1".into());
        }
        let (jobs, rx) = mpsc::channel::<Job>();
        let (ready_tx, ready_rx) = mpsc::channel::<Result<ModelInfo, String>>();
        let stats = Arc::new(Stats::default());
        let (thread_stats, thread_config, id) = (stats.clone(), config.clone(), id.to_string());
        std::thread::Builder::new()
            .name("kiln-engine".into())
            .spawn(move || {
                let _stops = StopsOnDrop(thread_stats.clone());
                let loaded = load().and_then(|model| {
                    if !model.batch_sizes().contains(&1) {
                        return Err(format!("the engine decodes over a paged KV cache: load the model with batch size 1 among its batch sizes (Model::load_batched), not {:?}", model.batch_sizes()));
                    }
                    let tokens = thread_config.kv_tokens(model.config.context);
                    let pool = model.kv_pool(tokens).map_err(|e| format!("making a KV cache of {tokens} tokens: {e}"))?;
                    Ok((model, pool))
                });
                let (model, pool) = match loaded {
                    Ok(m) => m,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                let created = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
                let context = model.config.context.min(pool.capacity());
                thread_stats.kv_pages.store(pool.pages(), Ordering::Relaxed);
                thread_stats.kv_pages_free.store(pool.free_pages(), Ordering::Relaxed);
                let _ = ready_tx.send(Ok(ModelInfo { id, name: model.name.clone(), context, kv_cache: (pool.capacity(), pool.bytes()), created }));
                Scheduler { model: &model, pool, context, config: thread_config, stats: thread_stats, waiting: VecDeque::new(), running: Vec::new(), received: 0, admitted: 0 }.run(rx);
            })
            .map_err(|e| format!("starting the engine thread: {e}"))?;
        let info = ready_rx.recv().map_err(|_| "the engine thread stopped while loading the model".to_string())??;
        Ok(Engine { jobs, stats, info, config })
    }

    /// Hand a job to the engine; it answers on the job's channel.
    pub fn submit(&self, job: Job) -> Result<(), ApiError> {
        self.jobs.send(job).map_err(|_| ApiError::internal("the engine has stopped"))
    }

    /// The served model.
    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// The engine's counters.
    pub fn stats(&self) -> &Arc<Stats> {
        &self.stats
    }

    /// Its settings.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }
}

/// A request that is tokenized and waiting for a place.
struct Waiting {
    /// Its number, in order of arrival (for the log).
    id: u64,
    received: Instant,
    prompt: Vec<u32>,
    max_tokens: usize,
    limits: Limits,
    events: Sender<Event>,
    deadline: Instant,
}

/// A sequence that is generating.
struct Running {
    id: u64,
    /// Its place in the order of admission (the newest is evicted first).
    admitted: u64,
    received: Instant,
    /// When its first token was sampled.
    first_token: Option<Instant>,
    /// Its tokens and their pages of the KV cache.
    seq: PagedSequence,
    sampler: Sampler,
    /// The prompt, until its first step evaluates it (and again after an
    /// eviction).
    unfed: Vec<u32>,
    /// After an eviction: the tokens it had generated, to decode again
    /// (without sampling) after the prompt.
    replay: VecDeque<u32>,
    /// Logits of the last evaluated position.
    logits: Vec<f32>,
    prompt_tokens: usize,
    generated: usize,
    max_tokens: usize,
    text: Utf8Stream,
    stop: StopMatcher,
    events: Sender<Event>,
    /// Events the client's channel had no room for yet, in order.
    outbox: VecDeque<Event>,
    /// Whether its last event is in the outbox.
    finished: bool,
    deadline: Instant,
}

impl Running {
    fn send(&mut self, e: Event) {
        self.outbox.push_back(e);
    }

    /// Move the outbox into the client's channel while it has room; true
    /// when it is empty.
    fn flush(&mut self) -> bool {
        while let Some(e) = self.outbox.pop_front() {
            match self.events.try_send(e) {
                Ok(()) => {}
                Err(TrySendError::Full(e)) => {
                    self.outbox.push_front(e);
                    return false;
                }
                // the client is gone: nothing more to deliver
                Err(TrySendError::Closed(_)) => self.outbox.clear(),
            }
        }
        true
    }
}

impl Running {
    /// Pages its next step may take: for its unevaluated tokens and the
    /// one after them, or for its next token.
    fn pages_for_next_step(&self) -> usize {
        if self.seq.is_empty() {
            pages_for(self.unfed.len() + 1)
        } else {
            self.seq.pages_needed(1)
        }
    }
}

/// What a running sequence needs after [`Scheduler::advance`].
enum Next {
    /// Evaluate these tokens (its prompt, or the token just sampled).
    Feed(Vec<u32>),
    /// Nothing this round (its client has not read what it has).
    Wait,
    /// Drop it (finished and delivered, failed, or its client left).
    Drop,
}

struct Scheduler<'m> {
    model: &'m Model,
    /// Every sequence's keys and values.
    pool: KvPool,
    /// Tokens a request may use (the model's context, or the pool's size).
    context: usize,
    config: EngineConfig,
    stats: Arc<Stats>,
    waiting: VecDeque<Waiting>,
    running: Vec<Running>,
    /// Requests received so far.
    received: u64,
    /// Requests admitted so far.
    admitted: u64,
}

impl<'m> Scheduler<'m> {
    fn run(mut self, jobs: mpsc::Receiver<Job>) {
        let mut idle = false;
        loop {
            let job = if self.running.is_empty() && self.waiting.is_empty() {
                // nothing to do: wait for work (or for the server to go)
                jobs.recv().map_err(|_| mpsc::RecvTimeoutError::Disconnected)
            } else if idle {
                // every sequence waits for its client: don't spin
                jobs.recv_timeout(Duration::from_millis(2))
            } else {
                jobs.try_recv().map_err(|e| match e {
                    mpsc::TryRecvError::Empty => mpsc::RecvTimeoutError::Timeout,
                    mpsc::TryRecvError::Disconnected => mpsc::RecvTimeoutError::Disconnected,
                })
            };
            match job {
                Ok(job) => self.accept(job),
                Err(mpsc::RecvTimeoutError::Disconnected) if self.running.is_empty() => return,
                Err(_) => {}
            }
            while let Ok(job) = jobs.try_recv() {
                self.accept(job);
            }
            self.drop_abandoned_waiting();
            self.admit_waiting();
            idle = !self.step();
            self.stats.active.store(self.running.len(), Ordering::Relaxed);
            self.stats.queued.store(self.waiting.len(), Ordering::Relaxed);
            self.stats.kv_pages_free.store(self.pool.free_pages(), Ordering::Relaxed);
        }
    }

    fn log(&self, line: impl FnOnce() -> String) {
        if self.config.log_requests {
            eprintln!("kiln: {}", line());
        }
    }

    fn fail_waiting(&self, id: u64, events: &Sender<Event>, e: ApiError) {
        self.stats.failed.fetch_add(1, Ordering::Relaxed);
        self.log(|| format!("request {id}: {} {}", e.status.as_u16(), e.message));
        // a fresh channel has room
        let _ = events.try_send(Event::Failed(e));
    }

    /// Tokenize and check a new job, then queue it.
    fn accept(&mut self, job: Job) {
        self.received += 1;
        let id = self.received;
        match self.tokenize(&job) {
            Err(e) => self.fail_waiting(id, &job.events, e),
            Ok(_) if self.waiting.len() >= self.config.max_queue && self.running.len() >= self.config.max_concurrent => {
                self.fail_waiting(id, &job.events, ApiError::overloaded(self.waiting.len()))
            }
            Ok((prompt, max_tokens)) => {
                let _ = job.events.try_send(Event::Accepted { prompt_tokens: prompt.len() });
                let received = Instant::now();
                self.waiting.push_back(Waiting { id, received, prompt, max_tokens, limits: job.limits, events: job.events, deadline: received + self.config.timeout });
                // a free place takes it at once: the queue holds only the overflow
                self.admit_waiting();
                self.stats.queued.store(self.waiting.len(), Ordering::Relaxed);
            }
        }
    }

    /// The prompt's tokens and how many may be generated after them.
    fn tokenize(&self, job: &Job) -> Result<(Vec<u32>, usize), ApiError> {
        let m = self.model;
        let (text, param) = match &job.prompt {
            PromptInput::Chat(messages) => (m.chat_template.render(messages, true).map_err(|e| ApiError::invalid(e.to_string(), Some("messages")))?, "messages"),
            PromptInput::Text(t) => (t.clone(), "prompt"),
        };
        let prompt = m.tokenizer.encode(&text, true).map_err(|e| ApiError::invalid(e.to_string(), Some(param)))?;
        if prompt.is_empty() {
            return Err(ApiError::invalid(format!("the {param} has no tokens"), Some(param)));
        }
        let context = self.context;
        let room = context.saturating_sub(prompt.len());
        let exceeded = |asked: usize| {
            ApiError::invalid(
                format!("This model's maximum context length is {context} tokens. However, you requested {asked} tokens ({} in the {param}, {} in the completion). Please reduce the length of the {param} or the completion.", prompt.len(), asked - prompt.len()),
                Some(param),
            )
            .with_code("context_length_exceeded")
        };
        match job.limits.max_tokens {
            _ if room == 0 => Err(exceeded(prompt.len() + 1)),
            Some(n) if n > room => Err(exceeded(prompt.len().saturating_add(n))),
            n => Ok((prompt, n.unwrap_or(room))),
        }
    }

    /// Forget waiting requests whose clients left or whose time ran out.
    fn drop_abandoned_waiting(&mut self) {
        let now = Instant::now();
        let mut kept = VecDeque::with_capacity(self.waiting.len());
        for w in std::mem::take(&mut self.waiting) {
            if w.events.is_closed() {
                self.stats.cancelled.fetch_add(1, Ordering::Relaxed);
                self.log(|| format!("request {}: cancelled by its client while waiting", w.id));
            } else if now > w.deadline {
                self.fail_waiting(w.id, &w.events, ApiError::timeout(self.config.timeout.as_secs_f64()));
            } else {
                kept.push_back(w);
            }
        }
        self.waiting = kept;
    }

    /// Move waiting requests into free places, oldest first, while the KV
    /// cache has pages for each one's prompt and first token besides those
    /// the running sequences need for their next tokens (or prompts).
    fn admit_waiting(&mut self) {
        while self.running.len() < self.config.max_concurrent {
            let Some(w) = self.waiting.front() else { break };
            let reserved: usize = self.running.iter().map(Running::pages_for_next_step).sum();
            if pages_for(w.prompt.len() + 1) + reserved > self.pool.free_pages() && !self.running.is_empty() {
                break;
            }
            let w = self.waiting.pop_front().expect("looked at above");
            self.admit(w);
        }
    }

    fn admit(&mut self, w: Waiting) {
        let sampler = SamplerConfig { temperature: w.limits.temperature, top_k: 0, top_p: w.limits.top_p, repeat_penalty: 1.0, repeat_window: 64, seed: w.limits.seed };
        let sampler = match Sampler::new(sampler) {
            Ok(s) => s,
            Err(e) => return self.fail_waiting(w.id, &w.events, ApiError::invalid(e.to_string(), None)),
        };
        self.admitted += 1;
        self.running.push(Running {
            id: w.id,
            admitted: self.admitted,
            received: w.received,
            first_token: None,
            seq: self.pool.sequence(),
            sampler,
            prompt_tokens: w.prompt.len(),
            unfed: w.prompt,
            replay: VecDeque::new(),
            logits: Vec::new(),
            generated: 0,
            max_tokens: w.max_tokens,
            text: Utf8Stream::default(),
            stop: StopMatcher::new(w.limits.stop),
            events: w.events,
            outbox: VecDeque::new(),
            finished: false,
            deadline: w.deadline,
        });
    }

    /// One round: every running sequence that can advances; prompts are
    /// evaluated one by one, and the sampled tokens of all the others
    /// together, in as few [`Model::decode_batch`] calls as the model's
    /// batch sizes allow (each weight read once per call), after evicting
    /// the newest sequences while the KV cache lacks pages for the new
    /// tokens. False when no sequence could advance (all wait for their
    /// clients, or for pages).
    fn step(&mut self) -> bool {
        let mut running = std::mem::take(&mut self.running);
        let decisions: Vec<Next> = running.iter_mut().map(|r| self.advance(r)).collect();
        // the finished and the dropped give their pages back first
        for (r, d) in running.iter_mut().zip(&decisions) {
            if r.finished || matches!(d, Next::Drop) {
                self.release(r);
            }
        }
        let mut progressed = false;
        let mut decodes: Vec<(usize, u32)> = Vec::new();
        for (i, d) in decisions.iter().enumerate() {
            match d {
                Next::Feed(tokens) if running[i].seq.is_empty() => progressed |= self.prefill(&mut running[i], tokens.clone()),
                Next::Feed(tokens) => decodes.push((i, tokens[0])),
                Next::Wait | Next::Drop => {}
            }
        }
        // pages for the new tokens: evict the newest sequences holding
        // pages (decoding this round or not) until the rest fit
        while decodes.iter().map(|&(i, _)| running[i].seq.pages_needed(1)).sum::<usize>() > self.pool.free_pages() {
            let victim = running.iter().enumerate().filter(|(i, r)| r.seq.pages() > 0 && !matches!(decisions[*i], Next::Drop)).max_by_key(|(_, r)| r.admitted).map(|(i, _)| i);
            let Some(v) = victim else { break };
            let pending = decodes.iter().position(|&(i, _)| i == v).map(|p| decodes.remove(p).1);
            self.evict(&mut running[v], pending);
        }
        progressed |= !decodes.is_empty();
        while !decodes.is_empty() {
            let n = self.model.batch_sizes().iter().rev().copied().find(|&b| b <= decodes.len()).unwrap_or(1);
            // in the order of `running`, as `members` takes them
            let mut group: Vec<(usize, u32)> = decodes.drain(..n).collect();
            group.sort_by_key(|&(i, _)| i);
            let tokens: Vec<u32> = group.iter().map(|&(_, t)| t).collect();
            let mut members: Vec<&mut Running> = running.iter_mut().enumerate().filter(|(i, _)| group.iter().any(|&(g, _)| g == *i)).map(|(_, r)| r).collect();
            let mut seqs: Vec<&mut PagedSequence> = members.iter_mut().map(|r| &mut r.seq).collect();
            match self.model.decode_batch(&mut self.pool, &mut seqs, &tokens) {
                Ok(rows) => {
                    if n > 1 {
                        self.stats.batched_steps.fetch_add(1, Ordering::Relaxed);
                    }
                    for (r, row) in members.iter_mut().zip(rows) {
                        r.logits = row;
                    }
                }
                Err(e) => {
                    for r in members.iter_mut() {
                        self.fail(r, ApiError::internal(format!("the model failed: {e}")));
                    }
                }
            }
        }
        let mut keep = decisions.iter().map(|d| !matches!(d, Next::Drop));
        running.retain(|_| keep.next().unwrap_or(true));
        self.running = running;
        progressed
    }

    /// Evaluate a sequence's prompt and keep the last logits; when the KV
    /// cache lacks the pages, wait for them (false). A failure fails the
    /// sequence.
    fn prefill(&mut self, r: &mut Running, tokens: Vec<u32>) -> bool {
        match self.model.prefill_paged(&mut self.pool, &mut r.seq, &tokens) {
            Ok(logits) => r.logits = logits,
            Err(ZooError::KvPoolFull { .. }) => {
                r.unfed = tokens;
                return false;
            }
            Err(e) => self.fail(r, ApiError::internal(format!("the model failed: {e}"))),
        }
        true
    }

    /// Free a sequence's pages; once pages are free it evaluates its
    /// prompt again, then decodes its generated tokens again (the one it
    /// was about to decode, `pending`, and any it was replaying already).
    fn evict(&mut self, r: &mut Running, pending: Option<u32>) {
        let mut tokens = r.seq.tokens().to_vec();
        tokens.extend(pending);
        self.release(r);
        let generated = tokens.split_off(r.prompt_tokens.min(tokens.len()));
        let rest = std::mem::replace(&mut r.replay, generated.into());
        r.replay.extend(rest);
        r.unfed = tokens;
        self.stats.preempted.fetch_add(1, Ordering::Relaxed);
        self.log(|| format!("request {}: evicted from the KV cache after {} tokens; it will evaluate them again", r.id, r.unfed.len() + r.replay.len()));
    }

    fn release(&mut self, r: &mut Running) {
        self.pool.release(&mut r.seq).expect("every sequence is of the engine's pool");
    }

    /// End a running sequence with an error (sent at once, if there is room).
    fn fail(&self, r: &mut Running, e: ApiError) {
        self.stats.failed.fetch_add(1, Ordering::Relaxed);
        self.log(|| format!("request {}: {} {} after {} tokens", r.id, e.status.as_u16(), e.message, r.generated));
        r.send(Event::Failed(e));
        r.finished = true;
        r.flush();
    }

    /// Deliver a sequence's events, then sample its next token from its
    /// logits and queue its text; say what it needs evaluated.
    fn advance(&self, r: &mut Running) -> Next {
        let delivered = r.flush();
        if r.events.is_closed() {
            if !r.finished {
                self.stats.cancelled.fetch_add(1, Ordering::Relaxed);
                self.log(|| format!("request {}: cancelled by its client after {} tokens", r.id, r.generated));
            }
            return Next::Drop;
        }
        if !delivered {
            return Next::Wait;
        }
        if r.finished {
            return Next::Drop;
        }
        if Instant::now() > r.deadline {
            self.fail(r, ApiError::timeout(self.config.timeout.as_secs_f64()));
            return Next::Wait;
        }
        if !r.unfed.is_empty() {
            return Next::Feed(std::mem::take(&mut r.unfed));
        }
        if let Some(t) = r.replay.pop_front() {
            return Next::Feed(vec![t]);
        }
        let tokenizer = &self.model.tokenizer;
        let next = r.sampler.sample(&r.logits, r.seq.tokens());
        r.first_token.get_or_insert_with(Instant::now);
        if tokenizer.is_end_of_generation(next) {
            self.finish(r, FinishReason::Stop);
            return Next::Wait;
        }
        r.generated += 1;
        self.stats.generated_tokens.fetch_add(1, Ordering::Relaxed);
        let piece = r.text.push(&tokenizer.token_bytes(next, false));
        let released = r.stop.push(&piece);
        if !released.text.is_empty() {
            r.send(Event::Text(released.text));
        }
        if released.stopped {
            self.done(r, FinishReason::Stop);
        } else if r.generated >= r.max_tokens {
            self.finish(r, FinishReason::Length);
        } else {
            r.flush();
            return Next::Feed(vec![next]);
        }
        r.flush();
        Next::Wait
    }

    /// Queue what is held back (unless it holds a stop sequence), then the
    /// end of the reply.
    fn finish(&self, r: &mut Running, mut reason: FinishReason) {
        let rest = r.text.finish();
        let released = r.stop.push(&rest);
        let mut tail = released.text;
        if released.stopped {
            reason = FinishReason::Stop;
        } else {
            tail.push_str(&r.stop.finish());
        }
        if !tail.is_empty() {
            r.send(Event::Text(tail));
        }
        self.done(r, reason);
    }

    /// Queue the end of the reply.
    fn done(&self, r: &mut Running, reason: FinishReason) {
        self.stats.completed.fetch_add(1, Ordering::Relaxed);
        self.log(|| {
            let total = r.received.elapsed().as_secs_f64();
            let first = r.first_token.map_or(total, |t| t.duration_since(r.received).as_secs_f64());
            let rate = if total > first { r.generated.saturating_sub(1) as f64 / (total - first) } else { 0.0 };
            format!("request {}: {} prompt + {} generated tokens ({}) in {total:.2} s, first token after {first:.2} s, then {rate:.1} tokens/s", r.id, r.prompt_tokens, r.generated, reason.as_str())
        });
        r.send(Event::Done { finish_reason: reason, usage: Usage::new(r.prompt_tokens, r.generated) });
        r.finished = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_engine_thread_that_panics_is_marked_stopped() {
        let stats = Arc::new(Stats::default());
        let thread_stats = stats.clone();
        let ended = std::thread::spawn(move || {
            let _stops = StopsOnDrop(thread_stats);
            panic!("the model failed");
        })
        .join();
        assert!(ended.is_err());
        assert!(stats.stopped.load(Ordering::Relaxed));
    }
}
