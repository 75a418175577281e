//! Bounded capture of a command's output: the first and the last 64 KiB are kept, and
//! the number of bytes cut from the middle is recorded, so a chatty command can neither
//! exhaust memory nor hide how it ended.

use std::collections::VecDeque;

/// How much of the start and of the end of a stream is kept.
pub const KEEP: usize = 64 * 1024;

#[derive(Debug, Default, Clone)]
pub struct Captured {
    head: Vec<u8>,
    tail: VecDeque<u8>,
    total: u64,
}

impl Captured {
    pub fn push(&mut self, mut bytes: &[u8]) {
        self.total += bytes.len() as u64;
        if self.head.len() < KEEP {
            let take = bytes.len().min(KEEP - self.head.len());
            self.head.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
        }
        self.tail.extend(bytes);
        let excess = self.tail.len().saturating_sub(KEEP);
        self.tail.drain(..excess);
    }

    /// Bytes seen in all.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Bytes left out between the head and the tail.
    pub fn cut(&self) -> u64 {
        self.total - self.head.len() as u64 - self.tail.len() as u64
    }

    /// The kept output as text (lossy UTF-8), with a marker where bytes were cut.
    pub fn text(&self) -> String {
        let mut out = String::from_utf8_lossy(&self.head).into_owned();
        if self.cut() > 0 {
            out.push_str(&format!("\n[… {} bytes cut by switchyard …]\n", self.cut()));
        }
        let tail: Vec<u8> = self.tail.iter().copied().collect();
        out.push_str(&String::from_utf8_lossy(&tail));
        out
    }
}

/// The last lines a failed step printed (stderr, else stdout), for the reports: enough
/// to see the cause without opening `output/`.
pub fn excerpt(stdout: &Option<Captured>, stderr: &Option<Captured>) -> Option<String> {
    const LINES: usize = 20;
    const BYTES: usize = 2048;
    let texts = [stderr, stdout].map(|c| c.as_ref().map(Captured::text));
    let text = texts
        .iter()
        .flatten()
        .map(|t| t.trim_end())
        .find(|t| !t.is_empty())?;
    let from = text
        .rmatch_indices('\n')
        .nth(LINES - 1)
        .map_or(0, |(i, _)| i + 1);
    let mut from = from.max(text.len().saturating_sub(BYTES));
    while !text.is_char_boundary(from) {
        from += 1;
    }
    Some(text[from..].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_everything_below_the_bound() {
        let mut c = Captured::default();
        c.push(b"hello ");
        c.push(b"world");
        assert_eq!(c.text(), "hello world");
        assert_eq!(c.cut(), 0);
    }

    #[test]
    fn keeps_head_and_tail_and_says_how_much_was_cut() {
        let mut c = Captured::default();
        c.push(&vec![b'a'; KEEP]);
        c.push(&vec![b'b'; 1000]);
        c.push(&vec![b'c'; KEEP]);
        assert_eq!(c.total(), (2 * KEEP + 1000) as u64);
        assert_eq!(c.cut(), 1000);
        let text = c.text();
        assert!(text.starts_with('a') && text.ends_with('c'));
        assert!(text.contains("[… 1000 bytes cut by switchyard …]"));
    }
}
