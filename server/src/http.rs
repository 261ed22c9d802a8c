//! The HTTP side: routes, the API key check, body limits, and turning the
//! engine's events into OpenAI responses (JSON, or server-sent events).

use crate::api::{ApiError, ChatRequest, CompletionRequest, Sampling, Usage};
use crate::engine::{Engine, Event, FinishReason, Job, PromptInput, EVENTS_IN_FLIGHT};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::{header, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::stream::{self, Stream};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::sync::mpsc::{channel, Receiver};

/// Settings of the HTTP side.
#[derive(Clone, Debug)]
pub struct HttpConfig {
    /// Requests to `/v1/*` must send `Authorization: Bearer <key>`.
    pub api_key: Option<String>,
    /// Largest request body accepted (413 above it).
    pub max_body_bytes: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig { api_key: None, max_body_bytes: 1 << 20 }
    }
}

struct AppState {
    engine: Engine,
    api_key: Option<String>,
}

/// The application: `/health`, `/v1/models`, `/v1/chat/completions`,
/// `/v1/completions`, OpenAI-style errors for everything else.
pub fn router(engine: Engine, config: HttpConfig) -> Router {
    let state = Arc::new(AppState { engine, api_key: config.api_key });
    let api = Router::new()
        .route("/v1/models", get(models))
        .route("/v1/models/{id}", get(model))
        .route("/v1/chat/completions", post(chat_completions))
        .route("/v1/completions", post(completions))
        .route_layer(middleware::from_fn_with_state(state.clone(), check_api_key));
    Router::new()
        .route("/health", get(health))
        .merge(api)
        .fallback(unknown_route)
        .method_not_allowed_fallback(wrong_method)
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .with_state(state)
}

async fn check_api_key(State(s): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    if let Some(key) = &s.api_key {
        let sent = request.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
        if sent != Some(key.as_str()) {
            return ApiError::unauthorized().into_response();
        }
    }
    next.run(request).await
}

async fn unknown_route(method: Method, uri: Uri) -> ApiError {
    ApiError::invalid(format!("Unknown request URL: {method} {}", uri.path()), None).with_status(StatusCode::NOT_FOUND)
}

async fn wrong_method(method: Method, uri: Uri) -> ApiError {
    ApiError::invalid(format!("{} does not take {method}", uri.path()), None).with_status(StatusCode::METHOD_NOT_ALLOWED)
}

/// The engine's counters; 503 with status `stopped` once the engine
/// thread has ended (nothing will be served: restart the server).
async fn health(State(s): State<Arc<AppState>>) -> (StatusCode, Json<Value>) {
    let st = s.engine.stats();
    let n = |a: &std::sync::atomic::AtomicUsize| a.load(Ordering::Relaxed);
    let c = s.engine.config();
    let stopped = st.stopped.load(Ordering::Relaxed);
    let status = if stopped { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::OK };
    (status, Json(json!({
        "status": if stopped { "stopped" } else { "ok" }, "model": s.engine.info().id,
        "active": n(&st.active), "queued": n(&st.queued), "max_concurrent": c.max_concurrent, "max_queue": c.max_queue,
        "completed": n(&st.completed), "cancelled": n(&st.cancelled), "failed": n(&st.failed), "generated_tokens": n(&st.generated_tokens), "batched_steps": n(&st.batched_steps),
        "kv_cache": { "tokens": s.engine.info().kv_cache.0, "bytes": s.engine.info().kv_cache.1, "pages": n(&st.kv_pages), "free_pages": n(&st.kv_pages_free), "evictions": n(&st.preempted) },
    })))
}

fn model_object(s: &AppState) -> Value {
    let info = s.engine.info();
    json!({ "id": info.id, "object": "model", "created": info.created, "owned_by": "kiln", "context_length": info.context, "name": info.name })
}

async fn models(State(s): State<Arc<AppState>>) -> Json<Value> {
    Json(json!({ "object": "list", "data": [model_object(&s)] }))
}

async fn model(State(s): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    if id != s.engine.info().id {
        return ApiError::unknown_model(&id, &s.engine.info().id).into_response();
    }
    Json(model_object(&s)).into_response()
}

/// A JSON body, or the error to answer with.
fn parse<T: DeserializeOwned>(body: Result<Bytes, BytesRejection>) -> Result<T, ApiError> {
    let bytes = body.map_err(|e| ApiError::invalid(format!("could not read the request body: {}", e.body_text()), None).with_status(e.status()))?;
    serde_json::from_slice(&bytes).map_err(|e| ApiError::invalid(format!("the request body is not a valid request for this endpoint: {e}"), None))
}

async fn chat_completions(State(s): State<Arc<AppState>>, body: Result<Bytes, BytesRejection>) -> Response {
    let request = parse::<ChatRequest>(body).and_then(|r| {
        check_model(&s, &r.model)?;
        Ok((PromptInput::Chat(r.messages()?), r.sampling))
    });
    match request {
        Ok((prompt, sampling)) => generate(s, prompt, sampling, Endpoint::Chat).await,
        Err(e) => e.into_response(),
    }
}

async fn completions(State(s): State<Arc<AppState>>, body: Result<Bytes, BytesRejection>) -> Response {
    let request = parse::<CompletionRequest>(body).and_then(|r| {
        check_model(&s, &r.model)?;
        Ok((PromptInput::Text(r.prompt()?), r.sampling))
    });
    match request {
        Ok((prompt, sampling)) => generate(s, prompt, sampling, Endpoint::Completions).await,
        Err(e) => e.into_response(),
    }
}

fn check_model(s: &AppState, model: &str) -> Result<(), ApiError> {
    let served = &s.engine.info().id;
    if model == served {
        Ok(())
    } else {
        Err(ApiError::unknown_model(model, served))
    }
}

/// Which API's shapes a reply takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Endpoint {
    Chat,
    Completions,
}

/// The fields every response object of one reply shares.
struct Reply {
    endpoint: Endpoint,
    id: String,
    created: u64,
    model: String,
}

impl Reply {
    fn new(endpoint: Endpoint, model: &str) -> Reply {
        let prefix = if endpoint == Endpoint::Chat { "chatcmpl" } else { "cmpl" };
        let created = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        Reply { endpoint, id: format!("{prefix}-{:024x}", rand::random::<u128>() >> 32), created, model: model.into() }
    }

    fn object(&self, choices: Value, usage: Option<Usage>, chunk: bool) -> Value {
        let object = match (self.endpoint, chunk) {
            (Endpoint::Chat, false) => "chat.completion",
            (Endpoint::Chat, true) => "chat.completion.chunk",
            (Endpoint::Completions, _) => "text_completion",
        };
        let mut v = json!({ "id": self.id, "object": object, "created": self.created, "model": self.model, "system_fingerprint": concat!("kiln-", env!("CARGO_PKG_VERSION")), "choices": choices });
        if !chunk || usage.is_some() {
            v["usage"] = json!(usage);
        }
        v
    }

    /// The whole reply, not streamed.
    fn complete(&self, text: String, finish: FinishReason, usage: Usage) -> Value {
        let choice = match self.endpoint {
            Endpoint::Chat => json!({ "index": 0, "message": { "role": "assistant", "content": text }, "logprobs": null, "finish_reason": finish.as_str() }),
            Endpoint::Completions => json!({ "index": 0, "text": text, "logprobs": null, "finish_reason": finish.as_str() }),
        };
        self.object(json!([choice]), Some(usage), false)
    }

    /// One streamed chunk: text, or the end.
    fn chunk(&self, text: Option<&str>, finish: Option<FinishReason>) -> Value {
        let reason = finish.map(FinishReason::as_str);
        let choice = match self.endpoint {
            Endpoint::Chat => {
                let delta = match text {
                    Some(t) => json!({ "content": t }),
                    None => json!({}),
                };
                json!({ "index": 0, "delta": delta, "logprobs": null, "finish_reason": reason })
            }
            Endpoint::Completions => json!({ "index": 0, "text": text.unwrap_or(""), "logprobs": null, "finish_reason": reason }),
        };
        self.object(json!([choice]), None, true)
    }
}

/// Send the job, wait for the engine to accept it, and answer.
async fn generate(s: Arc<AppState>, prompt: PromptInput, sampling: Sampling, endpoint: Endpoint) -> Response {
    let limits = match sampling.validate() {
        Ok(l) => l,
        Err(e) => return e.into_response(),
    };
    let (events, mut rx) = channel(EVENTS_IN_FLIGHT);
    if let Err(e) = s.engine.submit(Job { prompt, limits, events }) {
        return e.into_response();
    }
    match rx.recv().await {
        Some(Event::Accepted { .. }) => {}
        Some(Event::Failed(e)) => return e.into_response(),
        other => return ApiError::internal(format!("the engine answered {other:?} first")).into_response(),
    }
    let reply = Reply::new(endpoint, &s.engine.info().id);
    if sampling.stream {
        return Sse::new(sse_events(reply, rx, sampling.include_usage())).keep_alive(KeepAlive::default()).into_response();
    }
    let mut text = String::new();
    loop {
        match rx.recv().await {
            Some(Event::Text(t)) => text.push_str(&t),
            Some(Event::Done { finish_reason, usage }) => return Json(reply.complete(text, finish_reason, usage)).into_response(),
            Some(Event::Failed(e)) => return e.into_response(),
            Some(Event::Accepted { .. }) | None => return ApiError::internal("the engine dropped the request").into_response(),
        }
    }
}

/// The engine's events as server-sent events: a first chunk (the role, for
/// chat), one chunk per piece of text, one with the finish reason, the
/// usage if asked, then `[DONE]`; an error as `{"error": ...}`.
fn sse_events(reply: Reply, rx: Receiver<Event>, include_usage: bool) -> impl Stream<Item = Result<SseEvent, Infallible>> {
    let data = |v: &Value| SseEvent::default().data(v.to_string());
    let first = match reply.endpoint {
        Endpoint::Chat => {
            let mut v = reply.chunk(Some(""), None);
            v["choices"][0]["delta"] = json!({ "role": "assistant", "content": "" });
            vec![data(&v)]
        }
        Endpoint::Completions => Vec::new(),
    };
    let state = (reply, Some(rx), first.into_iter().collect::<std::collections::VecDeque<_>>());
    stream::unfold(state, move |(reply, mut rx, mut ready)| async move {
        loop {
            if let Some(e) = ready.pop_front() {
                return Some((Ok(e), (reply, rx, ready)));
            }
            let event = rx.as_mut()?.recv().await;
            match event {
                Some(Event::Text(t)) => ready.push_back(data(&reply.chunk(Some(&t), None))),
                Some(Event::Done { finish_reason, usage }) => {
                    ready.push_back(data(&reply.chunk(None, Some(finish_reason))));
                    if include_usage {
                        ready.push_back(data(&reply.object(json!([]), Some(usage), true)));
                    }
                    ready.push_back(SseEvent::default().data("[DONE]"));
                    rx = None;
                }
                Some(Event::Failed(e)) => {
                    ready.push_back(data(&e.body()));
                    rx = None;
                }
                Some(Event::Accepted { .. }) | None => rx = None,
            }
        }
    })
}
