//! `kiln serve` as people use it: the official `openai` Python package
//! (installed here into the target folder with pip when missing) talks to
//! the binary over loopback, and its greedy replies must be `kiln chat`'s
//! and `kiln generate`'s; then 32 streaming clients at once
//! (`benches/serve/load.py`, standard library only) get `kiln chat`'s
//! replies too, from a server that batches their decodes.

use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

const MODEL: &str = "smollm2-135m";
const KEY: &str = "test-key";

fn python() -> String {
    std::env::var("KILN_PYTHON").ok().filter(|p| !p.is_empty()).unwrap_or_else(|| "python3".into())
}

/// A folder holding the `openai` package, for PYTHONPATH: installed there
/// with `pip install --target` the first time.
fn openai_package() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("python-openai");
    let importable = || Command::new(python()).args(["-c", "import openai"]).env("PYTHONPATH", &dir).output().is_ok_and(|o| o.status.success());
    if !importable() {
        let out = Command::new(python())
            .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--upgrade", "--target"])
            .arg(&dir)
            .arg("openai")
            .env("PIP_BREAK_SYSTEM_PACKAGES", "1")
            .output()
            .expect("python runs");
        assert!(out.status.success() && importable(), "installing the openai package with pip failed (needs python3 with pip and PyPI): {}", String::from_utf8_lossy(&out.stderr));
    }
    dir
}

/// A `kiln serve` process on a free port, stopped when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(extra: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kiln"))
            .args(["serve", "--model", MODEL, "--device", "cpu", "--port", "0", "--json", "--api-key", KEY])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the kiln binary runs");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("kiln serve --json prints its URL first ({e}): {line:?}"));
        Server { url: v["url"].as_str().unwrap().to_string(), child }
    }

    /// Resident memory of the server process, in KiB (`VmRSS`).
    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status.lines().find_map(|l| l.strip_prefix("VmRSS:")).and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok()).unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Run a Python script of the repository (path from its root); its first
/// line of output, as JSON.
fn python_script(script: &str, args: &[&str]) -> Value {
    let path = format!("{}/../{script}", env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(python()).arg(path).args(args).env("PYTHONPATH", openai_package()).output().expect("python runs");
    assert!(out.status.success(), "{script} {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    let first = out.stdout.split(|&b| b == b'\n').next().unwrap_or_default();
    serde_json::from_slice(first).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

/// `kiln chat`'s greedy reply to one message.
fn kiln_chat(message: &str, max_tokens: usize) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(["chat", "--model", MODEL, "--device", "cpu", "--temperature", "0", "--max-tokens", &max_tokens.to_string(), "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{message}").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["reply"].as_str().unwrap().to_string()
}

#[test]
fn the_openai_package_streams_and_non_streams_what_kiln_chat_writes() {
    let server = Server::start(&[]);
    let v = python_script("server/tests/openai_client.py", &[&server.url, MODEL, KEY]);
    let expected = kiln_chat("What is the capital of France?", 24);
    assert!(!expected.is_empty());
    assert_eq!(v["chat"]["content"], expected.as_str(), "{v}");
    assert_eq!(v["streamed"]["content"], expected.as_str(), "{v}");
    assert!(v["streamed"]["chunks"].as_u64().unwrap() > 2, "streamed in pieces: {v}");
    assert_eq!(v["streamed"]["usage"], v["chat"]["usage"]);
    assert_eq!(v["chat"]["finish_reason"], v["streamed"]["finish_reason"]);
    let usage = &v["chat"]["usage"];
    assert_eq!(usage["total_tokens"].as_u64(), Some(usage["prompt_tokens"].as_u64().unwrap() + usage["completion_tokens"].as_u64().unwrap()));
    // a text completion is `kiln generate`'s
    let out = Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(["generate", "--model", MODEL, "--device", "cpu", "--prompt", "The capital of France is", "--temperature", "0", "--max-tokens", "16", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let generated: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["completion"]["text"], generated["text"], "{v}");
    assert_eq!(v["models"], serde_json::json!([MODEL]));
    // the package's own error classes, from OpenAI-style bodies
    let e = &v["errors"];
    assert_eq!((&e["wrong_key"]["class"], &e["wrong_key"]["status"]), (&"AuthenticationError".into(), &401.into()), "{e}");
    assert_eq!((&e["unknown_model"]["class"], &e["unknown_model"]["code"]), (&"NotFoundError".into(), &"model_not_found".into()), "{e}");
    assert_eq!(e["negative_max_tokens"]["class"], "BadRequestError", "{e}");
    assert_eq!(e["bad_temperature"]["class"], "BadRequestError", "{e}");
    assert!(v["after_errors"].as_str().is_some_and(|s| expected.starts_with(s)), "{v}");
}

#[test]
fn thirty_two_concurrent_streaming_clients_get_the_answers_one_gets_alone() {
    let server = Server::start(&["--max-concurrent", "32"]);
    let tokens = 64;
    let replies = std::env::temp_dir().join(format!("kiln-serve-replies-{}.json", std::process::id()));
    let run = || python_script("benches/serve/load.py", &["--url", &server.url, "--model", MODEL, "--key", KEY, "--clients", "32", "--tokens", &tokens.to_string(), "--warmup", "0", "--save", replies.to_str().unwrap()]);
    let v = run();
    let rss_after_first = server.rss_kib();
    let first: Value = serde_json::from_str(&std::fs::read_to_string(&replies).unwrap()).unwrap();
    assert_eq!(first.as_array().unwrap().len(), 32);
    let mut expected = std::collections::HashMap::new();
    for r in first.as_array().unwrap() {
        let q = r["question"].as_str().unwrap().to_string();
        let want = expected.entry(q.clone()).or_insert_with(|| kiln_chat(&q, tokens));
        assert_eq!(r["content"].as_str().unwrap(), want.as_str(), "{q}");
    }
    // three more rounds of the same load get the same replies, and memory
    // stops growing: the first rounds may still make buffers (the first
    // call of each batch size allocates its own), but a leak of the
    // finished sequences' KV caches would add a round's worth of caches
    // every round. SmolLM2's cache: 30 layers x (keys + values) x 3 kv
    // heads x 64 x 2 bytes (f16) per token; counting only generated tokens
    // underestimates a round's caches, which makes the check stricter.
    let round = || {
        let v = run();
        let replies: Value = serde_json::from_str(&std::fs::read_to_string(&replies).unwrap()).unwrap();
        assert_eq!(replies, first, "a later round got other replies");
        (v, server.rss_kib())
    };
    let (again, rss_after_second) = round();
    round();
    let (last, rss_after_fourth) = round();
    let _ = std::fs::remove_file(&replies);
    let cache_kib_per_round = last["completion_tokens"].as_u64().unwrap() * 30 * 2 * 3 * 64 * 2 / 1024;
    assert!(
        rss_after_fourth < rss_after_second + cache_kib_per_round,
        "memory grew from {rss_after_second} KiB after the second round to {rss_after_fourth} KiB after the fourth, more than one round's KV caches ({cache_kib_per_round} KiB)"
    );
    eprintln!(
        "32 streaming clients x {tokens} tokens: {:.1} and {:.1} tokens/s together, one client alone {:.1} and {:.1} tokens/s; server RSS {} MiB, {} MiB and {} MiB after rounds 1, 2 and 4",
        v["aggregate_tokens_per_s"].as_f64().unwrap(),
        again["aggregate_tokens_per_s"].as_f64().unwrap(),
        v["alone_tokens_per_s"].as_f64().unwrap(),
        again["alone_tokens_per_s"].as_f64().unwrap(),
        rss_after_first / 1024,
        rss_after_second / 1024,
        rss_after_fourth / 1024
    );
}
