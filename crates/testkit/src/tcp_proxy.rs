//! A TCP proxy on 127.0.0.1 in front of a real service (PostgreSQL), which a test can take down
//! and bring back: while down, open connections are cut and new ones refused, as when the
//! service restarts, without touching the service other tests share.

use std::net::SocketAddr;
use std::sync::Mutex;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

pub struct TcpProxy {
    /// The proxy's own address: point the client here.
    pub addr: SocketAddr,
    upstream: SocketAddr,
    running: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl TcpProxy {
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("proxy binds");
        let addr = listener.local_addr().expect("proxy address");
        let proxy = Self {
            addr,
            upstream,
            running: Mutex::new(None),
        };
        proxy.serve(listener);
        proxy
    }

    /// Cuts every connection and refuses new ones.
    pub fn down(&self) {
        let running = self
            .running
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(task) = running {
            // Aborting the accept loop drops the listener and, with its JoinSet, every
            // connection's task and sockets.
            task.abort();
        }
    }

    /// Accepts connections again, on the same address.
    pub async fn up(&self) {
        let listener = TcpListener::bind(self.addr)
            .await
            .expect("proxy binds again");
        self.serve(listener);
    }

    fn serve(&self, listener: TcpListener) {
        let upstream = self.upstream;
        let task = tokio::spawn(async move {
            let mut connections = JoinSet::new();
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    continue;
                };
                connections.spawn(async move {
                    let Ok(mut server) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                });
                while connections.try_join_next().is_some() {}
            }
        });
        *self
            .running
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(task);
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.down();
    }
}

/// The host and port a `postgres://user@host:port/db` URL names.
pub fn postgres_addr(url: &str) -> SocketAddr {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let host_port = rest.split_once('@').map_or(rest, |(_, hp)| hp);
    let host_port = host_port.split(['/', '?']).next().unwrap_or(host_port);
    let host_port = if host_port.contains(':') {
        host_port.to_owned()
    } else {
        format!("{host_port}:5432")
    };
    let host_port = host_port.replace("localhost", "127.0.0.1");
    host_port.parse().expect("a host:port in the URL")
}

/// `url` with its host and port replaced by `addr`.
pub fn via(url: &str, addr: SocketAddr) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
    let (user, host_and_after) = match rest.split_once('@') {
        Some((user, after)) => (format!("{user}@"), after),
        None => (String::new(), rest),
    };
    let after = host_and_after
        .find(['/', '?'])
        .map_or("", |i| &host_and_after[i..]);
    format!("{scheme}://{user}{addr}{after}")
}
