//! The demo's lab: a temporary folder with a runbook (or a site and its runbooks), an
//! inventory and a state file per host, and one `switchyard serve-http` process per host
//! as its health endpoint.
//!
//! Every process the lab starts is owned by a [`Lab`], which stops them all when it is
//! dropped — after the run, on an error, and after Ctrl-C (the run catches it and
//! returns) — so nothing the demo started outlives it. The servers run in their own
//! process group, so a Ctrl-C on the terminal reaches the run, which records the
//! interruption, rather than the servers; and each reads its stdin from a pipe the lab
//! holds, so even a demo killed with SIGKILL takes them down with it.

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::server::LISTENING;

/// The runbook the demo runs, with `"@LAB_DIR@"` standing for the lab's folder.
pub const RUNBOOK: &str = include_str!("runbook.toml");
/// The lab's inventory, with `"@HOST@"` standing for each host's endpoint address.
pub const INVENTORY: &str = include_str!("inventory.toml");

/// What `demo --site` runs: a site of four runbooks with `requires` between them, on an
/// inventory of its own; the same placeholders.
pub const SITE: &str = include_str!("site/site.toml");
pub const SITE_INVENTORY: &str = include_str!("site/inventory.toml");
const SITE_RUNBOOKS: [(&str, &str); 4] = [
    ("runbooks/dns.toml", include_str!("site/dns.toml")),
    (
        "runbooks/directory.toml",
        include_str!("site/directory.toml"),
    ),
    ("runbooks/database.toml", include_str!("site/database.toml")),
    ("runbooks/permits.toml", include_str!("site/permits.toml")),
];

/// What a lab is set up to switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drill {
    /// The bundled runbook, `runbooks/demo.toml`.
    Runbook,
    /// The bundled site, `sites/demo.toml`, and its runbooks.
    Site,
}

impl Drill {
    /// The lab's inventory template.
    fn inventory(self) -> &'static str {
        match self {
            Drill::Runbook => INVENTORY,
            Drill::Site => SITE_INVENTORY,
        }
    }

    /// The file the demo runs, relative to the lab's folder.
    fn subject(self) -> &'static str {
        match self {
            Drill::Runbook => "runbooks/demo.toml",
            Drill::Site => "sites/demo.toml",
        }
    }

    /// Every file to write into the lab besides the inventory, the one run first.
    fn files(self) -> Vec<(&'static str, &'static str)> {
        match self {
            Drill::Runbook => vec![(self.subject(), RUNBOOK)],
            Drill::Site => std::iter::once((self.subject(), SITE))
                .chain(SITE_RUNBOOKS)
                .collect(),
        }
    }
}

/// The hall that is serving when the lab starts; the demo switches to the other one.
pub const FROM: &str = "a";
pub const TO: &str = "b";

/// How long a server has to exit after SIGTERM before it is killed.
const GRACE: Duration = Duration::from_secs(2);

/// One lab host: its health endpoint and the state it started in.
#[derive(Debug)]
pub struct Endpoint {
    pub host: String,
    pub hall: String,
    /// `127.0.0.1:PORT`.
    pub address: String,
    pub up: bool,
}

pub struct Lab {
    dir: PathBuf,
    drill: Drill,
    endpoints: Vec<Endpoint>,
    servers: Vec<Child>,
    keep: bool,
}

impl Lab {
    /// Writes the lab for `drill` into a new temporary folder and starts a server per
    /// host with `exe` (this binary). On an error, whatever was started is stopped again.
    pub fn start(exe: &Path, drill: Drill, keep: bool) -> Result<Lab, String> {
        let mut lab = Lab {
            dir: make_temp_dir()?,
            drill,
            endpoints: Vec::new(),
            servers: Vec::new(),
            keep,
        };
        for d in ["runbooks", "inventory", "state"] {
            create_dir(&lab.dir.join(d))?;
        }
        if drill == Drill::Site {
            create_dir(&lab.dir.join("sites"))?;
        }
        let mut inventory = drill.inventory().to_string();
        for (host, hall) in hosts(drill.inventory())? {
            let up = hall == FROM;
            let state = lab.dir.join("state").join(&host);
            write(&state, if up { "up\n" } else { "down\n" })?;
            let (child, address) = spawn_server(exe, &state)
                .map_err(|e| format!("cannot start the lab's endpoint for `{host}`: {e}"))?;
            lab.servers.push(child);
            inventory = inventory.replace(&format!("\"@{host}@\""), &toml_string(&address));
            lab.endpoints.push(Endpoint {
                host,
                hall,
                address,
                up,
            });
        }
        let dir_text = lab
            .dir
            .to_str()
            .ok_or_else(|| format!("the lab folder `{}` is not UTF-8", lab.dir.display()))?;
        write(&lab.dir.join("inventory/lab.toml"), &inventory)?;
        for (path, text) in drill.files() {
            let text = text.replace("\"@LAB_DIR@\"", &toml_string(dir_text));
            write(&lab.dir.join(path), &text)?;
        }
        Ok(lab)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn drill(&self) -> Drill {
        self.drill
    }

    /// The file to run: the runbook, or the site file.
    pub fn subject(&self) -> PathBuf {
        self.dir.join(self.drill.subject())
    }

    pub fn endpoints(&self) -> &[Endpoint] {
        &self.endpoints
    }

    /// Stops every server and, unless the lab is kept, removes its folder (as dropping
    /// it does); returns what was stopped, for the record.
    pub fn stop(mut self) -> usize {
        self.shut_down()
    }

    fn shut_down(&mut self) -> usize {
        let stopped = self.servers.len();
        stop_all(std::mem::take(&mut self.servers));
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
        stopped
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        self.shut_down();
    }
}

/// The hosts of `inventory` (a template) and their halls, in file order.
fn hosts(inventory: &str) -> Result<Vec<(String, String)>, String> {
    let table: toml::Table = inventory
        .parse()
        .map_err(|e| format!("the demo's inventory is not TOML: {e}"))?;
    let hosts = table
        .get("hosts")
        .and_then(toml::Value::as_table)
        .ok_or("the demo's inventory has no hosts")?;
    Ok(hosts
        .iter()
        .map(|(name, h)| {
            let hall = h.get("hall").and_then(toml::Value::as_str).unwrap_or("");
            (name.clone(), hall.to_string())
        })
        .collect())
}

/// Starts `exe serve-http` for one state file and reads the address it bound.
fn spawn_server(exe: &Path, state: &Path) -> Result<(Child, String), String> {
    let mut child = Command::new(exe)
        .arg("serve-http")
        .arg("--listen")
        .arg("127.0.0.1:0")
        .arg("--state-file")
        .arg(state)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot run `{}`: {e}", exe.display()))?;
    let mut first = String::new();
    if let Some(out) = child.stdout.take() {
        // The server prints nothing after this line, so the pipe can be closed.
        let _ = BufReader::new(out).read_line(&mut first);
    }
    match first.trim_end().strip_prefix(LISTENING) {
        Some(address) => Ok((child, address.to_string())),
        None => {
            let mut why = String::new();
            if let Some(mut err) = child.stderr.take() {
                let _ = err.read_to_string(&mut why);
            }
            stop_all(vec![child]);
            Err(match why.trim() {
                "" => "it exited without saying where it listens".to_string(),
                why => why.to_string(),
            })
        }
    }
}

/// SIGTERM to every server (and their stdin closed), then SIGKILL for any still running
/// after [`GRACE`]; every one is reaped.
fn stop_all(mut servers: Vec<Child>) {
    for s in &mut servers {
        drop(s.stdin.take());
        if let Ok(pid) = i32::try_from(s.id()) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
        }
    }
    let until = Instant::now() + GRACE;
    for s in &mut servers {
        loop {
            match s.try_wait() {
                Ok(None) if Instant::now() < until => std::thread::sleep(Duration::from_millis(5)),
                Ok(None) => {
                    let _ = s.kill();
                    let _ = s.wait();
                    break;
                }
                Ok(Some(_)) | Err(_) => break,
            }
        }
    }
}

/// A new folder under the system's temporary folder, named so that two demos (or a
/// leftover one) never share it.
fn make_temp_dir() -> Result<PathBuf, String> {
    let base = std::env::temp_dir();
    let pid = std::process::id();
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    for _ in 0..100 {
        let dir = base.join(format!("switchyard-demo-{pid}-{seed:08x}"));
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                seed = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
            }
            Err(e) => return Err(format!("cannot create `{}`: {e}", dir.display())),
        }
    }
    Err(format!(
        "cannot create a lab folder in `{}`: every name tried exists",
        base.display()
    ))
}

fn create_dir(path: &Path) -> Result<(), String> {
    std::fs::create_dir(path).map_err(|e| format!("cannot create `{}`: {e}", path.display()))
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write `{}`: {e}", path.display()))
}

/// `s` as a TOML string, quoted and escaped.
fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}
