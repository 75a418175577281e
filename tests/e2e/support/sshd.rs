//! A real OpenSSH `sshd` per simulated host, each on a loopback address of its own
//! (127.N.M.K, so tests running at once never share one), with generated host and
//! client keys, an `authorized_keys` and a `known_hosts`, and a log that tests read to
//! count logins. All traffic stays on 127.0.0.0/8. Needs root (port 22) and
//! Debian's openssh-server, which `scripts/test` installs.

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

const SSHD: &str = "/usr/sbin/sshd";

/// The halls and `[ssh]` defaults the tests' inventories of SSH hosts start with.
pub const INVENTORY_HEAD: &str =
    "[halls.a]\n[halls.b]\n[ssh]\nuser = \"root\"\nconnect_timeout = \"10s\"\n";

/// A running sshd, killed when dropped.
pub struct Sshd {
    pub address: String,
    pub port: u16,
    /// A client key that `root` may log in with.
    pub identity_file: PathBuf,
    /// Holds every host key of this sshd, under the name OpenSSH would record.
    pub known_hosts: PathBuf,
    /// `TYPE BASE64` of each host key, in the order they were made.
    pub host_keys: Vec<String>,
    pub dir: tempfile::TempDir,
    log: PathBuf,
    child: Child,
}

pub struct Builder {
    port: u16,
    key_types: Vec<&'static str>,
    log_level: &'static str,
}

impl Builder {
    /// Listen on this port instead of 22.
    pub fn port(mut self, port: u16) -> Builder {
        self.port = port;
        self
    }

    /// The host key types, in order (default: only ed25519).
    pub fn host_keys(mut self, types: &[&'static str]) -> Builder {
        self.key_types = types.to_vec();
        self
    }

    /// sshd's `LogLevel` (default VERBOSE, which logs each accepted key).
    pub fn log_level(mut self, level: &'static str) -> Builder {
        self.log_level = level;
        self
    }

    pub fn start(self) -> Sshd {
        std::fs::create_dir_all("/run/sshd").expect("create sshd's privilege separation dir");
        let dir = tempfile::tempdir().expect("temporary directory");
        let d = dir.path();
        let address = unused_address(self.port);
        let mut host_keys = Vec::new();
        let mut config = format!(
            "ListenAddress {address}:{port}\n\
             PidFile none\n\
             UsePAM no\n\
             StrictModes no\n\
             AuthorizedKeysFile {keys}\n\
             PubkeyAuthentication yes\n\
             PasswordAuthentication no\n\
             KbdInteractiveAuthentication no\n\
             PermitRootLogin prohibit-password\n\
             MaxStartups 100\n\
             LogLevel {level}\n",
            port = self.port,
            keys = d.join("authorized_keys").display(),
            level = self.log_level,
        );
        for ty in &self.key_types {
            let key = d.join(format!("host_{ty}"));
            host_keys.push(keygen(&key, ty));
            config.push_str(&format!("HostKey {}\n", key.display()));
        }
        let identity_file = d.join("id_ed25519");
        let client = keygen(&identity_file, "ed25519");
        std::fs::write(d.join("authorized_keys"), format!("{client}\n")).expect("write");
        let name = known_hosts_name(&address, self.port);
        let known_hosts = d.join("known_hosts");
        let lines: String = host_keys.iter().map(|k| format!("{name} {k}\n")).collect();
        std::fs::write(&known_hosts, lines).expect("write known_hosts");
        std::fs::write(d.join("sshd_config"), config).expect("write sshd_config");
        let log = d.join("sshd.log");
        let child = Command::new(SSHD)
            .args(["-D", "-e", "-f"])
            .arg(d.join("sshd_config"))
            .arg("-E")
            .arg(&log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start /usr/sbin/sshd (scripts/test installs openssh-server)");
        let mut sshd = Sshd {
            address,
            port: self.port,
            identity_file,
            known_hosts,
            host_keys,
            dir,
            log,
            child,
        };
        sshd.wait_until_listening();
        sshd
    }
}

impl Sshd {
    /// This server as inventory host `name` in `hall`, tagged `tag`: its address and
    /// port, the client key that logs in, and the known_hosts that holds its key.
    pub fn inventory_host(&self, name: &str, hall: &str, tag: &str) -> String {
        format!(
            "[hosts.{name}]\naddress = \"{}\"\nport = {}\nhall = \"{hall}\"\ntags = [\"{tag}\"]\nidentity_file = \"{}\"\nknown_hosts = \"{}\"\n",
            self.address,
            self.port,
            self.identity_file.display(),
            self.known_hosts.display()
        )
    }

    /// The listening sshd's process id: every connection it serves is a process below it.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn builder() -> Builder {
        Builder {
            port: 22,
            key_types: vec!["ed25519"],
            log_level: "VERBOSE",
        }
    }

    /// An sshd on port 22 with one ed25519 host key.
    pub fn start() -> Sshd {
        Sshd::builder().start()
    }

    /// The name this sshd's keys are recorded under in `known_hosts`.
    pub fn known_hosts_name(&self) -> String {
        known_hosts_name(&self.address, self.port)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Successful logins so far.
    pub fn logins(&self) -> usize {
        self.log().matches("Accepted publickey for root").count()
    }

    /// Kills every process serving a connection (not the listener), as a crashed or
    /// rebooted host would: the client's connections break.
    pub fn kill_connections(&self) {
        let listener = self.child.id();
        for pid in descendants(listener) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid as i32),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }

    /// Sends `signal` to every process serving a connection: SIGSTOP freezes them, as an
    /// overloaded host would, SIGCONT lets them go on.
    pub fn signal_connections(&self, signal: nix::sys::signal::Signal) {
        for pid in descendants(self.child.id()) {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), signal);
        }
    }

    fn wait_until_listening(&mut self) {
        let addr: SocketAddr = format!("{}:{}", self.address, self.port)
            .parse()
            .expect("an IPv4 address");
        let until = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("sshd exited ({status}):\n{}", self.log());
            }
            assert!(
                Instant::now() < until,
                "sshd is not listening on {addr}:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        // Connections first: the listener's death does not end them.
        self.kill_connections();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The name OpenSSH records a host under: `addr` on port 22, else `[addr]:port`.
pub fn known_hosts_name(address: &str, port: u16) -> String {
    if port == 22 {
        address.to_string()
    } else {
        format!("[{address}]:{port}")
    }
}

/// A loopback address nothing listens on at `port`, unique to this test process and
/// call (127.N.M.K with N from the process id).
pub fn unused_address(port: u16) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = std::process::id() % 200 + 20;
    loop {
        let i = NEXT.fetch_add(1, Ordering::Relaxed);
        let address = format!("127.{n}.{}.{}", i / 250 % 250 + 1, i % 250 + 2);
        let addr: SocketAddr = format!("{address}:{port}").parse().expect("an address");
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            return address;
        }
    }
}

/// Makes a key pair at `path` and returns the public key as `TYPE BASE64`.
pub fn keygen(path: &Path, ty: &str) -> String {
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", ty, "-N", "", "-C", "switchyard-test", "-f"])
        .arg(path)
        .stdin(Stdio::null())
        .status()
        .expect("run ssh-keygen");
    assert!(status.success(), "ssh-keygen -t {ty} failed");
    let public = std::fs::read_to_string(path.with_extension("pub")).expect("public key");
    public
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every process below `pid`, found through /proc.
fn descendants(pid: u32) -> Vec<u32> {
    let mut parents = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        // The parent follows the command name, which is in parentheses and may hold spaces.
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if let Some(ppid) = ppid {
            parents.push((child, ppid));
        }
    }
    let mut found = vec![pid];
    let mut i = 0;
    while i < found.len() {
        let p = found[i];
        found.extend(parents.iter().filter(|(_, pp)| *pp == p).map(|(c, _)| *c));
        i += 1;
    }
    found.remove(0);
    found
}
