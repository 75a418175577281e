//! The lab's stand-in for a real service: `switchyard serve-http`, a tiny HTTP/1.1 server
//! whose `GET /health` answers `200 ok` while its state file says `up` and `503 down`
//! otherwise. The file is read on every request, so a runbook step that writes `down` or
//! `up` into it is what stops or starts the "service".
//!
//! The demo reads the first line on stdout, `listening on ADDR`, to learn the port the
//! system chose for `--listen 127.0.0.1:0`: no port is picked ahead and raced for.
//! The server ends on SIGTERM or SIGINT (their default action: it has nothing to clean
//! up), and when its standard input closes: the demo holds the other end of that pipe,
//! so the servers go away with the demo even when it is killed outright.

use std::io::{BufRead, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// What the first line on stdout starts with; the bound address follows.
pub const LISTENING: &str = "listening on ";

/// A request head larger than this is refused: health checks send a few hundred bytes.
const MAX_HEAD: usize = 16 * 1024;

/// How long a connection may take to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// Binds `listen`, announces the address on stdout, and serves until stdin closes (or a
/// signal ends the process). An error is returned only when the address cannot be bound.
pub fn serve(listen: &str, state_file: &Path) -> std::io::Result<()> {
    let listener = TcpListener::bind(listen)?;
    let addr = listener.local_addr()?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{LISTENING}{addr}")?;
        out.flush()?;
    }
    std::thread::spawn(|| {
        // Anything read is ignored; end of file (or a broken stdin) ends the server.
        let mut sink = [0u8; 256];
        let mut stdin = std::io::stdin().lock();
        while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
        std::process::exit(0);
    });
    let state_file: Arc<PathBuf> = Arc::new(state_file.to_path_buf());
    for conn in listener.incoming() {
        let Ok(conn) = conn else { continue };
        let state_file = state_file.clone();
        std::thread::spawn(move || {
            let _ = answer(conn, &state_file);
        });
    }
    Ok(())
}

/// Reads one request and writes its response; the connection is then closed.
fn answer(mut conn: TcpStream, state_file: &Path) -> std::io::Result<()> {
    conn.set_read_timeout(Some(READ_TIMEOUT))?;
    let Some(request_line) = read_head(&mut conn)? else {
        return respond(&mut conn, 400, "bad request\n", false);
    };
    let mut words = request_line.split_whitespace();
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("");
    let head_only = method == "HEAD";
    if path != "/health" {
        return respond(&mut conn, 404, "not found\n", head_only);
    }
    if method != "GET" && !head_only {
        return respond(&mut conn, 405, "method not allowed\n", false);
    }
    let up = std::fs::read_to_string(state_file).is_ok_and(|s| s.trim() == "up");
    if up {
        respond(&mut conn, 200, "ok\n", head_only)
    } else {
        respond(&mut conn, 503, "down\n", head_only)
    }
}

/// The request line, once the whole head (up to the blank line) has arrived; `None` for
/// a head that is malformed, too large, or cut short.
fn read_head(conn: &mut TcpStream) -> std::io::Result<Option<String>> {
    let mut reader = std::io::BufReader::new(conn.take(MAX_HEAD as u64));
    let mut request_line = String::new();
    if reader.read_line(&mut request_line)? == 0 {
        return Ok(None);
    }
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || !line.ends_with('\n') {
            return Ok(None);
        }
        if line.trim_end_matches(['\r', '\n']).is_empty() {
            return Ok(Some(request_line.trim_end().to_string()));
        }
    }
}

fn respond(conn: &mut TcpStream, status: u16, body: &str, head_only: bool) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Service Unavailable",
    };
    let allow = if status == 405 {
        "Allow: GET, HEAD\r\n"
    } else {
        ""
    };
    let mut text = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Length: {}\r\n{allow}Cache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    );
    if !head_only {
        text.push_str(body);
    }
    conn.write_all(text.as_bytes())?;
    conn.flush()
}
