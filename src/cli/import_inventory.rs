//! `switchyard import-inventory`: the file handling around the pure importers of
//! `crate::import` — reading the source (refusing a script before reading it, and an
//! INI or YAML inventory with `group_vars/` or `host_vars/` beside it),
//! loading the TOML produced as switchyard loads any inventory, so that what is written
//! validates as written, and writing it to stdout or atomically to `--output`.

use std::path::Path;

use crate::import::ansible::{self, Problem, Problems};

use super::args::{AnsibleImportArgs, Global, ImportFrom, ImportInventoryArgs};
use super::{Error, atomic_file, exit};

pub fn run(g: &Global, a: &ImportInventoryArgs) -> Result<u8, Error> {
    match &a.from {
        ImportFrom::Ansible(a) => import_ansible(g, a),
    }
}

fn import_ansible(g: &Global, a: &AnsibleImportArgs) -> Result<u8, Error> {
    let file = a.file.display().to_string();
    let fail = |p: Problem| Error::Import(Box::new(Problems::one(&file, p)));
    refuse_before_reading(a, &file).map_err(fail)?;
    let text = read(&a.file).map_err(fail)?;
    let imported =
        ansible::import(&file, &text, &a.halls).map_err(|p| Error::Import(Box::new(p)))?;
    // The JSON of `ansible-inventory` has those variables in it already.
    if imported.format != ansible::Format::Json {
        refuse_vars_dirs(&a.file, &file).map_err(fail)?;
    }
    write(a.output.as_deref(), &imported.toml)?;
    if !g.quiet {
        crate::ui::terminal::to_stderr(&format!(
            "imported {} hosts from {file} ({})\n",
            imported.hosts,
            imported.format.name()
        ));
    }
    Ok(exit::PASSED)
}

/// A script (Ansible would run it), or an `--output` that would replace the source.
fn refuse_before_reading(a: &AnsibleImportArgs, file: &str) -> Result<(), Problem> {
    if is_executable(&a.file) {
        return Err(ansible::dynamic(
            file,
            "this is an executable file, a dynamic inventory script",
        ));
    }
    if a.output
        .as_deref()
        .is_some_and(|out| same_file(out, &a.file))
    {
        return Err(Problem::new(
            "--output names the Ansible inventory itself, which the import would replace",
        ));
    }
    Ok(())
}

/// `group_vars` or `host_vars` beside the inventory: Ansible reads them with it, and an
/// `ansible_host` set there would otherwise be missed without a word.
fn refuse_vars_dirs(path: &Path, file: &str) -> Result<(), Problem> {
    let dir = path.parent().unwrap_or(Path::new(""));
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    match ["group_vars", "host_vars"]
        .into_iter()
        .find(|d| dir.join(d).is_dir())
    {
        None => Ok(()),
        Some(vars) => Err(Problem::new(format!(
            "its folder has `{vars}/`, whose variables Ansible adds to this inventory and \
             switchyard does not read; run `ansible-inventory -i {file} --list > inventory.json` \
             and import inventory.json"
        ))),
    }
}

/// Loads `toml` as switchyard loads an inventory, then writes it: to `output`
/// atomically, or to stdout.
fn write(output: Option<&Path>, toml: &str) -> Result<(), Error> {
    let shown = output.unwrap_or(Path::new("(standard output)"));
    crate::config::inventory_from_text(shown, toml.to_string())?;
    match output {
        Some(path) => atomic_file::write(path, toml.as_bytes())
            .map_err(|e| Error::Setup(format!("cannot write --output `{}`: {e}", path.display()))),
        None => {
            crate::ui::terminal::to_stdout(toml);
            Ok(())
        }
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Ansible runs an executable inventory file as a script, whatever is in it.
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn read(path: &Path) -> Result<String, Problem> {
    let bytes = std::fs::read(path).map_err(|e| {
        Problem::new(match e.kind() {
            std::io::ErrorKind::NotFound => "cannot read it: no such file".to_string(),
            _ => format!("cannot read it: {e}"),
        })
    })?;
    String::from_utf8(bytes).map_err(|e| {
        Problem::new(format!(
            "it is not UTF-8 text (the first invalid byte is at offset {})",
            e.utf8_error().valid_up_to()
        ))
    })
}
