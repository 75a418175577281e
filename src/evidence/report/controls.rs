//! Control characters in the reports people read. A step's output comes from the managed
//! hosts and may hold terminal escapes (`ESC[2J`, an OSC title) or a BEL: raw in
//! `report.md` or `report.html`, they act on a terminal that shows the file (`cat`) and
//! vanish in a browser. So each is shown as its Unicode control picture (`␛`, `␇`): one
//! glyph per character, which output rarely holds itself. A C1 control is shown as the
//! ESC sequence it stands for (U+009B as `␛[`), and line ends become `\n`, as every HTML
//! and Markdown reader takes them anyway. The journal keeps the text as it was.

/// `report` with its control characters, but newline and tab, shown as pictures.
pub(super) fn pictured(report: String) -> String {
    if !report
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return report;
    }
    let mut out = String::with_capacity(report.len() + 64);
    let mut chars = report.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' if chars.peek() == Some(&'\n') => {}
            '\r' => out.push('\n'),
            '\n' | '\t' => out.push(c),
            '\x7f' => out.push('\u{2421}'),
            c if c.is_ascii_control() => out.push(picture(u32::from(c) + 0x2400)),
            c if c.is_control() => {
                out.push('\u{241b}');
                out.push(picture(u32::from(c) - 0x40));
            }
            c => out.push(c),
        }
    }
    out
}

fn picture(code: u32) -> char {
    char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER)
}

#[cfg(test)]
mod tests {
    use super::pictured;

    #[test]
    fn escapes_and_bells_become_pictures() {
        assert_eq!(
            pictured("\x1b]0;owned\x07\x1b[2J\x08\x7f".into()),
            "␛]0;owned␇␛[2J␈␡"
        );
        assert_eq!(pictured("\u{9b}2J".into()), "␛[2J");
    }

    #[test]
    fn line_ends_become_newlines_and_tabs_stay() {
        assert_eq!(pictured("a\r\nb\rc\n\td".into()), "a\nb\nc\n\td");
    }
}
