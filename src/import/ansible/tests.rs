//! The conversion as a whole: one inventory in each format, precedence, and every
//! problem an import reports.

use super::{HallGroup, import};

fn halls(spec: &[(&str, &str)]) -> Vec<HallGroup> {
    spec.iter()
        .map(|(g, h)| HallGroup {
            group: (*g).into(),
            hall: (*h).into(),
        })
        .collect()
}

const NORTH_SOUTH: &[(&str, &str)] = &[("north", "a"), ("south", "b")];

const INI: &str = "\
[all:vars]
ansible_user=ops

[north]
db-n1 ansible_host=192.0.2.11
web[1:2].example.com

[south]
db-s1 ansible_host=192.0.2.21 ansible_port=2200 ansible_user=root
web3.example.com

[web]
web[1:2].example.com
web3.example.com

[web:vars]
ansible_port=8022

[frontend:children]
web

[frontend:vars]
ansible_port=9022
ansible_user=www
";

const YAML: &str = "
all:
  vars:
    ansible_user: ops
  children:
    north:
      hosts:
        db-n1: {ansible_host: 192.0.2.11}
        web[1:2].example.com:
    south:
      hosts:
        db-s1: {ansible_host: 192.0.2.21, ansible_port: 2200, ansible_user: root}
        web3.example.com:
    frontend:
      vars: {ansible_port: 9022, ansible_user: www}
      children:
        web:
          vars: {ansible_port: 8022}
          hosts:
            web[1:2].example.com:
            web3.example.com:
";

const JSON: &str = r#"{
  "_meta": {"hostvars": {
    "db-n1": {"ansible_host": "192.0.2.11", "ansible_user": "ops"},
    "db-s1": {"ansible_host": "192.0.2.21", "ansible_port": 2200, "ansible_user": "root"},
    "web1.example.com": {"ansible_port": 8022, "ansible_user": "www"},
    "web2.example.com": {"ansible_port": 8022, "ansible_user": "www"},
    "web3.example.com": {"ansible_port": 8022, "ansible_user": "www"}}},
  "all": {"children": ["ungrouped", "north", "south", "frontend"]},
  "north": {"hosts": ["db-n1", "web1.example.com", "web2.example.com"]},
  "south": {"hosts": ["db-s1", "web3.example.com"]},
  "frontend": {"children": ["web"]},
  "web": {"hosts": ["web1.example.com", "web2.example.com", "web3.example.com"]}
}"#;

const EXPECTED_HOSTS: &str = r#"
[hosts.db-n1]
address = "192.0.2.11"
hall = "a"
user = "ops"
tags = ["north"]

[hosts.db-s1]
address = "192.0.2.21"
hall = "b"
port = 2200
user = "root"
tags = ["south"]

[hosts."web1.example.com"]
address = "web1.example.com"
hall = "a"
port = 8022
user = "www"
tags = ["frontend", "north", "web"]
"#;

/// The output without its `# Source:` line.
fn body(toml: &str) -> String {
    toml.lines()
        .filter(|l| !l.starts_with("# Source:"))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn one_inventory_in_three_formats_is_one_switchyard_inventory() {
    let h = halls(NORTH_SOUTH);
    let ini = import("inv.ini", INI, &h).expect("INI");
    let yaml = import("inv.yml", YAML, &h).expect("YAML");
    let json = import("inv.json", JSON, &h).expect("JSON");
    assert!(
        ini.toml.contains("# Source: inv.ini (INI)\n"),
        "{}",
        ini.toml
    );
    assert!(yaml.toml.contains("# Source: inv.yml (YAML)\n"));
    assert!(json.toml.contains("# Source: inv.json (JSON)\n"));
    assert_eq!(body(&ini.toml), body(&yaml.toml));
    assert_eq!(body(&ini.toml), body(&json.toml));
    assert!(ini.toml.contains(EXPECTED_HOSTS), "{}", ini.toml);
    assert!(
        ini.toml
            .contains("[halls.a]\ndescription = \"Ansible group north\"\n")
    );
    assert!(
        ini.toml
            .contains("# Halls: group north -> hall a, group south -> hall b\n")
    );
    assert_eq!(ini.hosts, 5);
}

#[test]
fn the_output_is_the_same_every_time() {
    let h = halls(NORTH_SOUTH);
    let first = import("inv.ini", INI, &h).expect("INI").toml;
    assert_eq!(first, import("inv.ini", INI, &h).expect("INI").toml);
}

#[test]
fn host_vars_beat_child_groups_which_beat_parents_which_beat_all() {
    let h = halls(&[("g", "a")]);
    let text = "[all:vars]\nansible_port=1\nansible_user=all\n\
                [parent:vars]\nansible_port=2\nansible_user=parent\n\
                [parent:children]\nchild\n\
                [child:vars]\nansible_port=3\n\
                [child]\nh1\nh2 ansible_port=4\n\
                [g:children]\nchild\n";
    let toml = import("i.ini", text, &h).expect("valid").toml;
    assert!(
        toml.contains("[hosts.h1]\naddress = \"h1\"\nhall = \"a\"\nport = 3\nuser = \"parent\"\n"),
        "{toml}"
    );
    assert!(
        toml.contains("[hosts.h2]\naddress = \"h2\"\nhall = \"a\"\nport = 4\n"),
        "{toml}"
    );
}

/// The problems' text, one per line, as the command shows them.
fn problems(file: &str, text: &str, spec: &[(&str, &str)]) -> String {
    import(file, text, &halls(spec))
        .expect_err("a problem")
        .to_string()
}

#[test]
fn a_host_in_no_hall_or_in_two_is_named() {
    let text = "[north]\nn1\nboth\n[south]\ns1\nboth\n[other]\nlost\n";
    let p = problems("i.ini", text, NORTH_SOUTH);
    assert!(
        p.contains("error: i.ini: host `lost` is in no hall group (`north`, `south`)"),
        "{p}"
    );
    assert!(
        p.contains("host `both` is in hall groups of different halls: `north` (hall `a`), `south` (hall `b`)"),
        "{p}"
    );
    assert!(p.ends_with("2 errors found"), "{p}");
    // Two hall groups of the same hall agree.
    let same = import(
        "i.ini",
        text,
        &halls(&[("north", "a"), ("south", "a"), ("other", "b")]),
    );
    assert!(same.is_ok(), "{same:?}");
}

#[test]
fn a_hall_group_that_does_not_exist_or_is_given_twice() {
    let p = problems(
        "i.ini",
        "[north]\nn1\n",
        &[("nort", "a"), ("north", "a"), ("north", "b")],
    );
    assert!(
        p.contains("--hall nort=a: the inventory has no group `nort` (did you mean `north`?)"),
        "{p}"
    );
    assert!(
        p.contains("--hall puts group `north` in two halls, `a` and `b`"),
        "{p}"
    );
}

#[test]
fn vaulted_values_are_named_with_their_owner() {
    let yaml = "all:\n  vars:\n    db_password: !vault |\n      $ANSIBLE_VAULT;1.1;AES256\n      6162\n  \
                hosts:\n    h1:\n      token: \"$ANSIBLE_VAULT;1.1;AES256\\n6162\"\n";
    let p = problems("i.yml", yaml, &[("all", "a")]);
    assert!(
        p.contains("group `all`: variable `db_password` is encrypted with Ansible Vault"),
        "{p}"
    );
    assert!(
        p.contains("host `h1`: variable `token` is encrypted with Ansible Vault"),
        "{p}"
    );
}

#[test]
fn jinja_and_wrong_values_in_the_mapped_variables() {
    let text = "[g]\nh1 ansible_host='{{ lookup(\"env\", \"X\") }}'\nh2 ansible_port=70000\n\
                h3 ansible_user=True\nh4 ansible_host=-oProxyCommand=x\n\
                [g:vars]\nansible_user=\"{{ user }}\"\n";
    let p = problems("i.ini", text, &[("g", "a")]);
    for says in [
        "host `h1`: `ansible_host` (from host `h1`) is a Jinja template",
        "host `h1`: `ansible_user` (from group `g`) is a Jinja template, `{{ user }}`",
        "host `h2`: `ansible_port` (from host `h2`) is `70000`, not a port from 1 to 65535",
        "host `h3`: `ansible_user` (from host `h3`) is a boolean, not text",
        "host `h4`: `ansible_host` (from host `h4`) is `-oProxyCommand=x`, which is not a DNS name",
    ] {
        assert!(p.contains(says), "{says}\nin:\n{p}");
    }
}

#[test]
fn all_and_ungrouped_are_groups_even_when_never_named() {
    let yaml = "all:\n  hosts:\n    loose:\n  children:\n    web:\n      hosts:\n        w1:\n";
    let h = halls(&[("ungrouped", "a"), ("web", "b")]);
    let toml = import("i.yml", yaml, &h).expect("valid").toml;
    assert!(
        toml.contains("[hosts.loose]\naddress = \"loose\"\nhall = \"a\"\ntags = []\n"),
        "{toml}"
    );
    let toml = import("i.ini", "[web]\nw1\n", &halls(&[("all", "a")]))
        .expect("valid")
        .toml;
    assert!(
        toml.contains("[hosts.w1]\naddress = \"w1\"\nhall = \"a\"\ntags = [\"web\"]\n"),
        "{toml}"
    );
}

#[test]
fn the_older_ssh_names_are_read_and_must_agree() {
    let text = "[g]\nh1 ansible_ssh_host=192.0.2.1 ansible_ssh_port=2222 ansible_ssh_user=ops\n\
                h2 ansible_host=192.0.2.2 ansible_ssh_host=192.0.2.2\n";
    let toml = import("i.ini", text, &halls(&[("g", "a")]))
        .expect("valid")
        .toml;
    assert!(
        toml.contains(
            "[hosts.h1]\naddress = \"192.0.2.1\"\nhall = \"a\"\nport = 2222\nuser = \"ops\"\n"
        ),
        "{toml}"
    );
    assert!(
        toml.contains("[hosts.h2]\naddress = \"192.0.2.2\"\n"),
        "{toml}"
    );
    let p = problems(
        "i.ini",
        "[g]\nh1 ansible_host=192.0.2.1\n[g:vars]\nansible_ssh_host=192.0.2.9\n",
        &[("g", "a")],
    );
    assert!(
        p.contains("host `h1`: `ansible_host` (from host `h1`) is `192.0.2.1` but `ansible_ssh_host` (from group `g`) is `192.0.2.9`"),
        "{p}"
    );
}

#[test]
fn a_local_connection_is_a_local_host_and_others_are_refused() {
    let text = "[g]\nlocalhost ansible_connection=local\nh1 ansible_connection=ssh\n";
    let toml = import("i.ini", text, &halls(&[("g", "a")]))
        .expect("valid")
        .toml;
    assert!(
        toml.contains(
            "[hosts.localhost]\naddress = \"localhost\"\nhall = \"a\"\ntransport = \"local\"\n"
        ),
        "{toml}"
    );
    assert!(
        toml.contains("[hosts.h1]\naddress = \"h1\"\nhall = \"a\"\ntags"),
        "{toml}"
    );
    let p = problems(
        "i.ini",
        "[g]\nwin1 ansible_connection=winrm\n",
        &[("g", "a")],
    );
    assert!(p.contains("host `win1`: `ansible_connection` (from host `win1`) is `winrm`; switchyard reaches hosts over SSH"), "{p}");
}

#[test]
fn a_host_reached_through_another_host_is_refused() {
    let text = "[g]\n\
        j1 ansible_ssh_common_args='-o ProxyJump=bastion'\n\
        j2 ansible_ssh_extra_args='-J ops@bastion:2222'\n\
        j3 ansible_ssh_common_args='-o \"ProxyCommand=ssh -W %h:%p bastion\"'\n\
        ok ansible_ssh_common_args='-o ServerAliveInterval=5'\n\
        here ansible_connection=local ansible_ssh_common_args='-J bastion'\n\
        [g:vars]\n\
        ansible_ssh_args=-C\n";
    let p = problems("i.ini", text, &[("g", "a")]);
    for (host, key) in [
        ("j1", "ansible_ssh_common_args"),
        ("j2", "ansible_ssh_extra_args"),
        ("j3", "ansible_ssh_common_args"),
    ] {
        let said = format!("host `{host}`: `{key}` (from host `{host}`) is `");
        assert!(p.contains(&said), "{said} in {p}");
    }
    assert!(
        p.contains("through another host; an import cannot carry that over"),
        "{p}"
    );
    assert_eq!(p.matches("through another host").count(), 3, "{p}");
}

#[test]
fn names_switchyard_rejects_are_named() {
    let p = problems(
        "i.yml",
        "all:\n  children:\n    web.prod:\n      hosts:\n        \"h:1\":\n",
        &[("all", "a")],
    );
    assert!(
        p.contains("group `web.prod` cannot be a switchyard tag"),
        "{p}"
    );
    assert!(p.contains("(to `web_prod`, say)"), "{p}");
    assert!(
        p.contains("host `h:1` cannot be a switchyard host name"),
        "{p}"
    );
}

#[test]
fn parse_errors_carry_line_and_column() {
    let p = problems("i.ini", "[web]\nweb1 ansible_host\n", &[("web", "a")]);
    assert!(
        p.starts_with("error: i.ini:2:6: expected `KEY=VALUE` after host `web1`"),
        "{p}"
    );
    let p = problems("i.yml", "all:\n  hosts: {a: [}\n", &[("all", "a")]);
    assert!(p.starts_with("error: i.yml:2:"), "{p}");
    let p = problems("i.json", "{\"all\": }", &[("all", "a")]);
    assert!(p.starts_with("error: i.json:1:9: invalid JSON"), "{p}");
}

#[test]
fn a_cycle_of_children_is_an_error_not_a_hang() {
    let p = problems(
        "i.ini",
        "[a:children]\nb\n[b:children]\na\n[a]\nh\n",
        &[("a", "a")],
    );
    assert!(
        p.contains("groups are children of each other in a cycle"),
        "{p}"
    );
}
