//! `switchyard answer RUN_DIR CHOICE`: answers the open question of a live run on this
//! machine from another terminal, and the run's side of it — the Unix socket
//! `RUN_DIR/answer.sock` it listens on while it runs.
//!
//! One request, one reply, a line of JSON each: `{"choice":"retry","comment":"..."}`
//! and `{"ok":true,"message":"answered: retry (...)"}`. The run reads the peer's
//! credentials (`SO_PEERCRED`) and refuses anyone but its own OS user and root before
//! the answer reaches the engine; the engine takes it if it fits the open question.
//! The socket is made `0600` and removed when the run ends, before the folder is
//! signed: a run killed leaves it behind (connecting is then refused: no run in
//! progress), and `resume` replaces it.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot};

use crate::engine::operator::{Answer, Choice, Remote};

use super::args::{AnswerArgs, AnswerChoice};
use super::{Error, exit};

/// The socket's name in the run folder.
pub const SOCKET: &str = "answer.sock";

/// The longest request line read.
const MAX_REQUEST: u64 = 64 * 1024;

#[derive(serde::Serialize, serde::Deserialize)]
struct Request {
    choice: String,
    #[serde(default)]
    comment: Option<String>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Reply {
    ok: bool,
    message: String,
}

/// The socket a live run listens on; removed when dropped.
#[derive(Debug)]
pub(super) struct Socket {
    path: PathBuf,
    /// The connections being answered.
    sessions: Arc<AtomicUsize>,
}

impl Socket {
    /// Waits (briefly) for the replies under way to be written, once the run has
    /// stopped taking answers: the answer that ended the run is told it was taken.
    pub(super) fn drain(&self, runtime: &tokio::runtime::Runtime) {
        let sessions = self.sessions.clone();
        runtime.block_on(async move {
            for _ in 0..200 {
                if sessions.load(Ordering::SeqCst) == 0 {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        });
    }
}

/// Counts a connection while it is answered.
struct Session(Arc<AtomicUsize>);

impl Session {
    fn new(count: &Arc<AtomicUsize>) -> Session {
        count.fetch_add(1, Ordering::SeqCst);
        Session(count.clone())
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Listens on `dir/answer.sock` (within a runtime): the answers that pass the peer
/// check come out of the receiver. A socket left there by a run that was killed is
/// replaced (the caller holds the run's lock).
pub(super) fn listen(dir: &Path) -> Result<(Socket, mpsc::UnboundedReceiver<Remote>), String> {
    let path = dir.join(SOCKET);
    if std::fs::symlink_metadata(&path).is_ok() {
        std::fs::remove_file(&path)
            .map_err(|e| format!("cannot remove the old `{}`: {e}", path.display()))?;
    }
    let listener =
        bind(dir, &path).map_err(|e| format!("cannot listen on `{}`: {e}", path.display()))?;
    let socket = Socket {
        path: path.clone(),
        sessions: Arc::new(AtomicUsize::new(0)),
    };
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| format!("cannot restrict `{}`: {e}", path.display()))?;
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(serve(listener, tx, socket.sessions.clone()));
    Ok((socket, rx))
}

/// Binds `path` (`dir/answer.sock`). A path too long for a socket address is reached
/// through the folder's open descriptor instead (`/proc/self/fd/N/answer.sock`).
fn bind(dir: &Path, path: &Path) -> std::io::Result<UnixListener> {
    use std::os::fd::AsRawFd;
    use std::os::unix::ffi::OsStrExt;
    // sun_path holds 108 bytes, its terminating NUL included.
    if path.as_os_str().as_bytes().len() < 100 {
        return UnixListener::bind(path);
    }
    let folder = std::fs::File::open(dir)?;
    let short = format!("/proc/self/fd/{}/{SOCKET}", folder.as_raw_fd());
    UnixListener::bind(short)
}

async fn serve(
    listener: UnixListener,
    tx: mpsc::UnboundedSender<Remote>,
    sessions: Arc<AtomicUsize>,
) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let counted = Session::new(&sessions);
                let tx = tx.clone();
                tokio::spawn(async move {
                    session(stream, tx).await;
                    drop(counted);
                });
            }
            Err(e) => {
                tracing::warn!("answer socket: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// One connection: who it is, what it asks, and the engine's reply.
async fn session(stream: UnixStream, tx: mpsc::UnboundedSender<Remote>) {
    let peer = stream.peer_cred().map(|c| c.uid());
    let (rd, mut wr) = stream.into_split();
    // The request is read before the peer is judged (so that the refusal reaches it),
    // and reaches the engine only once the peer may answer.
    let mut line = String::new();
    let mut rd = tokio::io::BufReader::new(rd.take(MAX_REQUEST));
    let read = tokio::time::timeout(Duration::from_secs(10), rd.read_line(&mut line)).await;
    let reply = match (peer, read) {
        (Err(e), _) => Err(format!("cannot tell who is answering: {e}")),
        (Ok(uid), read) => match (allowed(uid), read) {
            (Err(why), _) => Err(why),
            (Ok(by), Ok(Ok(_))) => take(&line, by, &tx).await,
            (Ok(_), _) => Err("no request was read".into()),
        },
    };
    let reply = match reply {
        Ok(message) => Reply { ok: true, message },
        Err(message) => Reply { ok: false, message },
    };
    let mut text = serde_json::to_string(&reply).unwrap_or_default();
    text.push('\n');
    let _ = wr.write_all(text.as_bytes()).await;
}

/// `user@host` of `uid` when it may answer: the run's own user or root.
fn allowed(uid: u32) -> Result<String, String> {
    let me = nix::unistd::getuid();
    let name = |uid: nix::unistd::Uid| {
        nix::unistd::User::from_uid(uid)
            .ok()
            .flatten()
            .map_or_else(|| format!("uid {uid}"), |u| u.name)
    };
    let peer = nix::unistd::Uid::from_raw(uid);
    if peer != me && !peer.is_root() {
        return Err(format!(
            "not allowed: only {} (the run's user) or root may answer this run, not {}",
            name(me),
            name(peer)
        ));
    }
    let host = nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_else(|| "unknown".into());
    Ok(format!("{}@{host}", name(peer)))
}

/// Hands a request to the engine and waits for whether it took it.
async fn take(
    line: &str,
    by: String,
    tx: &mpsc::UnboundedSender<Remote>,
) -> Result<String, String> {
    let req: Request =
        serde_json::from_str(line.trim()).map_err(|e| format!("not a request: {e}"))?;
    let choice = choice_of(&req.choice).ok_or_else(|| {
        format!(
            "`{}` is not retry, skip, abort, rollback or confirm",
            req.choice
        )
    })?;
    let comment = req
        .comment
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty());
    let (reply, taken) = oneshot::channel();
    let remote = Remote {
        answer: Answer { choice, comment },
        by,
        reply,
    };
    tx.send(remote)
        .map_err(|_| "no open question: the run is ending".to_string())?;
    taken
        .await
        .unwrap_or_else(|_| Err("no open question: the run is ending".into()))
}

fn choice_of(word: &str) -> Option<Choice> {
    Some(match word {
        "confirm" | "done" => Choice::Done,
        "retry" => Choice::Retry,
        "skip" => Choice::Skip,
        "abort" => Choice::Abort,
        "rollback" => Choice::Rollback,
        _ => return None,
    })
}

/// `switchyard answer`: 0 when the run took the answer, 1 when it refused it (or no
/// run is in progress there), 2 when `RUN_DIR` is not a run folder.
pub fn run(a: &AnswerArgs) -> Result<u8, Error> {
    let dir = &a.run_dir;
    if !dir.join("journal.jsonl").is_file() {
        return Err(Error::RunFolder(format!(
            "`{}` is not a run folder (it has no journal.jsonl)",
            dir.display()
        )));
    }
    let word = match a.choice {
        AnswerChoice::Retry => "retry",
        AnswerChoice::Skip => "skip",
        AnswerChoice::Abort => "abort",
        AnswerChoice::Rollback => "rollback",
        AnswerChoice::Confirm => "confirm",
    };
    let request = Request {
        choice: word.into(),
        comment: a.comment.clone(),
    };
    match ask(dir, &request) {
        Ok(reply) if reply.ok => {
            crate::ui::terminal::to_stdout(&format!("{}\n", reply.message));
            Ok(exit::PASSED)
        }
        Ok(reply) => Err(Error::Refused(reply.message)),
        Err(why) => Err(Error::Refused(why)),
    }
}

/// Sends `request` to the run in `dir` and reads its reply.
fn ask(dir: &Path, request: &Request) -> Result<Reply, String> {
    let path = dir.join(SOCKET);
    let shown = dir.display();
    // A long folder path may not fit a socket address: connect from within it.
    std::env::set_current_dir(dir).map_err(|e| format!("cannot enter `{shown}`: {e}"))?;
    let mut stream = std::os::unix::net::UnixStream::connect(SOCKET).map_err(|e| {
        use std::io::ErrorKind;
        match e.kind() {
            ErrorKind::NotFound => format!(
                "no run in progress in `{shown}`: it has no {SOCKET} (the run has ended, or it is a dry run)"
            ),
            ErrorKind::ConnectionRefused => format!(
                "no run in progress in `{shown}`: {SOCKET} is left from a run that stopped without removing it (killed?); `switchyard resume {shown}` continues it"
            ),
            ErrorKind::PermissionDenied => format!(
                "not allowed: only the run's user or root may answer this run (`{}`: {e})",
                path.display()
            ),
            _ => format!("cannot reach the run through `{}`: {e}", path.display()),
        }
    })?;
    let timeout = Some(Duration::from_secs(30));
    let _ = stream.set_read_timeout(timeout);
    let _ = stream.set_write_timeout(timeout);
    let mut text = serde_json::to_string(request).map_err(|e| e.to_string())?;
    text.push('\n');
    // A refusal may come before the request is read: the reply says why.
    let sent = stream.write_all(text.as_bytes());
    let mut line = String::new();
    let read = BufReader::new(stream).read_line(&mut line);
    if line.trim().is_empty() {
        return Err(match (sent, read) {
            (Err(e), _) => format!("cannot send the answer: {e}"),
            (_, Err(e)) => format!("no reply from the run: {e}"),
            _ => "no reply from the run (it may have ended)".into(),
        });
    }
    serde_json::from_str(line.trim()).map_err(|_| {
        format!(
            "no reply from the run (it may have ended): `{}`",
            line.trim()
        )
    })
}
