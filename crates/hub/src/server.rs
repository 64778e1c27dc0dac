//! Serving the API on a socket: plain HTTP only on a loopback address,
//! otherwise TLS (see [`crate::tls`]), for one practice or for each of a
//! deployment's. Also starts the push publisher, on PostgreSQL the fan-out
//! listener, and, with an SMTP relay set, the patients' blind notices.

use axum_server::tls_rustls::RustlsConfig;
use axum_server::Handle;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use tokio::task::JoinHandle;

use crate::notice::smtp::Mailer;
use crate::practices::Deployment;
use crate::state::AppState;
use crate::tls::{self, TlsError};

/// Certificate chain and key files (PEM).
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// Certificate chain.
    pub cert: PathBuf,
    /// Private key.
    pub key: PathBuf,
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Plain HTTP was asked for on a non-loopback address.
    #[error("refusing plain HTTP on {0}: use --tls-cert and --tls-key, or a loopback address")]
    PlainNotLoopback(SocketAddr),
    /// Binding failed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// TLS set-up failed.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The SMTP relay's settings are not usable.
    #[error(transparent)]
    Smtp(#[from] crate::notice::smtp::SmtpError),
}

/// A running server.
#[derive(Debug)]
pub struct Running {
    /// The bound address (useful with port 0).
    pub addr: SocketAddr,
    /// Stops the server.
    pub handle: Handle<SocketAddr>,
    /// Ends when the server stops.
    pub task: JoinHandle<std::io::Result<()>>,
    tasks: Vec<JoinHandle<()>>,
    deployment: Option<Arc<Deployment>>,
}

impl Running {
    /// Stops accepting, lets in-flight requests finish (SSE streams are cut).
    pub async fn stop(self) -> std::io::Result<()> {
        self.handle.shutdown();
        for task in &self.tasks {
            task.abort();
        }
        if let Some(deployment) = &self.deployment {
            deployment.stop();
        }
        self.task.await.unwrap_or(Ok(()))
    }
}

/// Starts what a hub does beside answering requests: the push publisher,
/// on PostgreSQL the fan-out listener, and with an SMTP relay set the
/// patients' blind notices.
pub fn background(state: &AppState) -> Result<Vec<JoinHandle<()>>, ServeError> {
    let mut tasks = Vec::new();
    if let Some(smtp) = &state.config.smtp {
        tasks.push(tokio::spawn(crate::notice::deliver::run(state.clone(), Mailer::new(smtp)?)));
    }
    // On PostgreSQL, the changes other hub nodes commit reach this node's bus.
    tasks.push(tokio::spawn(crate::relay::fanout::run_listener(state.clone())));
    tasks.push(tokio::spawn(crate::relay::events::run_publisher(state.clone())));
    Ok(tasks)
}

/// Binds `addr` and serves the API of the hub's one practice in the
/// background.
pub async fn start(state: AppState, addr: SocketAddr, tls: Option<TlsFiles>) -> Result<Running, ServeError> {
    let mut running = listen(crate::http::router(state.clone()), addr, tls)?;
    running.tasks = background(&state)?;
    Ok(running)
}

/// Binds `addr` and serves every practice of `deployment`, each under
/// `/p/<id>/`, in the background.
pub async fn start_deployment(
    deployment: Arc<Deployment>,
    addr: SocketAddr,
    tls: Option<TlsFiles>,
) -> Result<Running, ServeError> {
    let app = crate::practices::route::router(deployment.clone());
    let mut running = listen(app, addr, tls)?;
    running.deployment = Some(deployment);
    Ok(running)
}

fn listen(app: Router, addr: SocketAddr, tls: Option<TlsFiles>) -> Result<Running, ServeError> {
    let tls_config = match &tls {
        Some(files) => Some(RustlsConfig::from_config(tls::server_config(&files.cert, &files.key)?)),
        None if addr.ip().is_loopback() => None,
        None => return Err(ServeError::PlainNotLoopback(addr)),
    };
    let listener = std::net::TcpListener::bind(addr).map_err(|source| ServeError::Bind { addr, source })?;
    let bound = listener.local_addr().map_err(|source| ServeError::Bind { addr, source })?;
    let handle: Handle<SocketAddr> = Handle::new();
    // Connect info: auth throttles and records logins per client address.
    let app = app.into_make_service_with_connect_info::<SocketAddr>();
    let server_handle = handle.clone();
    let task = match tls_config {
        Some(cfg) => {
            let server = axum_server::tls_rustls::from_tcp_rustls(listener, cfg)
                .map_err(|source| ServeError::Bind { addr, source })?
                .handle(server_handle);
            tokio::spawn(async move { server.serve(app).await })
        }
        None => {
            let server = axum_server::from_tcp(listener)
                .map_err(|source| ServeError::Bind { addr, source })?
                .handle(server_handle);
            tokio::spawn(async move { server.serve(app).await })
        }
    };
    Ok(Running { addr: bound, handle, task, tasks: Vec::new(), deployment: None })
}
