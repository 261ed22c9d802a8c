//! Stop sequences over streamed text: text is released as soon as it
//! cannot be the start of a stop sequence, and generation ends where one
//! appears (the stop sequence itself is not returned, as OpenAI's API does).

/// Watches generated text for any of a request's stop sequences.
#[derive(Debug, Default)]
pub struct StopMatcher {
    stops: Vec<String>,
    /// Text received but not yet released: it may begin a stop sequence.
    held: String,
}

/// What [`StopMatcher::push`] found.
#[derive(Debug, PartialEq, Eq)]
pub struct Released {
    /// Text that can be sent to the client.
    pub text: String,
    /// Whether a stop sequence appeared (generation ends; `text` ends
    /// before it).
    pub stopped: bool,
}

impl StopMatcher {
    /// A matcher for `stops` (empty strings are ignored).
    pub fn new(stops: Vec<String>) -> StopMatcher {
        StopMatcher { stops: stops.into_iter().filter(|s| !s.is_empty()).collect(), held: String::new() }
    }

    /// Add generated text.
    pub fn push(&mut self, piece: &str) -> Released {
        self.held.push_str(piece);
        // the earliest stop sequence wins
        if let Some(at) = self.stops.iter().filter_map(|s| self.held.find(s.as_str())).min() {
            let text = self.held[..at].to_string();
            self.held.clear();
            return Released { text, stopped: true };
        }
        // hold back the longest suffix that is a proper prefix of a stop sequence
        let keep = self
            .stops
            .iter()
            .flat_map(|s| (1..s.len()).rev().filter(move |&n| s.is_char_boundary(n)).map(move |n| &s[..n]))
            .filter(|prefix| self.held.ends_with(prefix))
            .map(str::len)
            .max()
            .unwrap_or(0);
        let cut = self.held.len() - keep;
        let text = self.held[..cut].to_string();
        self.held.drain(..cut);
        Released { text, stopped: false }
    }

    /// The text still held back when generation ends without a stop.
    pub fn finish(&mut self) -> String {
        std::mem::take(&mut self.held)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(stops: &[&str], pieces: &[&str]) -> (Vec<String>, bool, String) {
        let mut m = StopMatcher::new(stops.iter().map(|s| s.to_string()).collect());
        let mut out = Vec::new();
        for p in pieces {
            let r = m.push(p);
            out.push(r.text);
            if r.stopped {
                return (out, true, String::new());
            }
        }
        let rest = m.finish();
        (out, false, rest)
    }

    #[test]
    fn text_is_released_unless_it_may_begin_a_stop_sequence() {
        let (out, stopped, rest) = run(&["END"], &["hello ", "wor", "ld E", "N", "D!"]);
        assert_eq!(out, ["hello ", "wor", "ld ", "", ""]);
        assert!(stopped);
        assert_eq!(rest, "");
    }

    #[test]
    fn held_text_comes_back_when_the_stop_sequence_does_not_complete() {
        let (out, stopped, rest) = run(&["END"], &["a E", "Nx", "yE"]);
        assert_eq!(out, ["a ", "ENx", "y"]);
        assert!(!stopped);
        assert_eq!(rest, "E");
    }

    #[test]
    fn the_earliest_of_several_stop_sequences_wins_within_one_piece() {
        let (out, stopped, _) = run(&["cd", "b"], &["abcd"]);
        assert_eq!(out, ["a"]);
        assert!(stopped);
    }

    #[test]
    fn no_stop_sequences_release_everything_at_once() {
        let (out, stopped, rest) = run(&[], &["x", "yz"]);
        assert_eq!(out, ["x", "yz"]);
        assert!(!stopped);
        assert_eq!(rest, "");
    }

    #[test]
    fn multibyte_stop_sequences_are_held_on_character_boundaries() {
        let (out, stopped, _) = run(&["é!"], &["caf", "é", "!"]);
        assert_eq!(out, ["caf", "", ""]);
        assert!(stopped);
    }
}
