//! The session layer against mock Keystone and Cinder servers, with an
//! injected clock: authentication bodies, token expiry and 401 renewal,
//! catalog selection, microversion negotiation, clouds.yaml and OS_*
//! configuration, retries and fault injection, waiters, and secrets staying
//! out of Debug and errors (and of logs: `logs.rs`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use openstack_backups::auth::{AuthMethod, Domain, Project, Scope, User};
use openstack_backups::block_storage::types;
use openstack_backups::cloud::{CloudConfig, Environment, Interface};
use openstack_backups::retry::RetryPolicy;
use openstack_backups::wait::Waiter;
use openstack_backups::{ErrorKind, Microversion, Secret, Session};
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

mod mock_cloud;

use mock_cloud::*;

async fn requests_to(server: &MockServer, p: &str) -> Vec<Request> {
    server.received_requests().await.unwrap().into_iter().filter(|r| r.url.path() == p).collect()
}

#[tokio::test]
async fn password_auth_catalog_negotiation_and_a_call() {
    let server = MockServer::start().await;
    let clock = FakeClock::at(t0());
    keystone(&server, chrono::Duration::hours(1), clock.clone()).await;
    Mock::given(method("GET"))
        .and(path(format!("/v3/{PROJECT}/backups")))
        .and(header("x-auth-token", "tok-1"))
        .and(header("openstack-api-version", "volume 3.60"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"backups": []})))
        .mount(&server)
        .await;

    let session = password_session(&server, clock);
    let cinder = session.block_storage().await.unwrap();
    let page = cinder.list_backups().send().await.unwrap();
    assert!(page.backups.is_empty());

    let auth = requests_to(&server, "/identity/v3/auth/tokens").await;
    assert_eq!(auth.len(), 1, "one token for the whole session");
    let body: Value = serde_json::from_slice(&auth[0].body).unwrap();
    assert_eq!(
        body,
        json!({"auth": {
            "identity": {"methods": ["password"], "password": {"user": {"name": "demo", "domain": {"name": "Default"}, "password": PASSWORD}}},
            "scope": {"project": {"name": "demo", "domain": {"id": "default"}}}
        }})
    );
    // The catalog's volumev3 public endpoint, with the project filled in,
    // and the negotiated microversion: min(3.71 of the client, 3.60 of the server).
    let calls = requests_to(&server, &format!("/v3/{PROJECT}/backups")).await;
    assert_eq!(calls.len(), 1);

    let shown = format!("{session:?} {cinder:?}");
    assert!(!shown.contains(PASSWORD) && !shown.contains("tok-1"), "{shown}");
}

#[tokio::test]
async fn application_credential_and_token_bodies() {
    let server = MockServer::start().await;
    let clock = FakeClock::at(t0());
    keystone(&server, chrono::Duration::hours(1), clock.clone()).await;
    for (method_, expected) in [
        (
            AuthMethod::ApplicationCredential {
                id: Some("ac1".into()),
                name: None,
                user: None,
                secret: Secret::new("s3cr3t"),
            },
            json!({"methods": ["application_credential"], "application_credential": {"id": "ac1", "secret": "s3cr3t"}}),
        ),
        (
            AuthMethod::ApplicationCredential {
                id: None,
                name: Some("backup-bot".into()),
                user: Some(User::Id("u1".into())),
                secret: Secret::new("s3cr3t"),
            },
            json!({"methods": ["application_credential"], "application_credential": {"name": "backup-bot", "user": {"id": "u1"}, "secret": "s3cr3t"}}),
        ),
        (AuthMethod::Token(Secret::new("old-token")), json!({"methods": ["token"], "token": {"id": "old-token"}})),
    ] {
        server.reset().await;
        keystone(&server, chrono::Duration::hours(1), clock.clone()).await;
        let s = Session::builder()
            .auth_url(format!("{}/identity/v3", server.uri()))
            .auth(method_)
            .clock(clock.clone())
            .build()
            .unwrap();
        s.authenticate().await.unwrap();
        let sent = requests_to(&server, "/identity/v3/auth/tokens").await;
        let body: Value = serde_json::from_slice(&sent[0].body).unwrap();
        assert_eq!(body["auth"]["identity"], expected);
        assert!(body["auth"].get("scope").is_none(), "no scope unless asked");
        assert!(!format!("{s:?}").contains("s3cr3t") && !format!("{s:?}").contains("old-token"));
    }

    // A scope with an application credential is refused before sending.
    let err = Session::builder()
        .auth_url(server.uri())
        .auth(AuthMethod::ApplicationCredential {
            id: Some("ac1".into()),
            name: None,
            user: None,
            secret: Secret::new("x"),
        })
        .scope(Scope::System)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Configuration, "{err}");
}

/// Each scope in the shape Keystone expects: project by id or by name in a
/// domain, domain by id or name, the whole system.
#[tokio::test]
async fn scopes_are_sent_as_keystone_expects() {
    let server = MockServer::start().await;
    let clock = FakeClock::at(t0());
    keystone(&server, chrono::Duration::hours(1), clock.clone()).await;
    let cases = [
        (Scope::Project(Project::Id("p1".into())), json!({"project": {"id": "p1"}})),
        (
            Scope::Project(Project::Name { name: "demo".into(), domain: Domain::Name("Default".into()) }),
            json!({"project": {"name": "demo", "domain": {"name": "Default"}}}),
        ),
        (Scope::Domain(Domain::Id("d1".into())), json!({"domain": {"id": "d1"}})),
        (Scope::Domain(Domain::Name("Default".into())), json!({"domain": {"name": "Default"}})),
        (Scope::System, json!({"system": {"all": true}})),
    ];
    for (i, (scope, expected)) in cases.into_iter().enumerate() {
        let s = Session::builder()
            .auth_url(format!("{}/identity/v3", server.uri()))
            .auth(AuthMethod::Password { user: User::Id("u1".into()), password: Secret::new(PASSWORD) })
            .scope(scope)
            .clock(clock.clone())
            .build()
            .unwrap();
        s.authenticate().await.unwrap();
        let sent = requests_to(&server, "/identity/v3/auth/tokens").await;
        let body: Value = serde_json::from_slice(&sent[i].body).unwrap();
        assert_eq!(body["auth"]["scope"], expected, "case {i}");
    }
}

#[tokio::test]
async fn wrong_credentials_are_an_authentication_error_without_the_password() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(401)
                .insert_header("x-openstack-request-id", "req-401")
                .set_body_json(json!({"error": {"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}})),
        )
        .mount(&server)
        .await;
    let session = password_session(&server, FakeClock::at(t0()));
    let err = session.authenticate().await.unwrap_err();
    assert!(err.is_authentication(), "{err:?}");
    let text = err.to_string();
    assert_eq!(
        text,
        "authentication failed: The request you have made requires authentication. (HTTP 401), request id req-401"
    );
    // The session holds the password: neither it nor the error shows it.
    let shown = format!("{session:?} {err:?} {err}");
    assert!(!shown.contains(PASSWORD), "{shown}");
}

#[tokio::test]
async fn tokens_are_renewed_before_expiry_and_once_on_401() {
    let server = MockServer::start().await;
    let clock = FakeClock::at(t0());
    let issued = keystone(&server, chrono::Duration::minutes(10), clock.clone()).await;
    let backups = format!("/v3/{PROJECT}/backups");
    // tok-1 is refused once it has been replaced; tok-2 and tok-3 work.
    Mock::given(method("GET"))
        .and(path(backups.clone()))
        .and(header("x-auth-token", "tok-2"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"error": {"code": 401, "title": "Unauthorized", "message": "revoked"}})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(backups.clone()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"backups": []})))
        .mount(&server)
        .await;

    let cinder = password_session(&server, clock.clone()).block_storage().await.unwrap();
    cinder.list_backups().send().await.unwrap();
    assert_eq!(*issued.lock().unwrap(), 1);

    // Nine minutes later the token has less than the two-minute margin left.
    clock.advance(Duration::from_secs(9 * 60));
    cinder.list_backups().send().await.unwrap();
    assert_eq!(*issued.lock().unwrap(), 3, "renewed before expiry (tok-2), then once more after tok-2's 401 (tok-3)");
    let sent: Vec<String> = requests_to(&server, &backups)
        .await
        .iter()
        .map(|r| r.headers.get("x-auth-token").unwrap().to_str().unwrap().to_owned())
        .collect();
    assert_eq!(sent, ["tok-1", "tok-2", "tok-3"]);
}

/// A fake process environment: variables and files.
#[derive(Default)]
struct FakeEnv {
    vars: BTreeMap<String, String>,
    files: BTreeMap<PathBuf, String>,
}

impl Environment for FakeEnv {
    fn var(&self, name: &str) -> Option<String> {
        self.vars.get(name).cloned()
    }

    fn read(&self, path: &Path) -> Option<String> {
        self.files.get(path).cloned()
    }

    fn current_dir(&self) -> Option<PathBuf> {
        Some(PathBuf::from("/work/here"))
    }
}

#[test]
fn clouds_yaml_secure_yaml_and_os_cloud() {
    let mut env = FakeEnv::default();
    env.vars.insert("OS_CLOUD".into(), "mycloud".into());
    env.vars.insert("HOME".into(), "/home/me".into());
    env.files.insert(
        "/home/me/.config/openstack/clouds.yaml".into(),
        "clouds:\n  mycloud:\n    region_name: RegionTwo\n    interface: internal\n    block_storage_endpoint_override: https://cinder.example/v3/%(project_id)s\n    verify: false\n    auth:\n      auth_url: https://keystone.example:5000\n      username: demo\n      project_name: demo\n      user_domain_name: Users\n      project_domain_id: default\n".into(),
    );
    env.files.insert(
        "/etc/openstack/secure.yaml".into(),
        format!("clouds:\n  mycloud:\n    auth:\n      password: {PASSWORD}\n"),
    );
    let cloud = CloudConfig::from_environment(&env).unwrap();
    assert_eq!(cloud.name, "mycloud");
    assert_eq!(cloud.auth_url.as_deref(), Some("https://keystone.example:5000"));
    assert_eq!(cloud.region.as_deref(), Some("RegionTwo"));
    assert_eq!(cloud.interface, Interface::Internal);
    assert!(cloud.insecure);
    assert_eq!(cloud.endpoint_overrides["block_storage"], "https://cinder.example/v3/%(project_id)s");
    match &cloud.auth {
        Some(AuthMethod::Password { user, password }) => {
            assert_eq!(*user, User::Name { name: "demo".into(), domain: Domain::Name("Users".into()) });
            assert_eq!(password.expose(), PASSWORD, "secure.yaml is merged in");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        cloud.scope,
        Some(Scope::Project(Project::Name { name: "demo".into(), domain: Domain::Id("default".into()) }))
    );
    assert!(!format!("{cloud:?}").contains(PASSWORD));

    // A missing cloud names what the file has.
    env.vars.insert("OS_CLOUD".into(), "other".into());
    let err = CloudConfig::from_environment(&env).unwrap_err();
    assert!(err.to_string().contains("no cloud named \"other\" (it has [\"mycloud\"])"), "{err}");

    // OS_CLIENT_CONFIG_FILE wins over the standard places.
    env.vars.insert("OS_CLIENT_CONFIG_FILE".into(), "/tmp/c.yaml".into());
    env.files.insert("/tmp/c.yaml".into(), "clouds:\n  other:\n    auth_type: v3applicationcredential\n    auth:\n      auth_url: http://k\n      application_credential_id: ac1\n      application_credential_secret: s3\n".into());
    let cloud = CloudConfig::from_environment(&env).unwrap();
    assert!(
        matches!(cloud.auth, Some(AuthMethod::ApplicationCredential { ref id, .. }) if id.as_deref() == Some("ac1"))
    );
    assert_eq!(cloud.scope, None);
}

#[test]
fn os_variables() {
    let mut env = FakeEnv::default();
    for (k, v) in [
        ("OS_AUTH_URL", "http://keystone:5000/v3"),
        ("OS_USERNAME", "demo"),
        ("OS_PASSWORD", PASSWORD),
        ("OS_PROJECT_ID", "p1"),
        ("OS_USER_DOMAIN_ID", "default"),
        ("OS_REGION_NAME", "RegionOne"),
        ("OS_INTERFACE", "publicURL"),
        ("OS_CACERT", "/etc/ssl/cloud.pem"),
    ] {
        env.vars.insert(k.into(), v.into());
    }
    let cloud = CloudConfig::from_environment(&env).unwrap();
    assert_eq!(cloud.name, "envvars");
    assert_eq!(cloud.scope, Some(Scope::Project(Project::Id("p1".into()))));
    assert_eq!(cloud.cacert.as_deref(), Some(Path::new("/etc/ssl/cloud.pem")));
    assert_eq!(cloud.interface, Interface::Public);
    env.vars.insert("OS_INTERFACE".into(), "sideways".into());
    assert_eq!(
        CloudConfig::from_environment(&env).unwrap_err().to_string(),
        "configuration: OS_INTERFACE: interface must be public, internal or admin, not \"sideways\" (nothing was sent)"
    );
    env.vars.remove("OS_INTERFACE");
    env.vars.insert("OS_ENDPOINT_TYPE".into(), "privateURL".into());
    let err = CloudConfig::from_environment(&env).unwrap_err().to_string();
    assert!(err.contains("OS_ENDPOINT_TYPE: interface must be public, internal or admin, not \"privateURL\""), "{err}");
    env.vars.remove("OS_ENDPOINT_TYPE");
    env.vars.remove("OS_USERNAME");
    let err = CloudConfig::from_environment(&env).unwrap_err();
    assert_eq!(err.to_string(), "configuration: auth type password: username or user_id is missing (nothing was sent)");
}

/// keystoneauth's admin_token plugin: one `endpoint` for every service
/// (`OS_ENDPOINT`, or `endpoint` in clouds.yaml's auth section), under a
/// service's own override, which clouds.yaml may name by catalog type.
#[tokio::test]
async fn admin_token_endpoint_serves_every_service_without_its_own_override() {
    let endpoints = |cloud: CloudConfig| async move {
        let session = Session::builder().cloud(cloud).unwrap().build().unwrap();
        (
            session.endpoint("block_storage", &["block-storage"]).await.unwrap(),
            session.endpoint("database", &["database"]).await.unwrap(),
        )
    };
    let mut env = FakeEnv::default();
    for (k, v) in [
        ("OS_AUTH_TYPE", "admin_token"),
        ("OS_TOKEN", "t0k"),
        ("OS_ENDPOINT", "http://one.example/v1.0/p1"),
        ("OS_BLOCK_STORAGE_ENDPOINT_OVERRIDE", "http://cinder.example/v3/p1"),
    ] {
        env.vars.insert(k.into(), v.into());
    }
    let cloud = CloudConfig::from_environment(&env).unwrap();
    assert_eq!(cloud.endpoint.as_deref(), Some("http://one.example/v1.0/p1"));
    assert_eq!(
        endpoints(cloud).await,
        ("http://cinder.example/v3/p1".to_owned(), "http://one.example/v1.0/p1".to_owned())
    );

    // Not an admin_token cloud: OS_ENDPOINT is not an endpoint of anything.
    env.vars.insert("OS_AUTH_TYPE".into(), "token".into());
    env.vars.insert("OS_AUTH_URL".into(), "http://keystone.example/v3".into());
    assert_eq!(CloudConfig::from_environment(&env).unwrap().endpoint, None);

    let mut env = FakeEnv::default();
    env.vars.insert("OS_CLOUD".into(), "fixed".into());
    env.vars.insert("OS_CLIENT_CONFIG_FILE".into(), "/tmp/c.yaml".into());
    env.files.insert(
        "/tmp/c.yaml".into(),
        "clouds:\n  fixed:\n    auth_type: admin_token\n    volumev3_endpoint_override: http://cinder.example/v3\n    compute_endpoint_override: http://nova.example/v2.1\n    auth:\n      token: t0k\n      endpoint: http://one.example/v1.0\n".into(),
    );
    let cloud = CloudConfig::from_environment(&env).unwrap();
    assert_eq!(
        endpoints(cloud).await,
        ("http://cinder.example/v3".to_owned(), "http://one.example/v1.0".to_owned()),
        "volumev3_endpoint_override is block storage's"
    );
}

/// A service is named by its module or a catalog type; a name no service
/// has is refused when the session is built, not ignored.
#[test]
fn service_names_are_checked() {
    let built = Session::builder()
        .token("t0k", None)
        .endpoint_override("volumev3", "http://cinder.example/v3")
        .microversion("block-storage", Microversion::new(3, 40))
        .endpoint_override("database", "http://trove.example/v1.0")
        .build();
    assert!(built.is_ok(), "{:?}", built.err());
    for bad in [
        Session::builder().token("t0k", None).endpoint_override("blockstorage", "http://cinder.example/v3"),
        Session::builder().token("t0k", None).microversion("compute", Microversion::new(2, 1)),
    ] {
        let err = bad.build().unwrap_err().to_string();
        assert!(
            err.contains("no service is named") && err.contains("block_storage (block-storage, volumev3, volume)"),
            "{err}"
        );
    }
}

async fn cinder_only(
    retry: RetryPolicy,
    clock: Arc<FakeClock>,
) -> (MockServer, openstack_backups::block_storage::Client) {
    let server = MockServer::start().await;
    let client = openstack_backups::block_storage::Client::new(
        &format!("{}/v3/{PROJECT}", server.uri()),
        openstack_backups::ClientConfig::new().with_token("t").with_retry(retry).with_clock(clock),
    );
    (server, client)
}

fn no_jitter() -> RetryPolicy {
    RetryPolicy { jitter: false, ..RetryPolicy::default() }
}

#[tokio::test]
async fn retries_503_then_success_and_honours_retry_after() {
    let clock = FakeClock::at(t0());
    let (server, c) = cinder_only(no_jitter(), clock.clone()).await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503).insert_header("retry-after", "7"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(502)).up_to_n_times(1).mount(&server).await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"backups": []})))
        .mount(&server)
        .await;
    c.list_backups().send().await.unwrap();
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
    assert_eq!(clock.slept(), [Duration::from_secs(7), Duration::from_secs(1)], "Retry-After, then the second backoff");
}

#[tokio::test]
async fn a_post_is_not_replayed_after_a_503_and_retries_are_bounded() {
    let clock = FakeClock::at(t0());
    let (server, c) = cinder_only(no_jitter(), clock.clone()).await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(503).set_body_json(json!({"serviceUnavailable": {"code": 503, "message": "busy"}})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(504)).mount(&server).await;
    let body = types::BackupCreateRequest {
        backup: types::builder::BackupCreate::default().volume_id("v").try_into().unwrap(),
    };
    let err = c.create_backup().body(body).send().await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(server.received_requests().await.unwrap().len(), 1, "the POST went once");

    let err = c.list_backups().send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_eq!(server.received_requests().await.unwrap().len(), 1 + 4, "four attempts in all");
    assert_eq!(clock.slept().len(), 3);
}

/// A POST action is sent once on a 503, unless the retry policy names it
/// idempotent: `reset_backup_status` then retries like a PUT, while
/// `create_backup` still goes once. A name no operation table has is
/// refused when the session is built.
#[tokio::test]
async fn a_post_action_named_idempotent_is_retried_and_unknown_names_are_refused() {
    let reset = || types::BackupResetStatus { status: types::BackupResetStatusStatus::Error };
    let busy =
        || ResponseTemplate::new(503).set_body_json(json!({"serviceUnavailable": {"code": 503, "message": "busy"}}));
    let posts = |requests: Vec<Request>| requests.iter().filter(|r| r.method.as_str() == "POST").count();

    let (server, c) = cinder_only(no_jitter(), FakeClock::at(t0())).await;
    Mock::given(method("POST")).respond_with(busy()).mount(&server).await;
    let err = c.reset_backup_status("b1", reset()).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(err.operation(), Some("reset_backup_status"));
    assert_eq!(posts(server.received_requests().await.unwrap()), 1, "not idempotent by default");

    let clock = FakeClock::at(t0());
    let (server, c) = cinder_only(no_jitter().with_idempotent("reset_backup_status"), clock.clone()).await;
    Mock::given(method("POST")).respond_with(busy()).up_to_n_times(2).mount(&server).await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(202)).mount(&server).await;
    c.reset_backup_status("b1", reset()).await.unwrap();
    assert_eq!(posts(server.received_requests().await.unwrap()), 3, "two 503s, then accepted");
    assert_eq!(clock.slept(), [Duration::from_millis(500), Duration::from_secs(1)]);
    let body = types::BackupCreateRequest {
        backup: types::builder::BackupCreate::default().volume_id("v").try_into().unwrap(),
    };
    server.reset().await;
    Mock::given(method("POST")).respond_with(busy()).mount(&server).await;
    c.create_backup().body(body).send().await.unwrap_err();
    assert_eq!(posts(server.received_requests().await.unwrap()), 1, "only the named action");

    let err = Session::builder()
        .token("t", Some(PROJECT.into()))
        .retry(RetryPolicy::default().with_idempotent("reset_backup_state"))
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Configuration);
    assert!(err.to_string().contains("no operation is named `reset_backup_state`"), "{err}");
}

#[tokio::test]
async fn connection_resets_are_retried_for_idempotent_calls() {
    // A server that drops the first connection without answering, then
    // serves one proper response.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (first, _) = listener.accept().await.unwrap();
        drop(first);
        let (mut second, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 4096];
        let _ = second.read(&mut buf).await;
        let body = r#"{"backups": []}"#;
        let reply = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        second.write_all(reply.as_bytes()).await.unwrap();
    });
    let clock = FakeClock::at(t0());
    let c = openstack_backups::block_storage::Client::new(
        &format!("http://127.0.0.1:{port}/v3"),
        openstack_backups::ClientConfig::new().with_retry(no_jitter()).with_clock(clock.clone()),
    );
    c.list_backups().send().await.unwrap();
    assert_eq!(clock.slept().len(), 1);
}

#[tokio::test]
async fn malformed_json_and_slow_responses_have_their_own_kinds() {
    let (server, c) = cinder_only(RetryPolicy::none(), FakeClock::at(t0())).await;
    Mock::given(method("GET"))
        .and(path(format!("/v3/{PROJECT}/backups")))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("x-openstack-request-id", "req-bad")
                .set_body_raw("{\"backups\": [", "application/json"),
        )
        .mount(&server)
        .await;
    let err = c.list_backups().send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UndecodableResponse);
    assert!(
        err.to_string()
            .contains("list_backups: the HTTP 200 response (application/json) does not decode, request id req-bad"),
        "{err}"
    );

    let slow = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200).set_delay(Duration::from_secs(3)).set_body_json(json!({"backups": []})),
        )
        .mount(&slow)
        .await;
    let session = Session::builder()
        .token("t", Some(PROJECT.into()))
        .endpoint_override("block_storage", format!("{}/v3/%(project_id)s", slow.uri()))
        .timeout(Duration::from_millis(300))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let endpoint = session.endpoint("block_storage", &[]).await.unwrap();
    assert_eq!(endpoint, format!("{}/v3/{PROJECT}", slow.uri()));
    let err = session.block_storage().await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
}

fn backup_json(status: &str, fail_reason: Option<&str>) -> Value {
    json!({"backup": {
        "id": "b1", "status": status, "size": 1, "object_count": 0, "availability_zone": null, "container": null,
        "created_at": "2026-11-22T12:05:53.624993", "updated_at": null, "name": null, "description": null,
        "fail_reason": fail_reason, "volume_id": "v1", "links": [], "is_incremental": false,
        "has_dependent_backups": false, "snapshot_id": null, "data_timestamp": null}})
}

#[tokio::test]
async fn waiters_succeed_fail_fast_time_out_and_treat_404_as_deleted() {
    let clock = FakeClock::at(t0());
    let (server, c) = cinder_only(RetryPolicy::none(), clock.clone()).await;
    let show = format!("/v3/{PROJECT}/backups/b1");
    Mock::given(method("GET"))
        .and(path(show.clone()))
        .respond_with(ResponseTemplate::new(200).set_body_json(backup_json("creating", None)))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(show.clone()))
        .respond_with(ResponseTemplate::new(200).set_body_json(backup_json("available", None)))
        .mount(&server)
        .await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let waiter = Waiter::new().on_progress(move |p| log.lock().unwrap().push(p.status.map(str::to_owned)));
    let b = c.wait_for_backup("b1", types::BackupStatus::Available).with(&waiter).await.unwrap();
    assert_eq!(b.status, types::BackupStatus::Available);
    assert_eq!(
        *seen.lock().unwrap(),
        [Some("creating".to_owned()), Some("creating".to_owned()), Some("available".to_owned())]
    );
    assert_eq!(clock.slept(), [Duration::from_millis(500), Duration::from_millis(750)], "backoff grows");

    server.reset().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(backup_json("error", Some("volume went away"))))
        .mount(&server)
        .await;
    let err = c.wait_for_backup("b1", types::BackupStatus::Available).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::WaitFailed);
    assert_eq!(err.to_string(), "backup b1 went to error: volume went away");

    server.reset().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(backup_json("creating", None)))
        .mount(&server)
        .await;
    let err = c
        .wait_for_backup("b1", types::BackupStatus::Available)
        .with(&Waiter::new().timeout(Duration::from_secs(60)))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::WaitTimedOut);
    assert!(
        err.to_string()
            .starts_with("gave up waiting after 60.0 s for backup b1 to be available; last status: creating"),
        "{err}"
    );

    server.reset().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(backup_json("deleting", None)))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(json!({"itemNotFound": {"code": 404, "message": "gone"}})),
        )
        .mount(&server)
        .await;
    c.wait_for_backup_deleted("b1").await.unwrap();
}

/// A wait rides out looks that fail for a passing reason (a 503 burst, a
/// server that cannot be reached: an API process restarting) and ends with
/// the failure itself when its time runs out during one; a failure that
/// will not pass (403) ends it at the first look.
#[tokio::test]
async fn waiters_ride_out_a_server_that_fails_for_a_while() {
    let clock = FakeClock::at(t0());
    let (server, c) = cinder_only(RetryPolicy::none(), clock.clone()).await;
    let unavailable =
        || ResponseTemplate::new(503).set_body_json(json!({"computeFault": {"code": 503, "message": "restarting"}}));
    Mock::given(method("GET")).respond_with(unavailable()).up_to_n_times(3).mount(&server).await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(backup_json("available", None)))
        .mount(&server)
        .await;
    let b = c.wait_for_backup("b1", types::BackupStatus::Available).await.unwrap();
    assert_eq!(b.status, types::BackupStatus::Available);
    assert_eq!(server.received_requests().await.unwrap().len(), 4, "three 503s, then the backup");

    server.reset().await;
    Mock::given(method("GET")).respond_with(unavailable()).mount(&server).await;
    let err = c
        .wait_for_backup("b1", types::BackupStatus::Available)
        .with(&Waiter::new().timeout(Duration::from_secs(20)))
        .await
        .unwrap_err();
    assert_eq!((err.kind(), err.operation()), (ErrorKind::Server, Some("show_backup")), "{err}");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    let looks = server.received_requests().await.unwrap().len();
    assert!(looks > 3, "looked until the timeout: {looks}");

    server.reset().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(403).set_body_json(json!({"forbidden": {"code": 403, "message": "policy"}})),
        )
        .mount(&server)
        .await;
    let err = c.wait_for_backup("b1", types::BackupStatus::Available).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(403), "{err}");
    assert_eq!(server.received_requests().await.unwrap().len(), 1, "a 403 ends the wait at once");

    // Nothing listening: the wait goes on until its timeout, then says
    // the server could not be reached.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let gone = openstack_backups::block_storage::Client::new(
        &format!("http://127.0.0.1:{closed}/v3/{PROJECT}"),
        openstack_backups::ClientConfig::new()
            .with_token("t")
            .with_retry(RetryPolicy::none())
            .with_clock(clock.clone()),
    );
    let before = clock.slept().len();
    let err = gone
        .wait_for_backup("b1", types::BackupStatus::Available)
        .with(&Waiter::new().timeout(Duration::from_secs(5)))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    assert!(clock.slept().len() > before, "it looked again before giving up");
}

/// A Keystone-compatible server that leaves out what the session never
/// reads (`methods`, `user`, `issued_at`, `audit_ids`) still authenticates;
/// the negotiated microversion is readable on the service client.
#[tokio::test]
async fn a_lean_token_response_still_authenticates() {
    let server = MockServer::start().await;
    let clock = FakeClock::at(t0());
    let expires = (t0() + chrono::Duration::hours(1)).format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
    Mock::given(method("POST"))
        .and(path("/identity/v3/auth/tokens"))
        .respond_with(ResponseTemplate::new(201).insert_header("x-subject-token", "tok-lean").set_body_json(json!({
            "token": {"expires_at": expires, "project": {"id": PROJECT}, "catalog": catalog(&server.uri())}
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v3/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(versions("3.60")))
        .mount(&server)
        .await;
    let session = password_session(&server, clock);
    session.authenticate().await.unwrap();
    assert_eq!(session.project_id().await.unwrap().as_deref(), Some(PROJECT));
    let cinder = session.block_storage().await.unwrap();
    assert_eq!(cinder.microversion(), Some(Microversion::new(3, 60)), "negotiated: min(3.71, 3.60)");
}

/// Keystone's 401 names its fault by `title`; an unusable X-Subject-Token
/// is an authentication error, not a panic.
#[tokio::test]
async fn keystone_faults_and_odd_subject_tokens() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/identity/v3/auth/tokens"))
        .respond_with(
            ResponseTemplate::new(201).insert_header("x-subject-token", "   ").set_body_json(token_body_base(t0())),
        )
        .mount(&server)
        .await;
    let err = password_session(&server, FakeClock::at(t0())).authenticate().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Authentication);
    assert!(err.to_string().contains("Keystone answered with an empty X-Subject-Token"), "{err}");

    server.reset().await;
    let fault = json!({"error": {"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}});
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(401).set_body_json(&fault)).mount(&server).await;
    let cinder = openstack_backups::block_storage::Client::new(
        &format!("{}/v3", server.uri()),
        openstack_backups::ClientConfig::new().with_token("t").with_retry(RetryPolicy::none()),
    );
    let err = cinder.list_backups().send().await.unwrap_err();
    assert_eq!(err.fault().and_then(|f| f.name()), Some("Unauthorized"));
    assert!(err.to_string().contains("list_backups failed: HTTP 401 Unauthorized: The request you have made"), "{err}");
}

/// The renewal margin is the session builder's to set: with a margin
/// longer than the token's life, every call gets a fresh token.
#[tokio::test]
async fn the_renewal_margin_is_set_on_the_session() {
    let server = MockServer::start().await;
    let clock = FakeClock::at(t0());
    let issued = keystone(&server, chrono::Duration::minutes(10), clock.clone()).await;
    Mock::given(method("GET"))
        .and(path(format!("/v3/{PROJECT}/backups")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"backups": []})))
        .mount(&server)
        .await;
    let session = Session::builder()
        .auth_url(format!("{}/identity", server.uri()))
        .auth(AuthMethod::Password { user: User::Id("u1".into()), password: Secret::new(PASSWORD) })
        .scope(Scope::Project(Project::Id(PROJECT.into())))
        .clock(clock.clone())
        .renew_before(Duration::from_secs(11 * 60))
        .build()
        .unwrap();
    let cinder = session.block_storage().await.unwrap();
    let after_setup = *issued.lock().unwrap();
    cinder.list_backups().send().await.unwrap();
    cinder.list_backups().send().await.unwrap();
    assert_eq!(*issued.lock().unwrap(), after_setup + 2, "a token that expires inside the margin is replaced at once");

    // The default margin (two minutes) keeps a ten-minute token until
    // exactly two minutes are left: 7 min 59 s later it is still used,
    // 8 min later it is replaced.
    let session = password_session(&server, clock.clone());
    let cinder = session.block_storage().await.unwrap();
    let after_setup = *issued.lock().unwrap();
    cinder.list_backups().send().await.unwrap();
    assert_eq!(*issued.lock().unwrap(), after_setup);
    clock.advance(Duration::from_secs(7 * 60 + 59));
    cinder.list_backups().send().await.unwrap();
    assert_eq!(*issued.lock().unwrap(), after_setup, "more than the margin left");
    clock.advance(Duration::from_secs(1));
    cinder.list_backups().send().await.unwrap();
    assert_eq!(*issued.lock().unwrap(), after_setup + 1, "exactly the margin left: replaced");
}

/// The connect timeout is the session builder's to set. A server whose
/// accept queue is full never completes the handshake: the call ends after
/// the connect timeout, as a failure to connect (nothing reached the
/// server), before the whole request's timeout would end it.
#[tokio::test]
async fn the_connect_timeout_is_set_on_the_session() {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.bind(&std::net::SocketAddr::from(([127, 0, 0, 1], 0)).into()).unwrap();
    socket.listen(0).unwrap();
    let addr = socket.local_addr().unwrap().as_socket().unwrap();
    // Nothing accepts: once the queue holds one connection, handshakes wait.
    let mut held = Vec::new();
    for _ in 0..3 {
        if let Ok(Ok(stream)) =
            tokio::time::timeout(Duration::from_millis(200), tokio::net::TcpStream::connect(addr)).await
        {
            held.push(stream);
        }
    }
    let session = Session::builder()
        .token("t0k", None)
        .endpoint_override("block_storage", format!("http://{addr}/v3/p"))
        .connect_timeout(Duration::from_millis(300))
        .timeout(Duration::from_secs(5))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let err = session.block_storage().await.unwrap_err();
    match &err {
        openstack_backups::Error::CommunicationError(transport) => {
            assert!(!transport.may_have_reached_server(), "a connect timeout, not the request's: {err}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    drop(held);
}

/// `Debug` of the authentication and of its token says where and who
/// (Keystone's URL, the method and user, the scope, the token's expiry,
/// project and catalog size), and never the password or the token.
#[tokio::test]
async fn debug_of_the_authentication_shows_where_and_who_without_secrets() {
    let server = MockServer::start().await;
    let clock = FakeClock::at(t0());
    keystone(&server, chrono::Duration::hours(1), clock.clone()).await;
    let session = password_session(&server, clock.clone());
    session.authenticate().await.unwrap();
    let shown = format!("{session:?}");
    for part in [
        format!("KeystoneAuth {{ auth_url: \"{}/identity/v3\"", server.uri()),
        "Password { user: Name { name: \"demo\", domain: Name(\"Default\") }, password: <redacted> }".to_owned(),
        "scope: Some(Project(Name { name: \"demo\", domain: Id(\"default\") }))".to_owned(),
    ] {
        assert!(shown.contains(&part), "{part} in {shown}");
    }
    assert!(!shown.contains(PASSWORD) && !shown.contains("tok-1"), "{shown}");

    let auth = openstack_backups::auth::KeystoneAuth::new(
        &format!("{}/identity/v3/", server.uri()),
        reqwest::Client::new(),
        AuthMethod::Token(Secret::new("old-token")),
        Some(Scope::Project(Project::Id(PROJECT.into()))),
        openstack_backups::ClientConfig::new().with_clock(clock),
    )
    .unwrap();
    let info = auth.token_info(false).await.unwrap();
    assert_eq!(info.token.expose(), "tok-2");
    assert_eq!(
        format!("{info:?}"),
        format!(
            "TokenInfo {{ token: <redacted>, expires_at: 2026-11-22T13:00:00Z, project_id: Some(\"{PROJECT}\"), \
             catalog: [2 services] }}"
        )
    );
    let shown = format!("{auth:?}");
    assert!(shown.contains("method: Token(<redacted>)") && !shown.contains("old-token"), "{shown}");
}

/// A snapshot's progress reaches the waiter's callback (the spec's
/// `x-openstack-waiter.progress`), look by look.
#[tokio::test]
async fn waiters_report_the_servers_progress() {
    let (server, c) = cinder_only(RetryPolicy::none(), FakeClock::at(t0())).await;
    let snapshot = |status: &str, progress: &str| {
        json!({"snapshot": {"id": "s1", "created_at": "2026-11-22T12:05:53.624993", "updated_at": null, "name": null,
            "description": null, "volume_id": "v1", "status": status, "size": 1, "metadata": {},
            "os-extended-snapshot-attributes:progress": progress}})
    };
    for (status, progress) in [("creating", "40%"), ("creating", "90%")] {
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(200).set_body_json(snapshot(status, progress)))
            .up_to_n_times(1)
            .mount(&server)
            .await;
    }
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(snapshot("available", "100%")))
        .mount(&server)
        .await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let waiter = Waiter::new().on_progress(move |p| log.lock().unwrap().push(p.progress.clone()));
    c.wait_for_snapshot("s1", types::SnapshotStatus::Available).with(&waiter).await.unwrap();
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen, [Some("40%".to_owned()), Some("90%".to_owned()), Some("100%".to_owned())]);
}
