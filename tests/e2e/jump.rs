//! Jump hosts against real OpenSSH servers on loopback: hosts reached only through a jump
//! host (and through two), one login on the jump however many hosts are behind it, and
//! each hop's failure named — the jump unreachable, its host key wrong, a wrong key of
//! a host behind a good jump.
//!
//! That a connection went through the jump is not taken on trust: the command on the
//! host looks up, in `/proc`, the process at the other end of its own SSH connection
//! (`SSH_CONNECTION`'s client port) and prints that process and its parents. Through a
//! jump it is a process of the jump's sshd; bypassed, it would be switchyard itself.

use std::path::Path;

use crate::support::sshd::{INVENTORY_HEAD, Sshd};
use crate::support::util::{LIVE, Output, Test, run_dir, summary, wait_until};

/// Prints the process ids from the owner of this SSH connection's client end up to
/// pid 1, on one line after the host's name.
const WHO_CONNECTED: &str = r#"
name=$1
set -- $SSH_CONNECTION
near=$(printf ':%04X' "$2")
far=$(echo "$3" | awk -F. '{ printf "%02X%02X%02X%02X:0016", $4, $3, $2, $1 }')
# /proc can miss a line or a process while others change: look again until found.
pid=
for try in 1 2 3 4 5 6 7 8 9 10; do
  inode=$(awk -v n="$near" -v f="$far" '$2 ~ n"$" && $3 == f { print $10; exit }' /proc/net/tcp)
  [ -n "$inode" ] && pid=$(find /proc/[0-9]*/fd -maxdepth 1 -lname "socket:\\[$inode\\]" 2>/dev/null | head -n 1 | cut -d/ -f3)
  [ -n "$pid" ] && break
done
chain=
while [ -n "$pid" ] && [ "$pid" != 0 ]; do
  chain="$chain $pid"
  pid=$(sed 's/.*) //' "/proc/$pid/stat" | cut -d' ' -f2)
done
echo "$name:$chain"
"#;

/// An inventory host for `sshd`, reached through `jump` when given.
fn host(sshd: &Sshd, name: &str, hall: &str, jump: Option<&str>) -> String {
    let mut h = sshd.inventory_host(name, hall, "db");
    if let Some(j) = jump {
        h.push_str(&format!("jump = \"{j}\"\n"));
    }
    h
}

/// A jump host's entry: tagged `jump`, so no step selects it.
fn jump_host(sshd: &Sshd, name: &str, hall: &str, jump: Option<&str>) -> String {
    host(sshd, name, hall, jump).replace("tags = [\"db\"]", "tags = [\"jump\"]")
}

/// A runbook whose start step, on every `db` host of the target hall, appends who
/// connected to it (see [`WHO_CONNECTED`]) to `log`.
fn runbook(t: Test) -> (Test, std::path::PathBuf) {
    let log = t.path().join("log");
    let script = t.path().join("who.sh");
    std::fs::write(&script, WHO_CONNECTED).expect("script");
    let body = format!(
        r#"
[services.db]
hosts = ["tag:db"]
[[services.db.start]]
name = "start"
run = "bash {} {{{{host.name}}}} >> {}"
"#,
        script.display(),
        log.display()
    );
    (t.runbook(&body), log)
}

/// Each host's line of `log`: the processes at the other end of its connection.
fn chains(log: &Path) -> Vec<(String, Vec<u32>)> {
    let text = std::fs::read_to_string(log).expect("log");
    let mut v: Vec<(String, Vec<u32>)> = text
        .lines()
        .map(|l| {
            let (name, pids) = l.split_once(':').expect("host: pids");
            let pids = pids
                .split_whitespace()
                .map(|p| p.parse().expect("pid"))
                .collect();
            (name.to_string(), pids)
        })
        .collect();
    v.sort();
    v
}

#[track_caller]
fn assert_through(log: &Path, hosts: &[&str], jump: &Sshd) {
    let chains = chains(log);
    let names: Vec<&str> = chains.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, hosts, "{chains:?}");
    for (name, pids) in &chains {
        assert!(
            pids.contains(&jump.pid()),
            "{name} was not connected to by the jump's sshd (pid {}): {pids:?}",
            jump.pid()
        );
    }
}

fn inventory(parts: &[String]) -> String {
    format!("{INVENTORY_HEAD}{}", parts.concat())
}

#[test]
fn a_hall_behind_a_jump_host_is_reached_only_through_it() {
    let (a, jump, b1, b2) = (Sshd::start(), Sshd::start(), Sshd::start(), Sshd::start());
    // Hall b's jump stands in hall b itself: it is reached directly, never through itself.
    let inv = inventory(&[
        "[halls.b]\njump = \"jump-b\"\n".to_string(),
        host(&a, "db-a1", "a", None),
        jump_host(&jump, "jump-b", "b", None),
        host(&b1, "db-b1", "b", None),
        host(&b2, "db-b2", "b", None),
    ])
    .replacen("[halls.b]\n[ssh]", "[ssh]", 1);
    let (t, log) = runbook(Test::new().file("inventory/site.toml", inv));
    // A dry run logs in to every host it would touch, through the jump, and runs nothing.
    let dry = t
        .args(&["--no-progress", "run", "runbooks/test.toml", "--to", "b"])
        .run()
        .code(0);
    assert!(!log.exists(), "the dry run ran a command");
    assert_eq!((jump.logins(), b1.logins(), b2.logins()), (1, 1, 1));
    let out = Test::reuse(&dry.root).args(LIVE).run().code(0);
    assert_through(&log, &["db-b1", "db-b2"], &jump);
    // One login on the jump for both hosts behind it, one on each of them.
    assert_eq!((jump.logins(), b1.logins(), b2.logins()), (2, 2, 2));
    assert_eq!(summary(&run_dir(&out))["outcome"], "passed");
}

#[test]
fn a_host_behind_two_jumps_goes_through_both() {
    let (bastion, jump, b) = (Sshd::start(), Sshd::start(), Sshd::start());
    let a = Sshd::start();
    let inv = inventory(&[
        host(&a, "db-a1", "a", None),
        jump_host(&bastion, "bastion", "a", None),
        jump_host(&jump, "jump-b", "b", Some("bastion")),
        host(&b, "db-b1", "b", Some("jump-b")),
    ]);
    let (t, log) = runbook(Test::new().file("inventory/site.toml", inv));
    let run = t.args(LIVE).run().code(0);
    assert_through(&log, &["db-b1"], &jump);
    assert_eq!((bastion.logins(), jump.logins(), b.logins()), (1, 1, 1));
    // check-inventory shows the way, outermost jump first.
    let out = Test::reuse(&run.root)
        .args(&["check-inventory"])
        .run()
        .code(0);
    let line = format!("ok    db-b1  {}:{} via bastion → jump-b", b.address, b.port);
    assert!(out.stdout.contains(&line), "{line:?} in:\n{}", out.stdout);
    let line = format!("ok    jump-b  {}:{} via bastion\n", jump.address, jump.port);
    assert!(out.stdout.contains(&line), "{line:?} in:\n{}", out.stdout);
    // check-inventory logged in once more on each: one connection per jump, still.
    assert_eq!((bastion.logins(), jump.logins(), b.logins()), (2, 2, 2));
}

/// A live run to hall b, whose hosts are behind `jump-b`; the run's output.
fn run_behind(jump_entry: String, b: &Sshd, a: &Sshd) -> Output {
    let inv = inventory(&[
        host(a, "db-a1", "a", None),
        jump_entry,
        host(b, "db-b1", "b", Some("jump-b")),
    ]);
    let (t, _log) = runbook(Test::new().file("inventory/site.toml", inv));
    t.args(LIVE).run()
}

#[test]
fn a_wrong_host_key_on_the_jump_fails_the_hosts_behind_it_naming_the_jump() {
    let (a, jump, b) = (Sshd::start(), Sshd::start(), Sshd::start());
    // The jump's known_hosts holds another server's key under its name.
    let other = Sshd::start();
    let wrong = format!("{} {}\n", jump.known_hosts_name(), other.host_keys[0]);
    std::fs::write(&jump.known_hosts, wrong).expect("known_hosts");
    let out = run_behind(jump_host(&jump, "jump-b", "b", None), &b, &a).code(1);
    let expected = format!(
        "cannot reach db-b1 through jump-b: host key of {} is not trusted",
        jump.address
    );
    let out = out.stderr_has(&expected);
    // Nothing was sent past the jump; the evidence is written all the same.
    assert_eq!((jump.logins(), b.logins()), (0, 0));
    assert_eq!(summary(&run_dir(&out))["outcome"], "failed");
}

#[test]
fn a_stopped_jump_host_fails_the_hosts_behind_it_naming_the_jump() {
    let (a, jump, b) = (Sshd::start(), Sshd::start(), Sshd::start());
    let entry = jump_host(&jump, "jump-b", "b", None);
    let address = jump.address.clone();
    drop(jump);
    let out = run_behind(entry, &b, &a).code(1);
    let expected = format!(
        "step db.start.1 on db-b1: cannot reach db-b1 through jump-b: cannot connect to {address}:22"
    );
    let out = out.stderr_has(&expected);
    assert_eq!(b.logins(), 0);
    assert_eq!(summary(&run_dir(&out))["outcome"], "failed");
}

#[test]
fn a_wrong_host_key_behind_a_good_jump_is_the_hosts_own_problem() {
    let (a, jump, b) = (Sshd::start(), Sshd::start(), Sshd::start());
    let other = Sshd::start();
    let wrong = format!("{} {}\n", b.known_hosts_name(), other.host_keys[0]);
    std::fs::write(&b.known_hosts, wrong).expect("known_hosts");
    let out = run_behind(jump_host(&jump, "jump-b", "b", None), &b, &a).code(1);
    let expected = format!(
        "step db.start.1 on db-b1: host key of {} is not trusted",
        b.address
    );
    let out = out.stderr_has(&expected);
    assert!(!out.stderr.contains("through jump-b"), "{}", out.stderr);
    assert_eq!((jump.logins(), b.logins()), (1, 0));
}

#[test]
fn a_login_refused_by_the_jump_fails_the_hosts_behind_it_naming_the_jump() {
    let (a, jump, b) = (Sshd::start(), Sshd::start(), Sshd::start());
    // The jump is offered the key of db-b1's server, which it does not know.
    let entry = jump_host(&jump, "jump-b", "b", None).replace(
        &jump.identity_file.display().to_string(),
        &b.identity_file.display().to_string(),
    );
    let out = run_behind(entry, &b, &a).code(1);
    let expected = format!(
        "cannot reach db-b1 through jump-b: authentication as `root` on {}:22 failed",
        jump.address
    );
    out.stderr_has(&expected);
    assert_eq!((jump.logins(), b.logins()), (0, 0));
}

#[test]
fn a_host_the_jump_cannot_connect_to_is_named_with_the_jump() {
    let (a, jump, b) = (Sshd::start(), Sshd::start(), Sshd::start());
    let entry = jump_host(&jump, "jump-b", "b", None);
    let inv = inventory(&[
        host(&a, "db-a1", "a", None),
        entry,
        host(&b, "db-b1", "b", Some("jump-b")),
    ]);
    let address = b.address.clone();
    drop(b);
    let (t, _log) = runbook(Test::new().file("inventory/site.toml", inv));
    let out = t.args(LIVE).run().code(1);
    let expected = format!(
        "cannot reach db-b1 through jump-b: cannot connect to {address}:22: the jump host could not open a connection to it"
    );
    out.stderr_has(&expected);
    assert_eq!(jump.logins(), 1);
}

#[test]
fn in_failover_a_source_hall_behind_a_stopped_jump_is_an_expected_loss() {
    let (jump, a, b) = (Sshd::start(), Sshd::start(), Sshd::start());
    let inv = inventory(&[
        jump_host(&jump, "jump-a", "a", None),
        host(&a, "db-a1", "a", Some("jump-a")),
        host(&b, "db-b1", "b", None),
    ]);
    drop(jump);
    let log = "/dev/null";
    let body = format!(
        r#"
[services.db]
hosts = ["tag:db"]
[[services.db.stop]]
run = "echo stop >> {log}"
[[services.db.start]]
run = "echo start >> {log}"
"#
    );
    let out = Test::new()
        .file("inventory/site.toml", inv)
        .runbook(&body)
        .args(LIVE)
        .args(&["--mode", "failover"])
        .run()
        .code(0);
    let s = summary(&run_dir(&out));
    assert_eq!(
        crate::support::util::step(&s, "db.stop.1")["status"],
        "source_unreachable"
    );
    assert_eq!(s["outcome"], "passed");
}

#[test]
fn fifty_hosts_behind_one_jump_share_its_one_login() {
    let (a, jump) = (Sshd::start(), Sshd::start());
    let targets: Vec<Sshd> = (0..50).map(|_| Sshd::start()).collect();
    let names: Vec<String> = (1..=50).map(|i| format!("db-b{i:02}")).collect();
    let mut parts = vec![
        "[halls.b]\njump = \"jump-b\"\n".to_string(),
        host(&a, "db-a1", "a", None),
        jump_host(&jump, "jump-b", "b", None),
    ];
    parts.extend(
        targets
            .iter()
            .zip(&names)
            .map(|(sshd, name)| host(sshd, name, "b", None)),
    );
    let inv = inventory(&parts).replacen("[halls.b]\n[ssh]", "[ssh]", 1);
    let t = Test::new().file("inventory/site.toml", inv);
    let (t, log) = runbook(t);
    // Besides who connected, a megabyte back from each host at once, through the one
    // jump connection, whole and in order (its last line is read back).
    let body = std::fs::read_to_string(t.path().join("runbooks/test.toml")).expect("runbook")
        + "[[services.db.verify]]\nrun = \"head -c 1000000 /dev/zero | tr '\\\\0' x; echo; echo end-{{host.name}}\"\nexpect_stdout = \"xx\\nend-{{host.name}}\"\n";
    let out = t.file("runbooks/test.toml", body).args(LIVE).run().code(0);
    let expected: Vec<&str> = names.iter().map(String::as_str).collect();
    assert_through(&log, &expected, &jump);
    assert_eq!(jump.logins(), 1, "one login on the jump for 50 hosts");
    for (sshd, name) in targets.iter().zip(&names) {
        assert_eq!(sshd.logins(), 1, "{name}");
    }
    assert_eq!(summary(&run_dir(&out))["outcome"], "passed");
}

#[test]
fn a_lost_jump_connection_is_made_again_for_the_next_step() {
    let (a, jump, b) = (Sshd::start(), Sshd::start(), Sshd::start());
    let inv = inventory(&[
        host(&a, "db-a1", "a", None),
        jump_host(&jump, "jump-b", "b", None),
        host(&b, "db-b1", "b", Some("jump-b")),
    ]);
    let t = Test::new().file("inventory/site.toml", inv);
    // Between two steps on db-b1, the jump host's sshd loses every connection it
    // serves (as when the jump host reboots): the processes below the test's own sshd.
    let cut = t.path().join("cut.sh");
    std::fs::write(
        &cut,
        format!(
            "cut() {{ for c in $(cat /proc/$1/task/*/children); do cut $c; kill -9 $c; done; }}\ncut {}\n",
            jump.pid()
        ),
    )
    .expect("script");
    let body = format!(
        r#"
[services.db]
hosts = ["tag:db"]
[[services.db.start]]
run = "true"
[[services.db.start]]
local = "sh {}"
[[services.db.start]]
run = "true"
"#,
        cut.display()
    );
    let out = t.runbook(&body).args(LIVE).run().code(0);
    assert_eq!(summary(&run_dir(&out))["outcome"], "passed");
    // A new connection to the jump host, and through it a new one to db-b1.
    assert_eq!((jump.logins(), b.logins()), (2, 2));
}

#[test]
fn check_inventory_with_an_override_shows_the_way_the_override_gives() {
    let (a, jump, b) = (Sshd::start(), Sshd::start(), Sshd::start());
    let inv = inventory(&[
        host(&a, "db-a1", "a", None),
        jump_host(&jump, "jump-b", "b", None),
        host(&b, "db-b1", "b", Some("jump-b")),
    ]);
    // The override's db-b1 has no jump: it replaces the inventory's, and is reached directly.
    let out = Test::new()
        .file("inventory/site.toml", inv)
        .file("direct.toml", host(&b, "db-b1", "b", None))
        .args(&["check-inventory", "--inventory", "direct.toml"])
        .run()
        .code(0);
    let line = format!("ok    db-b1  {}:{}\n", b.address, b.port);
    assert!(out.stdout.contains(&line), "{line:?} in:\n{}", out.stdout);
    // Logged in to db-b1 directly; on jump-b only for its own check.
    assert_eq!((jump.logins(), b.logins()), (1, 1));
}

#[test]
fn a_jump_lost_while_a_command_runs_behind_it_fails_the_step_naming_the_jump() {
    let (a, jump, b) = (Sshd::start(), Sshd::start(), Sshd::start());
    let inv = inventory(&[
        host(&a, "db-a1", "a", None),
        jump_host(&jump, "jump-b", "b", None),
        host(&b, "db-b1", "b", Some("jump-b")),
    ]);
    let t = Test::new().file("inventory/site.toml", inv).runbook(
        "\n[services.db]\nhosts = [\"tag:db\"]\n[[services.db.start]]\nrun = \"sleep 30\"\n",
    );
    let started = std::time::Instant::now();
    // While db-b1 sleeps, the jump host's sshd loses every connection (a reboot).
    let out = std::thread::scope(|s| {
        s.spawn(|| {
            wait_until("db-b1's login", || b.logins() == 1);
            std::thread::sleep(std::time::Duration::from_millis(500));
            jump.kill_connections();
        });
        t.args(LIVE).run()
    });
    let out = out.code(1).stderr_has(
        "the connection was lost while the command ran (transport read): the connection through jump host `jump-b` broke",
    );
    assert!(
        started.elapsed().as_secs() < 20,
        "the run waited for the command"
    );
    let summary = summary(&run_dir(&out));
    assert_eq!(summary["outcome"], "failed");
    let message = summary["steps"][0]["message"].as_str().expect("message");
    assert!(message.contains("jump host `jump-b`"), "{message}");
}

#[test]
fn a_jump_host_that_runs_steps_gets_its_own_connection_for_them() {
    let (a, jump, b) = (Sshd::start(), Sshd::start(), Sshd::start());
    let inv = inventory(&[
        "[halls.b]\njump = \"jump-b\"\n".to_string(),
        host(&a, "db-a1", "a", None),
        // Tagged `db`: the start step runs on the jump host too, not only through it.
        host(&jump, "jump-b", "b", None),
        host(&b, "db-b1", "b", None),
    ])
    .replacen("[halls.b]\n[ssh]", "[ssh]", 1);
    let (t, log) = runbook(Test::new().file("inventory/site.toml", inv));
    let out = t.args(LIVE).run().code(0);
    assert_eq!(summary(&run_dir(&out))["outcome"], "passed");
    let chains = chains(&log);
    let names: Vec<&str> = chains.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["db-b1", "jump-b"], "{chains:?}");
    // db-b1 through the jump's sshd; the jump host's own step from switchyard directly.
    assert!(chains[0].1.contains(&jump.pid()), "{chains:?}");
    assert!(!chains[1].1.contains(&jump.pid()), "{chains:?}");
    // One login on the jump for the way through it, one for its own step.
    assert_eq!((jump.logins(), b.logins()), (2, 1));
}
