//! The request pipeline every generated call runs through: the hooks
//! progenitor's output calls (`pre`, `exec`, `post`), with the token, the
//! microversion header and its checks, the request timeout, retries,
//! token renewal on a 401, a `tracing` span per request, and version
//! discovery on the service root.
//!
//! The generated code uses the same names as progenitor's own client runtime
//! (`ClientInfo`, `ClientHooks`, `OperationInfo`); these versions know the
//! operation table, so an error can always name the operation, the HTTP
//! status and the request id.

use reqwest::header::HeaderValue;

use crate::clock::since;
use crate::error::{Error, TransportError, error_chain};
use crate::operation::{OperationInfo, ServiceClient, ServiceInfo, check_request, effective_microversion};
use crate::response::{ResponseValue, request_id};
use crate::retry::{Attempt, Outcome, retry_after_of};
use crate::{ClientConfig, Secret};

pub use progenitor_client::{ByteStream, RequestBuilderExt, encode_path};

/// The connect timeout of clients made without one (seconds).
pub const DEFAULT_CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The HTTP client of a generated `Client::new`: the config's connect
/// timeout (default [`DEFAULT_CONNECT_TIMEOUT`]) and request timeout
/// (default `default_timeout`, the service's).
pub fn http_client(config: &ClientConfig, default_timeout: std::time::Duration) -> reqwest::Client {
    crate::tls::HttpOptions::new(
        config.connect_timeout().unwrap_or(DEFAULT_CONNECT_TIMEOUT),
        config.timeout().unwrap_or(default_timeout),
    )
    .build()
    .unwrap_or_else(|_| reqwest::Client::new())
}

/// The error of a request that could not be built (an unusable URL):
/// nothing was sent.
pub fn request_build_error(operation: &'static str, error: reqwest::Error) -> Error {
    Error::InvalidRequest(format!("{operation}: the request could not be built: {}", error_chain(&error)))
}

/// What the hooks need of the generated client they run for (`&Client`):
/// its service's table. Generated code implements [`ServiceClient`] only;
/// this follows from it.
pub trait Service {
    /// The service's table.
    fn service_info(&self) -> &'static ServiceInfo;
}

impl<T: ServiceClient> Service for &T {
    fn service_info(&self) -> &'static ServiceInfo {
        T::service()
    }
}

/// Access to a generated client's parts.
pub trait ClientInfo<Inner> {
    /// The spec's `info.version`.
    fn api_version() -> &'static str;
    /// The endpoint the client was made with.
    fn baseurl(&self) -> &str;
    /// The HTTP client.
    fn client(&self) -> &reqwest::Client;
    /// The client's settings.
    fn inner(&self) -> &Inner;
}

impl<T: ClientInfo<Inner>, Inner> ClientInfo<Inner> for &T {
    fn api_version() -> &'static str {
        T::api_version()
    }

    fn baseurl(&self) -> &str {
        (*self).baseurl()
    }

    fn client(&self) -> &reqwest::Client {
        (*self).client()
    }

    fn inner(&self) -> &Inner {
        (*self).inner()
    }
}

/// The steps around every generated request.
#[allow(async_fn_in_trait)]
pub trait ClientHooks<Inner = ClientConfig>: ClientInfo<Inner> + Service
where
    Inner: AsRef<ClientConfig>,
{
    /// Adds the token and the microversion, and refuses a call (or a query
    /// parameter) the configured microversion does not have.
    async fn pre(&self, request: &mut reqwest::Request, info: &OperationInfo) -> Result<(), Error> {
        prepare(self.inner().as_ref(), self.service_info(), request, info).await
    }

    /// Runs after the response (or transport error) arrived.
    async fn post(
        &self,
        _result: &Result<reqwest::Response, TransportError>,
        _info: &OperationInfo,
    ) -> Result<(), Error> {
        Ok(())
    }

    /// Sends the request: retries it as the client's [`RetryPolicy`](crate::retry::RetryPolicy) allows,
    /// renews the token once on a 401, records a `tracing` span, and labels
    /// the response with the operation so that errors can name it.
    async fn exec(&self, request: reqwest::Request, info: &OperationInfo) -> Result<reqwest::Response, TransportError> {
        execute(self.client(), self.inner().as_ref(), self.service_info(), request, info).await
    }
}

async fn prepare(
    config: &ClientConfig,
    service: &ServiceInfo,
    request: &mut reqwest::Request,
    info: &OperationInfo,
) -> Result<(), Error> {
    let effective = effective_microversion(config, service);
    if let Some(effective) = effective {
        check_request(service, info, request, effective).map_err(Error::from)?;
    }
    if let Some(timeout) = config.timeout() {
        *request.timeout_mut() = Some(timeout);
    }

    if let Some(auth) = config.auth() {
        let token = auth.token(false).await.map_err(Error::into_authentication)?;
        set_token(request, &token)?;
    }
    if let (Some(name), Some(version)) = (service.microversion_service, effective) {
        let value = HeaderValue::from_str(&format!("{name} {version}"))
            .map_err(|_| Error::Configuration(format!("{name} {version} is not a header value")))?;
        request.headers_mut().insert("openstack-api-version", value);
    }
    Ok(())
}
fn set_token(request: &mut reqwest::Request, token: &Secret) -> Result<(), Error> {
    let mut value = HeaderValue::from_str(token.expose())
        .map_err(|_| Error::Configuration("the token is not a valid header value".to_owned()))?;
    value.set_sensitive(true);
    request.headers_mut().insert("x-auth-token", value);
    Ok(())
}

async fn execute(
    http: &reqwest::Client,
    config: &ClientConfig,
    service: &ServiceInfo,
    request: reqwest::Request,
    info: &OperationInfo,
) -> Result<reqwest::Response, TransportError> {
    use tracing::Instrument;

    let method = request.method().clone();
    let template = info.operation.path;
    let span = tracing::debug_span!(
        "openstack_request",
        service = service.service_type,
        operation = info.operation.method_name,
        method = %method,
        path = template,
        url = %request.url(),
        status = tracing::field::Empty,
        request_id = tracing::field::Empty,
        attempts = tracing::field::Empty,
        duration_ms = tracing::field::Empty,
    );
    async move {
        let policy = config.retry();
        let clock = config.clock().clone();
        let started = clock.now();
        let mut renewed = false;
        let mut attempt = 1u32;
        let mut current = request;
        loop {
            let spare = current.try_clone();
            // A place among the requests in flight, held until the
            // response's headers are in (or the attempt failed).
            let place = match config.in_flight_places() {
                Some(places) => places.acquire().await.ok(),
                None => None,
            };
            let result = http.execute(current).await;
            drop(place);

            // A refused token is renewed once and the request sent again.
            if let (Ok(response), Some(auth), false) = (&result, config.auth(), renewed)
                && response.status() == reqwest::StatusCode::UNAUTHORIZED
                && auth.renewable()
                && let Some(mut next) = spare.as_ref().and_then(reqwest::Request::try_clone)
            {
                renewed = true;
                match auth.token(true).await {
                    Ok(token) if set_token(&mut next, &token).is_ok() => {
                        tracing::debug!("401: token renewed, sending again");
                        current = next;
                        continue;
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "401: renewing the token failed"),
                }
            }

            let outcome = match &result {
                Err(e) => Some(Outcome::Transport {
                    connect: e.is_connect(),
                    timeout: e.is_timeout(),
                    certificate: crate::tls::is_certificate_error(e),
                }),
                Ok(response) if response.status().is_success() || response.status().is_redirection() => None,
                Ok(response) => Some(Outcome::Response {
                    status: response.status(),
                    retry_after: retry_after_of(response.headers(), clock.now()),
                    headers: response.headers(),
                }),
            };
            // The classifier says whether to send again; the policy, when.
            let wait = outcome.and_then(|outcome| {
                let idempotent = policy.is_idempotent(info.operation);
                let attempt = Attempt { operation: info.operation, idempotent, number: attempt, outcome };
                policy.wait(attempt.number, policy.classifier.classify(&attempt), since(&*clock, started))
            });
            match (wait, spare) {
                (Some(wait), Some(next)) => {
                    match &result {
                        Ok(r) => tracing::debug!(status = r.status().as_u16(), ?wait, attempt, "retrying"),
                        Err(e) => tracing::debug!(error = %e, ?wait, attempt, "retrying"),
                    }
                    clock.sleep(wait).await;
                    attempt += 1;
                    current = next;
                }
                _ => {
                    let span = tracing::Span::current();
                    span.record("attempts", attempt);
                    span.record("duration_ms", since(&*clock, started).as_millis() as u64);
                    return match result {
                        Ok(response) => {
                            span.record("status", response.status().as_u16());
                            if let Some(id) = request_id(response.headers()) {
                                span.record("request_id", id);
                            }
                            Ok(response)
                        }
                        Err(source) => Err(TransportError::new(
                            info.operation.method_name,
                            method.clone(),
                            template,
                            attempt,
                            source,
                        )),
                    };
                }
            }
        }
    }
    .instrument(span)
    .await
}

/// The service root of an endpoint: `https://host:8776/v3/<project>` →
/// `https://host:8776` (everything before the last version segment).
pub fn service_root(endpoint: &str) -> &str {
    let trimmed = endpoint.trim_end_matches('/');
    let path_start = trimmed.find("://").map_or(0, |i| {
        let after = i + 3;
        trimmed[after..].find('/').map_or(trimmed.len(), |p| after + p)
    });
    let path = &trimmed[path_start..];
    let is_version = |segment: &str| {
        let rest = segment.strip_prefix('v').unwrap_or("");
        !rest.is_empty() && rest.split('.').all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
    };
    let mut offset = 0usize;
    let mut cut = None;
    for segment in path.split('/') {
        if is_version(segment) {
            cut = Some(path_start + offset.saturating_sub(1));
        }
        offset += segment.len() + 1;
    }
    match cut {
        Some(end) => &trimmed[..end],
        None => trimmed,
    }
}

/// A `GET` to the service root (version discovery), where the success status
/// may be a 300.
pub async fn get_service_root<C, T>(
    client: C,
    path: &str,
    success: u16,
    info: &OperationInfo,
) -> Result<ResponseValue<T>, Error>
where
    C: ClientHooks<ClientConfig>,
    T: serde::de::DeserializeOwned,
{
    let url = format!("{}{}", service_root(client.baseurl()), path);
    let mut request = client
        .client()
        .get(url)
        .header(reqwest::header::ACCEPT, HeaderValue::from_static("application/json"))
        .build()
        .map_err(|e| request_build_error(info.operation.method_name, e))?;
    client.pre(&mut request, info).await?;
    let result = client.exec(request, info).await;
    client.post(&result, info).await?;
    let response = result?;
    match response.status().as_u16() {
        status if status == success => ResponseValue::from_response(response, info.operation.method_name).await,
        400..=599 => Err(Error::ErrorResponse(Box::new(
            ResponseValue::from_response(response, info.operation.method_name).await?,
        ))),
        _ => Err(Error::unexpected(response, info.operation.method_name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client of a made-up service, for the trait's plumbing.
    struct Thing {
        client: reqwest::Client,
        inner: u8,
    }

    impl ClientInfo<u8> for Thing {
        fn api_version() -> &'static str {
            "1.2.3"
        }
        fn baseurl(&self) -> &str {
            "http://thing.example/v1"
        }
        fn client(&self) -> &reqwest::Client {
            &self.client
        }
        fn inner(&self) -> &u8 {
            &self.inner
        }
    }

    /// A reference to a client answers as the client does.
    #[test]
    fn a_reference_answers_as_its_client() {
        fn info<C: ClientInfo<u8>>(c: C) -> (&'static str, String, u8) {
            (C::api_version(), c.baseurl().to_owned(), *c.inner())
        }
        let thing = Thing { client: reqwest::Client::new(), inner: 7 };
        assert_eq!(info(&thing), ("1.2.3", "http://thing.example/v1".to_owned(), 7));
        fn client_of<C: ClientInfo<u8>>(c: &C) -> &reqwest::Client {
            c.client()
        }
        assert!(std::ptr::eq(client_of(&&thing), &thing.client));
    }

    #[test]
    fn service_root_strips_version_and_project() {
        assert_eq!(service_root("http://127.0.0.1:8776/v3/abc123"), "http://127.0.0.1:8776");
        assert_eq!(service_root("http://127.0.0.1:8776/v3"), "http://127.0.0.1:8776");
        assert_eq!(service_root("http://127.0.0.1:8776/v3/"), "http://127.0.0.1:8776");
        assert_eq!(service_root("https://cloud/volume/v3/abc"), "https://cloud/volume");
        assert_eq!(service_root("https://cloud/v1.0/abc"), "https://cloud");
        assert_eq!(service_root("https://cloud:8776"), "https://cloud:8776");
        // Only `v` and dot-separated numbers make a version segment.
        for kept in
            ["https://cloud/volume", "https://cloud/v", "https://cloud/v3a", "https://cloud/v3..1", "https://cloud/v3."]
        {
            assert_eq!(service_root(kept), kept);
        }
        assert_eq!(service_root("https://cloud/v3.0/x"), "https://cloud");
        // The host is not a path segment, whatever its name.
        assert_eq!(service_root("http://v3/backup"), "http://v3/backup");
    }
}
