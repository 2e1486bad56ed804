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

/// How an HTTP client is built: timeouts, and how servers' certificates
/// are checked. The session builds one from `clouds.yaml` (`cacert`,
/// `verify`) and its builder; a generated `Client::new` builds one from
/// its [`ClientConfig`](crate::ClientConfig).
#[derive(Debug, Clone)]
pub struct HttpOptions {
    connect_timeout: Duration,
    timeout: Duration,
    cacert: Option<(std::path::PathBuf, Vec<u8>)>,
    insecure: bool,
}

impl HttpOptions {
    /// A connect timeout and a request timeout; certificates checked
    /// against the system's roots.
    pub fn new(connect_timeout: Duration, timeout: Duration) -> Self {
        Self { connect_timeout, timeout, cacert: None, insecure: false }
    }

    /// Also trusts the PEM certificates in `path` (`cacert`). The file is
    /// read now, so that an unreadable one fails here, naming it.
    ///
    /// # Errors
    /// [`Error::Configuration`] when the file cannot be read.
    pub fn cacert(mut self, path: &Path) -> Result<Self, Error> {
        let pem = std::fs::read(path).map_err(|e| Error::Configuration(format!("cacert {}: {e}", path.display())))?;
        self.cacert = Some((path.to_owned(), pem));
        Ok(self)
    }

    /// Accepts any certificate (`verify: false`).
    pub fn insecure(mut self, insecure: bool) -> Self {
        self.insecure = insecure;
        self
    }

    /// Builds the client (no certificate is read yet with `rustls`).
    ///
    /// # Errors
    /// [`Error::Configuration`] for a `cacert` without a PEM certificate,
    /// or `cacert`/`insecure` in a build without TLS.
    pub fn build(&self) -> Result<reqwest::Client, Error> {
        let builder = reqwest::Client::builder().connect_timeout(self.connect_timeout).timeout(self.timeout);
        backend::configure(builder, self)?.build().map_err(|e| Error::Configuration(format!("HTTP client: {e}")))
    }
}

#[cfg(feature = "rustls")]
mod backend {
    use std::sync::{Arc, OnceLock};

    use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
    use rustls::crypto::CryptoProvider;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
    use rustls::{DigitallySignedStruct, SignatureScheme};

    use super::HttpOptions;
    use crate::Error;

    pub(super) fn configure(
        builder: reqwest::ClientBuilder,
        tls: &HttpOptions,
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
    use super::HttpOptions;
    use crate::Error;

    pub(super) fn configure(
        mut builder: reqwest::ClientBuilder,
        tls: &HttpOptions,
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
    use super::HttpOptions;
    use crate::Error;

    pub(super) fn configure(
        builder: reqwest::ClientBuilder,
        tls: &HttpOptions,
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

/// Whether a transport error is the server's certificate refused by the
/// client (unknown issuer, wrong name, expired): a fault no retry mends,
/// so the call ends at once. Read through the error's source chain: with
/// rustls, its certificate errors; with the `native-tls` feature on Linux
/// and the other OpenSSL platforms, OpenSSL's "certificate verify failed"
/// in the handshake's error stack. On Apple systems and Windows, native-tls
/// is the system's TLS (Security.framework, SChannel), whose errors carry
/// no code this crate reads: there a refused certificate is retried like
/// a connect failure (the retry policy's attempts, then the same error).
pub(crate) fn is_certificate_error(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(error);
    while let Some(e) = next {
        #[cfg(feature = "rustls")]
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return matches!(
                tls,
                rustls::Error::InvalidCertificate(_)
                    | rustls::Error::NoCertificatesPresented
                    | rustls::Error::InvalidCertRevocationList(_)
            );
        }
        // native-tls on OpenSSL: the handshake's error stack says
        // "certificate verify failed" (SSL_R_CERTIFICATE_VERIFY_FAILED, of
        // the SSL library): an untrusted or expired certificate, or one for
        // another host.
        #[cfg(all(feature = "native-tls", not(any(target_vendor = "apple", target_os = "windows"))))]
        if let Some(stack) = e.downcast_ref::<openssl::error::ErrorStack>() {
            const ERR_LIB_SSL: i32 = 20;
            const SSL_R_CERTIFICATE_VERIFY_FAILED: i32 = 134;
            return stack
                .errors()
                .iter()
                .any(|e| e.library_code() == ERR_LIB_SSL && e.reason_code() == SSL_R_CERTIFICATE_VERIFY_FAILED);
        }
        // io::Error hides its payload from `source()` (it forwards to the
        // payload's own source): look at the payload itself.
        if let Some(inner) = e.downcast_ref::<std::io::Error>().and_then(std::io::Error::get_ref) {
            next = Some(inner);
            continue;
        }
        next = e.source();
    }
    false
}

/// Tests of the build without TLS (the TLS builds are tested end to end:
/// `tests/tests/tls.rs`, `sdk/tests/certificates.rs`).
#[cfg(all(test, not(any(feature = "rustls", feature = "native-tls"))))]
mod tests {
    use super::*;

    /// Built without TLS (`--no-default-features`), a client for an
    /// `http://` cloud still builds, and `cacert` or `verify: false` is
    /// refused at build time, naming the features that would carry it,
    /// rather than ignored.
    #[test]
    fn a_build_without_tls_refuses_certificate_options() {
        let options = HttpOptions::new(Duration::from_secs(1), Duration::from_secs(2));
        options.build().unwrap();
        // Any readable file will do: `cacert` reads it, the build refuses it.
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
        for refused in [options.clone().insecure(true), options.clone().cacert(&file).unwrap()] {
            let err = refused.build().unwrap_err();
            assert!(matches!(err, Error::Configuration(_)), "{err:?}");
            assert!(err.to_string().contains("`rustls` (default) or `native-tls`"), "{err}");
        }
    }
}
