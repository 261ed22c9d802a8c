//! `kiln autotune`, and the tuned schedules other commands read.

use crate::{compile_options, model_file, numerics_for, open_device, progress, Config, NumericsChoice, RewriteChoice};
use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use kiln_autotune::{Backend, MeasureOptions, Outcome, Stop, TuneOptions};
use kiln_runtime::{CompileOptions, Device, DeviceChoice, DeviceInfo};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The arguments of `kiln autotune`.
#[derive(clap::Args, Debug)]
pub struct AutotuneArgs {
    /// Where to tune: cpu, gpu, gpu:N or auto.
    #[arg(long, default_value = "auto")]
    device: DeviceChoice,
    /// Tune this model's kernels of the classes `--class` names (a GGUF
    /// file, a known name, or `random:SHAPE:DTYPE` as for `bench`), as kiln
    /// compiles it for the device.
    #[arg(long, conflicts_with = "workload", required_unless_present = "workload")]
    model: Option<String>,
    /// Tune this workload instead: `matmul:DTYPE:MxKxN[:ACTS]` (x[M, K] ·
    /// w[N, K]ᵀ, f32 x, or x quantized to ACTS = q8_0|q8_1 first as
    /// llama.cpp's arithmetic does; M = 1 is a GEMV); repeat for several.
    #[arg(long)]
    workload: Vec<String>,
    /// The kernel classes of the model to tune, comma-separated: gemv,
    /// gemm, reduction (norms, softmax parts), attention, elementwise
    /// (kernels reading integer inputs, such as gathers, are left out).
    #[arg(long, value_delimiter = ',', default_value = "gemv,gemm")]
    class: Vec<String>,
    /// Most candidates measured per workload (the default schedule included).
    #[arg(long, default_value_t = 64)]
    trials: usize,
    /// Stop a workload after this many trials without a 1% gain (default: trials / 2, at least 8).
    #[arg(long)]
    patience: Option<usize>,
    /// Timed runs per candidate (after 3 warm-up runs); the median counts.
    #[arg(long, default_value_t = 15)]
    repeats: usize,
    /// The tuning database (default `$KILN_HOME/tuning.db`).
    #[arg(long)]
    db: Option<PathBuf>,
    /// Prompt tokens a model's prefill (GEMM) kernels are measured at.
    #[arg(long, default_value_t = 128)]
    seq: i64,
    /// Write the convergence plot (best time over trials per workload) to this SVG file.
    #[arg(long)]
    plot: Option<PathBuf>,
    /// The device's memory bandwidth in GB/s for the roof column (default:
    /// measured on a GPU by a 1 GiB copy probe, `GpuDevice::probe_bandwidth`;
    /// none on the CPU).
    #[arg(long)]
    bandwidth: Option<f64>,
    /// Random seed of the search.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The arithmetic of the model's graph (default: as `kiln generate` on that device).
    #[arg(long, value_enum)]
    numerics: Option<NumericsChoice>,
    /// Graph rewriting of the model's graph: as `kiln generate` (auto: on for a GPU).
    #[arg(long, value_enum, default_value_t = RewriteChoice::Auto)]
    rewrite: RewriteChoice,
    /// Print JSON on stdout.
    #[arg(long)]
    json: bool,
}

/// The database path: `--db`, else `$KILN_HOME/tuning.db`.
pub fn db_path(config: &Config, db: Option<PathBuf>) -> PathBuf {
    db.unwrap_or_else(|| config.cache.home.join("tuning.db"))
}

/// The tuning database's record of `info` as the database keys it.
fn db_device(info: &DeviceInfo) -> kiln_tuning_db::Device {
    kiln_tuning_db::Device { fingerprint: info.fingerprint(), name: info.name.clone(), backend: info.backend.clone(), driver: info.features.join(" ") }
}

/// `options` with the tuned schedules of `info` from the database `db`
/// (named by the user, so it must exist and be readable) or else
/// `$KILN_HOME/tuning.db`; unchanged where there is none. Also returns the
/// database's path, for [`tuned_summary`].
pub fn with_tuned(options: CompileOptions, config: &Config, db: Option<&Path>, info: &DeviceInfo) -> Result<(CompileOptions, PathBuf)> {
    let explicit = db.is_some();
    let path = db_path(config, db.map(Path::to_path_buf));
    let options = tuned_from(options, &path, explicit, info)?;
    Ok((options, path))
}

fn tuned_from(options: CompileOptions, path: &Path, explicit: bool, info: &DeviceInfo) -> Result<CompileOptions> {
    if !path.exists() {
        if explicit {
            bail!("no tuning database at {} (`kiln autotune --db {}` makes one)", path.display(), path.display());
        }
        return Ok(options);
    }
    // the default database unreadable (corrupt, foreign, newer): say so
    // and compile with the default schedules; a named one must work
    let read = kiln_tuning_db::TuningDb::open(path).map_err(kiln_autotune::TuneError::from).and_then(|db| kiln_autotune::tuned_schedules(&db, &info.fingerprint()));
    let (tuned, skipped) = match read {
        Ok(t) => t,
        Err(e) if !explicit => {
            progress(&format!("not using tuned schedules: {e}"));
            return Ok(options);
        }
        Err(e) => return Err(e.into()),
    };
    if skipped > 0 {
        progress(&format!("{skipped} records in {} have schedules this kiln does not read; their kernels use the default", path.display()));
    }
    Ok(CompileOptions { tuned: Some(Arc::new(tuned)), ..options })
}

/// After compiling with `options`: a line on the tuned schedules used (read
/// from `db`), and (tuned kernels, kernels compiled, tuned workloads); None
/// where no database was read.
pub fn tuned_summary(options: &CompileOptions, db: &Path) -> Option<(usize, usize, usize)> {
    let t = options.tuned.as_ref()?;
    let (found, compiled) = t.usage();
    progress(&format!("tuned schedules: {found} of {compiled} kernels compiled ({} tuned workloads for this device in {})", t.len(), db.display()));
    Some((found, compiled, t.len()))
}

/// `kiln autotune`.
pub fn autotune(config: &Config, a: AutotuneArgs) -> Result<()> {
    if a.trials == 0 {
        bail!("--trials must be at least 1");
    }
    if a.repeats == 0 {
        bail!("--repeats must be at least 1");
    }
    if a.seq < 1 {
        bail!("--seq must be at least 1");
    }
    let (device, info) = open_device(a.device)?;
    let backend = match &device {
        Device::Cpu => Backend::Cpu,
        Device::Gpu(g, _) => Backend::Gpu(g.clone()),
    };
    const CLASSES: [&str; 5] = ["gemv", "gemm", "reduction", "attention", "elementwise"];
    if let Some(bad) = a.class.iter().find(|c| !CLASSES.contains(&c.as_str())) {
        bail!("--class {bad}: the classes are {}", CLASSES.join(", "));
    }
    let mut workloads = Vec::new();
    let _random_model;
    if let Some(model) = &a.model {
        let (path, guard) = model_file(config, model)?;
        _random_model = guard;
        let numerics = numerics_for(a.numerics, &device, &path)?;
        let (_, module) = kiln_llm_zoo::model_graph(&path, numerics).with_context(|| format!("loading {}", path.display()))?;
        let bindings = [("seq", a.seq), ("past", a.seq), ("rows", 1)].map(|(k, v)| (k.to_string(), v)).into_iter().collect();
        let found = kiln_autotune::workloads_of_module(&module, &compile_options(a.rewrite, &device), &bindings, matches!(device, Device::Gpu(..)), &|c| a.class.iter().any(|w| w == c))?;
        progress(&format!("{model}: {} distinct {} kernels as compiled for {}", found.len(), a.class.join("/"), info.selector));
        workloads.extend(found);
    }
    for spec in &a.workload {
        workloads.extend(kiln_autotune::workload_from_spec(spec)?);
    }
    if let Device::Gpu(g, _) = &device {
        // a matmul over rows on the matrix units has one kernel whatever
        // the knobs: nothing to search
        let before = workloads.len();
        workloads.retain(|w| kiln_runtime::MatrixGemm::of(&w.nest, &g.target()).is_none());
        if workloads.len() < before {
            progress(&format!("{} matmuls over rows run on {}'s matrix units, which have no schedule to tune (KILN_GPU_DISABLE=matrix_units tunes their FMA kernels)", before - workloads.len(), info.selector));
        }
    }
    let path = db_path(config, a.db.clone());
    let db = kiln_tuning_db::TuningDb::open(&path)?;
    let bandwidth = match (a.bandwidth, &device) {
        (Some(b), _) => Some(b),
        (None, Device::Gpu(g, _)) => {
            // (clocks up first: one run read 1542 GB/s right after writing a 7B model's weights, the next 2763)
            g.warm_up(std::time::Duration::from_millis(500))?;
            Some(g.probe_bandwidth(1 << 30)?)
        }
        (None, Device::Cpu) => None,
    };
    let options = TuneOptions {
        trials: a.trials,
        patience: a.patience.unwrap_or((a.trials / 2).max(8)),
        seed: a.seed,
        measure: MeasureOptions { repeats: a.repeats, ..MeasureOptions::default() },
        ..TuneOptions::default()
    };
    progress(&format!("tuning {} workloads on {} ({}), up to {} trials each, records in {}", workloads.len(), info.selector, info.name, a.trials, path.display()));
    let device_record = db_device(&info);
    let mut outcomes: Vec<Outcome> = Vec::new();
    let mut failures: Vec<String> = Vec::new();
    let style = ProgressStyle::with_template("{prefix} [{bar:24}] {pos}/{len} trials, {msg}, ETA {eta}").expect("a valid template").progress_chars("=> ");
    for (i, w) in workloads.iter().enumerate() {
        let bar = ProgressBar::new(a.trials as u64).with_style(style.clone()).with_prefix(format!("{}/{} {}", i + 1, workloads.len(), w.key.class));
        let result = kiln_autotune::tune(&backend, w, &db, &device_record, &options, &mut |p| {
            bar.set_position(p.trial as u64);
            bar.set_message(format!("best {} (default {}, {:.2}x)", us(p.best_s), us(p.default_s), p.default_s / p.best_s));
        });
        bar.finish_and_clear();
        let outcome = match result {
            Ok(o) => o,
            Err(e @ (kiln_autotune::TuneError::Db(_) | kiln_autotune::TuneError::Runtime(_))) => return Err(e).with_context(|| format!("tuning {} ({})", w.key.description, w.origin)),
            Err(e) => {
                // one workload's failure (a kiln bug: its default schedule
                // failed) does not stop the others
                progress(&format!("FAILED {} {} ({}): {e}", w.key.class, w.key.description, w.origin));
                failures.push(format!("{} ({}): {e}", w.key.description, w.origin));
                continue;
            }
        };
        let failed = outcome.trials.iter().filter(|t| t.result.is_err()).count();
        progress(&format!(
            "{} {}: default {} -> tuned {} ({:.2}x, {}) after {} trials{}{}{}",
            w.key.class,
            w.key.description,
            us(outcome.default.median_s),
            us(outcome.best.1.median_s),
            outcome.default.median_s / outcome.best.1.median_s,
            outcome.best.0.short(),
            outcome.trials.len(),
            if failed > 0 { format!(" ({failed} failed)") } else { String::new() },
            if outcome.resumed > 0 { format!(", resumed from {} stored records", outcome.resumed) } else { String::new() },
            match outcome.stopped {
                Stop::Budget => String::new(),
                Stop::Exhausted => format!(", every distinct schedule of the space ({} points) measured", outcome.space_size),
                Stop::Converged => format!(", no 1% gain in {} trials", options.patience),
            }
        ));
        outcomes.push(outcome);
    }
    if let Some(plot) = &a.plot {
        kiln_autotune::convergence_plot(&outcomes, plot)?;
        progress(&format!("convergence plot written to {}", plot.display()));
    }
    print_table(&outcomes, &failures, &info, &path, bandwidth, a.json);
    if !failures.is_empty() {
        bail!("{} of {} workloads could not be tuned (the rest were, and their records are stored):\n  {}", failures.len(), workloads.len(), failures.join("\n  "));
    }
    Ok(())
}

fn us(s: f64) -> String {
    format!("{:.1} us", s * 1e6)
}

/// The final table: per workload, default and tuned time, speed-up, and
/// the fraction of the memory roof (bytes of sources and output over the
/// bandwidth).
fn print_table(outcomes: &[Outcome], failures: &[String], info: &DeviceInfo, db: &Path, bandwidth: Option<f64>, json: bool) {
    let rows: Vec<serde_json::Value> = outcomes
        .iter()
        .map(|o| {
            let w = &o.workload;
            let bytes = w.bytes() as f64;
            let tuned = o.best.1.median_s;
            serde_json::json!({
                "key": w.key.key, "class": w.key.class, "description": w.key.description, "origin": w.origin,
                "default_s": o.default.median_s, "tuned_s": tuned, "speedup": o.default.median_s / tuned,
                "schedule": o.best.0, "bytes": bytes, "gb_per_s": bytes / tuned / 1e9,
                "roof_fraction": bandwidth.map(|b| bytes / tuned / 1e9 / b), "gflops": w.flops() / tuned / 1e9,
                "search_best_s": o.search_best.1.median_s, "first_default_s": o.trials[0].result.as_ref().map(|t| t.median_s).ok(),
                "trials": o.trials.len(), "failed": o.trials.iter().filter(|t| t.result.is_err()).count(),
                "resumed": o.resumed, "stopped": format!("{:?}", o.stopped).to_lowercase(), "space_size": o.space_size,
                "input_sets": o.input_sets, "timing": if o.host_clock { "host clock" } else { "timestamp queries" },
            })
        })
        .collect();
    if json {
        println!("{}", serde_json::json!({ "device": info.selector, "device_name": info.name, "fingerprint": info.fingerprint(), "db": db, "bandwidth_gbs": bandwidth, "workloads": rows, "failed": failures }));
        return;
    }
    println!("{} ({}); records in {}", info.selector, info.name, db.display());
    println!("{:<11} {:<52} {:>11} {:>11} {:>7} {:>9} {:>6}  {}", "class", "workload", "default", "tuned", "speedup", "GB/s", "roof", "schedule");
    for (o, r) in outcomes.iter().zip(&rows) {
        let mut desc = o.workload.key.description.clone();
        if desc.chars().count() > 52 {
            desc = desc.chars().take(49).chain("...".chars()).collect();
        }
        let roof = r["roof_fraction"].as_f64().map_or("-".to_string(), |f| format!("{:.0}%", 100.0 * f));
        println!(
            "{:<11} {:<52} {:>11} {:>11} {:>6.2}x {:>9.1} {:>6}  {}",
            o.workload.key.class,
            desc,
            us(o.default.median_s),
            us(o.best.1.median_s),
            r["speedup"].as_f64().unwrap_or(0.0),
            r["gb_per_s"].as_f64().unwrap_or(0.0),
            roof,
            o.best.0.short()
        );
    }
    for f in failures {
        println!("FAILED {f}");
    }
    println!("default and tuned: medians of {} alternated final measurements of each", 3);
    if let Some(b) = bandwidth {
        println!("roof: bytes read and written over {b:.0} GB/s");
    }
}
