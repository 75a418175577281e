//! The PostgreSQL + nginx lab of `lab/postgres/` end to end: a real PostgreSQL primary
//! (pg-a, hall a) streaming to a replica (pg-b, hall b), an nginx load balancer in front
//! of them, and one OpenSSH sshd per host, each on a loopback address 127.30.N.x of its
//! own. `lab/postgres/up.sh` builds it (installing Debian's postgresql, nginx and
//! openssh-server when missing), `runbooks/postgres.toml` switches it, and
//! `lab/postgres/down.sh` tears it down, also when an assertion fails
//! ([`crate::support::pglab`]). Needs root. The lab as one system of a site is
//! `site.rs`'s.

use std::path::Path;

use crate::support::pglab::{Lab, ROOT, health, notes, psql, sql, write_rows};

#[test]
fn postgres_lab_dry_run_changes_nothing_and_a_live_switchover_keeps_every_row() {
    let lab = Lab::up();
    let lb = lab.lb();

    // The committed inventory that runbooks/postgres.toml names is what up.sh writes for
    // the default lab directory and addresses.
    let committed = std::fs::read_to_string(Path::new(ROOT).join("lab/postgres/inventory.toml"))
        .expect("lab/postgres/inventory.toml")
        .replace("/tmp/switchyard-pg-lab", &lab.dir.display().to_string())
        .replace("127.30.0.", &format!("{}.", lab.net));
    let generated = std::fs::read_to_string(lab.inventory()).expect("generated inventory");
    assert_eq!(
        committed, generated,
        "lab/postgres/inventory.toml has drifted from what up.sh writes"
    );

    // The lab as up.sh leaves it: pg-a the primary, pg-b its replica, nginx on pg-a.
    assert_eq!(sql(&lab.pg_a(), "select pg_is_in_recovery()"), "f");
    assert_eq!(sql(&lab.pg_b(), "select pg_is_in_recovery()"), "t");
    assert_eq!(health(&lb), "pg-a (hall a)");
    let before = write_rows(&lb, "before switchover #", 200);

    // Dry run: prechecks for real, every action and verify only planned; nothing changes.
    let dry = lab.run("b", &[]);
    assert_eq!(dry.code, 0, "dry run failed:\n{}", dry.stderr);
    assert_eq!(dry.summary["dry_run"], true);
    assert_eq!(dry.summary["outcome"], "passed");
    for (id, status) in dry.statuses() {
        let want = if id.contains(".precheck.") {
            "ok"
        } else {
            "planned"
        };
        assert_eq!(status, want, "{id} in the dry run:\n{}", dry.stderr);
    }
    assert_eq!(
        sql(&lab.pg_b(), "select pg_is_in_recovery()"),
        "t",
        "the dry run promoted the replica"
    );
    assert_eq!(sql(&lab.pg_a(), "select pg_is_in_recovery()"), "f");
    assert_eq!(health(&lb), "pg-a (hall a)", "the dry run re-pointed nginx");
    assert_eq!(
        sql(&lb, "select count(*) from switchyard_probe"),
        "0",
        "the dry run ran a verify step's write"
    );

    // The drill: a -> b.
    let live = lab.run("b", &["--live", "--yes"]);
    assert_eq!(live.code, 0, "live switchover failed:\n{}", live.stderr);
    let s = &live.summary;
    assert_eq!(s["dry_run"], false);
    assert_eq!(s["outcome"], "passed", "{}", live.stderr);
    for (id, status) in live.statuses() {
        assert_eq!(status, "ok", "{id} in the live run:\n{}", live.stderr);
    }
    for svc in s["services"].as_array().expect("services") {
        assert_eq!(svc["status"], "recovered", "{svc}");
    }
    assert_eq!(s["rto"]["met"], true);
    eprintln!(
        "postgres lab: a -> b switchover achieved {} s (target {} s)",
        s["rto"]["achieved_s"], s["rto"]["target_s"]
    );
    // pg-b was promoted, pg-a is down, nginx sends clients to pg-b.
    assert_eq!(sql(&lab.pg_b(), "select pg_is_in_recovery()"), "f");
    assert!(
        psql(&lab.pg_a(), "select 1").is_err(),
        "the old primary still accepts connections"
    );
    assert_eq!(health(&lb), "pg-b (hall b)");
    assert_eq!(sql(&lb, "select current_setting('cluster_name')"), "pg-b");
    // Every row written before the switch, through the load balancer, and a new write.
    assert_eq!(notes(&lb, "before switchover #"), before);
    assert_eq!(
        sql(&lb, "select note from ledger where id <= 3 order by id"),
        "opening balance\nfirst transfer\nsecond transfer"
    );
    let after = write_rows(&lb, "after switchover #", 10);
    assert_eq!(notes(&lb, "after switchover #"), after);

    // Failback b -> a, the same runbook: after up.sh has re-seeded the old primary as a
    // replica of the new one, as the runbook says it must be.
    lab.script("up.sh", &[&lab.net]);
    assert_eq!(sql(&lab.pg_a(), "select pg_is_in_recovery()"), "t");
    let back = lab.run("a", &["--live", "--yes"]);
    assert_eq!(back.code, 0, "failback failed:\n{}", back.stderr);
    assert_eq!(back.summary["outcome"], "passed");
    assert_eq!(sql(&lab.pg_a(), "select pg_is_in_recovery()"), "f");
    assert_eq!(health(&lb), "pg-a (hall a)");
    assert_eq!(notes(&lb, "before switchover #"), before);
    assert_eq!(notes(&lb, "after switchover #"), after);
}
