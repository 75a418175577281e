//! Host ranges, as Ansible expands them in INI and YAML inventories:
//! `web[01:03].example.com` is `web01`, `web02` and `web03.example.com`, `db-[a:c]` is
//! `db-a` to `db-c`, `[0:10:5]` steps by five, and several ranges in one name multiply.
//! A begin with a leading zero pads every number to its width.
//!
//! Letters run as in Ansible's `string.ascii_letters`, `a` to `z` then `A` to `Z`: so
//! `[a:Z]` is all 52 letters and `[A:z]` is an error, where counting by character code
//! would give `[`, `\`, `]`, `^`, `_` and a backtick in the middle.

/// The order of letters in a range, as Ansible's `string.ascii_letters`.
const LETTERS: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// The most host names one pattern may stand for: a typo like `[1:1000000000]` must be
/// an error, not a machine out of memory.
const MAX_HOSTS: u64 = 100_000;

/// The host names `pattern` stands for: itself when it has no range.
pub fn expand(pattern: &str) -> Result<Vec<String>, String> {
    let Some((head, inner, tail)) = split(pattern) else {
        return Ok(vec![pattern.to_string()]);
    };
    let parts: Vec<&str> = inner.split(':').collect();
    let (beg, end, step) = match parts[..] {
        [b, e] => (b, e, "1"),
        [b, e, s] => (b, e, s),
        _ => {
            return Err(format!(
                "host range `[{inner}]` must be `[BEGIN:END]` or `[BEGIN:END:STEP]`"
            ));
        }
    };
    let step: usize = match step.parse() {
        Ok(s) if s > 0 => s,
        _ => {
            return Err(format!(
                "host range `[{inner}]` has an invalid step `{step}`"
            ));
        }
    };
    let values = values(if beg.is_empty() { "0" } else { beg }, end, step)
        .map_err(|why| format!("host range `[{inner}]` {why}"))?;
    let tails = expand(tail)?;
    if (values.len() as u64).saturating_mul(tails.len() as u64) > MAX_HOSTS {
        return Err(format!(
            "`{pattern}` stands for more than {MAX_HOSTS} hosts"
        ));
    }
    Ok(values
        .iter()
        .flat_map(|v| tails.iter().map(move |t| format!("{head}{v}{t}")))
        .collect())
}

/// `head[inner]tail` at the first bracket whose inside has a `:`.
fn split(pattern: &str) -> Option<(&str, &str, &str)> {
    let open = pattern.find('[')?;
    let close = open + pattern[open..].find(']')?;
    let inner = &pattern[open + 1..close];
    inner
        .contains(':')
        .then(|| (&pattern[..open], inner, &pattern[close + 1..]))
}

fn values(beg: &str, end: &str, step: usize) -> Result<Vec<String>, String> {
    if let (Ok(b), Ok(e)) = (beg.parse::<u64>(), end.parse::<u64>()) {
        let width = if beg.len() > 1 && beg.starts_with('0') {
            if beg.len() != end.len() {
                return Err("must have a begin and end of the same width".into());
            }
            beg.len()
        } else {
            0
        };
        if b > e {
            return Err("must not begin after it ends".into());
        }
        if (e - b) / step as u64 >= MAX_HOSTS {
            return Err(format!("stands for more than {MAX_HOSTS} hosts"));
        }
        return Ok((b..=e)
            .step_by(step)
            .map(|n| format!("{n:0width$}"))
            .collect());
    }
    match (letter_at(beg), letter_at(end)) {
        (Some(b), Some(e)) if b <= e => Ok(LETTERS[b..=e]
            .chars()
            .step_by(step)
            .map(String::from)
            .collect()),
        (Some(_), Some(_)) => {
            Err("must not begin after it ends (letters run `a` to `z`, then `A` to `Z`)".into())
        }
        _ => Err("must be numbers or single letters".into()),
    }
}

/// Where the single letter `s` is in [`LETTERS`].
fn letter_at(s: &str) -> Option<usize> {
    let mut chars = s.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if c.is_ascii_alphabetic() => LETTERS.find(c),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::expand;

    fn ok(p: &str) -> Vec<String> {
        expand(p).expect("a valid pattern")
    }

    #[test]
    fn a_name_without_a_range_is_itself() {
        assert_eq!(ok("web1.example.com"), ["web1.example.com"]);
        assert_eq!(ok("odd[name]"), ["odd[name]"]);
    }

    #[test]
    fn numbers_keep_the_width_of_a_zero_padded_begin() {
        assert_eq!(ok("web[01:03].x"), ["web01.x", "web02.x", "web03.x"]);
        assert_eq!(ok("web[8:10]"), ["web8", "web9", "web10"]);
        assert_eq!(ok("w[:2]"), ["w0", "w1", "w2"]);
    }

    #[test]
    fn letters_steps_and_several_ranges() {
        assert_eq!(ok("db-[a:c]"), ["db-a", "db-b", "db-c"]);
        assert_eq!(ok("n[0:10:5]"), ["n0", "n5", "n10"]);
        assert_eq!(ok("r[1:2]-[a:b]"), ["r1-a", "r1-b", "r2-a", "r2-b"]);
    }

    #[test]
    fn letters_run_lower_case_then_upper_case_as_in_ansible() {
        assert_eq!(ok("w[y:B]"), ["wy", "wz", "wA", "wB"]);
        assert_eq!(ok("w[a:Z]").len(), 52);
        assert_eq!(ok("w[X:Z:2]"), ["wX", "wZ"]);
        for p in ["w[A:z]", "w[Z:a]", "w[A:c]"] {
            let e = expand(p).expect_err(p);
            assert!(e.contains("must not begin after it ends"), "{p}: {e}");
        }
    }

    #[test]
    fn bad_ranges_say_why() {
        for (p, why) in [
            ("w[3:1]", "must not begin after it ends"),
            ("w[01:100]", "same width"),
            ("w[a:10]", "numbers or single letters"),
            ("w[1:2:0]", "invalid step"),
            ("w[1:2:3:4]", "must be `[BEGIN:END]`"),
            ("w[1:18446744073709551615]", "more than 100000 hosts"),
            ("w[1:1000]-[1:1000]", "more than 100000 hosts"),
        ] {
            let e = expand(p).expect_err(p);
            assert!(e.contains(why), "{p}: {e}");
        }
    }
}
