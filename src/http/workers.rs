//! Serving HTTP on one single-threaded runtime per core, as actix (and so martin) does: an accepting task hands each
//! new connection to the next worker in turn, and the connection and all its requests then stay on that worker's
//! thread. On the shared work-stealing runtime every request woke another thread to steal it (a profile of cached
//! tiles under load put ~60 % of the server's CPU in the kernel, mostly waking and switching threads).
//!
//! Everything else (the store's pool maintenance, the position writer, reloads, warmers) stays on the runtime that
//! called [`serve`]. A worker keeps its runtime running until [`Served::close`], so database connections a worker
//! opened stay usable while the caller drains its queues after the last request.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::thread::JoinHandle;
use std::time::Duration;

use axum::Router;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot, watch};

/// Connections waiting for one worker before the acceptor waits too.
const QUEUE: usize = 256;

/// The workers after their last request: their runtimes still run until [`Served::close`].
#[derive(Debug)]
pub struct Served {
    release: watch::Sender<bool>,
    threads: Vec<JoinHandle<()>>,
}

impl Served {
    /// Ends the workers' runtimes and waits for their threads.
    pub async fn close(self) {
        let _ = self.release.send(true);
        let threads = self.threads;
        let _ = tokio::task::spawn_blocking(move || {
            for t in threads {
                if t.join().is_err() {
                    tracing::error!("an HTTP worker thread panicked");
                }
            }
        })
        .await;
    }
}

/// Serves `router` on `listener` with `workers` single-threaded runtimes until `shutdown` completes and every
/// request in flight is answered. Accepting runs on the caller's runtime; `workers == 0` serves on it too (the
/// shared multi-threaded runtime). TCP_NODELAY is set on every connection: responses go out as soon as they are
/// written, with no Nagle delay behind an unacknowledged packet, as in other HTTP servers.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    workers: usize,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<Served> {
    let (release, released) = watch::channel(false);
    if workers == 0 {
        let listener = axum::serve::ListenerExt::tap_io(listener, nodelay);
        axum::serve(listener, router).with_graceful_shutdown(shutdown).await?;
        return Ok(Served { release, threads: Vec::new() });
    }
    let addr = listener.local_addr()?;
    let (stop, stopped) = watch::channel(false);
    let mut queues = Vec::with_capacity(workers);
    let mut done = Vec::with_capacity(workers);
    let mut threads = Vec::with_capacity(workers);
    for i in 0..workers {
        let (tx, rx) = mpsc::channel(QUEUE);
        let (finished, finish) = oneshot::channel();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let (router, mut stopped, mut released) = (router.clone(), stopped.clone(), released.clone());
        let thread = std::thread::Builder::new().name(format!("gridmap-http-{i}")).spawn(move || {
            runtime.block_on(async move {
                let incoming = Incoming { rx, addr };
                let stop = async move {
                    let _ = stopped.wait_for(|s| *s).await;
                };
                if let Err(e) = axum::serve(incoming, router).with_graceful_shutdown(stop).await {
                    tracing::error!(error = %e, worker = i, "HTTP worker failed");
                }
                let _ = finished.send(());
                let _ = released.wait_for(|r| *r).await;
            });
        })?;
        queues.push(tx);
        done.push(finish);
        threads.push(thread);
    }
    tokio::pin!(shutdown);
    let mut next = 0;
    loop {
        let (mut stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_error(e).await;
                    continue;
                }
            },
        };
        nodelay(&mut stream);
        let stream = match stream.into_std() {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "accepted connection could not be handed to a worker");
                continue;
            }
        };
        if queues[next].send((stream, peer)).await.is_err() {
            tracing::error!(worker = next, "HTTP worker is gone; connection dropped");
        }
        next = (next + 1) % queues.len();
    }
    drop(listener);
    let _ = stop.send(true);
    drop(queues);
    for d in done {
        let _ = d.await;
    }
    Ok(Served { release, threads })
}

fn nodelay(tcp: &mut TcpStream) {
    if let Err(e) = tcp.set_nodelay(true) {
        tracing::debug!(error = %e, "TCP_NODELAY not set");
    }
}

/// As axum does for its own listener: errors of one connection are skipped, running out of file descriptors
/// waits a second.
async fn accept_error(e: io::Error) {
    if matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "accept failed");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// One worker's connections, registered with its runtime as they are taken.
struct Incoming {
    rx: mpsc::Receiver<(std::net::TcpStream, SocketAddr)>,
    addr: SocketAddr,
}

impl axum::serve::Listener for Incoming {
    type Io = TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (TcpStream, SocketAddr) {
        loop {
            let Some((stream, peer)) = self.rx.recv().await else {
                // The acceptor stopped: only the shutdown signal ends this worker now.
                return std::future::pending().await;
            };
            match TcpStream::from_std(stream) {
                Ok(s) => return (s, peer),
                Err(e) => tracing::warn!(error = %e, "connection could not join the worker's runtime"),
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.addr)
    }
}
