//! The one way out to the terminal. Text from the managed hosts — a failed step's output
//! in a question, a server's error in a message — reaches the operator's screen, and
//! raw it could act on the terminal: `ESC[2J` clears it, an OSC sequence retitles it, a
//! carriage return or a backspace hides what was written before. So every line, question
//! and progress message switchyard writes passes [`visible`] here first, which spells
//! such characters out (`\e`, `\r`, `\x07`, `\u{9b}`) and keeps newlines and tabs;
//! switchyard's own colour is added after it. Results on stdout are spelled out only on a
//! terminal: piped, they are data and stay exact. The journal keeps the text as it was.
//! (`tracing`'s diagnostics escape ESC, BEL and the C1 controls themselves.)

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::IsTerminal as _;

use indicatif::{MultiProgress, ProgressBar};

/// `text` with every character a terminal would act on, rather than show, spelled out.
pub fn visible(text: &str) -> Cow<'_, str> {
    if !text.chars().any(acts) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        let _ = match c {
            '\x1b' => out.write_str("\\e"),
            '\r' => out.write_str("\\r"),
            c if acts(c) && c.is_ascii() => write!(out, "\\x{:02x}", u32::from(c)),
            c if acts(c) => write!(out, "\\u{{{:x}}}", u32::from(c)),
            c => out.write_char(c),
        };
    }
    Cow::Owned(out)
}

/// The control characters but newline and tab: C0, DEL, and C1 (some terminals read
/// U+009B as the start of a control sequence, as they read `ESC [`).
fn acts(c: char) -> bool {
    c.is_control() && c != '\n' && c != '\t'
}

/// Writes `text` to stderr, visibly. A closed stderr (`| head`, a dropped terminal) must
/// not stop a switchover halfway, as `eprint!` would by panicking: the write is dropped.
pub fn to_stderr(text: &str) {
    write(&mut std::io::stderr().lock(), &visible(text));
}

/// Writes results to stdout: visibly on a terminal, but exactly into a pipe or a file,
/// where they are data (a report rebuilt byte for byte, a plan as JSON). A closed pipe
/// (`| head`) is not worth a panic.
pub fn to_stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    if out.is_terminal() {
        write(&mut out, &visible(text));
    } else {
        write(&mut out, text);
    }
}

/// Writes rendered diagnostics to stderr, visibly, with their `error:` and `warning:`
/// words coloured if `color`.
pub fn diagnostics_to_stderr(text: &str, color: bool) {
    write(&mut std::io::stderr().lock(), &diagnostics(text, color));
}

/// Diagnostics as shown: made visible first, so that the only escapes left are the
/// colours added after.
fn diagnostics(text: &str, color: bool) -> Cow<'_, str> {
    let text = visible(text);
    if color {
        Cow::Owned(paint(&text))
    } else {
        text
    }
}

/// A line above the progress bars, visibly.
pub fn println(bars: &MultiProgress, line: &str) {
    let _ = bars.println(visible(line));
}

/// A progress bar's message, visibly.
pub fn set_message(bar: &ProgressBar, message: &str) {
    bar.set_message(visible(message).into_owned());
}

fn write(out: &mut impl std::io::Write, text: &str) {
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// Colours the `error:` and `warning:` words at the start of lines.
fn paint(text: &str) -> String {
    text.lines()
        .map(|l| {
            if let Some(rest) = l.strip_prefix("error:") {
                format!("\x1b[1;31merror\x1b[0m:{rest}")
            } else if let Some(rest) = l.strip_prefix("warning:") {
                format!("\x1b[1;33mwarning\x1b[0m:{rest}")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_spelled_out_and_newlines_and_tabs_kept() {
        assert_eq!(visible("\x1b]0;owned\x07\x1b[2J"), "\\e]0;owned\\x07\\e[2J");
        assert_eq!(visible("ok\rhidden\x08\x7f"), "ok\\rhidden\\x08\\x7f");
        assert_eq!(visible("\u{9b}2J"), "\\u{9b}2J");
        assert_eq!(visible("a\n\tb — ünïcode ␛"), "a\n\tb — ünïcode ␛");
    }

    #[test]
    fn clean_text_is_not_copied() {
        assert!(matches!(visible("step ok\n"), Cow::Borrowed(_)));
    }

    #[test]
    fn colour_is_added_after_the_text_is_made_visible() {
        assert_eq!(
            diagnostics("error: \x1b[8mhidden\nwarning: x", true),
            "\x1b[1;31merror\x1b[0m: \\e[8mhidden\n\x1b[1;33mwarning\x1b[0m: x\n"
        );
    }
}
