//! Where each placeholder of a `run` or `local` command sits, as `sh` reads the command.
//!
//! switchyard single-quotes a substituted value that needs it
//! ([`shell_quote`](super::template::shell_quote)). That keeps the value one word only
//! where `sh` reads it bare. Inside the author's own `'…'` our quotes close the author's
//! and the value runs as code; inside `"…"` or a here-document they are text, and a
//! `$(…)` in the value may still run; after a `\` the first of them is escaped; in a
//! comment a line break in the value ends the comment. Validation asks this scanner where
//! each placeholder sits. It follows `sh` that far and no further: quotes (and bash's
//! `$'…'`), backslashes, `#` comments (an apostrophe in one opens nothing), `$(…)` and
//! backquotes (quoted afresh even inside `"…"`) and here-documents. It does not follow
//! `case` patterns inside `$(…)`, whose `)` would end the substitution early.

use std::collections::VecDeque;

/// Where a placeholder sits when `sh` would not read its value as a bare word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quote {
    /// `'…'`, or bash's `$'…'`.
    Single,
    Double,
    /// Right after an unquoted `\`, which would escape the first character of the value.
    Backslash,
    /// After `#`: a line break in the value would end the comment early.
    Comment,
    /// In the body of a here-document, where quotes are data.
    HereDoc,
}

impl Quote {
    /// Where the placeholder is, as a message says it: "inside single quotes".
    pub fn place(self) -> &'static str {
        match self {
            Quote::Single => "inside single quotes",
            Quote::Double => "inside double quotes",
            Quote::Backslash => "right after a backslash",
            Quote::Comment => "inside a comment",
            Quote::HereDoc => "inside a here-document",
        }
    }

    /// What to do about it.
    pub fn help(self) -> &'static str {
        match self {
            Quote::Single | Quote::Double => {
                "remove the quotes: switchyard quotes substituted values"
            }
            Quote::Backslash => "remove the backslash: switchyard quotes substituted values",
            Quote::Comment => "remove it from the comment",
            Quote::HereDoc => {
                "pass the value as an argument instead, like `printf '%s\\n' {{vars.NAME}} | ...`: switchyard's quotes would be data in a here-document"
            }
        }
    }
}

/// What closes a stretch of commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    /// The end of the text.
    Text,
    Paren,
    Backquote,
}

#[derive(Debug)]
enum Frame {
    /// Commands: the whole text, or the inside of `$(…)` or of backquotes, with the
    /// number of plain `(` still open in it.
    Code {
        end: End,
        parens: usize,
    },
    /// `'…'`; `ansi` for `$'…'`, where `\'` does not close.
    Single {
        ansi: bool,
    },
    Double,
    Comment,
    HereDoc {
        doc: HereDoc,
        line: String,
    },
}

/// A here-document announced by `<<WORD` (or `<<-WORD`, which strips leading tabs).
#[derive(Debug, Default)]
struct HereDoc {
    delimiter: String,
    strip_tabs: bool,
}

/// The word after `<<`, while it is read.
#[derive(Debug, Default)]
struct Delimiter {
    doc: HereDoc,
    /// Right after `<<`, where `-` and a third `<` mean something.
    fresh: bool,
    /// The word has begun (blanks before it are skipped).
    begun: bool,
}

/// Reads a command's literal text piece by piece; between pieces, [`Scanner::quote`]
/// tells where a placeholder would sit and [`Scanner::value`] steps over it.
#[derive(Debug)]
pub struct Scanner {
    stack: Vec<Frame>,
    /// The previous character was an unquoted `\`.
    escaped: bool,
    prev: char,
    delimiter: Option<Delimiter>,
    /// Here-documents whose bodies begin at the next line.
    pending: VecDeque<HereDoc>,
}

impl Default for Scanner {
    fn default() -> Self {
        Scanner {
            stack: vec![Frame::Code {
                end: End::Text,
                parens: 0,
            }],
            escaped: false,
            prev: '\n',
            delimiter: None,
            pending: VecDeque::new(),
        }
    }
}

impl Scanner {
    /// Where a value placed here would sit, if not as a bare word.
    pub fn quote(&self) -> Option<Quote> {
        match self.stack.last() {
            Some(Frame::Single { .. }) => Some(Quote::Single),
            Some(Frame::Double) => Some(Quote::Double),
            Some(Frame::Comment) => Some(Quote::Comment),
            Some(Frame::HereDoc { .. }) => Some(Quote::HereDoc),
            Some(Frame::Code { .. }) | None => self.escaped.then_some(Quote::Backslash),
        }
    }

    /// Steps over a substituted value: part of a word, unknown text. A here-document
    /// delimiter or body line it falls in can then never match: at worst the body runs
    /// to the end and later placeholders are reported, never missed.
    pub fn value(&mut self) {
        self.escaped = false;
        self.prev = 'a';
        if let Some(d) = &mut self.delimiter {
            (d.fresh, d.begun) = (false, true);
            d.doc.delimiter.push('\0');
        }
        if let Some(Frame::HereDoc { line, .. }) = self.stack.last_mut() {
            line.push('\0');
        }
    }

    pub fn text(&mut self, s: &str) {
        for c in s.chars() {
            self.char(c);
        }
    }

    fn char(&mut self, c: char) {
        if self.escaped {
            self.escaped = false;
            self.prev = '\\';
            return;
        }
        if self.delimiter_char(c) {
            return;
        }
        match self.stack.last() {
            Some(Frame::Code { .. }) | None => self.code(c),
            Some(Frame::Single { ansi }) => self.single(c, *ansi),
            Some(Frame::Double) => self.double(c),
            Some(Frame::Comment) => self.comment(c),
            Some(Frame::HereDoc { .. }) => self.here_doc(c),
        }
        self.prev = c;
    }

    fn single(&mut self, c: char, ansi: bool) {
        match c {
            '\'' => {
                self.stack.pop();
            }
            '\\' if ansi => self.escaped = true,
            _ => {}
        }
    }

    fn double(&mut self, c: char) {
        match c {
            '\\' => self.escaped = true,
            '"' => {
                self.stack.pop();
            }
            '`' => self.backquote(),
            '(' if self.prev == '$' => self.open_paren(),
            _ => {}
        }
    }

    /// A comment runs to the end of the line, or to the backquote that ends the command
    /// it is in: `sh` finds that backquote before it reads the command.
    fn comment(&mut self, c: char) {
        let in_backquotes = || {
            self.stack.iter().any(|f| {
                matches!(
                    f,
                    Frame::Code {
                        end: End::Backquote,
                        ..
                    }
                )
            })
        };
        if c == '\n' || (c == '`' && in_backquotes()) {
            self.stack.pop();
            self.code(c);
        }
    }

    fn here_doc(&mut self, c: char) {
        let Some(Frame::HereDoc { doc, line }) = self.stack.last_mut() else {
            return;
        };
        if c != '\n' {
            line.push(c);
            return;
        }
        let body = if doc.strip_tabs {
            line.trim_start_matches('\t')
        } else {
            line.as_str()
        };
        if body == doc.delimiter {
            self.stack.pop();
            self.begin_here_doc();
        } else {
            line.clear();
        }
    }

    fn code(&mut self, c: char) {
        let word_start = self.prev.is_whitespace() || ";&|()<>".contains(self.prev);
        let parens = match self.stack.last_mut() {
            Some(Frame::Code { parens, .. }) => Some(parens),
            _ => None,
        };
        match c {
            '\\' => self.escaped = true,
            '\'' => self.stack.push(Frame::Single {
                ansi: self.prev == '$',
            }),
            '"' => self.stack.push(Frame::Double),
            '`' => self.backquote(),
            '(' if self.prev == '$' => self.open_paren(),
            '(' => {
                if let Some(p) = parens {
                    *p += 1;
                }
            }
            ')' => match parens {
                Some(p) if *p > 0 => *p -= 1,
                _ => {
                    self.close(End::Paren);
                }
            },
            '#' if word_start => self.stack.push(Frame::Comment),
            // `$((a << b))` is arithmetic, not a here-document.
            '<' if self.prev == '<' && parens.as_deref().is_none_or(|p| *p == 0) => {
                self.delimiter = Some(Delimiter {
                    fresh: true,
                    ..Delimiter::default()
                });
            }
            '\n' => self.begin_here_doc(),
            _ => {}
        }
    }

    fn open_paren(&mut self) {
        self.stack.push(Frame::Code {
            end: End::Paren,
            parens: 0,
        });
    }

    fn backquote(&mut self) {
        if !self.close(End::Backquote) {
            self.stack.push(Frame::Code {
                end: End::Backquote,
                parens: 0,
            });
        }
    }

    /// Pops the innermost stretch of commands if `end` closes it.
    fn close(&mut self, end: End) -> bool {
        let closes = matches!(self.stack.last(), Some(Frame::Code { end: e, .. }) if *e == end);
        if closes {
            self.stack.pop();
        }
        closes
    }

    fn begin_here_doc(&mut self) {
        if let Some(doc) = self.pending.pop_front() {
            self.stack.push(Frame::HereDoc {
                doc,
                line: String::new(),
            });
        }
    }

    /// Reads `c` into the word after `<<`, if one is being read; whether it was taken.
    fn delimiter_char(&mut self, c: char) -> bool {
        let Some(d) = &mut self.delimiter else {
            return false;
        };
        let fresh = std::mem::take(&mut d.fresh);
        match c {
            // `<<<` is a here-string: its word is an ordinary word.
            '<' if fresh => self.delimiter = None,
            '-' if fresh => d.doc.strip_tabs = true,
            ' ' | '\t' if !d.begun => {}
            c if c.is_whitespace() || ";&|()<>".contains(c) => {
                if let Some(d) = self.delimiter.take() {
                    self.pending.push_back(d.doc);
                }
                return false;
            }
            // Quoting the delimiter only stops expansion in the body, which is reported anyway.
            '\'' | '"' | '\\' => d.begun = true,
            c => {
                d.begun = true;
                d.doc.delimiter.push(c);
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where each `{{x}}` in `command` sits.
    fn quotes(command: &str) -> Vec<Option<Quote>> {
        let mut scan = Scanner::default();
        let mut out = Vec::new();
        let mut pieces = command.split("{{x}}");
        scan.text(pieces.next().unwrap_or(""));
        for piece in pieces {
            out.push(scan.quote());
            scan.value();
            scan.text(piece);
        }
        out
    }

    use Quote::*;

    #[test]
    fn a_bare_placeholder_is_a_word() {
        assert_eq!(quotes("echo {{x}} {{x}}/y"), [None, None]);
    }

    #[test]
    fn single_and_double_quotes() {
        assert_eq!(quotes("echo '{{x}}'"), [Some(Single)]);
        assert_eq!(quotes("echo \"{{x}}\""), [Some(Double)]);
        assert_eq!(quotes("echo 'a b'{{x}}"), [None]);
        assert_eq!(quotes("echo \"a b\" {{x}} 'c'"), [None]);
    }

    #[test]
    fn an_apostrophe_inside_double_quotes_opens_nothing() {
        assert_eq!(quotes("echo \"it's {{x}}\" {{x}}"), [Some(Double), None]);
        assert_eq!(quotes("echo 'say \"' {{x}}"), [None]);
    }

    #[test]
    fn escaped_quotes_open_nothing() {
        assert_eq!(quotes(r"echo \' {{x}} \'"), [None]);
        assert_eq!(quotes(r#"echo "a \" {{x}}""#), [Some(Double)]);
        assert_eq!(quotes(r"echo \\'{{x}}'"), [Some(Single)]);
        // In single quotes a backslash is text, so the next quote closes.
        assert_eq!(quotes(r"echo 'a\' {{x}}"), [None]);
    }

    #[test]
    fn a_backslash_right_before_a_placeholder() {
        assert_eq!(quotes(r"echo \{{x}}"), [Some(Backslash)]);
        assert_eq!(quotes(r"echo \\{{x}}"), [None]);
    }

    #[test]
    fn bash_ansi_quotes_end_only_at_an_unescaped_quote() {
        assert_eq!(quotes(r"echo $'it\'s {{x}}'"), [Some(Single)]);
    }

    #[test]
    fn command_substitution_starts_quoting_afresh() {
        assert_eq!(quotes("echo \"$(cat {{x}})\""), [None]);
        assert_eq!(quotes("echo \"$(cat \"{{x}}\")\""), [Some(Double)]);
        assert_eq!(quotes("echo \"`cat {{x}}`\" {{x}}"), [None, None]);
        assert_eq!(quotes("echo \"$( (a) ) {{x}}\""), [Some(Double)]);
        assert_eq!(quotes("echo $((1 << 2)) {{x}}"), [None]);
    }

    #[test]
    fn comments_quote_nothing_but_hold_placeholders() {
        assert_eq!(quotes("true # don't\necho {{x}}"), [None]);
        assert_eq!(quotes("true # {{x}}\necho {{x}}"), [Some(Comment), None]);
        assert_eq!(quotes("echo a#'{{x}}'"), [Some(Single)]);
        assert_eq!(quotes("echo \"`true #`{{x}}\""), [Some(Double)]);
    }

    #[test]
    fn here_documents_run_to_their_delimiter() {
        let doc = "cat <<EOF >f\nhost {{x}}\nEOF\necho {{x}}";
        assert_eq!(quotes(doc), [Some(HereDoc), None]);
        let doc = "cat <<-'END'\n\tit's {{x}}\n\tEND\necho {{x}}";
        assert_eq!(quotes(doc), [Some(HereDoc), None]);
        assert_eq!(quotes("cat <<< {{x}}"), [None]);
    }
}
