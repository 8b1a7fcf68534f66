//! A grammar-constrained tool call, `{"name": "...", "arguments": {...}}`,
//! cut into OpenAI's streamed pieces while the local model writes it: the
//! name as soon as it is complete, then the arguments as they come (without
//! the closing brace of the outer object). What does not start like a call
//! (free text under `tool_choice: auto`) gives no pieces; the caller still
//! decides on the whole text at the end, as before.

#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    Name(String),
    Arguments(String),
}

#[derive(Debug, Default)]
pub struct CallStream {
    buf: String,
    state: State,
}

#[derive(Debug, Default)]
enum State {
    /// Before the arguments begin.
    #[default]
    Head,
    /// Inside the arguments: `start` is where they begin in `buf`, `sent`
    /// how far they were handed out; the JSON scan state finds their end.
    Arguments {
        start: usize,
        sent: usize,
        scan: Scan,
    },
    /// The arguments are complete, or this is not a call.
    Over,
}

#[derive(Debug, Default, Clone, Copy)]
struct Scan {
    depth: u32,
    in_string: bool,
    escaped: bool,
    /// Bytes of the arguments scanned so far.
    at: usize,
    closed: bool,
}

impl CallStream {
    pub fn push(&mut self, text: &str) -> Vec<Piece> {
        self.buf.push_str(text);
        let mut out = Vec::new();
        if let State::Head = self.state {
            match head(&self.buf) {
                Head::Incomplete => return out,
                Head::NotACall => {
                    self.state = State::Over;
                    return out;
                }
                Head::Call { name, arguments_at } => {
                    out.push(Piece::Name(name));
                    self.state = State::Arguments {
                        start: arguments_at,
                        sent: arguments_at,
                        scan: Scan::default(),
                    };
                }
            }
        }
        if let State::Arguments { start, sent, scan } = &mut self.state {
            let args = &self.buf[*start..];
            scan.advance(args);
            // Hand out what was scanned: up to the end of the arguments once they close.
            let end = *start + scan.at;
            if end > *sent {
                out.push(Piece::Arguments(self.buf[*sent..end].to_string()));
                *sent = end;
            }
            if scan.closed {
                self.state = State::Over;
            }
        }
        out
    }
}

impl Scan {
    /// Scans `args` from `self.at` on, stopping after the object closes.
    fn advance(&mut self, args: &str) {
        let bytes = args.as_bytes();
        while self.at < bytes.len() && !self.closed {
            let b = bytes[self.at];
            self.at += 1;
            if self.in_string {
                match (self.escaped, b) {
                    (true, _) => self.escaped = false,
                    (false, b'\\') => self.escaped = true,
                    (false, b'"') => self.in_string = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.depth == 0 {
                        self.closed = true;
                    }
                }
                _ => {}
            }
        }
        // `args` is whole characters and the scan stops only at its end or
        // after an ASCII brace, so a piece never splits a character.
    }
}

enum Head {
    Incomplete,
    NotACall,
    Call { name: String, arguments_at: usize },
}

/// Reads `{ "name" : "<name>" , "arguments" :` with any whitespace.
fn head(buf: &str) -> Head {
    let mut p = Parser {
        s: buf.as_bytes(),
        at: 0,
    };
    let steps: [&dyn Fn(&mut Parser) -> Step; 4] = [
        &|p| p.literal("{"),
        &|p| p.literal("\"name\""),
        &|p| p.literal(":"),
        &|p| p.literal("\""),
    ];
    for step in steps {
        match step(&mut p) {
            Step::Ok => {}
            Step::More => return Head::Incomplete,
            Step::No => return Head::NotACall,
        }
    }
    let name_start = p.at;
    let Some(len) = buf[name_start..].find('"') else {
        return Head::Incomplete;
    };
    let name = buf[name_start..name_start + len].to_string();
    p.at = name_start + len + 1;
    for lit in [",", "\"arguments\"", ":"] {
        match p.literal(lit) {
            Step::Ok => {}
            Step::More => return Head::Incomplete,
            Step::No => return Head::NotACall,
        }
    }
    // The arguments begin at their first non-space character.
    p.skip_space();
    if p.at >= p.s.len() {
        return Head::Incomplete;
    }
    Head::Call {
        name,
        arguments_at: p.at,
    }
}

enum Step {
    Ok,
    More,
    No,
}

struct Parser<'a> {
    s: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn skip_space(&mut self) {
        while self.at < self.s.len() && self.s[self.at].is_ascii_whitespace() {
            self.at += 1;
        }
    }

    /// Whitespace, then `lit`.
    fn literal(&mut self, lit: &str) -> Step {
        self.skip_space();
        let rest = &self.s[self.at..];
        let lit = lit.as_bytes();
        if rest.len() < lit.len() {
            return if lit.starts_with(rest) {
                Step::More
            } else {
                Step::No
            };
        }
        if rest.starts_with(lit) {
            self.at += lit.len();
            Step::Ok
        } else {
            Step::No
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces_of(chunks: &[&str]) -> (Option<String>, String) {
        let mut s = CallStream::default();
        let (mut name, mut args) = (None, String::new());
        for c in chunks {
            for p in s.push(c) {
                match p {
                    Piece::Name(n) => name = Some(n),
                    Piece::Arguments(a) => args.push_str(&a),
                }
            }
        }
        (name, args)
    }

    #[test]
    fn a_call_streams_its_name_then_its_arguments_without_the_outer_brace() {
        let text = r#"{ "name": "create_file", "arguments": {"path": "a.js", "content": "x = {\"}\": [1]}; é"} }"#;
        // Every split of the text into two chunks, and one byte at a time, give the same pieces.
        let whole = pieces_of(&[text]);
        assert_eq!(whole.0.as_deref(), Some("create_file"));
        assert_eq!(
            whole.1,
            r#"{"path": "a.js", "content": "x = {\"}\": [1]}; é"}"#
        );
        assert!(serde_json::from_str::<serde_json::Value>(&whole.1).is_ok());
        for i in (0..text.len()).filter(|i| text.is_char_boundary(*i)) {
            assert_eq!(pieces_of(&[&text[..i], &text[i..]]), whole, "split at {i}");
        }
        let chars: Vec<String> = text.chars().map(String::from).collect();
        assert_eq!(
            pieces_of(&chars.iter().map(String::as_str).collect::<Vec<_>>()),
            whole
        );
    }

    #[test]
    fn text_and_other_shapes_give_no_pieces() {
        assert_eq!(
            pieces_of(&["Hello, the app is done."]),
            (None, String::new())
        );
        assert_eq!(
            pieces_of(&[r#"{"arguments": {}, "name": "finish"}"#]),
            (None, String::new())
        );
        // Cut off inside the arguments: what was written so far.
        assert_eq!(
            pieces_of(&[r#"{"name": "finish", "arguments": {"summary": "Do"#]),
            (Some("finish".into()), r#"{"summary": "Do"#.into())
        );
    }
}
