//! What is wrong with an Ansible inventory or with the `--hall` mapping, said so that the
//! user can find it: the file, the line and column when the format gives them, and the
//! host, group and variable concerned.

use std::fmt;

/// A line and a column, both from 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct At {
    pub line: usize,
    pub column: usize,
}

/// One problem; the file is said by [`Problems`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub at: Option<At>,
    pub message: String,
}

impl Problem {
    pub fn new(message: impl Into<String>) -> Problem {
        Problem {
            at: None,
            message: message.into(),
        }
    }

    pub fn at(line: usize, column: usize, message: impl Into<String>) -> Problem {
        Problem {
            at: Some(At { line, column }),
            message: message.into(),
        }
    }
}

/// Every problem found in one file, in the order found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problems {
    pub file: String,
    pub items: Vec<Problem>,
}

impl Problems {
    pub fn one(file: &str, p: Problem) -> Problems {
        Problems {
            file: file.to_string(),
            items: vec![p],
        }
    }
}

/// One `error: FILE[:LINE:COL]: MESSAGE` line per problem, then a count, as `validate`
/// ends its list.
impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.items {
            match p.at {
                Some(At { line, column }) => {
                    writeln!(f, "error: {}:{line}:{column}: {}", self.file, p.message)?;
                }
                None => writeln!(f, "error: {}: {}", self.file, p.message)?,
            }
        }
        let n = self.items.len();
        write!(f, "{n} error{} found", if n == 1 { "" } else { "s" })
    }
}

/// A parser's message without the " at line L column C" it ends with, which the
/// problem says in its own place.
pub fn without_location(message: &str) -> &str {
    let Some(i) = message.rfind(" at line ") else {
        return message;
    };
    let rest = &message[i + " at line ".len()..];
    let numbers = rest.split_once(" column ").is_some_and(|(l, c)| {
        [l, c]
            .iter()
            .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    });
    if numbers { &message[..i] } else { message }
}

/// The one answer to a dynamic inventory, a script or a plugin: switchyard runs nothing
/// of Ansible's, and `ansible-inventory` can turn either into JSON that it reads.
pub fn dynamic(file: &str, what: &str) -> Problem {
    Problem::new(format!(
        "{what}: switchyard cannot run dynamic inventories; run \
         `ansible-inventory -i {file} --list > inventory.json` and import inventory.json"
    ))
}

#[cfg(test)]
mod tests {
    use super::without_location;

    #[test]
    fn only_a_trailing_location_is_taken_off() {
        assert_eq!(without_location("bad at line 3 column 4"), "bad");
        assert_eq!(
            without_location("bad at line 3 column 4, while parsing"),
            "bad at line 3 column 4, while parsing"
        );
        assert_eq!(
            without_location("bad at line x column 4"),
            "bad at line x column 4"
        );
    }
}
