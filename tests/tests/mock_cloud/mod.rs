//! Mock Keystone and Cinder pieces and an injected clock, shared by the
//! session tests and the log test (which runs in its own process).

#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use openstack_backups::Secret;
use openstack_backups::Session;
use openstack_backups::auth::{AuthMethod, Domain, Project, Scope, User};
use openstack_backups::clock::{Clock, Sleep};
use openstack_backups::retry::RetryPolicy;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

pub const PROJECT: &str = "6b2c0f4e9a1d4c3b8e7f0a1b2c3d4e5f";
pub const PASSWORD: &str = "pa55-w0rd-never-shown";

/// A clock whose sleeps take no time: they move its time forward.
#[derive(Debug)]
pub struct FakeClock {
    now: Mutex<DateTime<Utc>>,
    slept: Mutex<Vec<Duration>>,
}

impl FakeClock {
    pub fn at(t: DateTime<Utc>) -> Arc<Self> {
        Arc::new(Self { now: Mutex::new(t), slept: Mutex::new(Vec::new()) })
    }

    pub fn advance(&self, d: Duration) {
        *self.now.lock().unwrap() += chrono::Duration::from_std(d).unwrap();
    }

    pub fn slept(&self) -> Vec<Duration> {
        self.slept.lock().unwrap().clone()
    }
}

impl Clock for FakeClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap()
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        self.advance(duration);
        self.slept.lock().unwrap().push(duration);
        Box::pin(std::future::ready(()))
    }
}

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap()
}

pub fn catalog(cinder: &str) -> Value {
    json!([
        {"type": "identity", "name": "keystone", "endpoints": [{"interface": "public", "region": "RegionOne", "url": "http://k/v3"}]},
        {"type": "volumev3", "name": "cinderv3", "endpoints": [
            {"interface": "public", "region": "RegionOne", "region_id": "RegionOne", "url": format!("{cinder}/v3/%(project_id)s")},
            {"interface": "internal", "region": "RegionOne", "region_id": "RegionOne", "url": "http://internal.invalid/v3"}
        ]}
    ])
}

pub fn versions(max: &str) -> Value {
    json!({"versions": [{"id": "v3.0", "status": "CURRENT", "version": max, "min_version": "3.0",
        "updated": "2023-08-31T00:00:00Z", "links": [], "media-types": []}]})
}

/// Mounts Keystone (token `tok-N` for the N-th issue) and the version
/// document on `server`; returns the issue counter.
pub async fn keystone(server: &MockServer, expires_in: chrono::Duration, clock: Arc<FakeClock>) -> Arc<Mutex<u32>> {
    let issued = Arc::new(Mutex::new(0u32));
    let counter = issued.clone();
    let uri = server.uri();
    Mock::given(method("POST"))
        .and(path("/identity/v3/auth/tokens"))
        .respond_with(move |_: &Request| {
            let mut n = counter.lock().unwrap();
            *n += 1;
            ResponseTemplate::new(201)
                .insert_header("x-subject-token", format!("tok-{n}"))
                .insert_header("x-openstack-request-id", "req-k")
                .set_body_json(token_body_at(&uri, clock.now() + expires_in))
        })
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v3/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(versions("3.60")))
        .mount(server)
        .await;
    issued
}

pub fn token_body_at(cinder: &str, expires: DateTime<Utc>) -> Value {
    let mut body = token_body_base(expires);
    body["token"]["catalog"] = catalog(cinder);
    body
}

pub fn token_body_base(expires: DateTime<Utc>) -> Value {
    json!({"token": {
        "methods": ["password"], "audit_ids": ["a1"],
        "user": {"id": "u1", "name": "demo", "domain": {"id": "default", "name": "Default"}, "password_expires_at": null},
        "expires_at": expires.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        "issued_at": t0().format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        "project": {"id": PROJECT, "name": "demo", "domain": {"id": "default", "name": "Default"}}
    }})
}

pub fn password_session(server: &MockServer, clock: Arc<FakeClock>) -> Session {
    Session::builder()
        .auth_url(format!("{}/identity", server.uri()))
        .auth(AuthMethod::Password {
            user: User::Name { name: "demo".into(), domain: Domain::Name("Default".into()) },
            password: Secret::new(PASSWORD),
        })
        .scope(Scope::Project(Project::Name { name: "demo".into(), domain: Domain::Id("default".into()) }))
        .clock(clock)
        .retry(RetryPolicy { jitter: false, ..RetryPolicy::default() })
        .build()
        .unwrap()
}
