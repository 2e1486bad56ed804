//! Cloud configuration the way OpenStack users keep it: `clouds.yaml` and
//! `secure.yaml` (merged, `secure.yaml` winning), `OS_CLOUD`, and the `OS_*`
//! environment variables.
//!
//! Files are looked for in this order: `OS_CLIENT_CONFIG_FILE` (and
//! `OS_CLIENT_SECURE_FILE`), the current folder, the user's config folder
//! (`$XDG_CONFIG_HOME/openstack`, else `~/.config/openstack`), and
//! `/etc/openstack`. The first file found is used.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::auth::{AuthMethod, Domain, Project, Scope, User};
use crate::{Error, Secret};

/// Which catalog endpoint to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Interface {
    /// `public` (the default).
    #[default]
    Public,
    /// `internal`.
    Internal,
    /// `admin`.
    Admin,
}

impl Interface {
    /// Parses `public`, `publicURL`, `internal`, `internalURL`, `admin`, `adminURL`.
    pub fn parse(text: &str) -> Result<Self, Error> {
        match text.trim_end_matches("URL").to_ascii_lowercase().as_str() {
            "public" => Ok(Self::Public),
            "internal" => Ok(Self::Internal),
            "admin" => Ok(Self::Admin),
            _ => Err(Error::Configuration(format!("interface must be public, internal or admin, not {text:?}"))),
        }
    }

    /// The catalog's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Internal => "internal",
            Self::Admin => "admin",
        }
    }
}

/// One cloud's settings. `Debug` hides every secret.
#[derive(Debug, Clone, Default)]
pub struct CloudConfig {
    /// The cloud's name (`OS_CLOUD`), or `envvars` for `OS_*` variables.
    pub name: String,
    /// Keystone's URL.
    pub auth_url: Option<String>,
    /// How to authenticate.
    pub auth: Option<AuthMethod>,
    /// What to scope the token to.
    pub scope: Option<Scope>,
    /// `region_name`.
    pub region: Option<String>,
    /// `interface`.
    pub interface: Interface,
    /// `<service>_endpoint_override`, by service type (`block_storage`, `database`).
    pub endpoint_overrides: BTreeMap<String, String>,
    /// `cacert`: a PEM file of extra trusted roots.
    pub cacert: Option<PathBuf>,
    /// `verify: false` (or `OS_INSECURE`): no certificate checks.
    pub insecure: bool,
    /// `block_storage_api_version` / `volume_api_version`: a microversion pin.
    pub block_storage_microversion: Option<String>,
    /// `auth_type: admin_token`: a token used as it is, without Keystone
    /// (every service then needs an endpoint: its override, or
    /// [`endpoint`](Self::endpoint)), with the project id that fills
    /// `%(project_id)s`.
    pub fixed_token: Option<(Secret, Option<String>)>,
    /// With `admin_token`: the auth section's `endpoint` (`OS_ENDPOINT`),
    /// which keystoneauth's admin_token plugin uses for every service that
    /// has no override of its own.
    pub endpoint: Option<String>,
}

/// Where to read files and variables from; the real process by default.
pub trait Environment {
    /// An environment variable.
    fn var(&self, name: &str) -> Option<String>;
    /// A file's contents, if it exists.
    fn read(&self, path: &Path) -> Option<String>;
    /// The current folder.
    fn current_dir(&self) -> Option<PathBuf>;
}

/// The process's environment and file system.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnvironment;

impl Environment for ProcessEnvironment {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }

    fn read(&self, path: &Path) -> Option<String> {
        std::fs::read_to_string(path).ok()
    }

    fn current_dir(&self) -> Option<PathBuf> {
        std::env::current_dir().ok()
    }
}

fn candidates(env: &dyn Environment, file: &str, explicit: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(p) = env.var(explicit) {
        out.push(PathBuf::from(p));
    }
    if let Some(cwd) = env.current_dir() {
        out.push(cwd.join(file));
    }
    match (env.var("XDG_CONFIG_HOME"), env.var("HOME")) {
        (Some(xdg), _) => out.push(Path::new(&xdg).join("openstack").join(file)),
        (None, Some(home)) => out.push(Path::new(&home).join(".config/openstack").join(file)),
        _ => {}
    }
    out.push(Path::new("/etc/openstack").join(file));
    out
}

fn load_yaml(env: &dyn Environment, file: &str, explicit: &str) -> Result<Option<(PathBuf, Value)>, Error> {
    for path in candidates(env, file, explicit) {
        if let Some(text) = env.read(&path) {
            let value: Value = serde_norway::from_str(&text)
                .map_err(|e| Error::Configuration(format!("{}: not valid YAML: {e}", path.display())))?;
            return Ok(Some((path, value)));
        }
    }
    Ok(None)
}

fn merge(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                merge(b.entry(k).or_insert(Value::Null), v);
            }
        }
        (b, o) => *b = o,
    }
}

impl CloudConfig {
    /// `OS_CLOUD` from `clouds.yaml` when set, else the `OS_*` variables.
    pub fn from_env() -> Result<Self, Error> {
        Self::from_environment(&ProcessEnvironment)
    }

    /// As [`from_env`](Self::from_env), reading `env`.
    pub fn from_environment(env: &dyn Environment) -> Result<Self, Error> {
        match env.var("OS_CLOUD") {
            Some(name) => Self::named_in(env, &name),
            None => Self::from_variables(env),
        }
    }

    /// The cloud `name` of `clouds.yaml` (merged with `secure.yaml`).
    pub fn named(name: &str) -> Result<Self, Error> {
        Self::named_in(&ProcessEnvironment, name)
    }

    /// As [`named`](Self::named), reading `env`.
    pub fn named_in(env: &dyn Environment, name: &str) -> Result<Self, Error> {
        let (path, clouds) = load_yaml(env, "clouds.yaml", "OS_CLIENT_CONFIG_FILE")?.ok_or_else(|| {
            Error::Configuration(format!(
                "cloud {name:?}: no clouds.yaml found (looked at {})",
                candidates(env, "clouds.yaml", "OS_CLIENT_CONFIG_FILE")
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
        let mut cloud = clouds.pointer(&format!("/clouds/{name}")).cloned().ok_or_else(|| {
            let known: Vec<String> = clouds
                .get("clouds")
                .and_then(Value::as_object)
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default();
            Error::Configuration(format!("{}: no cloud named {name:?} (it has {known:?})", path.display()))
        })?;
        if let Some((_, secure)) = load_yaml(env, "secure.yaml", "OS_CLIENT_SECURE_FILE")?
            && let Some(extra) = secure.pointer(&format!("/clouds/{name}")).cloned()
        {
            merge(&mut cloud, extra);
        }
        Self::from_value(name, &cloud).map_err(|e| match e {
            Error::Configuration(m) => Error::Configuration(format!("{} cloud {name:?}: {m}", path.display())),
            other => other,
        })
    }

    /// A cloud from its `clouds.yaml` entry.
    pub fn from_value(name: &str, cloud: &Value) -> Result<Self, Error> {
        let s = |v: &Value, key: &str| {
            v.get(key).and_then(|x| match x {
                Value::String(s) if !s.is_empty() => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
        };
        let auth = cloud.get("auth").cloned().unwrap_or(Value::Null);
        let get = |key: &str| s(&auth, key);
        let auth_type = s(cloud, "auth_type");
        let mut config = CloudConfig { name: name.to_owned(), auth_url: get("auth_url"), ..Default::default() };
        config.region = s(cloud, "region_name");
        if let Some(i) = s(cloud, "interface") {
            config.interface = Interface::parse(&i)?;
        }
        for (key, value) in cloud.as_object().into_iter().flatten() {
            if let (Some(service), Some(url)) = (key.strip_suffix("_endpoint_override"), value.as_str()) {
                config.endpoint_overrides.insert(service.replace('-', "_"), url.to_owned());
            }
        }
        config.cacert = s(cloud, "cacert").map(PathBuf::from);
        config.insecure = match cloud.get("verify") {
            Some(Value::Bool(b)) => !b,
            Some(Value::String(v)) => matches!(v.to_ascii_lowercase().as_str(), "false" | "no" | "0"),
            _ => false,
        };
        config.block_storage_microversion =
            s(cloud, "block_storage_api_version").or_else(|| s(cloud, "volume_api_version"));
        let fields = AuthFields {
            auth_type,
            username: get("username"),
            user_id: get("user_id"),
            password: get("password"),
            token: get("token"),
            project_name: get("project_name").or_else(|| get("tenant_name")),
            project_id: get("project_id").or_else(|| get("tenant_id")),
            user_domain_name: get("user_domain_name"),
            user_domain_id: get("user_domain_id"),
            project_domain_name: get("project_domain_name"),
            project_domain_id: get("project_domain_id"),
            domain_name: get("domain_name"),
            domain_id: get("domain_id"),
            system_scope: get("system_scope"),
            app_cred_id: get("application_credential_id"),
            app_cred_name: get("application_credential_name"),
            app_cred_secret: get("application_credential_secret"),
            endpoint: get("endpoint"),
        };
        if fields.is_admin_token() {
            config.fixed_token = Some(fields.fixed_token()?);
            config.endpoint = fields.endpoint.clone();
        } else {
            (config.auth, config.scope) = fields.resolve()?;
        }
        Ok(config)
    }

    /// A cloud from the `OS_*` environment variables.
    pub fn from_variables(env: &dyn Environment) -> Result<Self, Error> {
        let v = |name: &str| env.var(name);
        let mut config = CloudConfig { name: "envvars".to_owned(), auth_url: v("OS_AUTH_URL"), ..Default::default() };
        config.region = v("OS_REGION_NAME");
        if let Some(i) = v("OS_INTERFACE").or_else(|| v("OS_ENDPOINT_TYPE")) {
            config.interface = Interface::parse(&i)?;
        }
        config.cacert = v("OS_CACERT").map(PathBuf::from);
        config.insecure =
            v("OS_INSECURE").is_some_and(|x| matches!(x.to_ascii_lowercase().as_str(), "true" | "1" | "yes"));
        for (var, service) in
            [("OS_BLOCK_STORAGE_ENDPOINT_OVERRIDE", "block_storage"), ("OS_DATABASE_ENDPOINT_OVERRIDE", "database")]
        {
            if let Some(url) = v(var) {
                config.endpoint_overrides.insert(service.to_owned(), url);
            }
        }
        config.block_storage_microversion = v("OS_BLOCK_STORAGE_API_VERSION").or_else(|| v("OS_VOLUME_API_VERSION"));
        let fields = AuthFields {
            auth_type: v("OS_AUTH_TYPE"),
            username: v("OS_USERNAME"),
            user_id: v("OS_USER_ID"),
            password: v("OS_PASSWORD"),
            token: v("OS_TOKEN"),
            project_name: v("OS_PROJECT_NAME").or_else(|| v("OS_TENANT_NAME")),
            project_id: v("OS_PROJECT_ID").or_else(|| v("OS_TENANT_ID")),
            user_domain_name: v("OS_USER_DOMAIN_NAME"),
            user_domain_id: v("OS_USER_DOMAIN_ID"),
            project_domain_name: v("OS_PROJECT_DOMAIN_NAME"),
            project_domain_id: v("OS_PROJECT_DOMAIN_ID"),
            domain_name: v("OS_DOMAIN_NAME"),
            domain_id: v("OS_DOMAIN_ID"),
            system_scope: v("OS_SYSTEM_SCOPE"),
            app_cred_id: v("OS_APPLICATION_CREDENTIAL_ID"),
            app_cred_name: v("OS_APPLICATION_CREDENTIAL_NAME"),
            app_cred_secret: v("OS_APPLICATION_CREDENTIAL_SECRET"),
            endpoint: v("OS_ENDPOINT"),
        };
        if fields.is_admin_token() {
            config.fixed_token = Some(fields.fixed_token()?);
            config.endpoint = fields.endpoint.clone();
        } else {
            (config.auth, config.scope) = fields.resolve()?;
        }
        Ok(config)
    }
}

struct AuthFields {
    auth_type: Option<String>,
    username: Option<String>,
    user_id: Option<String>,
    password: Option<String>,
    token: Option<String>,
    project_name: Option<String>,
    project_id: Option<String>,
    user_domain_name: Option<String>,
    user_domain_id: Option<String>,
    project_domain_name: Option<String>,
    project_domain_id: Option<String>,
    domain_name: Option<String>,
    domain_id: Option<String>,
    system_scope: Option<String>,
    app_cred_id: Option<String>,
    app_cred_name: Option<String>,
    app_cred_secret: Option<String>,
    /// admin_token's one endpoint for every service.
    endpoint: Option<String>,
}

impl fmt::Debug for AuthFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuthFields { <redacted> }")
    }
}

impl AuthFields {
    fn domain(id: &Option<String>, name: &Option<String>) -> Option<Domain> {
        id.clone().map(Domain::Id).or_else(|| name.clone().map(Domain::Name))
    }

    /// The domain of a name: the specific one, else `domain_*`, else `default`.
    fn domain_for(&self, id: &Option<String>, name: &Option<String>) -> Domain {
        Self::domain(id, name)
            .or_else(|| Self::domain(&self.domain_id, &self.domain_name))
            .unwrap_or_else(|| Domain::Id("default".to_owned()))
    }

    fn user(&self) -> Option<User> {
        match (&self.user_id, &self.username) {
            (Some(id), _) => Some(User::Id(id.clone())),
            (None, Some(name)) => Some(User::Name {
                name: name.clone(),
                domain: self.domain_for(&self.user_domain_id, &self.user_domain_name),
            }),
            (None, None) => None,
        }
    }

    fn is_admin_token(&self) -> bool {
        matches!(self.auth_type.as_deref(), Some("admin_token" | "noauth"))
    }

    fn fixed_token(&self) -> Result<(Secret, Option<String>), Error> {
        let token = self
            .token
            .clone()
            .ok_or_else(|| Error::Configuration("auth type admin_token: token is missing".to_owned()))?;
        Ok((Secret::new(token), self.project_id.clone()))
    }

    fn resolve(self) -> Result<(Option<AuthMethod>, Option<Scope>), Error> {
        let kind = match self.auth_type.as_deref().map(|t| t.trim_start_matches("v3").replace(['-', '_'], "")) {
            Some(t) => t,
            None if self.app_cred_secret.is_some() => "applicationcredential".to_owned(),
            None if self.token.is_some() && self.password.is_none() => "token".to_owned(),
            None if self.password.is_some() => "password".to_owned(),
            None => return Ok((None, None)),
        };
        let scope = if let Some(id) = &self.project_id {
            Some(Scope::Project(Project::Id(id.clone())))
        } else if let Some(name) = &self.project_name {
            Some(Scope::Project(Project::Name {
                name: name.clone(),
                domain: self.domain_for(&self.project_domain_id, &self.project_domain_name),
            }))
        } else if self.system_scope.as_deref() == Some("all") {
            Some(Scope::System)
        } else {
            Self::domain(&self.domain_id, &self.domain_name).map(Scope::Domain)
        };
        let missing = |what: &str| Error::Configuration(format!("auth type {kind}: {what} is missing"));
        let method = match kind.as_str() {
            "password" => AuthMethod::Password {
                user: self.user().ok_or_else(|| missing("username or user_id"))?,
                password: Secret::new(self.password.clone().ok_or_else(|| missing("password"))?),
            },
            "applicationcredential" => {
                let secret =
                    Secret::new(self.app_cred_secret.clone().ok_or_else(|| missing("application_credential_secret"))?);
                return Ok((
                    Some(AuthMethod::ApplicationCredential {
                        id: self.app_cred_id.clone(),
                        name: self.app_cred_name.clone(),
                        user: self.user(),
                        secret,
                    }),
                    None,
                ));
            }
            "token" => AuthMethod::Token(Secret::new(self.token.clone().ok_or_else(|| missing("token"))?)),
            other => {
                return Err(Error::Configuration(format!(
                    "auth type {other:?} is not supported (password, v3applicationcredential, token)"
                )));
            }
        };
        Ok((Some(method), scope))
    }
}
