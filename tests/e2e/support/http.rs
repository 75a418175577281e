//! A tiny real HTTP server for tests, on its own loopback address: answers each request
//! with what a closure returns for the request's number, and stops when dropped. Two
//! hostile modes: a body cut short of its `Content-Length`, and a body streamed larger
//! than switchyard reads.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

static NEXT: AtomicU32 = AtomicU32::new(1);

/// A loopback address of its own for each test host: 127.201.X.Y.
pub fn loopback() -> String {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("127.201.{}.{}", n / 250, n % 250 + 1)
}

pub struct HttpServer {
    pub addr: SocketAddr,
    pub hits: Arc<AtomicU32>,
    /// The last request as received: request line, headers and body.
    pub last_request: Arc<std::sync::Mutex<String>>,
    /// Every request as received, in order.
    pub requests: Arc<std::sync::Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl HttpServer {
    /// Serves on a fresh loopback address; `respond(n)` gives status and body of request n (from 1).
    pub fn start(respond: impl Fn(u32) -> (u16, String) + Send + 'static) -> HttpServer {
        Self::start_on(&loopback(), respond)
    }

    pub fn start_on(
        ip: &str,
        respond: impl Fn(u32) -> (u16, String) + Send + 'static,
    ) -> HttpServer {
        Self::serve(ip, move |n, conn| {
            let (status, body) = respond(n);
            let _ = write!(
                conn,
                "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        })
    }

    /// Answers 200 with a `Content-Length` of `claimed` bytes, sends only `body`, and
    /// closes the connection.
    pub fn cut_short(body: &'static str, claimed: usize) -> HttpServer {
        Self::serve(&loopback(), move |_, conn| {
            let _ = write!(
                conn,
                "HTTP/1.1 200 X\r\nContent-Length: {claimed}\r\nConnection: close\r\n\r\n{body}"
            );
        })
    }

    /// Answers 200 with a body of `len` bytes — `head`, dots, then `tail` — written in
    /// 64 KiB pieces, as a stream would send it, until the client stops reading.
    pub fn large(head: &'static str, len: usize, tail: &'static str) -> HttpServer {
        Self::serve(&loopback(), move |_, conn| {
            let dots = vec![b'.'; len - head.len() - tail.len()];
            let _ = write!(
                conn,
                "HTTP/1.1 200 X\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n{head}"
            );
            for piece in dots.chunks(64 * 1024) {
                if conn.write_all(piece).is_err() {
                    return;
                }
            }
            let _ = conn.write_all(tail.as_bytes());
        })
    }

    /// Serves on `ip`: reads each request, then lets `answer(n, connection)` write the
    /// answer to request n (from 1); the connection closes after it.
    fn serve(ip: &str, answer: impl Fn(u32, &mut TcpStream) + Send + 'static) -> HttpServer {
        let listener = TcpListener::bind((ip, 0)).expect("bind loopback");
        let addr = listener.local_addr().expect("addr");
        let stop = Arc::new(AtomicBool::new(false));
        let hits = Arc::new(AtomicU32::new(0));
        let last_request = Arc::new(std::sync::Mutex::new(String::new()));
        let requests = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (s, h, last, all) = (
            stop.clone(),
            hits.clone(),
            last_request.clone(),
            requests.clone(),
        );
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut conn) = conn else { continue };
                let n = h.fetch_add(1, Ordering::SeqCst) + 1;
                let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
                let mut buf = [0u8; 4096];
                let mut req = Vec::new();
                while let Ok(k) = conn.read(&mut buf) {
                    req.extend_from_slice(&buf[..k]);
                    if k == 0 || complete(&req) {
                        break;
                    }
                }
                let req = String::from_utf8_lossy(&req).into_owned();
                if let Ok(mut all) = all.lock() {
                    all.push(req.clone());
                }
                if let Ok(mut l) = last.lock() {
                    *l = req;
                }
                answer(n, &mut conn);
            }
        });
        HttpServer {
            addr,
            hits,
            last_request,
            requests,
            stop,
            thread: Some(thread),
        }
    }
}

/// Whether `req` holds the headers and as much body as `Content-Length` says.
fn complete(req: &[u8]) -> bool {
    let Some(end) = req.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&req[..end]).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    req.len() >= end + 4 + length
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
