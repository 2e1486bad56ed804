//! The fake Keystone: `POST /v3/auth/tokens` for one project and two users
//! (a member, and an administrator), by password, application credential
//! (the member's) or an earlier token; the token in `X-Subject-Token`, the
//! body in the spec's `TokenResponse`, the catalog with `block-storage` and
//! `database`. Tokens live an hour of the fake clock, or until the test
//! expires them.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use openstack_backups::identity::types;
use serde_json::{Value, json};

use crate::{ADMIN_PASSWORD, ADMIN_USER, APPLICATION_CREDENTIAL, PASSWORD, PROJECT, Reply, USER, typed};

/// Issued tokens: their expiry and whether they carry the `admin` role.
#[derive(Debug, Default)]
pub(crate) struct Keystone {
    tokens: BTreeMap<String, (DateTime<Utc>, bool)>,
    issued: u64,
}

/// The client method a Keystone request is (for scripted failures).
pub(crate) fn operation(method: &str, path: &str) -> &'static str {
    match (method, path.trim_end_matches('/')) {
        ("POST", "/v3/auth/tokens") => "issue_token",
        _ => "unknown",
    }
}

fn unauthorized() -> Reply {
    Reply::json(
        401,
        json!({"error": {"code": 401, "title": "Unauthorized",
            "message": "The request you have made requires authentication."}}),
    )
}

fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

impl Keystone {
    /// Whether `token` was issued and has not expired at `now`: `None`
    /// if not, else whether it carries the `admin` role.
    pub(crate) fn valid(&self, token: &str, now: DateTime<Utc>) -> Option<bool> {
        self.tokens.get(token).filter(|(expires, _)| *expires > now).map(|(_, admin)| *admin)
    }

    /// How many tokens were issued.
    pub(crate) fn issued(&self) -> u64 {
        self.issued
    }

    /// Every token issued so far expires.
    pub(crate) fn expire_all(&mut self) {
        self.tokens.clear();
    }

    pub(crate) fn handle(&mut self, operation: &str, body: &Value, now: DateTime<Utc>, base: &str) -> Reply {
        if operation != "issue_token" {
            return Reply::json(
                404,
                json!({"error": {"code": 404, "title": "Not Found",
                "message": "The resource could not be found."}}),
            );
        }
        let identity = &body["auth"]["identity"];
        let methods: Vec<&str> =
            identity["methods"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        // Who authenticated: `Some(admin)`, or `None` (refused).
        let accepted = match methods.first().copied() {
            Some("password") => {
                let user = &identity["password"]["user"];
                let (name, password) = (user["name"].as_str().or(user["id"].as_str()), user["password"].as_str());
                match (name, password) {
                    (Some(USER), Some(PASSWORD)) => Some(false),
                    (Some(ADMIN_USER), Some(ADMIN_PASSWORD)) => Some(true),
                    _ => None,
                }
            }
            Some("application_credential") => {
                let credential = &identity["application_credential"];
                (credential["id"].as_str() == Some(APPLICATION_CREDENTIAL.0)
                    && credential["secret"].as_str() == Some(APPLICATION_CREDENTIAL.1))
                .then_some(false)
            }
            Some("token") => identity["token"]["id"].as_str().and_then(|t| self.valid(t, now)),
            _ => {
                return Reply::fault(400, "badRequest", "Expecting to find identity methods in auth.");
            }
        };
        let Some(admin) = accepted else { return unauthorized() };
        self.issued += 1;
        let token = format!("fake-token-{:04}", self.issued);
        let expires = now + chrono::Duration::hours(1);
        self.tokens.insert(token.clone(), (expires, admin));
        let user = if admin { ADMIN_USER } else { USER };
        let roles = if admin {
            json!([{"id": "admin", "name": "admin"}, {"id": "member", "name": "member"}, {"id": "reader", "name": "reader"}])
        } else {
            json!([{"id": "member", "name": "member"}, {"id": "reader", "name": "reader"}])
        };
        let body = json!({"token": {
            "methods": [methods[0]],
            "audit_ids": [format!("audit-{:04}", self.issued)],
            "user": {"id": user, "name": user, "domain": {"id": "default", "name": "Default"}, "password_expires_at": null},
            "project": {"id": PROJECT, "name": PROJECT, "domain": {"id": "default", "name": "Default"}},
            "roles": roles,
            "issued_at": stamp(now),
            "expires_at": stamp(expires),
            "catalog": [
                {"type": "identity", "name": "keystone", "endpoints": [
                    {"interface": "public", "region": "RegionOne", "region_id": "RegionOne", "url": format!("{base}/identity/v3")}
                ]},
                {"type": "block-storage", "name": "cinder", "endpoints": [
                    {"interface": "public", "region": "RegionOne", "region_id": "RegionOne",
                     "url": format!("{base}/v3/{PROJECT}")}
                ]},
                {"type": "database", "name": "trove", "endpoints": [
                    {"interface": "public", "region": "RegionOne", "region_id": "RegionOne",
                     "url": format!("{base}/v1.0/{PROJECT}")}
                ]}
            ]
        }});
        typed::<types::TokenResponse>(201, body).header("x-subject-token", &token)
    }
}
