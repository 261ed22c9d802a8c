//! The `kiln` binary as a user runs it.

use std::process::Command;

fn kiln(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_kiln")).args(args).output().expect("the kiln binary runs")
}

#[test]
fn devices_lists_the_cpu_with_a_fingerprint() {
    let out = kiln(&["devices", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("devices --json prints JSON");
    let devs = v["devices"].as_array().expect("a device list");
    let cpu = devs.iter().find(|d| d["selector"] == "cpu").expect("the CPU is listed");
    assert_eq!(cpu["backend"], "cranelift-jit");
    assert!(cpu["threads"].as_u64().unwrap() >= 1);
    assert!(cpu["fingerprint"].as_str().unwrap().contains("cranelift-jit"));

    let out = kiln(&["devices"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("cpu: "));
}

#[test]
fn a_bad_flag_is_a_clear_error_not_a_panic() {
    let out = kiln(&["devices", "--nope"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unexpected argument '--nope'"), "{err}");
    assert!(!err.contains("panicked"));
}

fn kiln_env(args: &[&str], home: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_kiln")).args(args).env("KILN_HOME", home).env("KILN_PYTHON", "/nonexistent/python").output().expect("the kiln binary runs")
}

/// A tiny random model in a fresh folder (which also serves as KILN_HOME).
fn tiny_model() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("tiny.gguf");
    std::fs::write(&model, kiln_llm_zoo::testing::tiny_llama_gguf(3)).unwrap();
    (dir, model)
}

/// `kiln chat` (greedy, 4 tokens a reply, JSON) on `model`, fed `input`.
fn chat(model: &std::path::Path, home: &std::path::Path, input: &[u8]) -> std::process::Output {
    use std::io::Write as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(["chat", "--model", model.to_str().unwrap(), "--temperature", "0", "--max-tokens", "4", "--json"])
        .env("KILN_HOME", home)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn generate_and_perplexity_on_a_local_gguf_print_the_contract_json() {
    let (dir, model) = tiny_model();
    let m = model.to_str().unwrap();
    let out = kiln_env(&["generate", "--model", m, "--prompt", "hello there", "--temperature", "0", "--max-tokens", "5", "--json"], dir.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("generate --json prints one JSON object");
    for key in ["prompt_tokens", "tokens", "text", "prefill_tokens_per_s", "decode_tokens_per_s", "device"] {
        assert!(v.get(key).is_some(), "missing {key}: {v}");
    }
    assert_eq!(v["device"], "cpu");
    assert!(v["tokens"].as_array().unwrap().len() <= 5);
    // greedy is deterministic
    let again = kiln_env(&["generate", "--model", m, "--prompt", "hello there", "--temperature", "0", "--max-tokens", "5", "--json"], dir.path());
    let w: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(v["tokens"], w["tokens"]);
    // the f32 arithmetic runs too
    let out = kiln_env(&["generate", "--model", m, "--prompt", "hello there", "--temperature", "0", "--max-tokens", "5", "--numerics", "f32", "--json"], dir.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let f: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(!f["tokens"].as_array().unwrap().is_empty());

    let text = dir.path().join("text.txt");
    std::fs::write(&text, "the theory of the thing, then the other thing").unwrap();
    let out = kiln_env(&["perplexity", "--model", m, "--file", text.to_str().unwrap(), "--json"], dir.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["ppl"].as_f64().unwrap() > 1.0 && v["n_tokens"].as_u64().unwrap() > 10);
}

#[test]
fn user_errors_are_one_clear_line_not_a_panic() {
    let (dir, model) = tiny_model();
    let m = model.to_str().unwrap();
    let long = "x ".repeat(200);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["generate", "--model", m, "--prompt", &long], "do not fit the context"),
        (vec!["generate", "--model", "no-such-model", "--prompt", "hi"], "neither a file nor a known model"),
        (vec!["generate", "--model", m, "--prompt", "hi", "--temperature=-1"], "temperature must be"),
        (vec!["generate", "--model", m, "--prompt", "hi", "--device", "gpu:7"], "no GPU adapter 7"),
        (vec!["generate", "--model", m, "--prompt", ""], "no tokens"),
        (vec!["perplexity", "--model", m, "--file", "/nonexistent/file.txt"], "/nonexistent/file.txt"),
        (vec!["pull", "not-a-model"], "not a known model"),
    ];
    let out = kiln_env(&["generate", "--model", m, "--prompt", "hi", "--numerics", "f64"], dir.path());
    assert_eq!(out.status.code(), Some(2), "clap's usage error");
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid value 'f64' for '--numerics"));
    let out = kiln_env(&["generate", "--model", m, "--prompt", "hi", "--device", "tpu"], dir.path());
    assert_eq!(out.status.code(), Some(2), "clap's usage error");
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown device `tpu`: use cpu, gpu, gpu:N or auto"));
    for (args, want) in cases {
        let out = kiln_env(&args, dir.path());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    // a file that is not a GGUF
    std::fs::write(&model, b"not a model").unwrap();
    let out = kiln_env(&["generate", "--model", m, "--prompt", "hi"], dir.path());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a GGUF file"));
}

#[test]
fn chat_keeps_the_conversation_and_matches_generate_on_the_rendered_prompt() {
    let (dir, model) = tiny_model();
    let m = model.to_str().unwrap();
    let out = chat(&model, dir.path(), b"hi\nthe other\n");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let replies: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(replies.len(), 2, "one JSON line per turn");
    // the second turn continued the cached conversation; evaluating the
    // whole rendered conversation from scratch gives the same reply
    let first = replies[0]["reply"].as_str().unwrap();
    let prompt = format!("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n{first}<|im_end|>\n<|im_start|>user\nthe other<|im_end|>\n<|im_start|>assistant\n");
    let out = kiln_env(&["generate", "--model", m, "--prompt", &prompt, "--temperature", "0", "--max-tokens", "4", "--json"], dir.path());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["tokens"], replies[1]["tokens"]);
}

#[test]
fn chat_survives_a_message_longer_than_the_context() {
    let (dir, model) = tiny_model();
    let out = chat(&model, dir.path(), format!("{}\nhi\n", "x ".repeat(80)).as_bytes());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("try a shorter message"), "{err}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1, "the short message is still answered");
}

/// The GPU path as a user takes it (lavapipe in CI): the same greedy tokens
/// as the CPU backend at the same arithmetic, and `--device gpu` defaults
/// to f32 for a model with Q4_1 matrices.
#[test]
fn generate_on_the_gpu_gives_the_cpus_tokens() {
    let (dir, model) = tiny_model();
    let m = model.to_str().unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec!["generate", "--model", m, "--prompt", "hello there", "--temperature", "0", "--max-tokens", "6", "--json"];
        args.extend_from_slice(extra);
        let out = kiln_env(&args, dir.path());
        assert!(out.status.success(), "{extra:?}: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let gpu = run(&["--device", "gpu"]);
    let cpu = run(&["--device", "cpu", "--numerics", "f32"]);
    assert_eq!(gpu["device"], "gpu:0");
    assert_eq!(gpu["numerics"], "F32");
    assert_eq!(gpu["tokens"], cpu["tokens"]);
}

/// A model of Q4_0 matrices runs llama.cpp's arithmetic on a GPU with
/// integer-dot GEMVs unless told otherwise, f32 without them.
#[test]
fn a_q4_0_model_defaults_to_llamacpps_arithmetic_on_the_gpu() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("q4_0.gguf");
    std::fs::write(&model, kiln_llm_zoo::testing::tiny_llama_of(3, kiln_dsl::DType::Q4_0).to_bytes()).unwrap();
    let run = |disable: &str, extra: &[&str]| {
        let mut args = vec!["generate", "--model", model.to_str().unwrap(), "--device", "gpu", "--prompt", "hello", "--temperature", "0", "--max-tokens", "3", "--json"];
        args.extend_from_slice(extra);
        let out = Command::new(env!("CARGO_BIN_EXE_kiln")).args(&args).env("KILN_HOME", dir.path()).env("KILN_GPU_DISABLE", disable).output().unwrap();
        assert!(out.status.success(), "{disable} {extra:?}: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["numerics"].clone()
    };
    assert_eq!(run("", &[]), "LlamaCpp");
    assert_eq!(run("int_dot", &[]), "F32");
    assert_eq!(run("", &["--numerics", "f32"]), "F32");
}

#[test]
fn compile_writes_every_kernel_and_an_index() {
    let (dir, model) = tiny_model();
    let out_dir = dir.path().join("kernels");
    for (emit, ext) in [("wgsl", "wgsl"), ("msl", "metal"), ("spirv", "spv"), ("nest", "nest")] {
        let out = kiln_env(&["compile", "--model", model.to_str().unwrap(), "--emit", emit, "--out", out_dir.to_str().unwrap(), "--json"], dir.path());
        assert!(out.status.success(), "{emit}: {}", String::from_utf8_lossy(&out.stderr));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let index: serde_json::Value = serde_json::from_slice(&std::fs::read(out_dir.join("kernels.json")).unwrap()).unwrap();
        let kernels = index["kernels"].as_array().unwrap();
        assert_eq!(kernels.len() as u64, v["kernels"].as_u64().unwrap());
        assert!(kernels.iter().any(|k| k["function"] == "decode") && kernels.iter().any(|k| k["function"] == "prefill"));
        for k in kernels {
            let file = out_dir.join(k["file"].as_str().unwrap());
            assert!(file.extension().unwrap() == ext && std::fs::metadata(&file).unwrap().len() > 0, "{file:?}");
        }
    }
    let first = std::fs::read_dir(out_dir.join("decode")).unwrap().map(|e| e.unwrap().path()).find(|p| p.file_name().unwrap().to_str().unwrap().starts_with("000_") && p.extension().unwrap() == "wgsl").unwrap();
    let first = std::fs::read_to_string(first).unwrap();
    assert!(first.contains("@compute"), "{first}");
}

/// A published shape (random weights) on a discrete GPU's schedules with
/// `KILN_GPU_TILES=16`: its prefill matmuls stage tiles in workgroup
/// memory, and every kernel
/// (attention's RoPE-reading scores among them) lowers.
#[test]
fn compile_tiles_a_published_shapes_prefill() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("kernels");
    let out = Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(["compile", "--model", "random:smollm2-135m:q4_0", "--numerics", "f32", "--emit", "nest", "--out", out_dir.to_str().unwrap()])
        .env("KILN_HOME", dir.path())
        .env("KILN_GPU_TILES", "16")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let tiled = std::fs::read_dir(out_dir.join("prefill")).unwrap().filter(|e| std::fs::read_to_string(e.as_ref().unwrap().path()).unwrap().contains("in workgroup memory")).count();
    // per layer the weight matmuls: Q/K/V merged, the attention output,
    // gate/up merged, down (and attention's q·k where it tiles)
    assert!(tiled >= 30 * 4, "{tiled} prefill kernels stage tiles");
}

#[test]
fn compile_reports_what_rewriting_does() {
    let (dir, model) = tiny_model();
    let out = kiln_env(&["compile", "--model", model.to_str().unwrap(), "--report", "--json"], dir.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let decode = v["functions"].as_array().unwrap().iter().find(|f| f["function"] == "decode").unwrap();
    let (before, after) = (decode["before"]["kernels"].as_u64().unwrap(), decode["after"]["kernels"].as_u64().unwrap());
    assert!(after < before, "{decode}");
    assert_eq!(decode["rewrite"]["kernels_after"].as_u64().unwrap(), after);
    assert!(decode["before"]["planned_bytes"].as_u64().unwrap() < decode["before"]["unplanned_bytes"].as_u64().unwrap(), "{decode}");
    assert!(!decode["rewrite"]["fused"].as_array().unwrap().is_empty(), "{decode}");
    assert_eq!(decode["rewrite"]["stop"], "saturated");
    // rewriting off and on: the same greedy tokens
    let run = |rewrite: &str| {
        let out = kiln_env(&["generate", "--model", model.to_str().unwrap(), "--device", "cpu", "--prompt", "a b", "--max-tokens", "6", "--temperature", "0", "--rewrite", rewrite, "--json"], dir.path());
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        (v["tokens"].clone(), v["text"].clone())
    };
    assert_eq!(run("on"), run("off"));
}

#[test]
fn bench_prints_pp_tg_and_the_limit() {
    let (dir, model) = tiny_model();
    let out = kiln_env(&["bench", "--model", model.to_str().unwrap(), "--device", "cpu", "--prompt-tokens", "8", "--gen-tokens", "4", "--bandwidth", "10", "--json"], dir.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["pp"]["tokens_per_s"].as_f64().unwrap() > 0.0 && v["tg"]["tokens_per_s"].as_f64().unwrap() > 0.0, "{v}");
    // pp is the median of the timed prefills (three by default)
    let mut runs: Vec<f64> = v["pp"]["runs_tokens_per_s"].as_array().unwrap().iter().map(|r| r.as_f64().unwrap()).collect();
    runs.sort_by(f64::total_cmp);
    assert_eq!((runs.len(), runs[1]), (3, v["pp"]["tokens_per_s"].as_f64().unwrap()), "{v}");
    let bytes = v["weight_bytes_per_token"].as_f64().unwrap();
    assert!((v["tg_limit_tokens_per_s"].as_f64().unwrap() - 10e9 / bytes).abs() < 1e-6 * 10e9 / bytes, "{v}");
    let out = kiln_env(&["bench", "--model", "random:llama-9b:q4_0"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown shape `llama-9b`"));
    // several sequences decoded at once over a paged KV cache
    let out = kiln_env(&["bench", "--model", model.to_str().unwrap(), "--device", "cpu", "--prompt-tokens", "20", "--gen-tokens", "4", "--batch", "3", "--json"], dir.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((v["tg_batch"]["sequences"].as_u64(), v["tg_batch"]["tokens"].as_u64()), (Some(3), Some(4)), "{v}");
    assert!(v["tg_batch"]["tokens_per_s"].as_f64().unwrap() > 0.0, "{v}");
    let out = kiln_env(&["bench", "--model", model.to_str().unwrap(), "--device", "cpu", "--batch", "0"], dir.path());
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    let out = kiln_env(&["bench", "--model", model.to_str().unwrap(), "--device", "cpu", "--repetitions", "0"], dir.path());
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
}

/// `kiln tuning`: records imported from JSON lines are listed, exported
/// again (read back equal), counted once on a second import; a malformed
/// file names its line and adds nothing; a file that is not a tuning
/// database is refused and left as it was.
#[test]
fn tuning_records_import_list_and_export() {
    let home = tempfile::tempdir().unwrap();
    let line = |fp: &str, median: f64| format!(r#"{{"kiln_tuning_record":1,"device":{{"fingerprint":"{fp}","name":"Test GPU","backend":"vulkan","driver":"1"}},"workload":{{"key":"gemv-4096","class":"gemv","description":"GEMV 4096 x 4096"}},"schedule":{{"rows":4}},"median_s":{median},"min_s":1e-6,"repeats":20,"kiln_version":"0.1.0","created_at":7}}"#);
    let file = home.path().join("shared.jsonl");
    std::fs::write(&file, format!("{}\n{}\n", line("fp-a", 4e-5), line("fp-b", 2e-5))).unwrap();
    let ok = |out: std::process::Output| {
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        out
    };
    let out = ok(kiln_env(&["tuning", "import", file.to_str().unwrap()], home.path()));
    assert!(String::from_utf8_lossy(&out.stderr).contains("2 records added, 0 already"));
    let out = ok(kiln_env(&["tuning", "import", file.to_str().unwrap()], home.path()));
    assert!(String::from_utf8_lossy(&out.stderr).contains("0 records added, 2 already"));
    assert!(home.path().join("tuning.db").is_file(), "the default database is $KILN_HOME/tuning.db");
    let listed: serde_json::Value = serde_json::from_slice(&ok(kiln_env(&["tuning", "list", "--device", "fp-b", "--json"], home.path())).stdout).unwrap();
    assert_eq!(listed["counts"]["records"], 2);
    assert_eq!(listed["best"].as_array().unwrap().len(), 1);
    assert_eq!(listed["best"][0]["median_s"], 2e-5);
    let exported = home.path().join("out.jsonl");
    ok(kiln_env(&["tuning", "export", "--out", exported.to_str().unwrap()], home.path()));
    let parse = |text: String| text.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()).collect::<Vec<_>>();
    assert_eq!(parse(std::fs::read_to_string(&exported).unwrap()), parse(std::fs::read_to_string(&file).unwrap()));

    std::fs::write(&file, format!("{}\n{{not json\n", line("fp-c", 1e-5))).unwrap();
    let out = kiln_env(&["tuning", "import", file.to_str().unwrap()], home.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 2 of the imported records"), "{}", String::from_utf8_lossy(&out.stderr));
    let listed: serde_json::Value = serde_json::from_slice(&ok(kiln_env(&["tuning", "list", "--json"], home.path())).stdout).unwrap();
    assert_eq!(listed["counts"]["records"], 2, "a failed import adds nothing");

    let notes = home.path().join("notes.txt");
    std::fs::write(&notes, "not a database").unwrap();
    let out = kiln_env(&["tuning", "--db", notes.to_str().unwrap(), "list"], home.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a kiln tuning database"));
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "not a database");
}

/// `kiln autotune` as a user runs it, on the CPU and on the GPU (lavapipe
/// in CI): a short tuning of a model's GEMV and GEMM kernels writes
/// records; a second run resumes from them; `kiln generate` then compiles
/// with the stored schedules (its report says how many kernels) and gives
/// the same greedy tokens as without them.
#[test]
fn autotune_writes_records_that_generate_and_a_second_run_read() {
    let (dir, model) = tiny_model();
    let m = model.to_str().unwrap();
    let db = dir.path().join("tuned.db");
    let db_arg = db.to_str().unwrap();
    for device in ["cpu", "gpu"] {
        let tune = || {
            let out = kiln_env(&["autotune", "--device", device, "--model", m, "--trials", "4", "--repeats", "2", "--seq", "8", "--db", db_arg, "--json"], dir.path());
            assert!(out.status.success(), "{device}: {}", String::from_utf8_lossy(&out.stderr));
            serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
        };
        let first = tune();
        let rows = first["workloads"].as_array().unwrap();
        assert!(rows.len() >= 2, "{device}: {first}");
        assert!(rows.iter().any(|r| r["class"] == "gemv") && rows.iter().any(|r| r["class"] == "gemm"), "{first}");
        for r in rows {
            assert!(r["tuned_s"].as_f64().unwrap() <= r["default_s"].as_f64().unwrap() && r["tuned_s"].as_f64().unwrap() > 0.0, "{r}");
            assert_eq!(r["resumed"], 0, "{r}");
        }
        let second = tune();
        assert!(second["workloads"].as_array().unwrap().iter().all(|r| r["resumed"].as_u64().unwrap() >= 1), "{second}");

        let generate = |extra: &[&str]| {
            let mut args = vec!["generate", "--model", m, "--device", device, "--prompt", "hello there", "--temperature", "0", "--max-tokens", "6", "--json"];
            args.extend_from_slice(extra);
            let out = kiln_env(&args, dir.path());
            assert!(out.status.success(), "{device} {extra:?}: {}", String::from_utf8_lossy(&out.stderr));
            (serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap(), String::from_utf8_lossy(&out.stderr).to_string())
        };
        let (tuned, report) = generate(&["--db", db_arg]);
        let (plain, _) = generate(&[]);
        assert!(tuned["tuned_kernels"].as_u64().unwrap() >= 1, "{device}: {tuned}");
        assert!(report.contains("tuned schedules:"), "{report}");
        assert!(plain["tuned_kernels"].is_null(), "no database in KILN_HOME: {plain}");
        assert_eq!(tuned["tokens"], plain["tokens"], "{device}");
        if device == "gpu" {
            // `kiln compile` writes the kernels with the same schedules
            let out_dir = dir.path().join("kernels");
            let out = kiln_env(&["compile", "--model", m, "--device", "gpu", "--numerics", "f32", "--emit", "nest", "--out", out_dir.to_str().unwrap(), "--db", db_arg, "--json"], dir.path());
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            assert!(v["tuned_kernels"].as_u64().unwrap() >= 1, "{v}");
        }
    }
    // an unreadable default database: a warning, and the default schedules;
    // the same file named with --db: an error; the file untouched either way
    let home = tempfile::tempdir().unwrap();
    let junk = b"not a database, certainly not kiln's".repeat(200);
    std::fs::write(home.path().join("tuning.db"), &junk).unwrap();
    let out = kiln_env(&["generate", "--model", m, "--device", "cpu", "--prompt", "hi", "--max-tokens", "2", "--json"], home.path());
    assert!(out.status.success() && String::from_utf8_lossy(&out.stderr).contains("not using tuned schedules"), "{}", String::from_utf8_lossy(&out.stderr));
    let junk_path = home.path().join("tuning.db");
    let out = kiln_env(&["generate", "--model", m, "--device", "cpu", "--prompt", "hi", "--db", junk_path.to_str().unwrap()], home.path());
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("not a kiln tuning database"), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read(&junk_path).unwrap(), junk);
    // a --db that does not exist is an error for generate, not a new file
    let missing = dir.path().join("missing.db");
    let out = kiln_env(&["generate", "--model", m, "--device", "cpu", "--prompt", "hi", "--db", missing.to_str().unwrap()], dir.path());
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("no tuning database"), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!missing.exists());
    let out = kiln_env(&["autotune", "--device", "cpu", "--model", m, "--class", "conv"], dir.path());
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("the classes are gemv, gemm"), "{}", String::from_utf8_lossy(&out.stderr));
    let out = kiln_env(&["autotune", "--device", "cpu", "--workload", "matmul:q4_0:1x100x8"], dir.path());
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("multiple of the 32-value blocks"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn serve_refuses_bad_settings_and_bad_models_with_clear_errors() {
    let (dir, model) = tiny_model();
    let m = model.to_str().unwrap();
    for (args, expected) in [
        (vec!["--max-concurrent", "0"], "--max-concurrent must be at least 1"),
        (vec!["--max-batch", "0"], "--max-batch must be at least 1"),
        (vec!["--timeout=-1"], "--timeout must be a positive number of seconds"),
    ] {
        let out = kiln_env(&[&["serve", "--model", m, "--device", "cpu", "--port", "0"][..], &args].concat(), dir.path());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(expected), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    // a file that is not a model: the engine's load error, then exit
    let bad = dir.path().join("bad.gguf");
    std::fs::write(&bad, b"not a gguf").unwrap();
    let out = kiln_env(&["serve", "--model", bad.to_str().unwrap(), "--device", "cpu", "--port", "0"], dir.path());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("bad.gguf"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
