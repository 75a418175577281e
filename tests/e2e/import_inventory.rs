//! `switchyard import-inventory ansible`: bad Ansible inventories (the fixtures under
//! `tests/fixtures/ansible/`) are refused with exit 2 and a message naming the host and
//! the cause, and what an import writes is an inventory a runbook can use as it is. The
//! same inventory in INI, YAML and the JSON of a real `ansible-inventory --list` imports
//! to the same bytes, with the addresses, ports and users Ansible itself resolves.

use std::path::Path;

use serde_json::Value;

use crate::support::ansible;
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
fn group_vars_beside_the_inventory_must_be_resolved_by_ansible_first() {
    for dir in ["group_vars", "host_vars"] {
        Test::new()
            .file("inv/hosts.ini", "[north]\ndb1\n")
            .file(&format!("inv/{dir}/north.yml"), "ansible_host: 192.0.2.1\n")
            .args(&[
                "import-inventory",
                "ansible",
                "inv/hosts.ini",
                "--hall",
                "north=a",
            ])
            .run()
            .code(2)
            .stderr_has(&format!("inv/hosts.ini: its folder has `{dir}/`"))
            .stderr_has("run `ansible-inventory -i inv/hosts.ini --list > inventory.json`");
    }
    // Ansible's JSON has them resolved already.
    Test::new()
        .file("inv/hosts.json", r#"{"north": {"hosts": ["db1"]}}"#)
        .file("inv/group_vars/north.yml", "ansible_host: 192.0.2.1\n")
        .args(&[
            "import-inventory",
            "ansible",
            "inv/hosts.json",
            "--hall",
            "north=a",
        ])
        .run()
        .code(0);
}

#[test]
fn the_output_never_replaces_the_ansible_inventory() {
    let out = Test::new()
        .file("hosts", "[north]\ndb1\n")
        .args(&["import-inventory", "ansible", "hosts", "--hall", "north=a"])
        .args(&["--output", "./hosts"])
        .run()
        .code(2)
        .stderr_has("hosts: --output names the Ansible inventory itself");
    let kept = std::fs::read_to_string(out.root.join("hosts")).expect("hosts");
    assert_eq!(kept, "[north]\ndb1\n");
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

/// `ansible-inventory -i FILE --list`, run in `dir`, as JSON text; Ansible's own files
/// (`~/.ansible`) go in `dir` too.
fn ansible_list(tool: &Path, dir: &Path, file: &str) -> String {
    let out = std::process::Command::new(tool)
        .args(["-i", file, "--list"])
        .current_dir(dir)
        .env("ANSIBLE_HOME", dir.join(".ansible"))
        .env("ANSIBLE_LOCAL_TEMP", dir.join(".ansible/tmp"))
        .env_remove("ANSIBLE_CONFIG")
        .output()
        .expect("run ansible-inventory");
    assert!(
        out.status.success(),
        "ansible-inventory -i {file} --list:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 JSON")
}

/// The imported TOML from `file` in `dir`, and the same without its `# Source:` line.
fn imported(dir: &Path, file: &str) -> (String, String) {
    let out = Test::reuse(dir)
        .args(&["import-inventory", "ansible", file])
        .args(&HALLS)
        .run()
        .code(0);
    let body = out
        .stdout
        .lines()
        .filter(|l| !l.starts_with("# Source:"))
        .map(|l| format!("{l}\n"))
        .collect();
    (out.stdout, body)
}

#[test]
fn ini_yaml_and_ansible_inventory_json_import_alike_and_as_ansible_resolves_them() {
    let Some(tool) = ansible::inventory_command() else {
        return;
    };
    let same = Path::new(FIXTURES).join("same");
    let t = Test::new()
        .file(
            "inventory.ini",
            std::fs::read(same.join("inventory.ini")).expect("ini"),
        )
        .file(
            "inventory.yml",
            std::fs::read(same.join("inventory.yml")).expect("yml"),
        );
    let dir = t.path().to_path_buf();
    let from_ini = ansible_list(&tool, &dir, "inventory.ini");
    let from_yaml = ansible_list(&tool, &dir, "inventory.yml");
    assert_eq!(
        from_ini, from_yaml,
        "the INI and YAML fixtures are not the same inventory to Ansible"
    );
    std::fs::write(dir.join("inventory.json"), &from_ini).expect("write JSON");

    let (ini, ini_body) = imported(&dir, "inventory.ini");
    let (yaml, yaml_body) = imported(&dir, "inventory.yml");
    let (json, json_body) = imported(&dir, "inventory.json");
    assert!(ini.contains("# Source: inventory.ini (INI)\n"), "{ini}");
    assert!(yaml.contains("# Source: inventory.yml (YAML)\n"), "{yaml}");
    assert!(json.contains("# Source: inventory.json (JSON)\n"), "{json}");
    assert_eq!(ini_body, yaml_body, "INI and YAML imports differ");
    assert_eq!(
        ini_body, json_body,
        "INI and ansible-inventory JSON imports differ"
    );

    let listed: Value = serde_json::from_str(&from_ini).expect("ansible-inventory JSON");
    let hostvars = listed["_meta"]["hostvars"]
        .as_object()
        .expect("_meta.hostvars");
    let toml: toml::Table = ini.parse().expect("the import is TOML");
    let hosts = toml["hosts"].as_table().expect("[hosts]");
    let names = |keys: Vec<&String>| keys.into_iter().cloned().collect::<Vec<_>>();
    assert_eq!(
        names(hosts.keys().collect()),
        names(hostvars.keys().collect())
    );
    for (name, vars) in hostvars {
        let host = &hosts[name.as_str()];
        let address = vars
            .get("ansible_host")
            .and_then(Value::as_str)
            .unwrap_or(name);
        assert_eq!(host["address"].as_str(), Some(address), "{name}: address");
        assert_eq!(
            host.get("port").and_then(toml::Value::as_integer),
            vars.get("ansible_port").and_then(Value::as_i64),
            "{name}: port"
        );
        assert_eq!(
            host.get("user").and_then(toml::Value::as_str),
            vars.get("ansible_user").and_then(Value::as_str),
            "{name}: user"
        );
    }
    // A vaulted variable in Ansible's JSON is refused as it is in YAML.
    std::fs::copy(
        Path::new(FIXTURES).join("vaulted.yml"),
        dir.join("vaulted.yml"),
    )
    .expect("copy");
    let vaulted = ansible_list(&tool, &dir, "vaulted.yml");
    Test::reuse(&dir)
        .file("vaulted.json", vaulted)
        .args(&["import-inventory", "ansible", "vaulted.json"])
        .args(&HALLS)
        .run()
        .code(2)
        .stderr_has("vaulted.json: host `db1`: variable `ansible_become_password` is encrypted with Ansible Vault");
    Test::reuse(&dir)
        .file("inventory/site.toml", &ini)
        .runbook(RUNBOOK)
        .args(&["validate", "runbooks/test.toml"])
        .run()
        .code(0);
}
