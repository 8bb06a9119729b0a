//! HTTPS (`fupin serve --tls-cert FILE --tls-key FILE`): rustls with the ring
//! provider, one task per connection doing the handshake and then HTTP/1.1 through
//! hyper. Service workers (the offline pages) need HTTPS anywhere but localhost;
//! behind a reverse proxy that terminates TLS this is not needed (README).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

use crate::{TlsFiles, WebError};

/// The TLS side of a listener, made once from the PEM files.
pub(crate) type Acceptor = TlsAcceptor;

/// A handshake that has not finished by then is dropped (a slow or idle client must
/// not hold a task for ever).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(15);

fn tls_error(path: &std::path::Path, message: impl std::fmt::Display) -> WebError {
    WebError::Tls { path: path.display().to_string(), message: message.to_string() }
}

/// Reads the certificate chain and key and checks that they belong together.
pub(crate) fn acceptor(files: &TlsFiles) -> Result<Acceptor, WebError> {
    let certs = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|e| tls_error(&files.cert, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| tls_error(&files.cert, e))?;
    if certs.is_empty() {
        return Err(tls_error(&files.cert, "文件中没有证书"));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| tls_error(&files.key, e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_error(&files.cert, e))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| tls_error(&files.key, e))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Accepts connections until ctrl-c (or until dropped), each served in its own task.
pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    acceptor: Acceptor,
    router: Router,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), WebError> {
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait, do not spin.
                    tracing::warn!(error = %e, "接受连接失败");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => return Ok(()),
        };
        let acceptor = acceptor.clone();
        let router = router.clone();
        tokio::spawn(async move {
            let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => {
                    tracing::debug!(error = %e, %peer, "TLS 握手失败");
                    return;
                }
                Err(_) => return,
            };
            // The sign-in audit log reads the peer address as with plain HTTP.
            let app = router.layer(axum::Extension(ConnectInfo::<SocketAddr>(peer)));
            let service = TowerToHyperService::new(app);
            let served = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HANDSHAKE_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades()
                .await;
            if let Err(e) = served {
                tracing::debug!(error = %e, %peer, "HTTPS 连接中断");
            }
        });
    }
}
