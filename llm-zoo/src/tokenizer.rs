//! The tokenizer a GGUF file describes: GPT-2 byte-level BPE over the file's
//! own vocabulary and merges, with the model's pre-tokenizer, its control
//! tokens recognised in prompts, and `add_bos_token` respected.
//!
//! The HF `tokenizers` crate runs the BPE; this module assembles it from the
//! GGUF metadata and decodes ids back to bytes itself (so a token that ends
//! inside a UTF-8 character streams correctly).

use crate::error::ZooError;
use crate::gguf::{Gguf, Value};
use std::collections::HashMap;
use tokenizers::models::bpe::BPE;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::pre_tokenizers::PreTokenizerWrapper;
use tokenizers::AddedToken;

/// ggml token types (`tokenizer.ggml.token_type`).
const TYPE_CONTROL: i64 = 3;
const TYPE_USER_DEFINED: i64 = 4;

/// Texts of control tokens that end a turn or a document; llama.cpp stops
/// generating at them too.
const END_OF_GENERATION: &[&str] = &["<|endoftext|>", "<|im_end|>", "<|eot_id|>", "<|eom_id|>", "<|end|>", "<end_of_turn>", "<EOT>", "</s>"];

/// Pre-tokenizers (`tokenizer.ggml.pre`) kiln reproduces exactly.
pub const SUPPORTED_PRE_TOKENIZERS: &[&str] = &["smollm", "gpt2", "default"];

/// A model's tokenizer.
pub struct Tokenizer {
    /// Prompts: control tokens written in the text are recognised.
    with_special: tokenizers::Tokenizer,
    /// Plain text: control-token spellings are ordinary text.
    plain: tokenizers::Tokenizer,
    tokens: Vec<String>,
    control: Vec<bool>,
    byte_of_char: HashMap<char, u8>,
    /// Beginning-of-sequence token, if the vocabulary has one.
    pub bos: Option<u32>,
    /// End-of-sequence token, if the vocabulary has one.
    pub eos: Option<u32>,
    /// Whether encoding a prompt starts with `bos` (`tokenizer.ggml.add_bos_token`).
    pub add_bos: bool,
    end_of_generation: Vec<u32>,
}

impl std::fmt::Debug for Tokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokenizer").field("vocab", &self.tokens.len()).field("bos", &self.bos).field("eos", &self.eos).field("add_bos", &self.add_bos).finish()
    }
}

/// GPT-2's reversible map from bytes to printable characters: printable
/// Latin-1 bytes stand for themselves, the others for `U+0100 + n`.
fn bytes_to_chars() -> Vec<(u8, char)> {
    let mut out = Vec::with_capacity(256);
    let mut n = 0u32;
    for b in 0..=255u8 {
        let printable = (b'!'..=b'~').contains(&b) || (0xA1..=0xAC).contains(&b) || (0xAE..=0xFF).contains(&b);
        let c = if printable {
            char::from(b)
        } else {
            n += 1;
            char::from_u32(255 + n).expect("U+0100..U+0143 are characters")
        };
        out.push((b, c));
    }
    out
}

fn strings(g: &Gguf, key: &str) -> Result<Vec<String>, ZooError> {
    match g.get(key)? {
        Value::Array(items) => items.iter().map(|v| v.as_str().map(str::to_string).ok_or_else(|| ZooError::Tokenizer(format!("`{key}` holds a non-string")))).collect(),
        other => Err(ZooError::Tokenizer(format!("`{key}` should be an array of strings, found {other}"))),
    }
}

impl Tokenizer {
    /// Build the tokenizer from `tokenizer.ggml.*` metadata.
    pub fn from_gguf(g: &Gguf) -> Result<Tokenizer, ZooError> {
        let model = g.get_str("tokenizer.ggml.model")?;
        if model != "gpt2" {
            return Err(ZooError::Tokenizer(format!("tokenizer model `{model}` is not supported yet; kiln reads byte-level BPE (`gpt2`) vocabularies")));
        }
        let pre = g.get_str("tokenizer.ggml.pre").unwrap_or("default");
        if !SUPPORTED_PRE_TOKENIZERS.contains(&pre) {
            return Err(ZooError::Tokenizer(format!("pre-tokenizer `{pre}` is not supported yet; supported: {}", SUPPORTED_PRE_TOKENIZERS.join(", "))));
        }
        let tokens = strings(g, "tokenizer.ggml.tokens")?;
        let merges = strings(g, "tokenizer.ggml.merges")?;
        let types: Vec<i64> = match g.get("tokenizer.ggml.token_type") {
            Ok(Value::Array(items)) => items.iter().map(|v| v.as_f64().map_or(1, |x| x as i64)).collect(),
            _ => vec![1; tokens.len()],
        };
        if types.len() != tokens.len() {
            return Err(ZooError::Tokenizer(format!("{} token types for {} tokens", types.len(), tokens.len())));
        }
        let vocab: tokenizers::models::bpe::Vocab = tokens.iter().enumerate().map(|(i, t)| (t.clone(), i as u32)).collect();
        let merges = merges
            .iter()
            .map(|m| m.split_once(' ').map(|(a, b)| (a.to_string(), b.to_string())).ok_or_else(|| ZooError::Tokenizer(format!("merge `{m}` is not two tokens"))))
            .collect::<Result<Vec<_>, _>>()?;
        let bpe = BPE::builder().vocab_and_merges(vocab, merges).build().map_err(|e| ZooError::Tokenizer(format!("building the BPE model: {e}")))?;
        let mut tk = tokenizers::Tokenizer::new(bpe);
        let byte_level = ByteLevel::new(false, false, true);
        let pre_tokenizer: PreTokenizerWrapper = match pre {
            // SmolLM2: every digit on its own, then GPT-2's split.
            "smollm" => Sequence::new(vec![Digits::new(true).into(), byte_level.into()]).into(),
            _ => byte_level.into(),
        };
        tk.with_pre_tokenizer(Some(pre_tokenizer));
        let control: Vec<bool> = types.iter().map(|&t| t == TYPE_CONTROL).collect();
        let added: Vec<AddedToken> = tokens.iter().zip(&types).filter(|(_, &t)| t == TYPE_CONTROL || t == TYPE_USER_DEFINED).map(|(s, &t)| AddedToken::from(s.clone(), t == TYPE_CONTROL)).collect();
        tk.add_special_tokens(&added);
        let mut plain = tk.clone();
        plain.set_encode_special_tokens(true);
        let id = |key: &str| g.get_u64(key).ok().map(|v| v as u32).filter(|&v| (v as usize) < tokens.len());
        let (bos, eos) = (id("tokenizer.ggml.bos_token_id"), id("tokenizer.ggml.eos_token_id"));
        let add_bos = matches!(g.get("tokenizer.ggml.add_bos_token"), Ok(Value::Bool(true)));
        let mut end_of_generation: Vec<u32> = eos.into_iter().collect();
        for (i, t) in tokens.iter().enumerate() {
            if control[i] && END_OF_GENERATION.contains(&t.as_str()) && !end_of_generation.contains(&(i as u32)) {
                end_of_generation.push(i as u32);
            }
        }
        let byte_of_char = bytes_to_chars().into_iter().map(|(b, c)| (c, b)).collect();
        Ok(Tokenizer { with_special: tk, plain, tokens, control, byte_of_char, bos, eos, add_bos, end_of_generation })
    }

    /// Vocabulary size.
    pub fn vocab_size(&self) -> usize {
        self.tokens.len()
    }

    /// Token ids of `text`, with the BOS token first where the model asks for
    /// it. With `parse_special`, control tokens spelled in the text (such as
    /// `<|im_start|>`) become their ids; without, they are plain text.
    pub fn encode(&self, text: &str, parse_special: bool) -> Result<Vec<u32>, ZooError> {
        let tk = if parse_special { &self.with_special } else { &self.plain };
        let enc = tk.encode(text, false).map_err(|e| ZooError::Tokenizer(format!("encoding: {e}")))?;
        let mut ids = Vec::with_capacity(enc.get_ids().len() + 1);
        if self.add_bos {
            ids.extend(self.bos);
        }
        ids.extend_from_slice(enc.get_ids());
        Ok(ids)
    }

    /// The bytes a token stands for. Control tokens give their spelling when
    /// `render_control`, else nothing (as llama.cpp renders them by default).
    pub fn token_bytes(&self, id: u32, render_control: bool) -> Vec<u8> {
        let Some(text) = self.tokens.get(id as usize) else { return Vec::new() };
        if self.control[id as usize] {
            return if render_control { text.as_bytes().to_vec() } else { Vec::new() };
        }
        let mut out = Vec::with_capacity(text.len());
        for c in text.chars() {
            match self.byte_of_char.get(&c) {
                Some(&b) => out.push(b),
                // not a byte-level character (a user-defined token): its UTF-8
                None => out.extend(c.encode_utf8(&mut [0; 4]).as_bytes()),
            }
        }
        out
    }

    /// Text of `ids` (control tokens omitted; invalid UTF-8 replaced).
    pub fn decode(&self, ids: &[u32]) -> String {
        let bytes: Vec<u8> = ids.iter().flat_map(|&id| self.token_bytes(id, false)).collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// The spelling of a token as the vocabulary stores it.
    pub fn token_text(&self, id: u32) -> Option<&str> {
        self.tokens.get(id as usize).map(String::as_str)
    }

    /// Whether generating `id` ends the reply (end of sequence or of turn).
    pub fn is_end_of_generation(&self, id: u32) -> bool {
        self.end_of_generation.contains(&id)
    }
}

/// Turns a stream of token bytes into complete UTF-8 text, holding back a
/// character split across tokens until its last byte arrives.
#[derive(Debug, Default)]
pub struct Utf8Stream {
    pending: Vec<u8>,
}

impl Utf8Stream {
    /// Add bytes; returns the text that is now complete.
    pub fn push(&mut self, bytes: &[u8]) -> String {
        self.pending.extend_from_slice(bytes);
        let mut out = String::new();
        loop {
            match std::str::from_utf8(&self.pending) {
                Ok(s) => {
                    out.push_str(s);
                    self.pending.clear();
                    return out;
                }
                Err(e) => {
                    let good = e.valid_up_to();
                    out.push_str(std::str::from_utf8(&self.pending[..good]).expect("valid prefix"));
                    match e.error_len() {
                        // an invalid sequence: replace it and go on
                        Some(n) => {
                            out.push('\u{FFFD}');
                            self.pending.drain(..good + n);
                        }
                        // an incomplete character at the end: wait for more
                        None => {
                            self.pending.drain(..good);
                            return out;
                        }
                    }
                }
            }
        }
    }

    /// Whatever is left at the end, replaced if incomplete.
    pub fn finish(&mut self) -> String {
        let s = String::from_utf8_lossy(&self.pending).into_owned();
        self.pending.clear();
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_byte_map_is_a_bijection_onto_gpt2_characters() {
        let map = bytes_to_chars();
        let chars: std::collections::HashSet<char> = map.iter().map(|p| p.1).collect();
        assert_eq!(chars.len(), 256);
        assert_eq!(map[b' ' as usize].1, 'Ġ');
        assert_eq!(map[b'\n' as usize].1, 'Ċ');
        assert_eq!(map[b'a' as usize].1, 'a');
    }

    #[test]
    fn utf8_stream_holds_back_split_characters() {
        let mut s = Utf8Stream::default();
        let e = "é".as_bytes();
        assert_eq!(s.push(&[b'a', e[0]]), "a");
        assert_eq!(s.push(&e[1..]), "é");
        assert_eq!(s.push(&[0xFF, b'b']), "\u{FFFD}b");
        assert_eq!(s.push(&[0xE2, 0x82]), "");
        assert_eq!(s.finish(), "\u{FFFD}");
    }
}
