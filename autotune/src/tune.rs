//! The search: the default schedule first (the baseline), then a random
//! population, then generations of evolution — children by crossover of
//! good parents and mutation — ranked by a gradient-boosted cost model
//! trained on every measurement so far, the best predicted measured next
//! (with one random child per batch, so the model sees outside its own
//! beliefs). Stops at the trial budget, when the space is exhausted, or
//! when the best has not improved by 1% for `patience` trials. Candidates
//! of a batch compile on another thread while earlier ones are measured.

use crate::measure::{Backend, Bench, MeasureOptions, Timing};
use crate::space::{features, Point, Space};
use crate::workload::Workload;
use crate::TuneError;
use gbdt::config::Config;
use gbdt::decision_tree::{Data, DataVec};
use gbdt::gradient_boost::GBDT;
use kiln_schedule::{Knobs, Target};
use kiln_tuning_db::{Device, Record, TuningDb};
use rand::{Rng, SeedableRng};
use std::collections::{HashMap, HashSet};
use std::sync::mpsc;

/// How long to search.
#[derive(Clone, Copy, Debug)]
pub struct TuneOptions {
    /// Candidates measured at most (the default schedule included).
    pub trials: usize,
    /// Stop after this many trials without a 1% improvement.
    pub patience: usize,
    /// Candidates measured per generation.
    pub batch: usize,
    /// Random seed of the search.
    pub seed: u64,
    /// How each candidate is timed.
    pub measure: MeasureOptions,
}

impl Default for TuneOptions {
    fn default() -> Self {
        TuneOptions { trials: 64, patience: 24, batch: 6, seed: 1, measure: MeasureOptions::default() }
    }
}

/// One measured (or failed) candidate.
#[derive(Clone, Debug)]
pub struct Trial {
    /// Its knobs.
    pub knobs: Knobs,
    /// Its timing, or why it was not timed (it did not compile, run, or
    /// match the reference).
    pub result: Result<Timing, String>,
    /// The cost model's prediction before it was measured (s).
    pub predicted_s: Option<f64>,
}

/// What tuning one workload found.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The workload.
    pub workload: Workload,
    /// The default schedule, measured in this run: the median of the final
    /// comparison's rounds (or of the first measurement where the search
    /// found nothing faster).
    pub default: Timing,
    /// The best schedule and its time in the final comparison, measured
    /// alternately with the default (the default itself if the search's
    /// best did not beat it there).
    pub best: (Knobs, Timing),
    /// The search's best as the search measured it.
    pub search_best: (Knobs, Timing),
    /// Every candidate measured in this run, in order (default first).
    pub trials: Vec<Trial>,
    /// Records of earlier runs read from the database (their knobs are not
    /// measured again, except the best, to compare it in this run).
    pub resumed: usize,
    /// Points of the space within the device's limits.
    pub space_size: usize,
    /// Why the search ended.
    pub stopped: Stop,
    /// Input sets rotated through while timing.
    pub input_sets: usize,
    /// Whether times are from the host clock (no timestamp queries).
    pub host_clock: bool,
}

/// Why a search ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// The trial budget was spent.
    Budget,
    /// Every point of the space was measured.
    Exhausted,
    /// `patience` trials brought no 1% improvement.
    Converged,
}

/// Progress of a search, after each trial.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    /// Trials measured so far.
    pub trial: usize,
    /// The trial budget.
    pub trials: usize,
    /// The best median so far (s).
    pub best_s: f64,
    /// The default's median (s).
    pub default_s: f64,
}

/// Tune `w` on `backend`, storing every timed candidate in `db` for
/// `device` as it goes.
pub fn tune(backend: &Backend, w: &Workload, db: &TuningDb, device: &Device, o: &TuneOptions, progress: &mut dyn FnMut(Progress)) -> Result<Outcome, TuneError> {
    let (space, adapter) = match backend {
        Backend::Gpu(g) => (Space::gpu(g.limits().max_compute_invocations_per_workgroup), g.adapter_kind()),
        Backend::Cpu => (Space::cpu(), Default::default()),
    };
    let mut workload = w.clone();
    let bench = Bench::new(backend, &mut workload)?;
    let w = &workload;
    let mut rng = rand::rngs::StdRng::seed_from_u64(o.seed);
    let db_workload = kiln_tuning_db::Workload { key: w.key.key.clone(), class: w.key.class.clone(), description: format!("{} ({})", w.key.description, w.origin) };
    let record = |k: Knobs, t: &Timing| Record::new(device.clone(), db_workload.clone(), serde_json::to_value(k).expect("knobs serialize"), t.median_s, t.min_s, t.repeats);
    let failed = |message: String| TuneError::Default { workload: w.key.key.clone(), message };

    // earlier runs' records: training data; their best is measured again
    let stored = db.workload_records(&device.fingerprint, &w.key.key)?;
    let stored_best = db.best(&device.fingerprint, &w.key.key)?;

    // the default first: the baseline every candidate is compared with
    let default_knobs = space.default_knobs(&w.nest, adapter);
    let default_exe = bench.compile(w, default_knobs).map_err(failed)?;
    let default = bench.measure(&default_exe, w, &o.measure, None).map_err(failed)?;
    let identity = |k: Knobs| crate::measure::kernel_identity(backend, w, k);
    let mut s = Search { space: &space, w, identity: &identity, seen: HashSet::new(), schedules: HashMap::new(), train: Vec::new(), trials: Vec::new(), best: (default_knobs, default), last_gain: 0 };
    s.note(default_knobs, Ok(default), None);
    if let Some(p) = space.point(&default_knobs) {
        s.seen.insert(p);
    }
    db.insert(&record(default_knobs, &default))?;
    progress(Progress { trial: 1, trials: o.trials, best_s: default.median_s, default_s: default.median_s });

    let mut queue: Vec<(Point, Option<f64>)> = Vec::new();
    let mut resumed = 0;
    for r in &stored {
        let Ok(knobs) = serde_json::from_value::<Knobs>(r.schedule.clone()) else { continue };
        let Some(p) = space.point(&knobs) else { continue };
        resumed += 1;
        if stored_best.as_ref().is_some_and(|b| b.schedule == r.schedule) && knobs != default_knobs {
            queue.push((p, None));
        } else if let Some(f) = s.features_of(&p) {
            s.train.push((f, r.median_s));
            s.seen.insert(p);
        }
    }
    let initial = (o.trials / 4).clamp(2, 8);
    for _ in 0..initial * 4 {
        if queue.len() >= initial {
            break;
        }
        let p = space.random(&mut rng);
        if !s.seen.contains(&p) && !queue.iter().any(|(q, _)| *q == p) && s.distinct_schedule(&p) {
            queue.push((p, None));
        }
    }

    // the executable of the best candidate (None while that is the default),
    // kept for the final comparison
    let mut best_exe = None;
    let space_size = space.size();
    let stopped = loop {
        if s.trials.len() >= o.trials {
            break Stop::Budget;
        }
        if s.seen.len() >= space_size {
            break Stop::Exhausted;
        }
        if s.trials.len() - s.last_gain >= o.patience {
            break Stop::Converged;
        }
        if queue.is_empty() {
            queue = s.next_batch(o.batch.min(o.trials - s.trials.len()), &mut rng);
            if queue.is_empty() {
                break Stop::Exhausted;
            }
        }
        let batch: Vec<(Point, Option<f64>)> = std::mem::take(&mut queue).into_iter().filter(|(p, _)| s.seen.insert(p.clone())).take(o.trials - s.trials.len()).collect();
        // compile on another thread while measuring
        let mut records = Vec::new();
        std::thread::scope(|scope| -> Result<(), TuneError> {
            let (tx, rx) = mpsc::sync_channel(2);
            let knobs: Vec<(Knobs, Option<f64>)> = batch.iter().map(|(p, pred)| (space.knobs(p).expect("points in the space"), *pred)).collect();
            let to_compile = knobs.clone();
            let bench = &bench;
            scope.spawn(move || {
                for (k, _) in to_compile {
                    if tx.send(bench.compile(w, k)).is_err() {
                        return;
                    }
                }
            });
            for ((k, predicted), compiled) in knobs.into_iter().zip(rx) {
                let result = compiled.and_then(|c| Ok((bench.measure(&c, w, &o.measure, Some(s.best.1.median_s))?, c)));
                let result = match result {
                    Ok((t, c)) => {
                        records.push(record(k, &t));
                        if t.median_s < s.best.1.median_s {
                            best_exe = Some(c);
                        }
                        Ok(t)
                    }
                    Err(e) => Err(e),
                };
                s.note(k, result, predicted);
                progress(Progress { trial: s.trials.len(), trials: o.trials, best_s: s.best.1.median_s, default_s: default.median_s });
            }
            Ok(())
        })?;
        db.insert_all(&records)?;
    };
    // the final comparison: default and best measured again, alternately,
    // so that a drift of the device over the search (clocks, other work)
    // cannot make either look better
    let search_best = s.best;
    let (default, best) = match best_exe {
        None => (default, search_best),
        Some(best_exe) => {
            let (mut ds, mut bs) = (Vec::new(), Vec::new());
            for _ in 0..CONFIRM_ROUNDS {
                ds.push(bench.measure(&default_exe, w, &o.measure, None).map_err(failed)?);
                bs.push(bench.measure(&best_exe, w, &o.measure, None).map_err(failed)?);
            }
            let (d, b) = (median_timing(ds), median_timing(bs));
            // (a record equal to one of the same second is kept once)
            db.insert_all(&[record(default_knobs, &d), record(search_best.0, &b)])?;
            if b.median_s < d.median_s { (d, (search_best.0, b)) } else { (d, (default_knobs, d)) }
        }
    };
    Ok(Outcome { workload: w.clone(), default, best, search_best, trials: s.trials, resumed, space_size, stopped, input_sets: bench.sets(), host_clock: bench.host_clock() })
}

/// Rounds of the final default-against-best comparison.
const CONFIRM_ROUNDS: usize = 3;

/// The timing of median median among `t`.
fn median_timing(mut t: Vec<Timing>) -> Timing {
    t.sort_by(|a, b| a.median_s.total_cmp(&b.median_s));
    t[t.len() / 2]
}

/// The state of one search.
struct Search<'a> {
    space: &'a Space,
    w: &'a Workload,
    /// The kernel knobs make, as text, where the backend can tell
    /// ([`crate::kernel_identity`]).
    identity: &'a dyn Fn(Knobs) -> Option<String>,
    /// Points measured or queued.
    seen: HashSet<Point>,
    /// Each point's kernel (or scheduled nest) as text: equal texts are the
    /// same kernel.
    schedules: HashMap<Point, Option<String>>,
    /// (features, median) of every timed candidate, this run's and stored.
    train: Vec<(Vec<f32>, f64)>,
    trials: Vec<Trial>,
    best: (Knobs, Timing),
    /// Trials measured when the best last improved by 1%.
    last_gain: usize,
}

impl Search<'_> {
    fn note(&mut self, knobs: Knobs, result: Result<Timing, String>, predicted_s: Option<f64>) {
        if let Ok(t) = &result {
            if let Some(p) = self.space.point(&knobs) {
                if let Some(f) = self.features_of(&p) {
                    self.train.push((f, t.median_s));
                }
            }
            if t.median_s < self.best.1.median_s {
                if t.median_s < 0.99 * self.best.1.median_s {
                    self.last_gain = self.trials.len() + 1;
                }
                self.best = (knobs, *t);
            }
        }
        self.trials.push(Trial { knobs, result, predicted_s });
    }

    /// The cost model's features of point `p` (its knobs' log2 values and
    /// its scheduled nest's), None where the knobs do not schedule this nest.
    fn features_of(&self, p: &Point) -> Option<Vec<f32>> {
        let knobs = self.space.knobs(p)?;
        let scheduled = knobs.schedule(self.w.nest.clone(), Target::CPU).ok()?;
        let mut f: Vec<f32> = p.iter().zip(&self.space.knobs).map(|(&i, (_, vs))| (vs[i].max(1) as f32).log2()).collect();
        f.extend(features(&scheduled, &self.w.bindings));
        Some(f)
    }

    /// The next candidates: children of the best measured points, those the
    /// cost model predicts fastest, and one random point.
    fn next_batch(&mut self, n: usize, rng: &mut impl Rng) -> Vec<(Point, Option<f64>)> {
        let mut timed: Vec<(&Trial, f64)> = self.trials.iter().filter_map(|t| t.result.as_ref().ok().map(|r| (t, r.median_s))).collect();
        timed.sort_by(|a, b| a.1.total_cmp(&b.1));
        let parents: Vec<Point> = timed.iter().take(8).filter_map(|(t, _)| self.space.point(&t.knobs)).collect();
        let model = self.fit();
        let mut children: Vec<Point> = Vec::new();
        for _ in 0..400 {
            if children.len() >= 160 || parents.is_empty() {
                break;
            }
            let a = &parents[rng.random_range(0..parents.len())];
            let child = if rng.random_bool(0.5) && parents.len() > 1 {
                let b = &parents[rng.random_range(0..parents.len())];
                let c = self.space.crossover(a, b, rng);
                if rng.random_bool(0.5) { self.space.mutate(&c, 0.2, rng) } else { c }
            } else {
                self.space.mutate(a, 0.3, rng)
            };
            if self.space.knobs(&child).is_some() && !self.seen.contains(&child) && !children.contains(&child) && self.distinct_schedule(&child) {
                children.push(child);
            }
        }
        let mut scored: Vec<(Point, Option<f64>)> = match &model {
            Some(m) => {
                let feats: Vec<Option<Vec<f32>>> = children.iter().map(|c| self.features_of(c)).collect();
                let test: DataVec = feats.iter().flatten().map(|f| Data::new_test_data(f.clone(), None)).collect();
                let mut preds = m.predict(&test).into_iter();
                children.into_iter().zip(feats).filter_map(|(c, f)| f.map(|_| (c, preds.next().map(|p| f64::from(p).exp())))).collect()
            }
            None => children.into_iter().map(|c| (c, None)).collect(),
        };
        scored.sort_by(|a, b| a.1.unwrap_or(f64::MAX).total_cmp(&b.1.unwrap_or(f64::MAX)));
        let explore = usize::from(n > 1);
        let mut out: Vec<(Point, Option<f64>)> = scored.iter().take(n - explore).cloned().collect();
        for _ in 0..64 {
            if out.len() >= n {
                break;
            }
            let p = self.space.random(rng);
            if !self.seen.contains(&p) && !out.iter().any(|(q, _)| *q == p) && self.distinct_schedule(&p) {
                out.push((p, None));
            }
        }
        out
    }

    /// Whether `p` makes another kernel than every point seen: another
    /// shader on a GPU (knobs a kernel built whole ignores change nothing),
    /// else another scheduled nest (many GPU knobs are irrelevant to a
    /// kernel without a reduction); a point that does not schedule the nest
    /// at all is worth one failed trial.
    fn distinct_schedule(&mut self, p: &Point) -> bool {
        let text = |s: &Self, p: &Point| {
            let knobs = s.space.knobs(p)?;
            let scheduled = knobs.schedule(s.w.nest.clone(), Target::CPU).ok()?;
            Some((s.identity)(knobs).unwrap_or_else(|| scheduled.to_string()))
        };
        if !self.schedules.contains_key(p) {
            let t = text(self, p);
            self.schedules.insert(p.clone(), t);
        }
        let mine = self.schedules[p].clone();
        if mine.is_none() {
            return true;
        }
        let seen: Vec<Point> = self.seen.iter().cloned().collect();
        for q in seen.into_iter().filter(|q| q != p) {
            if !self.schedules.contains_key(&q) {
                let t = text(self, &q);
                self.schedules.insert(q.clone(), t);
            }
            if self.schedules[&q] == mine {
                self.seen.insert(p.clone());
                return false;
            }
        }
        true
    }

    /// A gradient-boosted regression of log time on the features, once
    /// four candidates are timed.
    fn fit(&self) -> Option<GBDT> {
        if self.train.len() < 4 {
            return None;
        }
        let n_features = self.train[0].0.len();
        let mut cfg = Config::new();
        cfg.set_feature_size(n_features);
        cfg.set_max_depth(4);
        cfg.set_min_leaf_size(1);
        cfg.set_iterations(60);
        cfg.set_shrinkage(0.1);
        cfg.set_loss("SquaredError");
        cfg.set_data_sample_ratio(1.0);
        cfg.set_feature_sample_ratio(1.0);
        let mut data: DataVec = self.train.iter().map(|(f, t)| Data::new_training_data(f.clone(), 1.0, t.ln() as f32, None)).collect();
        let mut model = GBDT::new(&cfg);
        model.fit(&mut data);
        Some(model)
    }
}
