//! Picking the next token from logits: greedy, or seeded sampling with
//! temperature, top-k, top-p and a repetition penalty.

use crate::error::ZooError;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// How to pick tokens.
#[derive(Clone, Debug, PartialEq)]
pub struct SamplerConfig {
    /// 0 picks the most likely token (greedy); higher flattens the distribution.
    pub temperature: f32,
    /// Keep only the `k` most likely tokens (0 keeps all).
    pub top_k: usize,
    /// Keep the smallest set of most likely tokens whose probability reaches `p` (1 keeps all).
    pub top_p: f32,
    /// Divide positive (multiply negative) logits of tokens seen in the last
    /// `repeat_window` tokens by this (1 disables it).
    pub repeat_penalty: f32,
    /// How many recent tokens the penalty looks at.
    pub repeat_window: usize,
    /// Seed of the random generator.
    pub seed: u64,
}

impl Default for SamplerConfig {
    fn default() -> Self {
        SamplerConfig { temperature: 0.0, top_k: 0, top_p: 1.0, repeat_penalty: 1.0, repeat_window: 64, seed: 0 }
    }
}

impl SamplerConfig {
    /// Check ranges, naming the bad setting.
    pub fn validate(&self) -> Result<(), ZooError> {
        let bad = |m: String| Err(ZooError::Argument(m));
        if !(self.temperature >= 0.0 && self.temperature.is_finite()) {
            return bad(format!("temperature must be 0 or more, got {}", self.temperature));
        }
        if !(self.top_p > 0.0 && self.top_p <= 1.0) {
            return bad(format!("top-p must be in (0, 1], got {}", self.top_p));
        }
        if !(self.repeat_penalty > 0.0 && self.repeat_penalty.is_finite()) {
            return bad(format!("repetition penalty must be positive, got {}", self.repeat_penalty));
        }
        Ok(())
    }
}

/// A seeded sampler.
#[derive(Debug)]
pub struct Sampler {
    config: SamplerConfig,
    rng: StdRng,
}

/// Index of the largest value, the first one on ties (NaN never wins).
pub fn argmax(v: &[f32]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] || v[best].is_nan() {
            best = i;
        }
    }
    best
}

impl Sampler {
    /// A sampler; the configuration must be valid.
    pub fn new(config: SamplerConfig) -> Result<Sampler, ZooError> {
        config.validate()?;
        let rng = StdRng::seed_from_u64(config.seed);
        Ok(Sampler { config, rng })
    }

    /// Pick the next token from `logits`, given the tokens so far.
    pub fn sample(&mut self, logits: &[f32], history: &[u32]) -> u32 {
        let c = &self.config;
        let mut logits = logits.to_vec();
        if c.repeat_penalty != 1.0 {
            let from = history.len().saturating_sub(c.repeat_window);
            let mut seen: Vec<u32> = history[from..].to_vec();
            seen.sort_unstable();
            seen.dedup();
            for t in seen {
                if let Some(l) = logits.get_mut(t as usize) {
                    *l = if *l > 0.0 { *l / c.repeat_penalty } else { *l * c.repeat_penalty };
                }
            }
        }
        if c.temperature == 0.0 {
            return argmax(&logits) as u32;
        }
        // candidates by decreasing logit
        let mut cand: Vec<(u32, f32)> = logits.iter().enumerate().filter(|(_, l)| !l.is_nan()).map(|(i, &l)| (i as u32, l)).collect();
        cand.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        if c.top_k > 0 {
            cand.truncate(c.top_k);
        }
        let max = cand[0].1;
        let mut probs: Vec<f64> = cand.iter().map(|&(_, l)| (((l - max) / c.temperature) as f64).exp()).collect();
        let total: f64 = probs.iter().sum();
        probs.iter_mut().for_each(|p| *p /= total);
        if c.top_p < 1.0 {
            let mut acc = 0.0;
            let keep = probs.iter().position(|p| {
                acc += p;
                acc >= c.top_p as f64
            });
            let keep = keep.map_or(probs.len(), |i| i + 1);
            probs.truncate(keep);
            cand.truncate(keep);
        }
        let total: f64 = probs.iter().sum();
        let mut r = self.rng.random_range(0.0..total);
        for (i, p) in probs.iter().enumerate() {
            if r < *p {
                return cand[i].0;
            }
            r -= p;
        }
        cand[probs.len() - 1].0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temperature_zero_is_argmax_and_ignores_the_seed() {
        let logits = [0.1, 2.0, -1.0, 2.0];
        for seed in 0..3 {
            let mut s = Sampler::new(SamplerConfig { seed, ..Default::default() }).unwrap();
            assert_eq!(s.sample(&logits, &[]), 1);
        }
    }

    #[test]
    fn top_k_one_and_tiny_top_p_are_greedy_at_any_temperature() {
        let logits = [0.5, 0.4, 3.0, 0.0];
        let mut k = Sampler::new(SamplerConfig { temperature: 5.0, top_k: 1, seed: 7, ..Default::default() }).unwrap();
        let mut p = Sampler::new(SamplerConfig { temperature: 5.0, top_p: 1e-6, seed: 7, ..Default::default() }).unwrap();
        for _ in 0..20 {
            assert_eq!(k.sample(&logits, &[]), 2);
            assert_eq!(p.sample(&logits, &[]), 2);
        }
    }

    #[test]
    fn sampling_is_seeded_and_follows_the_distribution() {
        let logits = [0.0f32, (3.0f32).ln()]; // probabilities 1/4 and 3/4
        let draw = |seed| {
            let mut s = Sampler::new(SamplerConfig { temperature: 1.0, seed, ..Default::default() }).unwrap();
            (0..4000).map(|_| s.sample(&logits, &[])).collect::<Vec<u32>>()
        };
        assert_eq!(draw(42), draw(42));
        assert_ne!(draw(42), draw(43));
        let ones = draw(42).iter().filter(|&&t| t == 1).count() as f64 / 4000.0;
        assert!((ones - 0.75).abs() < 0.03, "{ones}");
    }

    #[test]
    fn the_repetition_penalty_demotes_seen_tokens() {
        let logits = [2.0, 1.9, -1.0];
        let mut s = Sampler::new(SamplerConfig { repeat_penalty: 1.5, ..Default::default() }).unwrap();
        assert_eq!(s.sample(&logits, &[0]), 1);
        assert_eq!(s.sample(&logits, &[]), 0);
    }

    #[test]
    fn bad_settings_are_named() {
        for (cfg, word) in [
            (SamplerConfig { temperature: -1.0, ..Default::default() }, "temperature"),
            (SamplerConfig { top_p: 0.0, ..Default::default() }, "top-p"),
            (SamplerConfig { repeat_penalty: 0.0, ..Default::default() }, "penalty"),
        ] {
            assert!(Sampler::new(cfg).unwrap_err().to_string().contains(word));
        }
    }
}
