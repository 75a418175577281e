//! `switchyard check-inventory`: can every host be reached and logged into, now? Each
//! line names the way to the host too: `via JUMP` for a host behind a jump host (the
//! outermost jump first), so a wrong precedence of `jump` shows before a run.

use std::path::PathBuf;

use crate::config::inventory::{HostIdx, Inventory};
use crate::config::load_inventory;
use crate::config::model::Transport;
use crate::transport::ssh::SshHost;

use super::args::{CheckInventoryArgs, Global};
use super::{Error, exit};

/// The inventory files to check: those named, or every `inventory/*.toml`. The
/// `--inventory` files are not among them: they override these (see [`run`]), or are
/// checked alone when there are none.
fn targets(a: &CheckInventoryArgs, g: &Global) -> Result<Vec<PathBuf>, Error> {
    let mut files = a.inventories.clone();
    if files.is_empty() {
        files = std::fs::read_dir("inventory")
            .map(|d| {
                d.filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
    }
    if files.is_empty() && g.inventory.is_empty() {
        return Err(Error::NoInventories);
    }
    Ok(files)
}

/// `ADDRESS:PORT`, and for a host behind jumps ` via JUMP → JUMP`, outermost first.
fn way(inventory: &Inventory, h: HostIdx) -> String {
    let host = &inventory.hosts[h];
    let mut route = inventory.route(h);
    route.pop();
    let mut way = format!("{}:{}", host.address, host.ssh.port);
    if !route.is_empty() {
        let jumps: Vec<&str> = route
            .iter()
            .map(|&j| inventory.hosts[j].name.as_str())
            .collect();
        way.push_str(&format!(" via {}", jumps.join(" → ")));
    }
    way
}

pub fn run(g: &Global, a: &CheckInventoryArgs) -> Result<u8, Error> {
    let (_, inventory) = load_inventory(&targets(a, g)?, &g.inventory)?;
    // One pool per host, the hosts behind a jump sharing its connection.
    let pools = SshHost::pools(&inventory);
    let inventory = &inventory;
    // Every host at once: each check waits on the network, not on this machine.
    let results: Vec<(String, Result<String, String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = inventory
            .hosts
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let pool = pools.get(&i).cloned();
                s.spawn(move || {
                    let r = match (h.transport, pool) {
                        (Transport::Ssh, Some(pool)) => pool
                            .check()
                            .map(|()| way(inventory, i))
                            .map_err(|e| e.to_string()),
                        _ => Ok("local".to_string()),
                    };
                    (h.name.to_string(), r)
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    let mut failed = 0;
    let mut out = String::new();
    for (name, r) in &results {
        match r {
            Ok(how) => out.push_str(&format!("ok    {name}  {how}\n")),
            Err(e) => {
                failed += 1;
                out.push_str(&format!("FAIL  {name}  {e}\n"));
            }
        }
    }
    crate::ui::terminal::to_stdout(&out);
    if failed > 0 {
        crate::ui::terminal::to_stderr(&format!(
            "error: {failed} of {} hosts cannot be reached\n",
            results.len()
        ));
        return Ok(exit::FAILED);
    }
    Ok(exit::PASSED)
}
