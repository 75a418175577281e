//! Bounded capture of a command's output: the first and the last 64 KiB are kept, and
//! the number of bytes cut from the middle is recorded, so a chatty command can neither
//! exhaust memory nor hide how it ended.

use std::collections::VecDeque;

/// How much of the start and of the end of a stream is kept.
pub const KEEP: usize = 64 * 1024;

/// Room beyond [`KEEP`] at the end for the exit report a remote shell appends, so that
/// taking the report off still leaves the last [`KEEP`] bytes of the output itself.
const SLACK: usize = 64;

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
        let excess = self.tail.len().saturating_sub(KEEP + SLACK);
        self.tail.drain(..excess);
    }

    /// Takes the exit report a remote command's shell printed as the last line of its
    /// stderr (see `watchdog`) off the end, and returns the status it gives; `None`
    /// when the output does not end with one (the shell was replaced by `exec`, or
    /// killed).
    pub fn take_exit_report(&mut self) -> Option<i32> {
        let opening = super::watchdog::EXIT_REPORT;
        let end = self.last(opening.len() + 16);
        let body = end.strip_suffix(b"\x1e\n")?;
        let at = body.windows(opening.len()).rposition(|w| w == opening)?;
        let status = std::str::from_utf8(&body[at + opening.len()..])
            .ok()?
            .parse()
            .ok()?;
        let mut report = end.len() - at;
        self.total -= report as u64;
        let from_tail = report.min(self.tail.len());
        self.tail.truncate(self.tail.len() - from_tail);
        report -= from_tail;
        self.head.truncate(self.head.len() - report);
        Some(status)
    }

    /// The last `n` bytes kept (fewer if fewer were).
    fn last(&self, n: usize) -> Vec<u8> {
        let from_tail = n.min(self.tail.len());
        let from_head = (n - from_tail).min(self.head.len());
        let mut out = self.head[self.head.len() - from_head..].to_vec();
        out.extend(self.tail.range(self.tail.len() - from_tail..));
        out
    }

    /// The kept end of the stream: its last [`KEEP`] bytes past the head.
    fn kept_tail(&self) -> Vec<u8> {
        let skip = self.tail.len().saturating_sub(KEEP);
        self.tail.range(skip..).copied().collect()
    }

    /// Bytes seen in all.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Bytes left out between the head and the tail.
    pub fn cut(&self) -> u64 {
        self.total - self.head.len() as u64 - self.tail.len().min(KEEP) as u64
    }

    /// The kept output as text (lossy UTF-8), with a marker where bytes were cut.
    pub fn text(&self) -> String {
        let (head, cut, tail) = self.parts();
        match cut {
            0 => head + &tail,
            n => format!("{head}{}{tail}", cut_marker(n)),
        }
    }

    /// The kept head, the number of bytes cut after it, and the kept tail, as text.
    pub fn parts(&self) -> (String, u64, String) {
        (
            String::from_utf8_lossy(&self.head).into_owned(),
            self.cut(),
            String::from_utf8_lossy(&self.kept_tail()).into_owned(),
        )
    }
}

/// What stands where `n` bytes were cut from the middle of an output.
pub fn cut_marker(n: u64) -> String {
    format!("\n[… {n} bytes cut by switchyard …]\n")
}

/// The last lines a failed step printed (stderr, else stdout), for the reports: enough
/// to see the cause without opening `output/`. Takes the outputs as they are written
/// (redacted), so the cut can never leave part of a secret behind.
pub fn excerpt(stdout: Option<&str>, stderr: Option<&str>) -> Option<String> {
    const LINES: usize = 20;
    const BYTES: usize = 2048;
    let text = [stderr, stdout]
        .into_iter()
        .flatten()
        .map(str::trim_end)
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
    fn an_exit_report_is_taken_off_the_end() {
        let mut c = Captured::default();
        c.push(b"err\n\n\x1eswitchyard-exit 7\x1e\n");
        assert_eq!(c.take_exit_report(), Some(7));
        assert_eq!(c.text(), "err\n");
        let mut long = Captured::default();
        long.push(&vec![b'x'; 3 * KEEP]);
        long.push(b"\n\x1eswitchyard-exit 0\x1e\n");
        assert_eq!(long.take_exit_report(), Some(0));
        assert!(long.text().ends_with("xxx"));
        assert_eq!(
            long.cut(),
            KEEP as u64,
            "the last 64 KiB of the output itself are kept"
        );
        // A report split between the head and the tail.
        let mut split = Captured::default();
        split.push(&vec![b'x'; KEEP - 5]);
        split.push(b"\n\x1eswitchyard-exit 4\x1e\n");
        assert_eq!(split.take_exit_report(), Some(4));
        assert_eq!(split.text(), "x".repeat(KEEP - 5));
        let mut none = Captured::default();
        none.push(b"no report here\n");
        assert_eq!(none.take_exit_report(), None);
        assert_eq!(none.text(), "no report here\n");
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
