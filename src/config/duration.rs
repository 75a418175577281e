//! Durations as people write them in runbooks: `"250ms"`, `"90s"`, `"5m"`, `"1h30m"`.
//!
//! Our own small parser rather than a general one: the accepted forms are exactly the
//! ones the documentation lists, and the error says what those forms are.

use std::time::Duration;

/// What a duration string must look like; shown in every duration error.
pub const EXPECTED: &str =
    "a duration: whole numbers with units ms, s, m, h or d, like \"250ms\", \"90s\" or \"1h30m\"";

/// The longest duration switchyard takes anywhere (a runbook, an inventory, a flag):
/// one year. Nothing in a switchover waits longer, and with this bound every sum and
/// product of durations (a step's retries, a plan's worst case, a deadline on the
/// monotonic clock) stays far from overflowing.
pub const MAX: Duration = Duration::from_secs(365 * 86_400);

/// Parses a duration of at most [`MAX`]; `Err` carries a short reason, with the right
/// spelling when one can be guessed (`"5 minutes"` → `5m`, `"2.5m"` → `2m30s`).
pub fn parse(text: &str) -> Result<Duration, String> {
    let d = parse_unbounded(text)?;
    if d > MAX {
        return Err(format!(
            "`{}` is longer than the longest duration switchyard takes, 365d",
            text.trim()
        ));
    }
    Ok(d)
}

fn parse_unbounded(text: &str) -> Result<Duration, String> {
    let s = text.trim();
    if s.is_empty() {
        return Err("the duration is empty".into());
    }
    if s.starts_with('-') {
        return Err("a duration cannot be negative".into());
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits == 0 {
            return Err(format!("expected a number at `{rest}`"));
        }
        let number: u64 = rest[..digits]
            .parse()
            .map_err(|_| format!("`{}` is too large", &rest[..digits]))?;
        rest = &rest[digits..];
        if let Some(frac) = rest.strip_prefix('.') {
            return Err(fraction_hint(number, frac));
        }
        let spaced = rest.trim_start();
        let unit_len = spaced.len()
            - spaced
                .trim_start_matches(|c: char| c.is_ascii_alphabetic())
                .len();
        let unit = &spaced[..unit_len];
        if unit_len > 0 && spaced.len() != rest.len() {
            return Err(match canonical_unit(unit) {
                Some(u) => format!("write the unit right after the number: `{number}{u}`"),
                None => format!("`{unit}` is not a unit"),
            });
        }
        let seconds = |factor: u64| {
            number
                .checked_mul(factor)
                .map(Duration::from_secs)
                .ok_or_else(|| "the duration is too large".to_string())
        };
        let part = match unit {
            "ms" => Duration::from_millis(number),
            "s" => seconds(1)?,
            "m" => seconds(60)?,
            "h" => seconds(3600)?,
            "d" => seconds(86_400)?,
            "" => {
                return Err(format!(
                    "`{number}` has no unit; write `{number}s`, `{number}m` or `{number}h`"
                ));
            }
            other => {
                return Err(match canonical_unit(other) {
                    Some(u) => format!("`{other}` is not a unit; write `{number}{u}`"),
                    None => format!("`{other}` is not a unit"),
                });
            }
        };
        total = total.checked_add(part).ok_or("the duration is too large")?;
        rest = spaced[unit_len..].trim_start();
    }
    Ok(total)
}

/// The unit people mean by a word like `min`, `secs` or `hours`.
fn canonical_unit(word: &str) -> Option<&'static str> {
    Some(match word.to_ascii_lowercase().as_str() {
        "ms" | "msec" | "msecs" | "millisecond" | "milliseconds" => "ms",
        "s" | "sec" | "secs" | "second" | "seconds" => "s",
        "m" | "min" | "mins" | "minute" | "minutes" => "m",
        "h" | "hr" | "hrs" | "hour" | "hours" => "h",
        "d" | "day" | "days" => "d",
        _ => return None,
    })
}

/// "fractions are not allowed", with the value written in whole units when possible.
fn fraction_hint(whole: u64, rest: &str) -> String {
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let unit = canonical_unit(rest[digits.len()..].trim()).unwrap_or("");
    let ms_per_unit: u64 = match unit {
        "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => 0,
    };
    let scale = 10u64.checked_pow(digits.len() as u32).unwrap_or(0);
    let fraction: u64 = digits.parse().unwrap_or(0);
    let exact = (scale > 0 && ms_per_unit > 0 && (fraction * ms_per_unit).is_multiple_of(scale))
        .then(|| whole.saturating_mul(ms_per_unit) + fraction * ms_per_unit / scale);
    match exact {
        Some(ms) => format!(
            "fractions are not allowed; write `{}`",
            compact(Duration::from_millis(ms))
        ),
        None => "fractions are not allowed; use a smaller unit".into(),
    }
}

/// `1h30m`, `2m30s`, `1500ms`: the shortest way to write `d` in runbook syntax.
fn compact(d: Duration) -> String {
    if d.subsec_millis() != 0 {
        return format!("{}ms", d.as_millis());
    }
    let secs = d.as_secs();
    let parts = [
        (secs / 86_400, "d"),
        (secs / 3600 % 24, "h"),
        (secs / 60 % 60, "m"),
        (secs % 60, "s"),
    ];
    let out: String = parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, u)| format!("{n}{u}"))
        .collect();
    if out.is_empty() { "0s".into() } else { out }
}

/// A duration in seconds, to the millisecond, as the plan's JSON and the evidence write
/// durations.
pub fn secs(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}

/// Formats a duration the way it is read back in plans and reports: `1h 30m`, `2m 5s`, `250ms`.
pub fn format(d: Duration) -> String {
    let ms = d.as_millis();
    if ms == 0 {
        return "0s".into();
    }
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let secs = d.as_secs();
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let frac = ms % 1000;
    let mut parts = Vec::new();
    if h > 0 {
        parts.push(format!("{h}h"));
    }
    if m > 0 {
        parts.push(format!("{m}m"));
    }
    if s > 0 || frac > 0 {
        if frac > 0 && h == 0 {
            let secs = format!("{s}.{frac:03}");
            parts.push(format!("{}s", secs.trim_end_matches('0')));
        } else {
            parts.push(format!("{s}s"));
        }
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_forms() {
        assert_eq!(parse("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse("1h 30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse("2d"), Ok(Duration::from_secs(172_800)));
        assert_eq!(parse("0s"), Ok(Duration::ZERO));
    }

    #[test]
    fn rejects_what_is_not_a_duration() {
        for bad in [
            "",
            "5",
            "m",
            "5x",
            "1.5s",
            "-5s",
            "5 minutes",
            "99999999999999999999s",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(parse("999999999999999d").is_err());
    }

    #[test]
    fn the_longest_duration_is_a_year() {
        assert_eq!(parse("365d"), Ok(MAX));
        assert_eq!(
            parse("366d"),
            Err("`366d` is longer than the longest duration switchyard takes, 365d".into())
        );
        assert!(parse("200000000000000d").is_err());
        assert!(parse("10000000000000000000s").is_err());
        assert!(parse("364d23h59m60s1ms").is_err());
    }

    #[test]
    fn errors_spell_out_what_was_meant() {
        assert_eq!(
            parse("2.5m"),
            Err("fractions are not allowed; write `2m30s`".into())
        );
        assert_eq!(
            parse("1.5s"),
            Err("fractions are not allowed; write `1500ms`".into())
        );
        assert_eq!(
            parse("5 minutes"),
            Err("write the unit right after the number: `5m`".into())
        );
        assert_eq!(parse("5min"), Err("`min` is not a unit; write `5m`".into()));
        assert_eq!(parse("-5s"), Err("a duration cannot be negative".into()));
        assert_eq!(
            parse("5"),
            Err("`5` has no unit; write `5s`, `5m` or `5h`".into())
        );
    }

    #[test]
    fn formats_for_people() {
        assert_eq!(format(Duration::from_secs(5400)), "1h 30m");
        assert_eq!(format(Duration::from_millis(250)), "250ms");
        assert_eq!(format(Duration::from_millis(2500)), "2.5s");
        assert_eq!(format(Duration::from_secs(125)), "2m 5s");
        assert_eq!(format(Duration::ZERO), "0s");
    }
}
