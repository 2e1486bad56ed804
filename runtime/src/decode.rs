//! A `reqwest::Response` decoded into a [`ResponseValue`] or an [`Error`]
//! that names the operation it answers: the generated calls pass their
//! operation (from their row of the operation table) with the response.

use crate::error::{BodyError, Error, InvalidPayload};
use crate::response::{ResponseValue, clip, excerpt, request_id};

impl<T: serde::de::DeserializeOwned> ResponseValue<T> {
    /// The response of `operation` with its JSON body decoded.
    ///
    /// # Errors
    /// [`Error::ResponseBodyError`] when the body cannot be read,
    /// [`Error::InvalidResponsePayload`] when it does not decode as `T`;
    /// both name `operation`, the status and the request id.
    #[doc(hidden)]
    pub async fn from_response(response: reqwest::Response, operation: &'static str) -> Result<Self, Error> {
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(|source| {
            Error::ResponseBodyError(Box::new(BodyError {
                operation,
                status,
                request_id: request_id(&headers).map(|id| clip(id, 100)),
                source: source.without_url(),
            }))
        })?;
        match serde_json::from_slice(&body) {
            Ok(inner) => Ok(Self::received(inner, status, headers, operation)),
            Err(source) => Err(Error::InvalidResponsePayload(Box::new(InvalidPayload {
                operation,
                status,
                request_id: request_id(&headers).map(|id| clip(id, 100)),
                content_type: headers
                    .get(reqwest::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .map(|t| clip(t, 100)),
                excerpt: excerpt(&body),
                source: (&source).into(),
            }))),
        }
    }
}

impl ResponseValue<()> {
    /// The bodiless response of `operation`.
    #[doc(hidden)]
    pub fn empty(response: reqwest::Response, operation: &'static str) -> Self {
        Self::received((), response.status(), response.headers().clone(), operation)
    }
}
