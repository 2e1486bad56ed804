//! A real Keystone 30 in front of a real Cinder 29 (`auth_strategy =
//! keystone`), provisioned for tests: a `demo` project with a `demo` member
//! user, the `block-storage` and `volumev3` services in the catalog, and a
//! recording proxy in front of Keystone.

use openstack_backups_harness::{Cinder, KEYSTONE_ADMIN_PASSWORD, Keystone, KeystoneAuthtoken, Options};
use serde_json::{Value, json};

use crate::proxy::Proxy;

/// The `demo` user's password.
pub const DEMO_PASSWORD: &str = "demo-pa55word";
const SERVICE_PASSWORD: &str = "cinder-service-pa55";

/// Keystone's admin API, just enough to provision the test world.
pub struct Admin {
    /// The HTTP client.
    pub http: reqwest::Client,
    /// Keystone's `/v3` URL.
    pub url: String,
    /// The token the calls carry.
    pub token: String,
}

impl Admin {
    /// A token for `auth`, and Keystone's answer.
    pub async fn token(http: &reqwest::Client, url: &str, auth: Value) -> Result<(String, Value), String> {
        let r = http
            .post(format!("{url}/auth/tokens"))
            .json(&json!({"auth": auth}))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let token = r.headers().get("x-subject-token").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let status = r.status();
        let body: Value = r.json().await.map_err(|e| e.to_string())?;
        match token {
            Some(t) if status.as_u16() == 201 => Ok((t, body)),
            _ => Err(format!("token: HTTP {status}: {body}")),
        }
    }

    /// Calls Keystone's API with the admin token.
    pub async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<Value, String> {
        let mut req =
            self.http.request(method.clone(), format!("{}{path}", self.url)).header("x-auth-token", &self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.map_err(|e| e.to_string())?;
        let status = r.status();
        let text = r.text().await.map_err(|e| e.to_string())?;
        if !status.is_success() {
            return Err(format!("{method} {path}: HTTP {status}: {text}"));
        }
        Ok(if text.is_empty() { Value::Null } else { serde_json::from_str(&text).map_err(|e| e.to_string())? })
    }

    /// Creates a resource, returns its id.
    pub async fn create(&self, path: &str, key: &str, body: Value) -> Result<String, String> {
        let v = self.call(reqwest::Method::POST, path, Some(json!({ key: body }))).await?;
        v[key]["id"].as_str().map(str::to_owned).ok_or_else(|| format!("{path}: no id in {v}"))
    }

    /// A role's id by name.
    pub async fn role(&self, name: &str) -> Result<String, String> {
        let v = self.call(reqwest::Method::GET, &format!("/roles?name={name}"), None).await?;
        v["roles"][0]["id"].as_str().map(str::to_owned).ok_or_else(|| format!("no role {name}"))
    }
}

/// The provisioned servers and who is who.
pub struct World {
    /// Keystone's `/v3` URL, through the recording proxy.
    pub keystone_url: String,
    /// The proxy in front of Keystone.
    pub proxy: Proxy,
    /// The `demo` user's id.
    pub demo_user: String,
    /// The `demo` project's id.
    pub demo_project: String,
    /// The Cinder that validates tokens with this Keystone.
    pub cinder: Cinder,
    /// Keystone itself (behind the proxy), for a restart.
    pub keystone: std::sync::Mutex<Keystone>,
}

/// Starts Keystone, provisions it, starts Cinder in front of it.
pub async fn provision() -> Result<World, String> {
    let keystone =
        tokio::task::spawn_blocking(Keystone::start).await.map_err(|e| e.to_string())?.map_err(|e| e.to_string())?;
    let url = keystone.auth_url();
    let http = reqwest::Client::new();
    let (token, body) = Admin::token(
        &http,
        &url,
        json!({"identity": {"methods": ["password"], "password": {"user": {"name": "admin", "domain": {"id": "default"}, "password": KEYSTONE_ADMIN_PASSWORD}}},
               "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}),
    )
    .await?;
    let admin_project = body["token"]["project"]["id"].as_str().ok_or("admin project")?.to_owned();
    let admin = Admin { http, url: url.clone(), token: token.clone() };

    let demo_project = admin.create("/projects", "project", json!({"name": "demo", "domain_id": "default"})).await?;
    let demo_user = admin
        .create("/users", "user", json!({"name": "demo", "domain_id": "default", "password": DEMO_PASSWORD, "default_project_id": demo_project}))
        .await?;
    let member = admin.role("member").await?;
    admin
        .call(reqwest::Method::PUT, &format!("/projects/{demo_project}/users/{demo_user}/roles/{member}"), None)
        .await?;
    let service_project =
        admin.create("/projects", "project", json!({"name": "service", "domain_id": "default"})).await?;
    let cinder_user = admin
        .create("/users", "user", json!({"name": "cinder", "domain_id": "default", "password": SERVICE_PASSWORD}))
        .await?;
    let service_role = admin.role("service").await?;
    admin
        .call(
            reqwest::Method::PUT,
            &format!("/projects/{service_project}/users/{cinder_user}/roles/{service_role}"),
            None,
        )
        .await?;

    let port = openstack_backups_harness::pick_port().map_err(|e| e.to_string())?;
    for service_type in ["block-storage", "volumev3"] {
        let service = admin
            .create("/services", "service", json!({"type": service_type, "name": format!("cinder-{service_type}")}))
            .await?;
        for interface in ["public", "internal", "admin"] {
            admin
                .create(
                    "/endpoints",
                    "endpoint",
                    json!({"service_id": service, "interface": interface, "region_id": "RegionOne",
                           "url": format!("http://127.0.0.1:{port}/v3/%(project_id)s")}),
                )
                .await?;
        }
    }
    let options = Options {
        keystone: Some(KeystoneAuthtoken {
            auth_url: url.clone(),
            username: "cinder".into(),
            password: SERVICE_PASSWORD.into(),
            project_name: "service".into(),
            admin_token: token,
            admin_project,
        }),
        port: Some(port),
        ..Options::default()
    };
    let cinder = tokio::task::spawn_blocking(move || Cinder::start_with(options))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    let proxy = Proxy::start(url.trim_end_matches("/v3").to_owned()).await;
    Ok(World {
        keystone_url: format!("{}/v3", proxy.url()),
        proxy,
        demo_user,
        demo_project,
        cinder,
        keystone: std::sync::Mutex::new(keystone),
    })
}
