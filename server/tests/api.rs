//! The server against the tiny random-weight model: replies equal the
//! zoo's own generation, streams equal non-streamed replies, concurrent
//! requests get the same answers as serial ones, bad input gets the right
//! 4xx with an OpenAI-style body, and a client that leaves cancels its
//! sequence.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use kiln_llm_zoo::{Message, Model, Numerics, SamplerConfig};
use kiln_server::{router, Engine, EngineConfig, HttpConfig};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::Duration;
use tower::ServiceExt;

const ID: &str = "tiny";

fn tiny_model_file() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tiny.gguf");
    std::fs::write(&path, kiln_llm_zoo::testing::tiny_llama_gguf(3)).unwrap();
    (dir, path)
}

fn app_with(engine: EngineConfig, http: HttpConfig) -> (Router, tempfile::TempDir, PathBuf) {
    let (dir, path) = tiny_model_file();
    let p = path.clone();
    let engine = Engine::start(ID, engine, move || load_batched(&p)).unwrap();
    (router(engine, http), dir, path)
}

/// The model on the CPU, decoding batches of 1, 2 and 4 sequences.
fn load_batched(path: &std::path::Path) -> Result<Model, String> {
    Model::load_batched(path, &kiln_runtime::Device::Cpu, &kiln_runtime::CompileOptions::default(), Numerics::default(), &[1, 2, 4]).map_err(|e| e.to_string())
}

fn app() -> (Router, tempfile::TempDir, PathBuf) {
    app_with(EngineConfig::default(), HttpConfig::default())
}

fn post(uri: &str, body: &Value) -> Request<Body> {
    Request::post(uri).header("content-type", "application/json").body(Body::from(body.to_string())).unwrap()
}

async fn send(app: &Router, request: Request<Body>) -> (StatusCode, String) {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

async fn send_json(app: &Router, request: Request<Body>) -> (StatusCode, Value) {
    let (status, text) = send(app, request).await;
    (status, serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}")))
}

/// The `data:` payloads of a server-sent-event body.
fn sse_data(body: &str) -> Vec<String> {
    body.lines().filter_map(|l| l.strip_prefix("data: ")).map(String::from).collect()
}

/// What the zoo generates greedily for `prompt` (token ids), as `kiln
/// generate --temperature 0` does.
fn greedy(path: &PathBuf, prompt: &str, chat: bool, max_tokens: usize) -> String {
    let model = Model::load(path).unwrap();
    let text = if chat { model.chat_template.render(&[Message::new("user", prompt)], true).unwrap() } else { prompt.to_string() };
    let ids = model.tokenizer.encode(&text, true).unwrap();
    model.generate(&ids, max_tokens, &SamplerConfig::default(), |_| {}).unwrap().text
}

#[tokio::test]
async fn models_and_health_describe_the_served_model() {
    let (app, _dir, _) = app();
    let (status, v) = send_json(&app, Request::get("/v1/models").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["object"], "list");
    assert_eq!(v["data"][0]["id"], ID);
    assert_eq!(v["data"][0]["context_length"], kiln_llm_zoo::testing::CONTEXT);
    let (status, v) = send_json(&app, Request::get("/v1/models/tiny").body(Body::empty()).unwrap()).await;
    assert_eq!((status, v["id"].as_str()), (StatusCode::OK, Some(ID)));
    let (status, v) = send_json(&app, Request::get("/health").body(Body::empty()).unwrap()).await;
    assert_eq!((status, &v["status"], &v["active"]), (StatusCode::OK, &json!("ok"), &json!(0)));
}

#[tokio::test]
async fn greedy_replies_equal_the_zoos_generation_streamed_or_not() {
    let (app, _dir, path) = app();
    let max = 12;
    // completions: the prompt as written
    let body = json!({"model": ID, "prompt": "the tea", "max_tokens": max, "temperature": 0});
    let (status, v) = send_json(&app, post("/v1/completions", &body)).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let expected = greedy(&path, "the tea", false, max);
    assert_eq!(v["choices"][0]["text"], expected.as_str());
    assert_eq!(v["object"], "text_completion");
    assert_eq!(v["usage"]["prompt_tokens"].as_u64().unwrap() + v["usage"]["completion_tokens"].as_u64().unwrap(), v["usage"]["total_tokens"].as_u64().unwrap());
    // chat: the model's template applied
    let body = json!({"model": ID, "messages": [{"role": "user", "content": "hello"}], "max_tokens": max, "temperature": 0});
    let (status, v) = send_json(&app, post("/v1/chat/completions", &body)).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let expected_chat = greedy(&path, "hello", true, max);
    assert_eq!(v["choices"][0]["message"]["content"], expected_chat.as_str());
    assert_eq!(v["choices"][0]["message"]["role"], "assistant");
    let finish = v["choices"][0]["finish_reason"].as_str().unwrap().to_string();
    let usage = v["usage"].clone();
    // the same, streamed, with the usage chunk
    let mut body = body;
    body["stream"] = json!(true);
    body["stream_options"] = json!({"include_usage": true});
    let (status, text) = send(&app, post("/v1/chat/completions", &body)).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let data = sse_data(&text);
    assert_eq!(data.last().unwrap(), "[DONE]");
    let chunks: Vec<Value> = data[..data.len() - 1].iter().map(|d| serde_json::from_str(d).unwrap()).collect();
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    assert!(chunks.iter().all(|c| c["object"] == "chat.completion.chunk" && c["id"] == chunks[0]["id"]));
    let streamed: String = chunks.iter().filter_map(|c| c["choices"][0]["delta"]["content"].as_str()).collect();
    assert_eq!(streamed, expected_chat);
    let last_choice = &chunks[chunks.len() - 2]["choices"][0];
    assert_eq!(last_choice["finish_reason"], finish.as_str());
    assert_eq!(chunks.last().unwrap()["choices"], json!([]));
    assert_eq!(chunks.last().unwrap()["usage"], usage);
    // completions streamed
    let body = json!({"model": ID, "prompt": "the tea", "max_tokens": max, "temperature": 0, "stream": true});
    let (_, text) = send(&app, post("/v1/completions", &body)).await;
    let data = sse_data(&text);
    let streamed: String = data[..data.len() - 1].iter().map(|d| serde_json::from_str::<Value>(d).unwrap()["choices"][0]["text"].as_str().unwrap().to_string()).collect();
    assert_eq!(streamed, expected);
}

#[tokio::test]
async fn a_stop_sequence_ends_the_reply_before_it() {
    let (app, _dir, path) = app();
    let full = greedy(&path, "the tea", false, 16);
    let chars: Vec<char> = full.chars().collect();
    assert!(chars.len() >= 6, "the tiny model should write at least 6 characters: {full:?}");
    // a stop sequence in the middle of the greedy text
    let stop: String = chars[3..5].iter().collect();
    let before = &full[..full.find(&stop).unwrap()];
    for stream in [false, true] {
        let body = json!({"model": ID, "prompt": "the tea", "max_tokens": 16, "temperature": 0, "stop": [stop], "stream": stream});
        let (status, text) = send(&app, post("/v1/completions", &body)).await;
        assert_eq!(status, StatusCode::OK);
        let (got, finish) = if stream {
            let data = sse_data(&text);
            let chunks: Vec<Value> = data[..data.len() - 1].iter().map(|d| serde_json::from_str(d).unwrap()).collect();
            let got: String = chunks.iter().map(|c| c["choices"][0]["text"].as_str().unwrap()).collect();
            (got, chunks.last().unwrap()["choices"][0]["finish_reason"].clone())
        } else {
            let v: Value = serde_json::from_str(&text).unwrap();
            (v["choices"][0]["text"].as_str().unwrap().to_string(), v["choices"][0]["finish_reason"].clone())
        };
        assert_eq!(got, before, "stream: {stream}");
        assert_eq!(finish, "stop");
    }
}

/// Greedy completions of `prompts`, first one at a time, then all at once:
/// each gets the same text and usage both ways.
async fn same_replies_one_at_a_time_and_at_once(app: &Router, prompts: &[&str], max_tokens: usize) {
    let body = |p: &str| json!({"model": ID, "prompt": p, "max_tokens": max_tokens, "temperature": 0});
    let mut alone = Vec::new();
    for p in prompts {
        let (status, v) = send_json(app, post("/v1/completions", &body(p))).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        alone.push(v);
    }
    let tasks: Vec<_> = prompts.iter().map(|p| tokio::spawn({
        let (app, request) = (app.clone(), post("/v1/completions", &body(p)));
        async move { send_json(&app, request).await }
    })).collect();
    for (task, expected) in tasks.into_iter().zip(alone) {
        let (status, v) = task.await.unwrap();
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(v["choices"][0]["text"], expected["choices"][0]["text"]);
        assert_eq!(v["usage"], expected["usage"]);
    }
}

#[tokio::test]
async fn concurrent_requests_get_the_answers_they_get_alone() {
    // two run at once, the rest wait in the queue
    let (app, _dir, _) = app_with(EngineConfig { max_concurrent: 2, max_queue: 16, timeout: Duration::from_secs(300), log_requests: true, ..EngineConfig::default() }, HttpConfig::default());
    same_replies_one_at_a_time_and_at_once(&app, &["a", "the tea", "hello there", "xyz", "tea", "he he"], 10).await;
    let (_, health) = send_json(&app, Request::get("/health").body(Body::empty()).unwrap()).await;
    assert_eq!(health["completed"], 12);
}

#[tokio::test]
async fn a_full_queue_refuses_with_503_and_the_rest_are_served() {
    let (app, _dir, _) = app_with(EngineConfig { max_concurrent: 1, max_queue: 1, timeout: Duration::from_secs(300), ..EngineConfig::default() }, HttpConfig::default());
    let body = json!({"model": ID, "prompt": "the tea", "max_tokens": 40, "temperature": 0});
    let tasks: Vec<_> = (0..6).map(|_| tokio::spawn({
        let (app, request) = (app.clone(), post("/v1/completions", &body));
        async move { send_json(&app, request).await }
    })).collect();
    let mut statuses = Vec::new();
    for t in tasks {
        let (status, v) = t.await.unwrap();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            assert_eq!(v["error"]["code"], "server_overloaded");
        }
        statuses.push(status);
    }
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    assert!(ok >= 2, "one running and one queued are served: {statuses:?}");
    assert!(statuses.contains(&StatusCode::SERVICE_UNAVAILABLE), "{statuses:?}");
}

#[tokio::test]
async fn a_client_that_leaves_cancels_its_sequence() {
    let (app, _dir, _) = app();
    let body = json!({"model": ID, "prompt": "the tea", "max_tokens": 80, "temperature": 0.7, "seed": 1, "stream": true});
    let response = app.clone().oneshot(post("/v1/completions", &body)).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let mut body = response.into_body();
    let first = body.frame().await.unwrap().unwrap();
    assert!(first.is_data());
    // a client that does not read pauses its sequence: a channel's worth
    // of tokens, then no more steps
    tokio::time::sleep(Duration::from_millis(300)).await;
    let health = send_json(&app, Request::get("/health").body(Body::empty()).unwrap()).await.1;
    assert_eq!(health["active"], 1, "{health}");
    let generated = health["generated_tokens"].as_u64().unwrap() as usize;
    assert!(generated <= kiln_server::engine::EVENTS_IN_FLIGHT + 2, "{health}");
    drop(body);
    // the engine notices at the sequence's next step
    let mut health = Value::Null;
    for _ in 0..200 {
        health = send_json(&app, Request::get("/health").body(Body::empty()).unwrap()).await.1;
        if health["cancelled"] == 1 && health["active"] == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!((&health["cancelled"], &health["active"], &health["completed"]), (&json!(1), &json!(0), &json!(0)), "{health}");
    // and it keeps serving
    let (status, _) = send_json(&app, post("/v1/completions", &json!({"model": ID, "prompt": "x", "max_tokens": 2}))).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn bad_requests_get_openai_errors_and_the_server_keeps_serving() {
    let http = HttpConfig { api_key: Some("sekret".into()), max_body_bytes: 4096 };
    let (app, _dir, _) = app_with(EngineConfig { timeout: Duration::from_secs(300), ..EngineConfig::default() }, http);
    let authed = |r: axum::http::request::Builder| r.header("authorization", "Bearer sekret").header("content-type", "application/json");
    let long_prompt = "a b ".repeat(60); // 120 tokens, over the tiny context of 96
    let cases: Vec<(&str, Request<Body>, StatusCode, Option<&str>, Option<&str>)> = vec![
        ("malformed JSON", authed(Request::post("/v1/chat/completions")).body(Body::from("{\"model\": ")).unwrap(), StatusCode::BAD_REQUEST, None, None),
        ("missing messages", authed(Request::post("/v1/chat/completions")).body(Body::from(json!({"model": ID}).to_string())).unwrap(), StatusCode::BAD_REQUEST, None, None),
        ("unknown model", authed(Request::post("/v1/chat/completions")).body(Body::from(json!({"model": "gpt-9", "messages": [{"role": "user", "content": "hi"}]}).to_string())).unwrap(), StatusCode::NOT_FOUND, Some("model_not_found"), Some("model")),
        ("negative max_tokens", authed(Request::post("/v1/completions")).body(Body::from(json!({"model": ID, "prompt": "hi", "max_tokens": -3}).to_string())).unwrap(), StatusCode::BAD_REQUEST, None, Some("max_tokens")),
        ("prompt over the context", authed(Request::post("/v1/completions")).body(Body::from(json!({"model": ID, "prompt": long_prompt}).to_string())).unwrap(), StatusCode::BAD_REQUEST, Some("context_length_exceeded"), Some("prompt")),
        ("prompt and max_tokens over the context", authed(Request::post("/v1/completions")).body(Body::from(json!({"model": ID, "prompt": "hi", "max_tokens": 95}).to_string())).unwrap(), StatusCode::BAD_REQUEST, Some("context_length_exceeded"), Some("prompt")),
        ("oversized body", authed(Request::post("/v1/completions")).body(Body::from(json!({"model": ID, "prompt": "x".repeat(5000)}).to_string())).unwrap(), StatusCode::PAYLOAD_TOO_LARGE, None, None),
        ("wrong API key", Request::post("/v1/completions").header("authorization", "Bearer nope").body(Body::from(json!({"model": ID, "prompt": "hi"}).to_string())).unwrap(), StatusCode::UNAUTHORIZED, Some("invalid_api_key"), None),
        ("no API key", Request::get("/v1/models").body(Body::empty()).unwrap(), StatusCode::UNAUTHORIZED, Some("invalid_api_key"), None),
        ("unknown route", authed(Request::get("/v1/engines")).body(Body::empty()).unwrap(), StatusCode::NOT_FOUND, None, None),
        ("wrong method", authed(Request::get("/v1/completions")).body(Body::empty()).unwrap(), StatusCode::METHOD_NOT_ALLOWED, None, None),
        ("n over 1", authed(Request::post("/v1/completions")).body(Body::from(json!({"model": ID, "prompt": "hi", "n": 3}).to_string())).unwrap(), StatusCode::BAD_REQUEST, None, Some("n")),
        ("temperature out of range", authed(Request::post("/v1/chat/completions")).body(Body::from(json!({"model": ID, "messages": [{"role": "user", "content": "hi"}], "temperature": 9}).to_string())).unwrap(), StatusCode::BAD_REQUEST, None, Some("temperature")),
        ("empty prompt", authed(Request::post("/v1/completions")).body(Body::from(json!({"model": ID, "prompt": ""}).to_string())).unwrap(), StatusCode::BAD_REQUEST, None, Some("prompt")),
    ];
    for (what, request, status, code, param) in cases {
        let (got, v) = send_json(&app, request).await;
        assert_eq!(got, status, "{what}: {v}");
        let e = &v["error"];
        assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{what}: {v}");
        assert!(e["type"].is_string(), "{what}: {v}");
        if let Some(code) = code {
            assert_eq!(e["code"], code, "{what}");
        }
        if let Some(param) = param {
            assert_eq!(e["param"], param, "{what}");
        }
    }
    // health needs no key; the server still serves a good request
    assert_eq!(send(&app, Request::get("/health").body(Body::empty()).unwrap()).await.0, StatusCode::OK);
    let (status, v) = send_json(&app, authed(Request::post("/v1/completions")).body(Body::from(json!({"model": ID, "prompt": "hi", "max_tokens": 3}).to_string())).unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["usage"]["completion_tokens"].as_u64().unwrap() <= 3, true);
}

#[tokio::test]
async fn a_request_past_the_time_limit_gets_504() {
    let (app, _dir, _) = app_with(EngineConfig { timeout: Duration::ZERO, ..EngineConfig::default() }, HttpConfig::default());
    let (status, v) = send_json(&app, post("/v1/completions", &json!({"model": ID, "prompt": "hi", "max_tokens": 5}))).await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT, "{v}");
    assert_eq!(v["error"]["code"], "timeout");
}

#[tokio::test]
async fn streaming_works_over_a_real_socket() {
    let (app, _dir, path) = app();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let body = json!({"model": ID, "prompt": "the tea", "max_tokens": 8, "temperature": 0, "stream": true}).to_string();
    let response = tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        write!(s, "POST /v1/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}", body.len()).unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    })
    .await
    .unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.to_ascii_lowercase().contains("content-type: text/event-stream"), "{response}");
    let data = sse_data(&response);
    assert_eq!(data.last().map(String::as_str), Some("[DONE]"));
    let text: String = data[..data.len() - 1].iter().map(|d| serde_json::from_str::<Value>(d).unwrap()["choices"][0]["text"].as_str().unwrap().to_string()).collect();
    assert_eq!(text, greedy(&path, "the tea", false, 8));
}

#[tokio::test]
async fn a_full_kv_cache_evicts_the_newest_and_every_reply_stays_the_same() {
    // four pages of 16 tokens for four sequences of up to 45 tokens: the
    // newest are evicted, evaluate their tokens again later, and still get
    // the reply they get alone
    let kv = 4 * kiln_llm_zoo::KV_PAGE;
    let (app, _dir, _) = app_with(EngineConfig { max_concurrent: 4, kv_cache_tokens: Some(kv), timeout: Duration::from_secs(300), log_requests: true, ..EngineConfig::default() }, HttpConfig::default());
    let (_, health) = send_json(&app, Request::get("/health").body(Body::empty()).unwrap()).await;
    assert_eq!((health["kv_cache"]["tokens"].as_u64(), health["kv_cache"]["pages"].as_u64()), (Some(kv as u64), Some(4)), "{health}");
    let (_, models) = send_json(&app, Request::get("/v1/models").body(Body::empty()).unwrap()).await;
    assert_eq!(models["data"][0]["context_length"], kv, "a request may use at most the cache: {models}");
    same_replies_one_at_a_time_and_at_once(&app, &["a", "the tea", "hello there", "xyz"], 40).await;
    // the last sequence leaves the engine just after its reply
    let mut health = Value::Null;
    for _ in 0..500 {
        health = send_json(&app, Request::get("/health").body(Body::empty()).unwrap()).await.1;
        if health["active"] == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(health["kv_cache"]["evictions"].as_u64().unwrap() > 0, "{health}");
    assert_eq!(health["kv_cache"]["free_pages"], 4, "every page comes back: {health}");
    // more than the cache holds is refused like more than the context
    let (status, v) = send_json(&app, post("/v1/completions", &json!({"model": ID, "prompt": "a", "max_tokens": kv}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["error"]["code"], "context_length_exceeded");
}

#[test]
fn an_engine_needs_a_model_that_decodes_batches_of_one() {
    let (_dir, path) = tiny_model_file();
    let err = Engine::start(ID, EngineConfig::default(), move || Model::load(&path).map_err(|e| e.to_string())).unwrap_err();
    assert!(err.contains("batch size 1"), "{err}");
}

#[tokio::test]
async fn health_says_503_once_the_engine_thread_has_stopped() {
    let (_dir, path) = tiny_model_file();
    let engine = Engine::start(ID, EngineConfig::default(), move || load_batched(&path)).unwrap();
    let stats = engine.stats().clone();
    let app = router(engine, HttpConfig::default());
    let (status, v) = send_json(&app, Request::get("/health").body(Body::empty()).unwrap()).await;
    assert_eq!((status, &v["status"]), (StatusCode::OK, &json!("ok")));
    // what the engine thread's end (a panic in the model) marks
    stats.stopped.store(true, std::sync::atomic::Ordering::Relaxed);
    let (status, v) = send_json(&app, Request::get("/health").body(Body::empty()).unwrap()).await;
    assert_eq!((status, &v["status"]), (StatusCode::SERVICE_UNAVAILABLE, &json!("stopped")), "{v}");
}
