//! HTTPS in front of a plain-HTTP server: ipocket serves plain HTTP (a TLS proxy is expected in
//! front in production), so the tests of HTTPS clients put this proxy before the real server.
//! It terminates TLS with rustls (ring) and copies bytes both ways; with a client CA it asks
//! for, and verifies, a client certificate (mutual TLS) and refuses a handshake without one.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::http_server::Background;

/// A TLS-terminating proxy on 127.0.0.1; stops when dropped.
pub struct TlsProxy {
    /// `127.0.0.1:PORT` it listens on (`https://` clients connect here).
    pub addr: std::net::SocketAddr,
    /// Handshakes that failed (no or a bad client certificate, an untrusted server).
    pub failed_handshakes: Arc<AtomicU64>,
    _server: Background,
}

impl TlsProxy {
    /// Proxies `https://ADDR` to `backend` (`127.0.0.1:PORT`, plain HTTP) with the PEM
    /// certificate `cert` and key `key`; with `client_ca`, only clients presenting a
    /// certificate signed by (or equal to) one in that PEM file get through.
    pub fn start(backend: &str, cert: &Path, key: &Path, client_ca: Option<&Path>) -> TlsProxy {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let key = PrivateKeyDer::from_pem_file(key).unwrap();
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .unwrap();
        let builder = match client_ca {
            None => builder.with_no_client_auth(),
            Some(ca) => {
                let mut roots = rustls::RootCertStore::empty();
                for c in CertificateDer::pem_file_iter(ca).unwrap() {
                    roots.add(c.unwrap()).unwrap();
                }
                let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                    Arc::new(roots),
                    provider,
                )
                .build()
                .unwrap();
                builder.with_client_cert_verifier(verifier)
            }
        };
        let config = Arc::new(builder.with_single_cert(chain, key).unwrap());
        let acceptor = tokio_rustls::TlsAcceptor::from(config);
        let failed = Arc::new(AtomicU64::new(0));
        let backend = backend.to_string();
        let failed2 = failed.clone();
        let server = crate::http_server::serve_tcp("127.0.0.1:0", move |stream| {
            let (acceptor, backend, failed) = (acceptor.clone(), backend.clone(), failed2.clone());
            async move {
                let mut tls = match acceptor.accept(stream).await {
                    Ok(s) => s,
                    Err(_) => {
                        failed.fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                };
                let Ok(mut plain) = tokio::net::TcpStream::connect(&backend).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            }
        });
        TlsProxy {
            addr: server.addr,
            failed_handshakes: failed,
            _server: server,
        }
    }
}
