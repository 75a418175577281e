//! A tiny real HTTP server for tests, on its own loopback address: answers each request
//! with what a closure returns for the request's number, and stops when dropped.

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
        let listener = TcpListener::bind((ip, 0)).expect("bind loopback");
        let addr = listener.local_addr().expect("addr");
        let stop = Arc::new(AtomicBool::new(false));
        let hits = Arc::new(AtomicU32::new(0));
        let (s, h) = (stop.clone(), hits.clone());
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
                    if k == 0 || req.windows(4).any(|w| w == b"\r\n\r\n") {
                        break;
                    }
                }
                let (status, body) = respond(n);
                let _ = write!(
                    conn,
                    "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        HttpServer {
            addr,
            hits,
            stop,
            thread: Some(thread),
        }
    }
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
