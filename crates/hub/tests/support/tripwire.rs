//! A loopback TCP proxy in front of the hub that trips once a set number of
//! bytes has gone one way (the hub's replies, or the client's requests). A failure test kills a process
//! at that point: a place in the conversation chosen by a seed, not a moment
//! chosen by a timer, so it lands inside a page or an apply whatever the
//! machine's speed, and a failing seed replays.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// Which bytes the trip point counts.
#[derive(Clone, Copy)]
pub enum Count {
    /// The hub's replies: the hub dies inside a reply it is writing.
    FromHub,
    /// The client's requests: the client dies just after sending one, its
    /// answer (and any acknowledgement in it) never seen.
    ToHub,
}

/// The proxy; it stops when dropped.
pub struct Tripwire {
    /// Where clients connect (`http://127.0.0.1:port`).
    pub url: String,
    tripped: Arc<Notify>,
    seen: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Tripwire {
    /// Forwards to `upstream` (`host:port`); trips once `after` bytes of
    /// `count` have passed.
    pub async fn start(upstream: String, count: Count, after: u64) -> Tripwire {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let tripped = Arc::new(Notify::new());
        let seen = Arc::new(AtomicU64::new(0));
        let task = {
            let (tripped, seen) = (Arc::clone(&tripped), Arc::clone(&seen));
            tokio::spawn(async move {
                while let Ok((client, _)) = listener.accept().await {
                    let (upstream, tripped, seen) =
                        (upstream.clone(), Arc::clone(&tripped), Arc::clone(&seen));
                    tokio::spawn(async move {
                        if let Ok(server) = TcpStream::connect(&upstream).await {
                            let (client_rx, client_tx) = client.into_split();
                            let (server_rx, server_tx) = server.into_split();
                            let trip = Trip { after, seen: &seen, tripped: &tripped };
                            let (up, down) = match count {
                                Count::ToHub => (Some(&trip), None),
                                Count::FromHub => (None, Some(&trip)),
                            };
                            tokio::select! {
                                () = copy(client_rx, server_tx, up) => {}
                                () = copy(server_rx, client_tx, down) => {}
                            }
                        }
                    });
                }
            })
        };
        Tripwire { url, tripped, seen, task }
    }

    /// Bytes counted so far.
    pub fn bytes(&self) -> u64 {
        self.seen.load(Ordering::SeqCst)
    }

    /// Resolves when the byte count has been reached.
    pub async fn tripped(&self) {
        self.tripped.notified().await;
    }
}

impl Drop for Tripwire {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The trip point and the count shared by every connection.
struct Trip<'a> {
    after: u64,
    seen: &'a AtomicU64,
    tripped: &'a Notify,
}

/// Copies one direction until either end closes; counts what passed on
/// `trip` and trips (once) as the count passes its point.
async fn copy(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, trip: Option<&Trip<'_>>) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
        if let Some(t) = trip {
            let before = t.seen.fetch_add(n as u64, Ordering::SeqCst);
            if before < t.after && before + n as u64 >= t.after {
                // notify_one stores a permit if nobody waits yet.
                t.tripped.notify_one();
            }
        }
    }
}
