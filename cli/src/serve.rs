//! `kiln serve`: the OpenAI-compatible server ([`kiln_server`]) on a
//! loaded model.

use crate::{load, progress, Config, ModelArgs};
use anyhow::{Context, Result};
use kiln_server::{router, Engine, EngineConfig, HttpConfig};
use std::time::Duration;

/// The flags of `kiln serve`.
#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// The address to listen on (0.0.0.0 for every interface).
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// The port (0: any free port, printed when listening).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// The model's id in the API (`model` in requests, `GET /v1/models`);
    /// default: the known model's name, or the GGUF file's stem.
    #[arg(long)]
    id: Option<String>,
    /// Require `Authorization: Bearer KEY` on /v1 requests (default:
    /// `$KILN_API_KEY` if set, else no key).
    #[arg(long)]
    api_key: Option<String>,
    /// Requests generating at once (their keys and values share the KV
    /// cache's pages).
    #[arg(long, default_value_t = 8)]
    max_concurrent: usize,
    /// Tokens the KV cache holds, all requests together, in pages of 16
    /// (default: 2048 per --max-concurrent, or the context if shorter). A
    /// request may use at most this or the context; when the cache is full
    /// the newest sequences wait and evaluate their tokens again later.
    #[arg(long)]
    kv_cache_tokens: Option<usize>,
    /// Most sequences decoded in one call (each weight read once for all of
    /// them); default --max-concurrent; 1 decodes each sequence alone.
    #[arg(long)]
    max_batch: Option<usize>,
    /// Requests waiting beyond those; more are refused with 503.
    #[arg(long, default_value_t = 64)]
    max_queue: usize,
    /// Largest request body in bytes (413 above it).
    #[arg(long, default_value_t = 1 << 20)]
    max_body_bytes: usize,
    /// Longest a request may take in seconds, waiting included (504 after it).
    #[arg(long, default_value_t = 600.0)]
    timeout: f64,
    /// No line on stderr per finished request.
    #[arg(long)]
    quiet: bool,
    /// Print one JSON line on stdout once listening ({"url", "model"}).
    #[arg(long)]
    json: bool,
}

/// The API's model id for `--model` as given.
fn model_id(spec: &str) -> String {
    let path = std::path::Path::new(spec);
    if kiln_llm_zoo::known_model(spec).is_some() || !path.exists() {
        return spec.to_string();
    }
    path.file_stem().map_or_else(|| spec.to_string(), |s| s.to_string_lossy().into_owned())
}

/// The batch sizes to compile a decode function for: powers of two up to
/// `max_batch`, and `max_batch` itself (a round's decodes run in as few
/// batches of these sizes as possible).
fn batch_sizes(max_batch: usize) -> Vec<usize> {
    let mut sizes: Vec<usize> = std::iter::successors(Some(1usize), |b| b.checked_mul(2)).take_while(|&b| b <= max_batch).collect();
    if max_batch > 0 && !sizes.contains(&max_batch) {
        sizes.push(max_batch);
    }
    sizes
}

/// Load the model, listen, and serve until Ctrl-C.
pub fn serve(config: &Config, args: ServeArgs) -> Result<()> {
    anyhow::ensure!(args.max_concurrent >= 1, "--max-concurrent must be at least 1");
    anyhow::ensure!(args.max_batch != Some(0), "--max-batch must be at least 1");
    anyhow::ensure!(args.kv_cache_tokens != Some(0), "--kv-cache-tokens must be at least 1");
    anyhow::ensure!(args.timeout.is_finite() && args.timeout > 0.0, "--timeout must be a positive number of seconds");
    let id = args.id.clone().unwrap_or_else(|| model_id(&args.model.model));
    let api_key = args.api_key.clone().or_else(|| config.api_key.clone());
    let engine_config = EngineConfig { max_concurrent: args.max_concurrent, max_queue: args.max_queue, timeout: Duration::from_secs_f64(args.timeout), log_requests: !args.quiet, kv_cache_tokens: args.kv_cache_tokens };
    let (load_config, model_args) = (config.clone(), args.model.clone());
    // the model is built on the engine's thread, which keeps it
    let batch_sizes = batch_sizes(args.max_batch.unwrap_or(args.max_concurrent).min(args.max_concurrent));
    let engine = Engine::start(&id, engine_config, move || load(&load_config, &model_args, &batch_sizes).map(|(m, _, _)| m).map_err(|e| format!("{e:#}"))).map_err(anyhow::Error::msg)?;
    let info = engine.info().clone();
    let app = router(engine, HttpConfig { api_key: api_key.clone(), max_body_bytes: args.max_body_bytes });
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind((args.host.as_str(), args.port)).await.with_context(|| format!("listening on {}:{}", args.host, args.port))?;
        let addr = listener.local_addr()?;
        let url = format!("http://{addr}");
        progress(&format!(
            "serving `{id}` at {url}/v1 (OpenAI API: /v1/chat/completions, /v1/completions, /v1/models; /health){}; up to {} at once, {} waiting; KV cache of {} tokens ({:.0} MiB), up to {} per request; Ctrl-C stops",
            if api_key.is_some() { ", API key required" } else { "" },
            args.max_concurrent,
            args.max_queue,
            info.kv_cache.0,
            info.kv_cache.1 as f64 / (1 << 20) as f64,
            info.context
        ));
        if args.json {
            println!("{}", serde_json::json!({ "url": url, "model": id }));
        }
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
                progress("stopping");
            })
            .await
            .context("serving")
    })
}
