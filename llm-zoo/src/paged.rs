//! A paged KV cache shared by many sequences (what a server decoding
//! several conversations at once keeps): per layer one pool of keys and one
//! of values, cut into pages of [`KV_PAGE`] rows that sequences take as
//! they grow and give back when they end, so memory is bounded by the pool
//! and no sequence's cache is ever copied to grow. [`Model::decode_batch`]
//! decodes one token of each of several sequences in one call, reading
//! each weight once for all of them and attending each over its own pages.

use crate::error::ZooError;
use crate::llama::{decode_batch_function, rope_table, KV_PAGE};
use crate::model::{i32s, Compiled, Logits, Model};
use kiln_dsl::HostTensor;
use kiln_runtime::{RowRun, Value};
use std::sync::atomic::{AtomicU64, Ordering};

/// Pages of [`KV_PAGE`] rows that `tokens` tokens take.
pub fn pages_for(tokens: usize) -> usize {
    tokens.div_ceil(KV_PAGE)
}

/// Pools made so far: each gets its own number, which its sequences carry.
static POOLS: AtomicU64 = AtomicU64::new(0);

/// The KV pages of one model on its device.
#[derive(Debug)]
pub struct KvPool {
    id: u64,
    /// Per layer: keys, then values, `[pages * KV_PAGE, kv_heads,
    /// head_dim]`.
    pools: Vec<Value>,
    /// Pages no sequence holds.
    free: Vec<u32>,
    pages: usize,
    /// Bytes one token takes over every layer's keys and values.
    token_bytes: usize,
}

/// A sequence whose keys and values live in a [`KvPool`]'s pages: the
/// tokens it has evaluated and the pages holding them, in order.
#[derive(Debug)]
pub struct PagedSequence {
    pool: u64,
    pages: Vec<u32>,
    tokens: Vec<u32>,
}

impl PagedSequence {
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

    /// Pages it holds.
    pub fn pages(&self) -> usize {
        self.pages.len()
    }

    /// Pages it needs besides those it holds to take `more` tokens.
    pub fn pages_needed(&self, more: usize) -> usize {
        pages_for(self.len() + more).saturating_sub(self.pages.len())
    }

    /// The pool row of its `j`-th token.
    fn row(&self, j: usize) -> usize {
        self.pages[j / KV_PAGE] as usize * KV_PAGE + j % KV_PAGE
    }
}

impl KvPool {
    /// Pages in the pool.
    pub fn pages(&self) -> usize {
        self.pages
    }

    /// Pages no sequence holds.
    pub fn free_pages(&self) -> usize {
        self.free.len()
    }

    /// Tokens the whole pool holds.
    pub fn capacity(&self) -> usize {
        self.pages * KV_PAGE
    }

    /// Bytes of its keys and values.
    pub fn bytes(&self) -> usize {
        self.capacity() * self.token_bytes
    }

    /// A new, empty sequence of this pool.
    pub fn sequence(&self) -> PagedSequence {
        PagedSequence { pool: self.id, pages: Vec::new(), tokens: Vec::new() }
    }

    /// Take back `seq`'s pages; it is empty afterwards (and may start
    /// again).
    pub fn release(&mut self, seq: &mut PagedSequence) -> Result<(), ZooError> {
        self.check(seq)?;
        self.free.extend(seq.pages.drain(..).rev());
        seq.tokens.clear();
        Ok(())
    }

    fn check(&self, seq: &PagedSequence) -> Result<(), ZooError> {
        if seq.pool != self.id {
            return Err(ZooError::Argument("a sequence of another KV pool".into()));
        }
        Ok(())
    }

    /// Give each sequence the pages it needs for `more` more tokens, all or
    /// none.
    fn grow(&mut self, seqs: &mut [&mut PagedSequence], more: usize) -> Result<(), ZooError> {
        let needed: usize = seqs.iter().map(|s| s.pages_needed(more)).sum();
        if needed > self.free.len() {
            return Err(ZooError::KvPoolFull { needed, free: self.free.len(), pages: self.pages });
        }
        for s in seqs.iter_mut() {
            for _ in 0..s.pages_needed(more) {
                s.pages.push(self.free.pop().expect("counted above"));
            }
        }
        Ok(())
    }
}

impl Model {
    /// A pool of KV pages for at least `tokens` tokens (whole pages) on the
    /// model's device, zero-filled.
    pub fn kv_pool(&self, tokens: usize) -> Result<KvPool, ZooError> {
        let c = &self.config;
        let pages = pages_for(tokens).max(1);
        if pages > u32::MAX as usize {
            return Err(ZooError::Argument(format!("a KV pool of {tokens} tokens is too large")));
        }
        let dtype = self.numerics.kv_dtype();
        let shape = [pages * KV_PAGE, c.kv_heads, c.head_dim];
        let pools = (0..2 * c.layers)
            .map(|i| match &self.module {
                Compiled::Cpu(_) => Ok(Value::Host(HostTensor::zeros(dtype, &shape))),
                Compiled::Gpu(m) => m.device().zeros(&format!("kv pool {i}"), dtype, &shape).map(Value::Gpu),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let token_bytes = 2 * c.layers * dtype.storage_bytes(c.kv_dim());
        let id = POOLS.fetch_add(1, Ordering::Relaxed);
        Ok(KvPool { id, pools, free: (0..pages as u32).rev().collect(), pages, token_bytes })
    }

    /// Evaluate `prompt` as the first tokens of `seq` (which must be empty),
    /// keeping its keys and values in pages of `pool`; returns the last
    /// position's logits. The pages are taken first: a pool without them
    /// refuses ([`ZooError::KvPoolFull`]) before anything is computed.
    pub fn prefill_paged(&self, pool: &mut KvPool, seq: &mut PagedSequence, prompt: &[u32]) -> Result<Vec<f32>, ZooError> {
        pool.check(seq)?;
        if !seq.is_empty() {
            return Err(ZooError::Argument("prefill_paged starts a sequence; this one has tokens already".into()));
        }
        pool.grow(&mut [&mut *seq], prompt.len())?;
        let mut fill = || -> Result<Vec<f32>, ZooError> {
            let mut session = self.session();
            let logits = session.feed(prompt, Logits::Last)?.pop().expect("one row of logits");
            let runs: Vec<RowRun> = (0..prompt.len()).step_by(KV_PAGE).map(|from| RowRun { from, to: seq.row(from), rows: KV_PAGE.min(prompt.len() - from) }).collect();
            let mut copies: Vec<(&mut Value, &Value)> = pool.pools.iter_mut().zip(&session.caches).collect();
            Value::copy_rows_each(&mut copies, &runs)?;
            Ok(logits)
        };
        match fill() {
            Ok(logits) => {
                seq.tokens.extend_from_slice(prompt);
                Ok(logits)
            }
            Err(e) => {
                // the sequence stays empty: its pages go back
                pool.release(seq)?;
                Err(e)
            }
        }
    }

    /// Evaluate one token of each of several sequences in one call (each
    /// weight read once for all of them) and return each one's logits, in
    /// order. The count must be one of [`Model::batch_sizes`]; every
    /// sequence must belong to `pool`, hold a prompt already, and have room
    /// in the context; the pool must have the pages the new tokens need
    /// ([`PagedSequence::pages_needed`], else nothing runs). Each row is
    /// what [`crate::Session::feed`] of that token alone computes: bit for
    /// bit on the CPU with llama.cpp's numerics (whose attention templates
    /// fix every sum's order), to f32 rounding otherwise (a GPU schedules a
    /// matmul of several rows, and so its sums, unlike one row's; generic
    /// kernels may vectorize a key count of whole pages more widely than a
    /// cache's).
    pub fn decode_batch(&self, pool: &mut KvPool, seqs: &mut [&mut PagedSequence], tokens: &[u32]) -> Result<Vec<Vec<f32>>, ZooError> {
        let b = seqs.len();
        if b != tokens.len() {
            return Err(ZooError::Argument(format!("{b} sequences but {} tokens", tokens.len())));
        }
        if !self.batch_sizes().contains(&b) {
            return Err(ZooError::Argument(format!("no function decodes {b} sequences at once; this model was compiled for {:?}", self.batch_sizes())));
        }
        for (s, &t) in seqs.iter().zip(tokens) {
            pool.check(s)?;
            if s.is_empty() {
                return Err(ZooError::Argument("a sequence without a prompt: evaluate one first".into()));
            }
            self.check_tokens(s.len(), &[t], "a sequence and its new token")?;
        }
        pool.grow(seqs, 1)?;
        let width = seqs.iter().map(|s| s.pages.len()).max().unwrap_or(1);
        let mut table = vec![0i32; b * width];
        for (row, s) in table.chunks_mut(width).zip(seqs.iter()) {
            for (t, &p) in row.iter_mut().zip(&s.pages) {
                *t = p as i32;
            }
        }
        let mut inputs = vec![
            Value::Host(i32s(tokens.iter().map(|&t| t as usize))),
            Value::Host(rope_table(&self.config.rope, seqs.iter().map(|s| s.len()))),
            Value::Host(HostTensor::from_i32(&[b, width], &table)),
            Value::Host(i32s(seqs.iter().map(|s| s.len()))),
        ];
        inputs.extend(pool.pools.iter().cloned());
        let out = self.module.run(&decode_batch_function(b), &inputs)?;
        // the pools' only holders again before their rows are written (a
        // host tensor another value shares is copied whole on write)
        drop(inputs);
        // each sequence's new keys and values into the row after its last
        let runs: Vec<RowRun> = seqs.iter().enumerate().map(|(i, s)| RowRun { from: i, to: s.row(s.len()), rows: 1 }).collect();
        let mut copies: Vec<(&mut Value, &Value)> = pool.pools.iter_mut().zip(&out[1..]).collect();
        Value::copy_rows_each(&mut copies, &runs)?;
        let logits = out[0].to_host()?.to_f32();
        let vocab = self.config.vocab;
        for (s, &t) in seqs.iter_mut().zip(tokens) {
            s.tokens.push(t);
        }
        Ok(logits.chunks(vocab).map(<[f32]>::to_vec).collect())
    }
}
