//! Hostile numbers: runbooks whose durations and counts are extreme (0, 1, the largest
//! accepted, one past it, `u32::MAX`, `u64::MAX` seconds, …) and command-line flags that
//! take numbers and times. Whatever the value, `validate`, `plan` and a dry run on local
//! hosts either accept it or reject it with exit code 2 and a located error; nothing
//! panics, and a runbook `validate` accepts is one that plans and runs.

use proptest::prelude::*;

use crate::support::util::{LOCAL_INVENTORY, Test, run_dir, summary};

/// Values every key of their kind takes come first, then values some or none take.
const DURATIONS: &[&str] = &[
    "1ms",
    "1s",
    "365d",
    "8760h",
    "0s",
    "366d",
    "4294967295s",
    "18446744073709551615s",
    "18446744073709551616s",
    "200000000000000d",
    "10000000000000000000s",
    "99999999999999999999ms",
];

const COUNTS: &[&str] = &[
    "1",
    "1000",
    "0",
    "1001",
    "100000",
    "100001",
    "4294967295",
    "18446744073709551615",
    "9223372036854775807",
    "-1",
];

/// Mostly a value every key of the kind takes, so that whole runbooks are often valid
/// and get planned and run; sometimes any value.
fn pick(from: &'static [&'static str]) -> impl Strategy<Value = &'static str> {
    let always = if from == DURATIONS { 4 } else { 2 };
    prop_oneof![
        6 => prop::sample::select(from[..always].to_vec()),
        1 => prop::sample::select(from.to_vec()),
    ]
}

/// The numeric keys of a runbook, as written in it.
#[derive(Clone, Copy)]
struct Numbers<'a> {
    rto: &'a str,
    max_parallel: &'a str,
    timeout: &'a str,
    within: &'a str,
    interval: &'a str,
    retries: &'a str,
    retry_interval: &'a str,
    consecutive: &'a str,
    serial: &'a str,
    sleep: &'a str,
}

/// Values every key takes.
const SANE: Numbers<'static> = Numbers {
    rto: "1h",
    max_parallel: "4",
    timeout: "10s",
    within: "1m",
    interval: "1s",
    retries: "0",
    retry_interval: "1s",
    consecutive: "1",
    serial: "1",
    sleep: "1s",
};

/// A runbook over the local hosts with `n` in every numeric key. The precheck (a dry
/// run runs it for real) has time to succeed at its first attempt unless its `within`
/// is shorter, so even its largest `within` and `interval` are never waited for.
fn runbook(n: Numbers<'_>) -> String {
    let Numbers {
        rto,
        max_parallel,
        timeout,
        within,
        interval,
        retries,
        retry_interval,
        consecutive,
        serial,
        sleep,
    } = n;
    format!(
        r#"
[runbook]
name = "numbers"
rto = "{rto}"
inventory = ["../inventory/site.toml"]
max_parallel = {max_parallel}

[services.app]
hosts = ["tag:node"]
rto = "{rto}"

[[services.app.precheck]]
run = "true"
timeout = "10s"
within = "{within}"
interval = "{interval}"

[[services.app.stop]]
run = "true"
timeout = "{timeout}"
retries = {retries}
retry_interval = "{retry_interval}"
serial = {serial}

[[services.app.start]]
sleep = "{sleep}"

[[services.app.verify]]
run = "true"
timeout = "{timeout}"
within = "{within}"
interval = "{interval}"
consecutive = {consecutive}
"#
    )
}

/// validate, plan (both directions, every format) and a dry run of `text`.
fn exercise(text: &str) {
    let t = Test::new()
        .file("inventory/site.toml", LOCAL_INVENTORY)
        .file("runbooks/numbers.toml", text);
    let root = t.path().to_path_buf();
    let validate = t.args(&["validate", "runbooks/numbers.toml"]).run();
    assert!(
        [0, 2].contains(&validate.code),
        "validate exited {}:\n{}",
        validate.code,
        validate.stderr
    );
    if validate.code == 2 {
        assert!(
            validate.stderr.contains("runbooks/numbers.toml:"),
            "an error without its place:\n{}",
            validate.stderr
        );
    }
    let accepted = validate.code == 0;
    for args in [
        &["plan", "runbooks/numbers.toml", "--to", "b"][..],
        &[
            "plan",
            "runbooks/numbers.toml",
            "--to",
            "a",
            "--format",
            "json",
        ],
        &[
            "plan",
            "runbooks/numbers.toml",
            "--to",
            "b",
            "--format",
            "dot",
        ],
        &[
            "plan",
            "runbooks/numbers.toml",
            "--to",
            "b",
            "--format",
            "mermaid",
        ],
    ] {
        let out = Test::reuse(&root).args(args).run();
        assert_eq!(
            out.code,
            if accepted { 0 } else { 2 },
            "{args:?}:\n{}",
            out.stderr
        );
    }
    for args in [
        &["--no-progress", "run", "runbooks/numbers.toml", "--to", "b"][..],
        &[
            "--no-progress",
            "run",
            "runbooks/numbers.toml",
            "--to",
            "a",
            "--mode",
            "failover",
        ],
    ] {
        let out = Test::reuse(&root).args(args).run();
        if !accepted {
            assert_eq!(out.code, 2, "{args:?}:\n{}", out.stderr);
            continue;
        }
        // Passed, or failed because a precheck had 1ms: either way every step of the
        // plan is in the evidence, none dropped.
        assert!(
            [0, 1].contains(&out.code),
            "{args:?}: exit {}\n{}",
            out.code,
            out.stderr
        );
        let s = summary(&run_dir(&out));
        assert_eq!(s["steps"].as_array().map(Vec::len), Some(4), "{s}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn extreme_durations_and_counts_are_valid_or_exit_2_never_a_panic(
        rto in pick(DURATIONS),
        max_parallel in pick(COUNTS),
        timeout in pick(DURATIONS),
        within in pick(DURATIONS),
        interval in pick(DURATIONS),
        retries in pick(COUNTS),
        retry_interval in pick(DURATIONS),
        consecutive in pick(COUNTS),
        serial in pick(COUNTS),
        sleep in pick(DURATIONS),
    ) {
        exercise(&runbook(Numbers {
            rto, max_parallel, timeout, within, interval, retries, retry_interval,
            consecutive, serial, sleep,
        }));
    }

    #[test]
    fn numeric_flags_are_taken_or_refused_with_exit_2(
        flag in prop::sample::select(vec!["--grace", "--max-parallel", "--incident-start"]),
        value in prop::sample::select(vec![
            "0", "1", "-1", "0s", "366d", "365d", "18446744073709551615", "4294967296",
            "10000000000000000000s", "100001", "2026-11-27T03:00:00Z", "9999-12-31T23:59:59Z",
            "0000-01-01T00:00:00Z", "1970-01-01T00:00:00+23:59", "not a time", "",
        ]),
    ) {
        let t = Test::new()
            .file("inventory/site.toml", LOCAL_INVENTORY)
            .file("runbooks/numbers.toml", runbook(SANE));
        let out = t
            .args(&["--no-progress", "run", "runbooks/numbers.toml", "--to", "b", flag, value])
            .run();
        prop_assert!([0, 2].contains(&out.code), "{flag} {value:?}: exit {}\n{}", out.code, out.stderr);
    }
}

#[test]
fn the_largest_duration_is_a_year_and_the_error_says_where() {
    let t = Test::new()
        .file("inventory/site.toml", LOCAL_INVENTORY)
        .file(
            "runbooks/numbers.toml",
            runbook(Numbers {
                within: "200000000000000d",
                ..SANE
            }),
        );
    t.args(&["validate", "runbooks/numbers.toml"])
        .run()
        .code(2)
        .stderr_has("longer than the longest duration switchyard takes, 365d")
        .stderr_has("runbooks/numbers.toml:15:");
}

#[test]
fn a_grace_period_past_a_year_is_refused_before_anything_runs() {
    let t = Test::new()
        .file("inventory/site.toml", LOCAL_INVENTORY)
        .file("runbooks/numbers.toml", runbook(SANE));
    t.args(&[
        "run",
        "runbooks/numbers.toml",
        "--to",
        "b",
        "--grace",
        "10000000000000000000s",
    ])
    .run()
    .code(2)
    .stderr_has("--grace");
}

#[test]
fn an_incident_start_in_the_future_is_an_error_naming_it() {
    let t = Test::new()
        .file("inventory/site.toml", LOCAL_INVENTORY)
        .file("runbooks/numbers.toml", runbook(SANE));
    let out = t
        .args(&[
            "run",
            "runbooks/numbers.toml",
            "--to",
            "b",
            "--incident-start",
            "2999-01-01T00:00:00Z",
        ])
        .run()
        .code(2)
        .stderr_has("2999-01-01T00:00:00Z")
        .stderr_has("in the future");
    assert!(
        !out.root.join("evidence").exists(),
        "a run folder was made for a run that never started"
    );
}
