//! Chat templates: the model's own Jinja template from the GGUF
//! (`tokenizer.chat_template`), rendered with minijinja.

use crate::error::ZooError;
use crate::gguf::Gguf;
use minijinja::value::Serde;
use minijinja::{context, Environment, Error, ErrorKind};
use serde::Serialize;

/// One message of a conversation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Message {
    /// `system`, `user` or `assistant`.
    pub role: String,
    /// The text.
    pub content: String,
}

impl Message {
    /// A message from `role`.
    pub fn new(role: &str, content: &str) -> Message {
        Message { role: role.into(), content: content.into() }
    }
}

/// ChatML, used when a model file carries no template (as llama.cpp does).
pub const CHATML: &str = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/// A compiled chat template.
#[derive(Debug)]
pub struct ChatTemplate {
    env: Environment<'static>,
    bos: String,
    eos: String,
}

impl ChatTemplate {
    /// The template of a model file (ChatML if it has none), with the
    /// spellings of its BOS and EOS tokens, which templates may use.
    pub fn from_gguf(g: &Gguf, bos: &str, eos: &str) -> Result<ChatTemplate, ZooError> {
        let source = g.get_str("tokenizer.chat_template").unwrap_or(CHATML);
        ChatTemplate::new(source, bos, eos)
    }

    /// Compile `source`.
    pub fn new(source: &str, bos: &str, eos: &str) -> Result<ChatTemplate, ZooError> {
        let mut env = Environment::new();
        // HF templates are written for Python's Jinja: `.strip()`,
        // `.startswith()`, `.items()` and friends.
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        // HF templates call this to refuse conversations they cannot render.
        env.add_function("raise_exception", |msg: String| -> Result<String, Error> { Err(Error::new(ErrorKind::InvalidOperation, msg)) });
        env.add_template_owned("chat", source.to_string()).map_err(|e| ZooError::Template(e.to_string()))?;
        Ok(ChatTemplate { env, bos: bos.into(), eos: eos.into() })
    }

    /// The prompt text for `messages`; with `add_generation_prompt` it ends
    /// where the assistant's reply begins.
    pub fn render(&self, messages: &[Message], add_generation_prompt: bool) -> Result<String, ZooError> {
        let t = self.env.get_template("chat").map_err(|e| ZooError::Template(e.to_string()))?;
        t.render(context! { messages => Serde(messages), add_generation_prompt => add_generation_prompt, bos_token => &self.bos, eos_token => &self.eos })
            .map_err(|e| ZooError::Template(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chatml_renders_turns_and_the_generation_prompt() {
        let t = ChatTemplate::new(CHATML, "", "").unwrap();
        let s = t.render(&[Message::new("user", "hi")], true).unwrap();
        assert_eq!(s, "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
    }

    #[test]
    fn python_string_methods_work_as_in_hf_templates() {
        let src = "{% for m in messages %}{% if m['content'].startswith('!') %}[{{ m['content'][1:].strip() }}]{% else %}{{ m['content'] | trim }}{% endif %}{% endfor %}";
        let t = ChatTemplate::new(src, "", "").unwrap();
        assert_eq!(t.render(&[Message::new("user", "!  loud "), Message::new("user", " quiet ")], false).unwrap(), "[loud]quiet");
    }

    #[test]
    fn template_errors_are_reported_not_panicked() {
        assert!(matches!(ChatTemplate::new("{% for %}", "", ""), Err(ZooError::Template(_))));
        let t = ChatTemplate::new("{{ raise_exception('roles must alternate') }}", "", "").unwrap();
        let err = t.render(&[], true).unwrap_err().to_string();
        assert!(err.contains("roles must alternate"), "{err}");
    }
}
