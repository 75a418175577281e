//! Durations as people write them in runbooks: `"250ms"`, `"90s"`, `"5m"`, `"1h30m"`.
//!
//! Our own small parser rather than a general one: the accepted forms are exactly the
//! ones the documentation lists, and the error says what those forms are.

use std::time::Duration;

/// What a duration string must look like; shown in every duration error.
pub const EXPECTED: &str =
    "a duration: whole numbers with units ms, s, m, h or d, like \"250ms\", \"90s\" or \"1h30m\"";

/// Parses a duration; `Err` carries a short reason.
pub fn parse(text: &str) -> Result<Duration, String> {
    let s = text.trim();
    if s.is_empty() {
        return Err("the duration is empty".into());
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
        let unit_len = rest.len()
            - rest
                .trim_start_matches(|c: char| c.is_ascii_alphabetic())
                .len();
        let unit = &rest[..unit_len];
        let part = match unit {
            "ms" => Duration::from_millis(number),
            "s" => Duration::from_secs(number),
            "m" => Duration::from_secs(number.checked_mul(60).ok_or("too large")?),
            "h" => Duration::from_secs(number.checked_mul(3600).ok_or("too large")?),
            "d" => Duration::from_secs(number.checked_mul(86_400).ok_or("too large")?),
            "" if rest.starts_with('.') => {
                return Err("fractions are not allowed; use a smaller unit (\"1500ms\")".into());
            }
            "" => return Err(format!("`{number}` has no unit")),
            other => return Err(format!("unknown unit `{other}`")),
        };
        total = total.checked_add(part).ok_or("the duration is too large")?;
        rest = rest[unit_len..].trim_start();
    }
    Ok(total)
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
    fn formats_for_people() {
        assert_eq!(format(Duration::from_secs(5400)), "1h 30m");
        assert_eq!(format(Duration::from_millis(250)), "250ms");
        assert_eq!(format(Duration::from_millis(2500)), "2.5s");
        assert_eq!(format(Duration::from_secs(125)), "2m 5s");
        assert_eq!(format(Duration::ZERO), "0s");
    }
}
