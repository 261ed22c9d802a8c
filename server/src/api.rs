//! The OpenAI API's request and response bodies (the fields kiln reads and
//! writes), their validation, and OpenAI-style errors.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kiln_llm_zoo::Message;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// An error as the OpenAI API reports it: a status and
/// `{"error": {"message", "type", "param", "code"}}`.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// What went wrong, for people.
    pub message: String,
    /// `invalid_request_error`, `authentication_error`, `not_found_error`,
    /// `server_error`, ...
    pub kind: &'static str,
    /// The request field at fault, if one is.
    pub param: Option<String>,
    /// A machine-readable code (`context_length_exceeded`, `model_not_found`, ...).
    pub code: Option<&'static str>,
}

impl ApiError {
    /// 400: the request is malformed or a field is out of range.
    pub fn invalid(message: impl Into<String>, param: Option<&str>) -> ApiError {
        ApiError { status: StatusCode::BAD_REQUEST, message: message.into(), kind: "invalid_request_error", param: param.map(String::from), code: None }
    }

    /// With a machine-readable code.
    pub fn with_code(mut self, code: &'static str) -> ApiError {
        self.code = Some(code);
        self
    }

    /// Another status.
    pub fn with_status(mut self, status: StatusCode) -> ApiError {
        self.status = status;
        self
    }

    /// 404 for a model this server does not serve.
    pub fn unknown_model(asked: &str, served: &str) -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            message: format!("The model `{asked}` does not exist; this server serves `{served}`"),
            kind: "invalid_request_error",
            param: Some("model".into()),
            code: Some("model_not_found"),
        }
    }

    /// 401 for a missing or wrong API key.
    pub fn unauthorized() -> ApiError {
        ApiError {
            status: StatusCode::UNAUTHORIZED,
            message: "Incorrect or missing API key: send `Authorization: Bearer <key>` with the key `kiln serve --api-key` was given".into(),
            kind: "invalid_request_error",
            param: None,
            code: Some("invalid_api_key"),
        }
    }

    /// 503 when the queue is full.
    pub fn overloaded(queued: usize) -> ApiError {
        ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            message: format!("The server is busy ({queued} requests are waiting); try again later"),
            kind: "server_error",
            param: None,
            code: Some("server_overloaded"),
        }
    }

    /// 504 when a request ran past the server's time limit.
    pub fn timeout(seconds: f64) -> ApiError {
        ApiError { status: StatusCode::GATEWAY_TIMEOUT, message: format!("The request took longer than the server's limit of {seconds} s"), kind: "server_error", param: None, code: Some("timeout") }
    }

    /// 500: the model failed while running (a bug, or the device failed).
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError { status: StatusCode::INTERNAL_SERVER_ERROR, message: message.into(), kind: "server_error", param: None, code: None }
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        json!({ "error": { "message": self.message, "type": self.kind, "param": self.param, "code": self.code } })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body())).into_response()
    }
}

/// `stop`: one string or a list of them.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum Stop {
    /// One stop sequence.
    One(String),
    /// Several.
    Many(Vec<String>),
}

/// A message's `content`: text, or a list of parts of which kiln reads the
/// text ones.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum Content {
    /// Plain text.
    Text(String),
    /// Content parts (`{"type": "text", "text": ...}`).
    Parts(Vec<ContentPart>),
}

/// One part of a message's content.
#[derive(Clone, Debug, Deserialize)]
pub struct ContentPart {
    /// `text` (other kinds are refused).
    #[serde(rename = "type")]
    pub kind: String,
    /// The text of a `text` part.
    #[serde(default)]
    pub text: Option<String>,
}

/// A message of a chat request.
#[derive(Clone, Debug, Deserialize)]
pub struct ChatMessage {
    /// `system`, `developer`, `user`, `assistant` or `tool`.
    pub role: String,
    /// The text (null for an assistant's tool call, which kiln refuses).
    #[serde(default)]
    pub content: Option<Content>,
}

/// `stream_options`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct StreamOptions {
    /// Send a last chunk with the usage counts.
    #[serde(default)]
    pub include_usage: bool,
}

/// The sampling and length fields both endpoints share.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Sampling {
    /// Most tokens to generate (default: up to the context length).
    pub max_tokens: Option<i64>,
    /// The newer name of `max_tokens` (chat).
    pub max_completion_tokens: Option<i64>,
    /// 0 to 2; 0 is greedy (default 1).
    pub temperature: Option<f64>,
    /// Nucleus sampling, in (0, 1] (default 1).
    pub top_p: Option<f64>,
    /// Seed of the sampler (default: a fresh one).
    pub seed: Option<i64>,
    /// Stop sequences (up to 4).
    pub stop: Option<Stop>,
    /// Stream the reply as server-sent events.
    #[serde(default)]
    pub stream: bool,
    /// Options of a streamed reply.
    pub stream_options: Option<StreamOptions>,
    /// Replies to generate; kiln makes one.
    pub n: Option<i64>,
}

/// `POST /v1/chat/completions`.
#[derive(Clone, Debug, Deserialize)]
pub struct ChatRequest {
    /// The model's id (see `GET /v1/models`).
    pub model: String,
    /// The conversation.
    pub messages: Vec<ChatMessage>,
    /// Sampling and length.
    #[serde(flatten)]
    pub sampling: Sampling,
}

/// `prompt`: a string or a list holding one string.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum Prompt {
    /// The text.
    Text(String),
    /// A batch of texts; kiln takes one.
    Texts(Vec<String>),
}

/// `POST /v1/completions`.
#[derive(Clone, Debug, Deserialize)]
pub struct CompletionRequest {
    /// The model's id.
    pub model: String,
    /// The text to continue, tokenized as written.
    pub prompt: Prompt,
    /// Sampling and length.
    #[serde(flatten)]
    pub sampling: Sampling,
    /// Log probabilities (not supported: must be absent or null).
    pub logprobs: Option<Value>,
    /// Echo the prompt (not supported: must be absent or false).
    #[serde(default)]
    pub echo: bool,
}

/// The validated settings of one generation.
#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
    /// Most tokens to generate, if the request set it.
    pub max_tokens: Option<usize>,
    /// Sampler settings.
    pub temperature: f32,
    /// Nucleus.
    pub top_p: f32,
    /// Seed.
    pub seed: u64,
    /// Stop sequences.
    pub stop: Vec<String>,
}

impl Sampling {
    /// Check every field's range, naming the field at fault.
    pub fn validate(&self) -> Result<Limits, ApiError> {
        let max_tokens = match self.max_completion_tokens.or(self.max_tokens) {
            None => None,
            Some(n) if n >= 1 => Some(usize::try_from(n).unwrap_or(usize::MAX)),
            Some(n) => {
                let param = if self.max_completion_tokens.is_some() { "max_completion_tokens" } else { "max_tokens" };
                return Err(ApiError::invalid(format!("{param} must be at least 1, got {n}"), Some(param)));
            }
        };
        let temperature = self.temperature.unwrap_or(1.0);
        if !(0.0..=2.0).contains(&temperature) {
            return Err(ApiError::invalid(format!("temperature must be between 0 and 2, got {temperature}"), Some("temperature")));
        }
        let top_p = self.top_p.unwrap_or(1.0);
        if !(top_p > 0.0 && top_p <= 1.0) {
            return Err(ApiError::invalid(format!("top_p must be in (0, 1], got {top_p}"), Some("top_p")));
        }
        if let Some(n) = self.n.filter(|&n| n != 1) {
            return Err(ApiError::invalid(format!("n must be 1 (kiln generates one choice per request), got {n}"), Some("n")));
        }
        let stop = match &self.stop {
            None => Vec::new(),
            Some(Stop::One(s)) => vec![s.clone()],
            Some(Stop::Many(v)) if v.len() <= 4 => v.clone(),
            Some(Stop::Many(v)) => return Err(ApiError::invalid(format!("stop takes at most 4 sequences, got {}", v.len()), Some("stop"))),
        };
        let seed = self.seed.map_or_else(rand::random::<u64>, |s| s as u64);
        Ok(Limits { max_tokens, temperature: temperature as f32, top_p: top_p as f32, seed, stop })
    }

    /// Whether a streamed reply ends with a usage chunk.
    pub fn include_usage(&self) -> bool {
        self.stream_options.as_ref().is_some_and(|o| o.include_usage)
    }
}

impl ChatRequest {
    /// The conversation as the chat template takes it.
    pub fn messages(&self) -> Result<Vec<Message>, ApiError> {
        if self.messages.is_empty() {
            return Err(ApiError::invalid("messages must hold at least one message", Some("messages")));
        }
        self.messages
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let param = format!("messages[{i}]");
                let role = match m.role.as_str() {
                    // newer clients send `developer` for what templates call `system`
                    "developer" => "system",
                    r @ ("system" | "user" | "assistant" | "tool") => r,
                    other => return Err(ApiError::invalid(format!("{param}.role `{other}` is not one of system, developer, user, assistant, tool"), Some(&format!("{param}.role")))),
                };
                let content = match &m.content {
                    None => return Err(ApiError::invalid(format!("{param}.content is missing (tool calls are not supported)"), Some(&format!("{param}.content")))),
                    Some(Content::Text(t)) => t.clone(),
                    Some(Content::Parts(parts)) => {
                        let mut text = String::new();
                        for p in parts {
                            match (p.kind.as_str(), &p.text) {
                                ("text", Some(t)) => text.push_str(t),
                                (kind, _) => return Err(ApiError::invalid(format!("{param}.content has a `{kind}` part; kiln's models read text only"), Some(&format!("{param}.content")))),
                            }
                        }
                        text
                    }
                };
                Ok(Message::new(role, &content))
            })
            .collect()
    }
}

impl CompletionRequest {
    /// The prompt text.
    pub fn prompt(&self) -> Result<String, ApiError> {
        if self.logprobs.as_ref().is_some_and(|v| !v.is_null()) {
            return Err(ApiError::invalid("logprobs are not supported", Some("logprobs")));
        }
        if self.echo {
            return Err(ApiError::invalid("echo is not supported", Some("echo")));
        }
        match &self.prompt {
            Prompt::Text(t) => Ok(t.clone()),
            Prompt::Texts(v) if v.len() == 1 => Ok(v[0].clone()),
            Prompt::Texts(v) => Err(ApiError::invalid(format!("prompt must be one string (kiln completes one prompt per request), got a list of {}", v.len()), Some("prompt"))),
        }
    }
}

/// Token counts of a reply.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Usage {
    /// Tokens of the prompt (after the chat template).
    pub prompt_tokens: usize,
    /// Tokens generated.
    pub completion_tokens: usize,
    /// Their sum.
    pub total_tokens: usize,
}

impl Usage {
    /// The counts.
    pub fn new(prompt_tokens: usize, completion_tokens: usize) -> Usage {
        Usage { prompt_tokens, completion_tokens, total_tokens: prompt_tokens + completion_tokens }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sampling(v: Value) -> Sampling {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn out_of_range_fields_are_refused_by_name() {
        for (body, param) in [
            (json!({"max_tokens": -1}), "max_tokens"),
            (json!({"max_tokens": 0}), "max_tokens"),
            (json!({"max_completion_tokens": -5}), "max_completion_tokens"),
            (json!({"temperature": 2.5}), "temperature"),
            (json!({"temperature": -0.1}), "temperature"),
            (json!({"top_p": 0}), "top_p"),
            (json!({"n": 2}), "n"),
            (json!({"stop": ["a", "b", "c", "d", "e"]}), "stop"),
        ] {
            let e = sampling(body.clone()).validate().unwrap_err();
            assert_eq!(e.status, StatusCode::BAD_REQUEST, "{body}");
            assert_eq!(e.param.as_deref(), Some(param), "{body}");
        }
    }

    #[test]
    fn defaults_are_openais() {
        let l = sampling(json!({"seed": 7})).validate().unwrap();
        assert_eq!(l, Limits { max_tokens: None, temperature: 1.0, top_p: 1.0, seed: 7, stop: vec![] });
        let l = sampling(json!({"max_tokens": 3, "stop": "\n", "temperature": 0})).validate().unwrap();
        assert_eq!((l.max_tokens, l.temperature, l.stop), (Some(3), 0.0, vec!["\n".to_string()]));
    }

    #[test]
    fn chat_content_parts_are_joined_and_other_parts_refused() {
        let r: ChatRequest = serde_json::from_value(json!({"model": "m", "messages": [
            {"role": "developer", "content": "be brief"},
            {"role": "user", "content": [{"type": "text", "text": "hi "}, {"type": "text", "text": "there"}]}
        ]}))
        .unwrap();
        assert_eq!(r.messages().unwrap(), vec![Message::new("system", "be brief"), Message::new("user", "hi there")]);
        let r: ChatRequest = serde_json::from_value(json!({"model": "m", "messages": [{"role": "user", "content": [{"type": "image_url"}]}]})).unwrap();
        assert_eq!(r.messages().unwrap_err().param.as_deref(), Some("messages[0].content"));
        let r: ChatRequest = serde_json::from_value(json!({"model": "m", "messages": [{"role": "wizard", "content": "x"}]})).unwrap();
        assert_eq!(r.messages().unwrap_err().param.as_deref(), Some("messages[0].role"));
    }
}
