//! The web application: server-rendered Chinese pages for the county registry, made to
//! be read on a cadre's phone as well as an office screen.
//!
//! Entry points: [`Application::build`] binds the listener and assembles the routes
//! (listed in one table with each route's [`Policy`], [`routes`]); [`accounts`]
//! creates and manages accounts for `fupin init`, `fupin demo`, `fupin user` and the
//! `/admin/users` pages.
//!
//! Architecture invariant: this crate contains no SQL. Every read goes through
//! `fupin_store::views`, every account and session through `fupin_store::users`.
//!
//! Architecture invariant: every page checks the signed-in user's area before it
//! shows anything, and a record outside that area answers exactly like a record that
//! does not exist (404), so household numbers cannot be probed. ID and phone numbers
//! leave the server only masked (module `display`).

mod api;
mod cache;
mod display;
mod error;
mod i18n;
mod pages;
mod router;
mod scope;
mod security;
mod session;
mod throttle;
mod tls;

use std::net::SocketAddr;
use std::sync::Arc;

use fupin_domain::CodeLists;
use fupin_store::Store;

pub use error::WebError;
pub use router::{Policy, RouteSpec, routes};

/// How the server runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on; port 0 picks a free port (tests).
    pub listen: SocketAddr,
    /// The date ages and periods are computed at (fixed in tests and demos).
    pub today: time::Date,
    /// Mark the session cookie `Secure` (serve behind HTTPS). Always on with [`Config::tls`].
    pub secure_cookies: bool,
    /// Serve HTTPS with this certificate and key (PEM files) instead of plain HTTP.
    pub tls: Option<TlsFiles>,
}

/// The PEM files HTTPS is served with (`fupin serve --tls-cert FILE --tls-key FILE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain, leaf first.
    pub cert: std::path::PathBuf,
    /// The private key (PKCS#8, PKCS#1 or SEC1).
    pub key: std::path::PathBuf,
}

/// What every handler shares.
#[derive(Clone)]
pub(crate) struct AppState {
    pub store: Store,
    pub config: Arc<Config>,
    pub codes: Arc<CodeLists>,
    pub cache: Arc<cache::Caches>,
    /// Sign-in attempts by address and by names without an account (`pages/login.rs`).
    pub attempts: Arc<throttle::Attempts>,
}

/// A server with its listener bound, ready to [`run`](Application::run).
pub struct Application {
    listener: tokio::net::TcpListener,
    router: axum::Router,
    addr: SocketAddr,
    /// Set when serving HTTPS.
    tls: Option<tls::Acceptor>,
}

impl Application {
    /// Binds its own listener (port 0 works) so tests start the real app.
    pub async fn build(store: Store, mut config: Config) -> Result<Application, WebError> {
        // Certificates are read before the port is taken: a bad file stops the start.
        let tls = config.tls.as_ref().map(tls::acceptor).transpose()?;
        // The message catalogue is parsed now, not at the first page (its errors are logged).
        i18n::load();
        config.secure_cookies |= tls.is_some();
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|source| WebError::Bind { addr: config.listen, source })?;
        let addr = listener.local_addr().map_err(|source| WebError::Bind { addr: config.listen, source })?;
        let state = AppState {
            store,
            config: Arc::new(config),
            codes: Arc::new(CodeLists::builtin()),
            cache: Arc::new(cache::Caches::new()),
            attempts: Arc::new(throttle::Attempts::default()),
        };
        Ok(Application { listener, router: router::router(state), addr, tls })
    }

    /// The address the server listens on (with the real port when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Whether the server speaks HTTPS.
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// Serves until ctrl-c, or until this future is dropped.
    pub async fn run(self) -> Result<(), WebError> {
        self.run_until(async {
            // If the signal handler cannot be installed, serve until dropped.
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        })
        .await
    }

    /// Serves until `shutdown` completes, then stops accepting connections and (over
    /// plain HTTP) closes the open ones once their requests are answered, so the port
    /// refuses from then on (tests stop and restart a server this way).
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<(), WebError> {
        tracing::info!(addr = %self.addr, https = self.tls.is_some(), "网页服务已启动");
        if let Some(acceptor) = self.tls {
            return tls::serve(self.listener, acceptor, self.router, shutdown).await;
        }
        // Connection info gives the sign-in audit log each request's peer address.
        let service = self.router.into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(self.listener, service).with_graceful_shutdown(shutdown).await.map_err(WebError::Serve)
    }
}
