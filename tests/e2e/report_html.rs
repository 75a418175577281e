//! `report.html` in a real browser: headless Chromium opens the page a failed live run
//! wrote, renders it without a single console message (no script error, no invalid SVG),
//! draws one timeline bar per step execution, and leaves a screenshot to look at.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::util::{LOCAL_INVENTORY, Test, run_dir, summary};

/// `db` recovers; `api` fails on its start (so its verify and all of `web` are skipped).
/// Short sleeps give the timeline bars some width against a 4 s target.
const RUNBOOK: &str = r#"
[runbook]
name = "billing"
title = "Billing <platform> & friends"
owner = "Payments SRE"
rto = "4s"
inventory = ["../inventory/site.toml"]
on_failure = "abort"

[services.db]
title = "Ledger database"
rto = "3s"
hosts = ["tag:node"]
[[services.db.precheck]]
name = "replica caught up"
run = "sleep 0.2"
[[services.db.stop]]
name = "stop primary"
run = "sleep 0.3; echo stopped"
[[services.db.start]]
name = "promote replica"
run = "sleep 0.4"
[[services.db.verify]]
name = "accepts writes"
run = "echo ok"
expect_stdout = "ok"

[services.api]
title = "Billing API"
hosts = ["tag:node"]
depends_on = ["db"]
[[services.api.stop]]
name = "drain api"
run = "sleep 0.2"
[[services.api.start]]
name = "start api"
run = "echo 'bind: address <in use> & \"quoted\"' >&2; exit 3"
[[services.api.verify]]
name = "health"
run = "true"

[services.web]
hosts = ["tag:node"]
depends_on = ["api"]
[[services.web.start]]
name = "start web"
run = "true"
"#;

/// How long one browser run may take on a loaded two-core machine.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(60);

#[test]
fn the_html_report_renders_in_chromium_with_one_bar_per_step_execution() {
    let out = Test::new()
        .file("inventory/site.toml", LOCAL_INVENTORY)
        .file("runbooks/billing.toml", RUNBOOK)
        .args(&[
            "--no-progress",
            "run",
            "runbooks/billing.toml",
            "--to",
            "b",
            "--live",
            "--yes",
        ])
        .run()
        .code(1);
    let dir = run_dir(&out);
    let s = summary(&dir);
    let steps = s["steps"].as_array().expect("steps");
    for status in ["ok", "failed", "skipped"] {
        assert!(
            steps.iter().any(|x| x["status"] == status),
            "the run has no {status} step: {s:#}"
        );
    }
    let page = dir.join("report.html");
    let html = std::fs::read_to_string(&page).expect("report.html");
    for external in [
        "<script", "src=", "href=", "url(", "@import", "http:", "https:",
    ] {
        assert!(
            !html.contains(external),
            "report.html is not self-contained: it has {external:?}"
        );
    }

    let browser = Browser::find();
    let url = format!("file://{}", page.display());
    let dom = browser.run(&["--dump-dom", &url]);
    assert_eq!(
        dom.matches("class=\"bar\"").count(),
        steps.len(),
        "one timeline bar per step execution in summary.json"
    );
    assert!(
        dom.contains("FAILED") && dom.contains("RTO target"),
        "{dom}"
    );
    assert!(
        dom.contains("Billing &lt;platform&gt; &amp; friends"),
        "{dom}"
    );

    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report-screenshot.png");
    let _ = std::fs::remove_file(&shot);
    browser.run(&[
        &format!("--screenshot={}", shot.display()),
        "--window-size=1280,2000",
        &url,
    ]);
    let size = std::fs::metadata(&shot).map_or(0, |m| m.len());
    assert!(size > 0, "no screenshot at {}", shot.display());
    eprintln!("screenshot of report.html: {}", shot.display());
}

/// Headless Chromium with a throwaway profile.
pub(crate) struct Browser {
    bin: PathBuf,
    profile: tempfile::TempDir,
}

impl Browser {
    /// Chromium from PATH; a missing browser fails the test rather than skipping it.
    pub(crate) fn find() -> Browser {
        let bin = std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .map(|d| d.join("chromium"))
            .find(|p| p.is_file())
            .unwrap_or_else(|| {
                panic!(
                    "`chromium` is not installed, and this test needs a real browser: \
                     run `scripts/test`, which installs Debian's chromium package"
                )
            });
        Browser {
            bin,
            profile: tempfile::tempdir().expect("profile directory"),
        }
    }

    /// Runs the browser on `args` and returns its stdout, failing on a console message,
    /// an unsuccessful exit, or a browser still running after [`BROWSER_TIMEOUT`].
    pub(crate) fn run(&self, args: &[&str]) -> String {
        let logs = self.profile.path();
        let (stdout, stderr) = (logs.join("stdout"), logs.join("stderr"));
        let mut child = Command::new(&self.bin)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--no-first-run",
                "--enable-logging=stderr",
                "--v=0",
            ])
            .arg(format!(
                "--user-data-dir={}",
                logs.join("profile").display()
            ))
            .args(args)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout).expect("stdout file"))
            .stderr(std::fs::File::create(&stderr).expect("stderr file"))
            // Its own process group, so a hung browser is killed with its helpers.
            .process_group(0)
            .spawn()
            .expect("start chromium");
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for chromium") {
                break status;
            }
            if started.elapsed() > BROWSER_TIMEOUT {
                let group = nix::unistd::Pid::from_raw(child.id() as i32);
                let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
                let _ = child.wait();
                panic!(
                    "chromium {args:?} still running after {BROWSER_TIMEOUT:?}; killed it\n{}",
                    read(&stderr)
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        let log = read(&stderr);
        assert!(status.success(), "chromium {args:?}: {status}\n{log}");
        let console: Vec<&str> = log
            .lines()
            .filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught"))
            .collect();
        assert!(
            console.is_empty(),
            "the page logged to the console:\n{}",
            console.join("\n")
        );
        read(&stdout)
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}
