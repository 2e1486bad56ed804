//! The HTTP client every generated client and the session send through:
//! timeouts, and TLS that costs nothing until it is used.
//!
//! With the default `rustls` feature, building an HTTP client loads no
//! certificates: the system's root certificates are read on the first
//! `https://` handshake, once per process (once more per `cacert` bundle).
//! A cloud whose endpoints are all `http://` never pays for TLS, and a
//! command-line tool does not pay for it on every start. (OpenSSL through
//! the `native-tls` feature reads the whole CA bundle, twice, whenever an
//! HTTP client is built: about 30 ms of CPU each time.)

use std::path::Path;
use std::time::Duration;

use crate::Error;

/// How to check servers' certificates.
#[derive(Debug, Clone, Default)]
pub(crate) struct TlsOptions {
    /// Extra trusted roots (the PEM text of `cacert`), with its path for messages.
    pub cacert: Option<(std::path::PathBuf, Vec<u8>)>,
    /// Accept any certificate (`verify: false`).
    pub insecure: bool,
}

impl TlsOptions {
    /// Reads `cacert` now, so that an unreadable file fails the build of
    /// the session rather than its first request.
    pub fn new(cacert: Option<&Path>, insecure: bool) -> Result<Self, Error> {
        let cacert = match cacert {
            Some(path) => Some((
                path.to_owned(),
                std::fs::read(path).map_err(|e| Error::Configuration(format!("cacert {}: {e}", path.display())))?,
            )),
            None => None,
        };
        Ok(Self { cacert, insecure })
    }
}

/// An HTTP client with these timeouts and TLS settings.
pub(crate) fn http_client(connect: Duration, timeout: Duration, tls: &TlsOptions) -> Result<reqwest::Client, Error> {
    let builder = reqwest::Client::builder().connect_timeout(connect).timeout(timeout);
    backend::configure(builder, tls)?.build().map_err(|e| Error::Configuration(format!("HTTP client: {e}")))
}

#[cfg(feature = "rustls")]
mod backend {
    use std::sync::{Arc, OnceLock};

    use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
    use rustls::crypto::CryptoProvider;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
    use rustls::{DigitallySignedStruct, SignatureScheme};

    use super::TlsOptions;
    use crate::Error;

    pub(super) fn configure(
        builder: reqwest::ClientBuilder,
        tls: &TlsOptions,
    ) -> Result<reqwest::ClientBuilder, Error> {
        let provider = provider();
        let verifier: Arc<dyn ServerCertVerifier> = if tls.insecure {
            Arc::new(AnyCertificate(provider.clone()))
        } else if let Some((path, pem)) = &tls.cacert {
            let roots = CertificateDer::pem_slice_iter(pem)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| Error::Configuration(format!("cacert {}: {e}", path.display())))?;
            if roots.is_empty() {
                return Err(Error::Configuration(format!("cacert {}: no PEM certificate in it", path.display())));
            }
            Arc::new(SystemRoots::new(provider.clone(), roots))
        } else {
            // One for the process: the system roots are read once, however
            // many clients are made.
            static SHARED: OnceLock<Arc<SystemRoots>> = OnceLock::new();
            SHARED.get_or_init(|| Arc::new(SystemRoots::new(provider.clone(), Vec::new()))).clone()
        };
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::Configuration(format!("TLS: {e}")))?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        Ok(builder.tls_backend_preconfigured(config))
    }

    fn provider() -> Arc<CryptoProvider> {
        static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
        PROVIDER.get_or_init(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider())).clone()
    }

    /// The platform's verifier (system roots, plus `extra`), made on the
    /// first certificate it is asked to check.
    #[derive(Debug)]
    struct SystemRoots {
        provider: Arc<CryptoProvider>,
        extra: Vec<CertificateDer<'static>>,
        verifier: OnceLock<Result<rustls_platform_verifier::Verifier, rustls::Error>>,
    }

    impl SystemRoots {
        fn new(provider: Arc<CryptoProvider>, extra: Vec<CertificateDer<'static>>) -> Self {
            Self { provider, extra, verifier: OnceLock::new() }
        }

        fn verifier(&self) -> Result<&rustls_platform_verifier::Verifier, rustls::Error> {
            self.verifier
                .get_or_init(|| {
                    super::ROOT_LOADS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    rustls_platform_verifier::Verifier::new_with_extra_roots(self.extra.clone(), self.provider.clone())
                })
                .as_ref()
                .map_err(Clone::clone)
        }
    }

    impl ServerCertVerifier for SystemRoots {
        fn verify_server_cert(
            &self,
            end_entity: &CertificateDer<'_>,
            intermediates: &[CertificateDer<'_>],
            server_name: &ServerName<'_>,
            ocsp_response: &[u8],
            now: UnixTime,
        ) -> Result<ServerCertVerified, rustls::Error> {
            self.verifier()?.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        }

        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.provider.signature_verification_algorithms.supported_schemes()
        }
    }

    /// `verify: false`: any certificate is accepted (the handshake's
    /// signatures are still checked).
    #[derive(Debug)]
    struct AnyCertificate(Arc<CryptoProvider>);

    impl ServerCertVerifier for AnyCertificate {
        fn verify_server_cert(
            &self,
            _end_entity: &CertificateDer<'_>,
            _intermediates: &[CertificateDer<'_>],
            _server_name: &ServerName<'_>,
            _ocsp_response: &[u8],
            _now: UnixTime,
        ) -> Result<ServerCertVerified, rustls::Error> {
            Ok(ServerCertVerified::assertion())
        }

        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.0.signature_verification_algorithms.supported_schemes()
        }
    }
}

#[cfg(all(feature = "native-tls", not(feature = "rustls")))]
mod backend {
    use super::TlsOptions;
    use crate::Error;

    pub(super) fn configure(
        mut builder: reqwest::ClientBuilder,
        tls: &TlsOptions,
    ) -> Result<reqwest::ClientBuilder, Error> {
        if let Some((path, pem)) = &tls.cacert {
            let certs = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| Error::Configuration(format!("cacert {}: {e}", path.display())))?;
            builder = builder.tls_certs_merge(certs);
        }
        Ok(builder.tls_danger_accept_invalid_certs(tls.insecure))
    }
}

#[cfg(not(any(feature = "rustls", feature = "native-tls")))]
mod backend {
    use super::TlsOptions;
    use crate::Error;

    pub(super) fn configure(
        builder: reqwest::ClientBuilder,
        tls: &TlsOptions,
    ) -> Result<reqwest::ClientBuilder, Error> {
        if tls.cacert.is_some() || tls.insecure {
            return Err(Error::Configuration(
                "cacert/verify need TLS: build with the `rustls` (default) or `native-tls` feature".to_owned(),
            ));
        }
        Ok(builder)
    }
}

/// How many times this process has read the system's root certificates
/// (`rustls` feature): zero until the first `https://` handshake, then one
/// for all the clients that trust the system's roots alone, plus one per
/// `cacert` bundle in use.
static ROOT_LOADS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// The number of system root-certificate loads so far (see the module
/// docs); for tests and diagnostics.
#[doc(hidden)]
pub fn system_root_loads() -> usize {
    ROOT_LOADS.load(std::sync::atomic::Ordering::Relaxed)
}
