//! The SSH transport against real OpenSSH servers ([`crate::sshd`]): output and exit
//! status, connection reuse and limits, stopping commands on the remote host, host key
//! checking, authentication failures, unreachable hosts, and what a login costs.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use switchyard::config::ids::{HallId, HostId};
use switchyard::config::inventory::{Host, SshSettings};
use switchyard::config::model::{HostKeyChecking, Transport};
use switchyard::config::source::{Sources, Span};
use switchyard::transport::ssh::SshHost;
use switchyard::transport::{Cancel, CommandOutput, TransportError};

use crate::support::sshd::{Sshd, keygen, unused_address};

/// A host reaching `sshd` as root with its key and known_hosts.
fn host(sshd: &Sshd) -> Host {
    host_at(&sshd.address, sshd.port, |s| {
        s.identity_file = Some(sshd.identity_file.clone());
        s.known_hosts = sshd.known_hosts.clone();
    })
}

fn host_with(sshd: &Sshd, change: impl FnOnce(&mut SshSettings)) -> Host {
    let mut h = host(sshd);
    change(&mut h.ssh);
    h
}

fn host_at(address: &str, port: u16, change: impl FnOnce(&mut SshSettings)) -> Host {
    let file = Sources::default().add(PathBuf::from("inventory.toml"), String::new());
    let mut ssh = SshSettings {
        user: Some("root".into()),
        port,
        identity_file: None,
        known_hosts: PathBuf::from("/nonexistent/known_hosts"),
        host_key_checking: HostKeyChecking::Strict,
        connect_timeout: Duration::from_secs(5),
        keepalive: Some(Duration::from_secs(15)),
        max_sessions: 4,
        jump: None,
    };
    change(&mut ssh);
    Host {
        name: HostId::new("db-a1"),
        hall: HallId::new("a"),
        transport: Transport::Ssh,
        address: address.to_string(),
        tags: Vec::new(),
        description: None,
        ssh,
        span: Span::new(file, 0..0),
    }
}

#[track_caller]
fn run(host: &Arc<SshHost>, command: &str) -> CommandOutput {
    run_for(host, command, Duration::from_secs(10), &Cancel::default())
        .unwrap_or_else(|e| panic!("`{command}` could not run: {e}"))
}

/// Runs one command as the engine does, on a runtime of its own.
fn run_for(
    host: &Arc<SshHost>,
    command: &str,
    timeout: Duration,
    cancel: &Cancel,
) -> Result<CommandOutput, TransportError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(host.run(command, timeout, cancel))
}

/// A string no other test (or earlier run) uses, to find processes and files by.
fn marker(what: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("sy-{what}-{}-{nanos}", std::process::id())
}

/// Processes whose command line contains `marker` (read from /proc: no procps needed).
fn processes(marker: &str) -> String {
    let mut found = String::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if cmdline.contains(marker) {
            found.push_str(&format!(
                "{}: {cmdline}\n",
                entry.file_name().to_string_lossy()
            ));
        }
    }
    found
}

/// Waits up to `limit` for every process carrying `marker` to be gone.
#[track_caller]
fn assert_gone_within(marker: &str, limit: Duration) {
    let until = Instant::now() + limit;
    loop {
        let left = processes(marker);
        if left.is_empty() {
            return;
        }
        assert!(
            Instant::now() < until,
            "still running after {limit:?}:\n{left}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The SHA-256 fingerprint of a public key file, as `ssh-keygen -l` prints it.
fn fingerprint(public_key: &std::path::Path) -> String {
    let out = std::process::Command::new("ssh-keygen")
        .arg("-lf")
        .arg(public_key)
        .output()
        .expect("run ssh-keygen");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.split_whitespace()
        .nth(1)
        .expect("a fingerprint")
        .to_string()
}

#[test]
fn reports_exit_code_stdout_and_stderr() {
    let sshd = Sshd::start();
    let h = SshHost::new(&host(&sshd));
    let out = run(&h, r#"echo "it's $((6 * 7))"; echo oops >&2; exit 3"#);
    assert_eq!(out.exit_code, Some(3));
    assert_eq!(out.stdout.text(), "it's 42\n");
    assert_eq!(out.stderr.text(), "oops\n");
    assert!(!out.timed_out);
    assert_eq!(run(&h, "true").exit_code, Some(0));
    // Run by the user's login shell (bash for root), not plain sh.
    assert_eq!(
        run(&h, "echo ${BASH_VERSION:+bash}").stdout.text(),
        "bash\n"
    );
    // A line the shell cannot parse is the shell's failure, reported as such.
    let out = run(&h, "if then");
    assert_eq!(out.exit_code, Some(2));
    assert!(
        out.stderr.text().contains("syntax error"),
        "{}",
        out.stderr.text()
    );
}

/// `tests/support/silent_sshd.py` on a loopback address of its own: an SSH server that
/// never sends a command's exit status. Killed when dropped.
struct SilentSshd {
    host: Host,
    child: std::process::Child,
    _dir: tempfile::TempDir,
}

impl SilentSshd {
    fn start() -> SilentSshd {
        let dir = tempfile::tempdir().expect("tempdir");
        let (host_key, client) = (dir.path().join("host"), dir.path().join("client"));
        let host_public = keygen(&host_key, "ed25519");
        keygen(&client, "ed25519");
        let (address, port) = (unused_address(2222), 2222);
        let known_hosts = dir.path().join("known_hosts");
        std::fs::write(&known_hosts, format!("[{address}]:{port} {host_public}\n"))
            .expect("known_hosts");
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/silent_sshd.py");
        let mut child = std::process::Command::new("python3")
            .arg(script)
            .args([address.as_str(), &port.to_string()])
            .arg(&host_key)
            .arg(client.with_extension("pub"))
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3 runs (scripts/test installs paramiko)");
        let mut ready = String::new();
        let stdout = child.stdout.take().expect("stdout");
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut ready)
            .expect("read");
        assert_eq!(
            ready.trim(),
            "ready",
            "silent_sshd.py did not start (is paramiko installed?)"
        );
        let host = host_at(&address, port, |s| {
            s.identity_file = Some(client.clone());
            s.known_hosts = known_hosts.clone();
        });
        SilentSshd {
            host,
            child,
            _dir: dir,
        }
    }
}

impl Drop for SilentSshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_server_that_sends_no_exit_status_cannot_make_a_failed_command_succeed() {
    let server = SilentSshd::start();
    let h = SshHost::new(&server.host);
    let run_one = |command| run(&h, command);
    // libssh2 reads the missing status as 0; the shell's own report says 3.
    let out = run_one("echo out; echo oops >&2; exit 3");
    assert_eq!(out.exit_code, Some(3));
    assert_eq!(out.stdout.text(), "out\n");
    assert_eq!(
        out.stderr.text(),
        "oops\n",
        "the report is taken off stderr"
    );
    assert_eq!(run_one("false").exit_code, Some(1));
    assert_eq!(run_one("true").exit_code, Some(0));
    // The shell's stderr sent to stdout: the report is found, and taken off, there.
    let out = run_one("exec 2>&1; echo both; exit 4");
    assert_eq!(out.exit_code, Some(4));
    assert_eq!(out.stdout.text(), "both\n");
}

#[test]
fn a_command_killed_by_a_signal_has_no_exit_code() {
    let sshd = Sshd::start();
    let h = SshHost::new(&host(&sshd));
    let out = run(&h, "echo before; kill -s KILL $$");
    assert_eq!(out.exit_code, None);
    assert!(!out.timed_out);
    assert_eq!(out.stdout.text(), "before\n");
}

#[test]
fn twenty_commands_reuse_one_login() {
    let sshd = Sshd::start();
    let h = SshHost::new(&host(&sshd));
    h.check().expect("check");
    for i in 0..20 {
        let out = run(&h, &format!("echo {i}"));
        assert_eq!(out.stdout.text(), format!("{i}\n"));
        assert_eq!(out.exit_code, Some(0));
    }
    assert_eq!(sshd.logins(), 1, "{}", sshd.log());
}

#[test]
fn max_sessions_bounds_the_commands_running_at_once() {
    let sshd = Sshd::start();
    let h = SshHost::new(&host_with(&sshd, |s| s.max_sessions = 2));
    let begun = Instant::now();
    let threads: Vec<_> = (0..6)
        .map(|_| {
            let h = Arc::clone(&h);
            std::thread::spawn(move || run(&h, "sleep 1").exit_code)
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().expect("thread"), Some(0));
    }
    let took = begun.elapsed();
    // Six one-second commands two at a time: three rounds, not two (3 at once) nor six.
    assert!(
        took >= Duration::from_secs(3) && took < Duration::from_millis(5500),
        "took {took:?}"
    );
    assert_eq!(sshd.logins(), 2, "{}", sshd.log());
}

#[test]
fn a_timed_out_command_is_stopped_on_the_remote_host() {
    let sshd = Sshd::start();
    let h = SshHost::new(&host(&sshd));
    let mark = marker("timeout");
    let file = std::env::temp_dir().join(&mark);
    let begun = Instant::now();
    let out = run_for(
        &h,
        &format!("echo started; sleep 3; touch {}", file.display()),
        Duration::from_secs(1),
        &Cancel::default(),
    )
    .expect("ran");
    assert!(out.timed_out);
    assert_eq!(out.exit_code, None);
    assert_eq!(out.stdout.text(), "started\n");
    assert!(
        begun.elapsed() < Duration::from_millis(2500),
        "{:?}",
        begun.elapsed()
    );
    // The remote watchdog lingers up to 2 s (for its SIGKILL round); the command not at all.
    assert_gone_within(&mark, Duration::from_secs(3));
    std::thread::sleep(Duration::from_secs(4).saturating_sub(begun.elapsed()));
    assert!(!file.exists(), "the command went on after its timeout");
    // The connection survived and is reused.
    assert_eq!(run(&h, "echo again").stdout.text(), "again\n");
    assert_eq!(sshd.logins(), 1);
}

#[test]
fn a_timed_out_command_that_ignores_sigterm_is_killed() {
    let sshd = Sshd::start();
    let h = SshHost::new(&host(&sshd));
    let mark = marker("stubborn");
    let file = std::env::temp_dir().join(&mark);
    let begun = Instant::now();
    let out = run_for(
        &h,
        &format!("trap '' TERM; sleep 5; touch {}", file.display()),
        Duration::from_secs(1),
        &Cancel::default(),
    )
    .expect("ran");
    assert!(out.timed_out);
    assert_eq!(out.exit_code, None);
    // SIGTERM at 1 s, SIGKILL 2 s later.
    assert_gone_within(&mark, Duration::from_secs(4));
    std::thread::sleep(Duration::from_secs(6).saturating_sub(begun.elapsed()));
    assert!(!file.exists(), "the command went on after its timeout");
}

#[test]
fn large_output_on_both_streams_is_read_without_stalling_and_cut() {
    let sshd = Sshd::start();
    let h = SshHost::new(&host(&sshd));
    // More than libssh2's 2 MiB window on each stream, written at the same time.
    let out = run(
        &h,
        "head -c 3000000 /dev/zero | tr '\\0' o & head -c 3000000 /dev/zero | tr '\\0' e >&2; wait",
    );
    assert_eq!(out.exit_code, Some(0));
    for (stream, c) in [(&out.stdout, 'o'), (&out.stderr, 'e')] {
        assert_eq!(stream.total(), 3_000_000);
        assert_eq!(stream.cut(), 3_000_000 - 2 * 64 * 1024);
        let text = stream.text();
        assert!(text.contains(&format!("[… {} bytes cut by switchyard …]", stream.cut())));
        assert!(text.starts_with(c) && text.ends_with(c));
    }
}

#[test]
fn a_command_silent_after_some_output_is_waited_for_without_spinning() {
    // The socket's readiness was never forgotten (tokio clears nothing for an interest
    // of both directions at once), so once a command had printed anything, following it
    // took a whole core until it ended.
    fn thread_cpu() -> Duration {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").expect("stat");
        let fields: Vec<&str> = stat[stat.rfind(')').expect("comm") + 2..]
            .split(' ')
            .collect();
        let ticks: u64 =
            fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
        Duration::from_millis(ticks * 10)
    }
    let sshd = Sshd::start();
    let h = SshHost::new(&host(&sshd));
    h.check().expect("check");
    // `run` follows the command on this thread (a runtime of its own).
    let before = thread_cpu();
    let out = run(&h, "echo before; sleep 2; echo after");
    let spent = thread_cpu() - before;
    assert_eq!(out.stdout.text(), "before\nafter\n");
    assert!(
        spent < Duration::from_millis(400),
        "{spent:?} of CPU in 2 s"
    );
}

#[test]
fn keepalives_are_sent_while_a_command_runs() {
    let count = |keepalive: Option<Duration>| {
        let sshd = Sshd::builder().log_level("DEBUG1").start();
        let h = SshHost::new(&host_with(&sshd, |s| s.keepalive = keepalive));
        assert_eq!(run(&h, "sleep 3.5").exit_code, Some(0));
        drop(h);
        sshd.log().matches("rtype keepalive@libssh2.org").count()
    };
    let sent = count(Some(Duration::from_secs(1)));
    assert!((2..=5).contains(&sent), "{sent} keepalives in 3.5 s");
    assert_eq!(count(None), 0);
}

#[test]
fn a_host_slow_to_start_a_command_gets_the_whole_connect_timeout() {
    // libssh2 with its keepalive setting on gives up on any blocking call when the next
    // keepalive falls due (here after 2 s), whatever the session's timeout: opening the
    // channel failed, and the pool replaced the connection — or, when starting the
    // command failed, the step failed (seen at 100 hosts under load). A host that takes
    // 4 s to answer must get its whole 10 s, on the same connection.
    use nix::sys::signal::Signal;
    let sshd = Sshd::start();
    let h = SshHost::new(&host_with(&sshd, |s| {
        s.keepalive = Some(Duration::from_secs(1));
        s.connect_timeout = Duration::from_secs(10);
        s.max_sessions = 1;
    }));
    assert_eq!(run(&h, "true").exit_code, Some(0));
    std::thread::sleep(Duration::from_millis(2500));
    sshd.signal_connections(Signal::SIGSTOP);
    let stalled = Instant::now();
    let out = std::thread::scope(|scope| {
        scope.spawn(|| {
            std::thread::sleep(Duration::from_secs(4));
            sshd.signal_connections(Signal::SIGCONT);
        });
        run(&h, "echo ok")
    });
    assert_eq!(out.stdout.text(), "ok\n");
    assert!(
        stalled.elapsed() >= Duration::from_millis(3500),
        "the host was not frozen"
    );
    // Waited for on the same connection: not given up on and replaced by a second login.
    assert_eq!(sshd.logins(), 1);
}

#[test]
fn an_unknown_host_key_is_refused_under_strict() {
    let sshd = Sshd::start();
    std::fs::write(&sshd.known_hosts, "").expect("write");
    let err = SshHost::new(&host(&sshd)).check().expect_err("refused");
    let msg = err.to_string();
    assert!(matches!(err, TransportError::HostKey { .. }), "{msg}");
    let fp = fingerprint(&sshd.dir.path().join("host_ed25519.pub"));
    assert!(fp.starts_with("SHA256:"));
    for part in [sshd.address.as_str(), "ssh-ed25519", fp.as_str(), "strict"] {
        assert!(msg.contains(part), "`{msg}` lacks `{part}`");
    }
    assert_eq!(sshd.logins(), 0);
}

#[test]
fn accept_new_records_an_unknown_key_and_then_trusts_it() {
    let sshd = Sshd::start();
    // In a folder that does not exist yet, as ~/.ssh may not.
    let known_hosts = sshd.dir.path().join("new/.ssh/known_hosts");
    let accept = |checking| {
        host_with(&sshd, |s| {
            s.known_hosts = known_hosts.clone();
            s.host_key_checking = checking;
        })
    };
    SshHost::new(&accept(HostKeyChecking::AcceptNew))
        .check()
        .expect("accepted");
    let recorded = std::fs::read_to_string(&known_hosts).expect("known_hosts written");
    assert_eq!(
        recorded,
        format!("{} {}\n", sshd.address, sshd.host_keys[0])
    );
    // Now known: strict accepts it, and accept-new adds nothing more.
    SshHost::new(&accept(HostKeyChecking::Strict))
        .check()
        .expect("now trusted");
    SshHost::new(&accept(HostKeyChecking::AcceptNew))
        .check()
        .expect("still trusted");
    assert_eq!(
        std::fs::read_to_string(&known_hosts).expect("read"),
        recorded
    );
}

#[test]
fn sessions_opened_at_once_to_a_new_host_record_its_key_once() {
    let sshd = Sshd::start();
    std::fs::write(&sshd.known_hosts, "# no keys yet").expect("write");
    let h = SshHost::new(&host_with(&sshd, |s| {
        s.host_key_checking = HostKeyChecking::AcceptNew;
    }));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let h = Arc::clone(&h);
            std::thread::spawn(move || run(&h, "sleep 0.5").exit_code)
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().expect("thread"), Some(0));
    }
    assert_eq!(sshd.logins(), 4);
    let text = std::fs::read_to_string(&sshd.known_hosts).expect("read");
    // The comment had no newline at its end: the new line must not be glued onto it.
    assert_eq!(
        text,
        format!("# no keys yet\n{} {}\n", sshd.address, sshd.host_keys[0])
    );
}

#[test]
fn a_changed_key_fails_even_under_accept_new() {
    let sshd = Sshd::start();
    let other = keygen(&sshd.dir.path().join("other_host_key"), "ed25519");
    let before = format!("{} {other}\n", sshd.address);
    std::fs::write(&sshd.known_hosts, &before).expect("write");
    let err = SshHost::new(&host_with(&sshd, |s| {
        s.host_key_checking = HostKeyChecking::AcceptNew;
    }))
    .check()
    .expect_err("a changed key");
    let msg = err.to_string();
    assert!(matches!(err, TransportError::HostKey { .. }), "{msg}");
    assert!(msg.contains("differs"), "{msg}");
    let fp = fingerprint(&sshd.dir.path().join("host_ed25519.pub"));
    assert!(msg.contains(&fp), "{msg}");
    assert_eq!(
        std::fs::read_to_string(&sshd.known_hosts).expect("read"),
        before
    );
    assert_eq!(sshd.logins(), 0);
}

#[test]
fn lines_libssh2_cannot_read_do_not_hide_the_lines_after_them() {
    let sshd = Sshd::start();
    let ca = keygen(&sshd.dir.path().join("ca"), "ed25519");
    let good = std::fs::read_to_string(&sshd.known_hosts).expect("read");
    std::fs::write(
        &sshd.known_hosts,
        format!(
            "# comment\n\n@cert-authority *.example {ca}\nthis is not a known_hosts line\n\
             10.1.1.1 ssh-ed25519 !!!not-base64!!!\n{good}"
        ),
    )
    .expect("write");
    let h = SshHost::new(&host(&sshd));
    assert_eq!(run(&h, "echo ok").stdout.text(), "ok\n");
}

#[test]
fn a_revoked_key_is_refused_even_when_listed() {
    let sshd = Sshd::start();
    let good = std::fs::read_to_string(&sshd.known_hosts).expect("read");
    std::fs::write(
        &sshd.known_hosts,
        format!("@revoked * {}\n{good}", sshd.host_keys[0]),
    )
    .expect("write");
    let err = SshHost::new(&host(&sshd)).check().expect_err("revoked");
    assert!(err.to_string().contains("@revoked"), "{err}");
}

#[test]
fn hosts_on_other_ports_are_recorded_and_looked_up_in_brackets() {
    let sshd = Sshd::builder().port(2222).start();
    let name = format!("[{}]:2222", sshd.address);
    assert_eq!(sshd.known_hosts_name(), name);
    // What OpenSSH wrote is found.
    SshHost::new(&host(&sshd))
        .check()
        .expect("found as [addr]:port");
    // A key recorded for the bare address (port 22) is not this port's key.
    std::fs::write(
        &sshd.known_hosts,
        format!("{} {}\n", sshd.address, sshd.host_keys[0]),
    )
    .expect("write");
    let err = SshHost::new(&host(&sshd)).check().expect_err("not found");
    assert!(err.to_string().contains(&name), "{err}");
    let h = SshHost::new(&host_with(&sshd, |s| {
        s.host_key_checking = HostKeyChecking::AcceptNew;
    }));
    assert_eq!(run(&h, "echo ok").stdout.text(), "ok\n");
    let text = std::fs::read_to_string(&sshd.known_hosts).expect("read");
    assert!(
        text.ends_with(&format!("\n{name} {}\n", sshd.host_keys[0])),
        "{text}"
    );
}

#[test]
fn the_key_type_already_known_is_the_one_negotiated() {
    // libssh2 prefers ECDSA; OpenSSH users often have only the ed25519 key recorded.
    let sshd = Sshd::builder().host_keys(&["ecdsa", "ed25519"]).start();
    for key in &sshd.host_keys {
        std::fs::write(&sshd.known_hosts, format!("{} {key}\n", sshd.address)).expect("write");
        let h = SshHost::new(&host(&sshd));
        h.check()
            .unwrap_or_else(|e| panic!("with only `{key}` known: {e}"));
    }
}

#[test]
fn a_wrong_client_key_is_refused_with_a_clear_error() {
    let sshd = Sshd::start();
    let stranger = sshd.dir.path().join("stranger");
    keygen(&stranger, "ed25519");
    let err = SshHost::new(&host_with(&sshd, |s| {
        s.identity_file = Some(stranger.clone())
    }))
    .check()
    .expect_err("refused");
    let msg = err.to_string();
    assert!(matches!(err, TransportError::Auth { .. }), "{msg}");
    let expected = [
        "`root`".to_string(),
        sshd.address.clone(),
        format!(
            "identity file {} (refused by the server)",
            stranger.display()
        ),
        "ssh-agent".into(),
    ];
    for part in expected {
        assert!(msg.contains(&part), "`{msg}` lacks `{part}`");
    }
    let missing = sshd.dir.path().join("missing");
    let err = SshHost::new(&host_with(&sshd, |s| {
        s.identity_file = Some(missing.clone())
    }))
    .check()
    .expect_err("refused");
    assert!(
        err.to_string()
            .contains(&format!("{} (no such file)", missing.display())),
        "{err}"
    );
    assert_eq!(sshd.logins(), 0);
}

#[test]
fn a_host_with_nothing_listening_fails_at_once() {
    let address = unused_address(22);
    let begun = Instant::now();
    let err = SshHost::new(&host_at(&address, 22, |_| {}))
        .check()
        .expect_err("nothing listens");
    assert!(matches!(err, TransportError::Connect { .. }), "{err}");
    assert!(err.to_string().contains(&format!("{address}:22")), "{err}");
    assert!(begun.elapsed() < Duration::from_secs(1));
}

#[test]
fn a_host_that_does_not_answer_fails_within_connect_timeout() {
    // A listener that never accepts: once its queue is full the kernel drops further
    // SYNs, as a firewall would.
    let address = unused_address(2200);
    let listener = TcpListener::bind((address.as_str(), 2200)).expect("bind");
    let addr: SocketAddr = format!("{address}:2200").parse().expect("address");
    let mut queued = Vec::new();
    while let Ok(s) = TcpStream::connect_timeout(&addr, Duration::from_millis(300)) {
        queued.push(s);
        assert!(queued.len() < 5000, "the listen queue never filled");
    }
    let begun = Instant::now();
    let err = SshHost::new(&host_at(&address, 2200, |s| {
        s.connect_timeout = Duration::from_secs(1);
    }))
    .check()
    .expect_err("no answer");
    let took = begun.elapsed();
    assert!(matches!(err, TransportError::Connect { .. }), "{err}");
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_millis(2500),
        "{took:?}: {err}"
    );
    drop(listener);
}

#[test]
fn a_server_that_never_speaks_ssh_fails_within_connect_timeout() {
    let address = unused_address(2201);
    let listener = TcpListener::bind((address.as_str(), 2201)).expect("bind");
    let silent = std::thread::spawn(move || {
        let conn = listener.accept();
        std::thread::sleep(Duration::from_secs(4));
        drop(conn);
    });
    let begun = Instant::now();
    let err = SshHost::new(&host_at(&address, 2201, |s| {
        s.connect_timeout = Duration::from_secs(1);
    }))
    .check()
    .expect_err("no banner");
    let took = begun.elapsed();
    assert!(err.to_string().contains("SSH handshake failed"), "{err}");
    assert!(took < Duration::from_millis(2500), "{took:?}");
    silent.join().expect("thread");
}

#[test]
fn a_broken_connection_is_replaced_on_next_use() {
    let sshd = Sshd::start();
    let h = SshHost::new(&host(&sshd));
    assert_eq!(run(&h, "echo one").exit_code, Some(0));
    sshd.kill_connections();
    assert_eq!(run(&h, "echo two").stdout.text(), "two\n");
    assert_eq!(sshd.logins(), 2);
}

#[test]
fn a_connection_lost_while_a_command_runs_is_an_error_not_a_result() {
    let sshd = Sshd::start();
    let h = SshHost::new(&host(&sshd));
    h.check().expect("check");
    let running = {
        let h = Arc::clone(&h);
        std::thread::spawn(move || {
            run_for(
                &h,
                "sleep 5; echo done",
                Duration::from_secs(10),
                &Cancel::default(),
            )
        })
    };
    std::thread::sleep(Duration::from_secs(1));
    let begun = Instant::now();
    sshd.kill_connections();
    let result = running.join().expect("thread");
    assert!(
        matches!(result, Err(TransportError::Session { .. })),
        "{result:?}"
    );
    assert!(begun.elapsed() < Duration::from_secs(2));
}

#[test]
fn an_inventory_from_files_reaches_the_host() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().expect("temporary directory");
    let inventory = format!(
        r#"
[halls.a]
[halls.b]
[ssh]
user = "root"
identity_file = "{id}"
known_hosts = "{kh}"
connect_timeout = "3s"
keepalive = "5s"
max_sessions = 1
[hosts.db-a1]
address = "{addr}"
hall = "a"
[hosts.db-b1]
address = "{addr}"
hall = "b"
"#,
        id = sshd.identity_file.display(),
        kh = sshd.known_hosts.display(),
        addr = sshd.address,
    );
    let runbook = r#"
[runbook]
name = "ssh"
rto = "1h"
inventory = ["inventory.toml"]
[services.db]
hosts = ["db-a1", "db-b1"]
[[services.db.start]]
run = "true"
"#;
    std::fs::write(dir.path().join("inventory.toml"), inventory).expect("write");
    std::fs::write(dir.path().join("runbook.toml"), runbook).expect("write");
    let loaded = switchyard::config::load_runbook(&dir.path().join("runbook.toml"), &[])
        .unwrap_or_else(|e| panic!("{:?}", e.diagnostics));
    let host = loaded
        .runbook
        .inventory
        .hosts
        .iter()
        .find(|h| h.name.as_str() == "db-a1")
        .expect("db-a1");
    let h = SshHost::new(host);
    assert_eq!(run(&h, "whoami").stdout.text(), "root\n");
}

/// What a login costs against a command on an open connection, on this machine
/// (`scripts/test login_costs -- --nocapture` prints the numbers). A command's own cost
/// is mostly the remote login shell starting (its startup files), with or without a pool.
#[test]
fn login_costs_compared_with_a_command_on_an_open_connection() {
    let sshd = Sshd::start();
    let h = host(&sshd);
    let rounds = 5;
    let (mut login, mut fresh, mut pooled) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let open = SshHost::new(&h);
    open.check().expect("login");
    for _ in 0..rounds {
        let begun = Instant::now();
        SshHost::new(&h).check().expect("login");
        login += begun.elapsed();
        let begun = Instant::now();
        assert_eq!(run(&SshHost::new(&h), "true").exit_code, Some(0));
        fresh += begun.elapsed();
        let begun = Instant::now();
        assert_eq!(run(&open, "true").exit_code, Some(0));
        pooled += begun.elapsed();
    }
    eprintln!(
        "login alone: {:?}; login + `true`: {:?}; `true` on an open connection: {:?}",
        login / rounds,
        fresh / rounds,
        pooled / rounds
    );
    // One login per fresh host, and none for the commands on the open connection.
    assert_eq!(sshd.logins(), 1 + 2 * rounds as usize);
}
