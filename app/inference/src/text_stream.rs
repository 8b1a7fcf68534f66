//! Turning decoded token pieces into text that is safe to hand out as it
//! grows: UTF-8 characters split across tokens wait for their last byte, and
//! text that might be the beginning of a stop string waits until it cannot be.

/// The text of one generation, released piece by piece.
#[derive(Debug, Default)]
pub struct TextStream {
    pending: Vec<u8>,
    text: String,
    released: usize,
    stops: Vec<String>,
}

/// What pushing a piece gave.
#[derive(Debug, PartialEq, Eq)]
pub enum Pushed {
    /// Text that may be sent now (possibly empty).
    More(String),
    /// A stop string appeared: the text ends before it; what is left to send.
    Stopped(String),
}

impl TextStream {
    pub fn new(stops: Vec<String>) -> Self {
        Self {
            stops,
            ..Default::default()
        }
    }

    /// Adds the bytes of one token.
    pub fn push(&mut self, bytes: &[u8]) -> Pushed {
        self.pending.extend_from_slice(bytes);
        let ready = match std::str::from_utf8(&self.pending) {
            Ok(s) => s.len(),
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(_) => self.pending.len(), // invalid bytes: pass them on, lossily
        };
        if ready == 0 {
            return Pushed::More(String::new());
        }
        let piece = String::from_utf8_lossy(&self.pending[..ready]).into_owned();
        self.pending.drain(..ready);
        self.text.push_str(&piece);
        // A stop string may straddle earlier text not yet released.
        let released = self.released;
        let found = self
            .stops
            .iter()
            .filter_map(|s| self.text[released..].find(s.as_str()).map(|i| i + released))
            .min();
        if let Some(at) = found {
            self.text.truncate(at);
            return Pushed::Stopped(self.take_rest());
        }
        let upto = releasable(&self.text, &self.stops);
        if upto > self.released {
            let out = self.text[self.released..upto].to_string();
            self.released = upto;
            return Pushed::More(out);
        }
        Pushed::More(String::new())
    }

    /// The generation ended for another reason: everything held back is
    /// released (an unfinished character lossily).
    pub fn finish(&mut self) -> String {
        if !self.pending.is_empty() {
            let rest = String::from_utf8_lossy(&self.pending).into_owned();
            self.pending.clear();
            self.text.push_str(&rest);
        }
        self.take_rest()
    }

    fn take_rest(&mut self) -> String {
        let out = self.text[self.released..].to_string();
        self.released = self.text.len();
        out
    }

    pub fn text(&self) -> &str {
        &self.text
    }
}

/// How much of `text` may be released while watching for stop strings:
/// everything before a suffix that could still grow into one of them.
fn releasable(text: &str, stops: &[String]) -> usize {
    let mut keep = 0;
    for stop in stops {
        for len in (1..stop.len()).rev() {
            if len <= text.len()
                && text.is_char_boundary(text.len() - len)
                && stop.starts_with(&text[text.len() - len..])
            {
                keep = keep.max(len);
                break;
            }
        }
    }
    text.len() - keep
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_characters_wait_for_their_last_byte() {
        let mut s = TextStream::new(vec![]);
        let e = "é".as_bytes();
        assert_eq!(s.push(&e[..1]), Pushed::More(String::new()));
        assert_eq!(s.push(&e[1..]), Pushed::More("é".into()));
    }

    #[test]
    fn a_stop_string_across_pieces_never_leaks() {
        let mut s = TextStream::new(vec!["END".into()]);
        assert_eq!(s.push(b"abc E"), Pushed::More("abc ".into()));
        assert_eq!(s.push(b"N"), Pushed::More(String::new()));
        assert_eq!(s.push(b"Dxyz"), Pushed::Stopped(String::new()));
        assert_eq!(s.text(), "abc ");
        let mut t = TextStream::new(vec!["END".into()]);
        assert_eq!(t.push(b"E"), Pushed::More(String::new()));
        assert_eq!(t.push(b"x"), Pushed::More("Ex".into()));
        assert_eq!(t.finish(), "");
    }
}
