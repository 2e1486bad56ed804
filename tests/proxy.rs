//! A recording reverse proxy on 127.0.0.1: the client talks to it, it
//! forwards to the real server and keeps every exchange, so the conformance
//! check sees exactly the bytes the server sent.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

use crate::conformance::Exchange;

/// A running proxy; it stops when dropped.
pub struct Proxy {
    addr: SocketAddr,
    log: Arc<Mutex<Vec<Exchange>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// Forwards to `upstream` (`http://127.0.0.1:<port>`).
    pub async fn start(upstream: String) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the proxy");
        let addr = listener.local_addr().expect("proxy address");
        let log = Arc::new(Mutex::new(Vec::new()));
        let http = reqwest::Client::new();
        let task = {
            let log = log.clone();
            tokio::spawn(async move {
                loop {
                    let Ok((stream, _)) = listener.accept().await else { return };
                    let (log, http, upstream) = (log.clone(), http.clone(), upstream.clone());
                    tokio::spawn(async move {
                        let service = hyper::service::service_fn(move |req| {
                            forward(req, http.clone(), upstream.clone(), log.clone())
                        });
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
            })
        };
        Proxy { addr, log, task }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// How many exchanges so far match `f` (the record is kept).
    pub fn count(&self, f: impl Fn(&Exchange) -> bool) -> usize {
        self.log.lock().expect("proxy log").iter().filter(|x| f(x)).count()
    }

    /// Every exchange so far, and clears the record.
    pub fn take(&self) -> Vec<Exchange> {
        std::mem::take(&mut self.log.lock().expect("proxy log"))
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn forward(
    req: Request<Incoming>,
    http: reqwest::Client,
    upstream: String,
    log: Arc<Mutex<Vec<Exchange>>>,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let method = req.method().clone();
    let path = req.uri().path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_default();
    let headers = req.headers().clone();
    let body = req.into_body().collect().await?.to_bytes();
    let mut out = http.request(method.clone(), format!("{upstream}{path}"));
    for (name, value) in &headers {
        if name != hyper::header::HOST && name != hyper::header::CONTENT_LENGTH {
            out = out.header(name, value);
        }
    }
    let reply = match out.body(body.clone()).send().await {
        Ok(reply) => reply,
        Err(e) => {
            return Ok(Response::builder().status(502).body(Full::new(Bytes::from(e.to_string()))).expect("response"));
        }
    };
    let status = reply.status();
    let reply_headers = reply.headers().clone();
    let reply_body = reply.bytes().await.unwrap_or_default();
    let microversion = reply_headers
        .get("openstack-api-version")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_whitespace().last())
        .and_then(|v| v.split_once('.'))
        .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)));
    log.lock().expect("proxy log").push(Exchange {
        method: method.to_string(),
        path,
        request_body: body.to_vec(),
        status: status.as_u16(),
        microversion,
        body: reply_body.to_vec(),
    });
    let mut response = Response::builder().status(status);
    for (name, value) in &reply_headers {
        if name != hyper::header::CONTENT_LENGTH && name != hyper::header::TRANSFER_ENCODING {
            response = response.header(name, value);
        }
    }
    Ok(response.body(Full::new(reply_body)).expect("response"))
}
