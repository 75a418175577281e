//! `switchyard import-inventory ansible`: bad Ansible inventories (the fixtures under
//! `tests/fixtures/ansible/`) are refused with exit 2 and a message naming the host and
//! the cause, and what an import writes is an inventory a runbook can use as it is.

use crate::support::util::Test;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ansible");

const HALLS: [&str; 4] = ["--hall", "north=a", "--hall", "south=b"];

fn import(file: &str, extra: &[&str]) -> crate::support::util::Output {
    let path = format!("{FIXTURES}/{file}");
    let mut args = vec!["import-inventory", "ansible", path.as_str()];
    args.extend(extra);
    Test::new().args(&args).run()
}

#[test]
fn bad_inventories_are_refused_naming_the_host_and_the_cause() {
    let run_ansible = "ansible-inventory -i";
    let cases: &[(&str, &[&str], &[&str])] = &[
        (
            "no-hall.ini",
            &HALLS,
            &["no-hall.ini: host `db3` is in no hall group (`north`, `south`)"],
        ),
        (
            "two-halls.yml",
            &HALLS,
            &[
                "host `db1` is in hall groups of different halls: `north` (hall `a`), `south` (hall `b`)",
            ],
        ),
        (
            "vaulted.yml",
            &HALLS,
            &["host `db1`: variable `ansible_become_password` is encrypted with Ansible Vault"],
        ),
        (
            "script.py",
            &HALLS,
            &["this is a script (it starts with `#!`)", run_ansible],
        ),
        (
            "aws_ec2.yml",
            &HALLS,
            &[
                "an inventory plugin's configuration (`plugin:`)",
                run_ansible,
            ],
        ),
        (
            "unparsable.yml",
            &HALLS,
            &["unparsable.yml:6:", "invalid YAML"],
        ),
        (
            "unparsable.ini",
            &HALLS,
            &["unparsable.ini:3:1: invalid section header `[south`"],
        ),
        (
            "jinja.ini",
            &HALLS,
            &["host `db1`: `ansible_host` (from host `db1`) is a Jinja template"],
        ),
        (
            "valid.ini",
            &["--hall", "nort=a", "--hall", "south=b"],
            &["--hall nort=a: the inventory has no group `nort` (did you mean `north`?)"],
        ),
        (
            "missing.ini",
            &HALLS,
            &["missing.ini: cannot read it: no such file"],
        ),
    ];
    for (file, halls, says) in cases {
        let out = import(file, halls);
        assert_eq!(out.code, 2, "{file}: exit code\n{}", out.stderr);
        assert!(out.stdout.is_empty(), "{file}: wrote\n{}", out.stdout);
        for s in *says {
            assert!(
                out.stderr.contains(s),
                "{file}: stderr lacks {s:?}:\n{}",
                out.stderr
            );
        }
    }
}

#[test]
fn an_executable_file_is_a_dynamic_inventory_script() {
    use std::os::unix::fs::PermissionsExt as _;
    let t = Test::new().file("hosts", "[north]\ndb1\n");
    let path = t.path().join("hosts");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    t.args(&["import-inventory", "ansible", "hosts", "--hall", "north=a"])
        .run()
        .code(2)
        .stderr_has("hosts: this is an executable file, a dynamic inventory script")
        .stderr_has("run `ansible-inventory -i hosts --list > inventory.json`");
}

#[test]
fn usage_mistakes_are_exit_2() {
    for (args, says) in [
        (&["valid.ini"][..], "--hall <GROUP=HALL>"),
        (&["valid.ini", "--hall", "north"], "expected GROUP=HALL"),
        (
            &["valid.ini", "--hall", "north=A"],
            "hall `A` is not a valid hall name",
        ),
    ] {
        let out = import(args[0], &args[1..]);
        assert_eq!(out.code, 2, "{args:?}\n{}", out.stderr);
        assert!(out.stderr.contains(says), "{args:?}: {}", out.stderr);
    }
}

/// A runbook whose steps run on the hosts tagged `web` in both halls.
const RUNBOOK: &str = r#"
[services.web]
hosts = ["tag:web"]
[[services.web.start]]
name = "start"
run = "systemctl start nginx"
"#;

#[test]
fn the_output_file_is_an_inventory_a_runbook_validates_with() {
    let ini = "[north]\nweb[1:2] ansible_host=192.0.2.10\n[south]\nweb3.example.com:2222\n\
               [web:children]\nnorth\nsouth\n";
    let out = Test::new()
        .file("hosts.ini", ini)
        .runbook(RUNBOOK)
        .args(&[
            "import-inventory",
            "ansible",
            "hosts.ini",
            "--hall",
            "north=a",
        ])
        .args(&["--hall", "south=b", "--output", "inventory/site.toml"])
        .run()
        .code(0)
        .stderr_has("imported 3 hosts from hosts.ini (INI)");
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    let written = std::fs::read_to_string(out.root.join("inventory/site.toml")).expect("written");
    assert!(written.starts_with("# A switchyard inventory imported from an Ansible inventory"));
    assert!(written.contains(
        "# Source: hosts.ini (INI)\n# Halls: group north -> hall a, group south -> hall b\n"
    ));
    assert!(written.contains("[hosts.\"web3.example.com\"]\naddress = \"web3.example.com\"\nhall = \"b\"\nport = 2222\ntags = [\"south\", \"web\"]\n"), "{written}");
    Test::reuse(&out.root)
        .args(&["validate", "runbooks/test.toml"])
        .run()
        .code(0)
        .stdout_has("ok  runbooks/test.toml");
    // The same bytes on stdout.
    let again = Test::reuse(&out.root)
        .args(&[
            "import-inventory",
            "ansible",
            "hosts.ini",
            "--hall",
            "north=a",
            "--hall",
            "south=b",
        ])
        .run()
        .code(0);
    assert_eq!(again.stdout, written);
}
