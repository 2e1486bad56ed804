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
        let named = |name: &'static str| v(name).map(|value| (name, value));
        if let Some((name, i)) = named("OS_INTERFACE").or_else(|| named("OS_ENDPOINT_TYPE")) {
            // The error names the variable, as clouds.yaml's name the file and cloud.
            config.interface = Interface::parse(&i).map_err(|e| match e {
                Error::Configuration(m) => Error::Configuration(format!("{name}: {m}")),
                other => other,
            })?;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Variables and files of a made-up machine.
    #[derive(Default)]
    struct Machine {
        vars: BTreeMap<&'static str, &'static str>,
        files: BTreeMap<PathBuf, &'static str>,
        cwd: Option<&'static str>,
    }

    impl Machine {
        fn var(mut self, name: &'static str, value: &'static str) -> Self {
            self.vars.insert(name, value);
            self
        }

        fn file(mut self, path: &str, text: &'static str) -> Self {
            self.files.insert(PathBuf::from(path), text);
            self
        }
    }

    impl Environment for Machine {
        fn var(&self, name: &str) -> Option<String> {
            self.vars.get(name).map(|v| (*v).to_owned())
        }

        fn read(&self, path: &Path) -> Option<String> {
            self.files.get(path).map(|t| (*t).to_owned())
        }

        fn current_dir(&self) -> Option<PathBuf> {
            self.cwd.map(PathBuf::from)
        }
    }

    fn message(result: Result<CloudConfig, Error>) -> String {
        match result {
            Ok(config) => panic!("expected an error, got {config:?}"),
            Err(e) => e.to_string(),
        }
    }

    const CLOUD: &str = "clouds: {c: {auth: {auth_url: 'http://k/v3', token: t}, region_name: r1}}";

    #[test]
    fn the_process_environment_is_the_real_one() {
        // cargo sets these for the tests it runs.
        assert_eq!(ProcessEnvironment.var("CARGO_PKG_NAME").as_deref(), Some("openstack-backups"));
        assert_eq!(ProcessEnvironment.var("OPENSTACK_BACKUPS_SURELY_UNSET"), None);
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
        assert!(ProcessEnvironment.read(&manifest).is_some_and(|t| t.contains("name = \"openstack-backups\"")));
        assert_eq!(ProcessEnvironment.read(&manifest.with_file_name("no-such-file")), None);
        assert_eq!(ProcessEnvironment.current_dir(), std::env::current_dir().ok());
        // The process's own cloud: `OS_CLOUD`'s, else the variables'.
        let expected = std::env::var("OS_CLOUD").ok().filter(|v| !v.is_empty()).unwrap_or_else(|| "envvars".to_owned());
        if let Ok(config) = CloudConfig::from_env() {
            assert_eq!(config.name, expected);
        }
        let e = CloudConfig::named("openstack-backups-no-such-cloud").unwrap_err().to_string();
        assert!(e.contains("no clouds.yaml found") || e.contains("no cloud named"), "{e}");
    }

    #[test]
    fn interfaces_as_keystoneauth_spells_them() {
        for (text, interface) in [
            ("public", Interface::Public),
            ("publicURL", Interface::Public),
            ("internal", Interface::Internal),
            ("internalURL", Interface::Internal),
            ("admin", Interface::Admin),
            ("adminURL", Interface::Admin),
            ("Admin", Interface::Admin),
        ] {
            let parsed = Interface::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(parsed, interface, "{text}");
        }
        let e = Interface::parse("private").unwrap_err().to_string();
        assert_eq!(e, "configuration: interface must be public, internal or admin, not \"private\" (nothing was sent)");
        assert_eq!(Interface::Internal.as_str(), "internal");
    }

    /// `OS_CLIENT_CONFIG_FILE`, the current folder, the user's folder
    /// (`XDG_CONFIG_HOME`, else `HOME`), `/etc/openstack`: the first found
    /// is read.
    #[test]
    fn files_are_looked_for_in_order() {
        let other = "clouds: {c: {auth: {auth_url: 'http://other/v3', token: t}}}";
        let all = || {
            Machine { cwd: Some("/work"), ..Default::default() }
                .var("OS_CLIENT_CONFIG_FILE", "/mine/clouds.yaml")
                .var("XDG_CONFIG_HOME", "/xdg")
                .var("HOME", "/home/me")
                .file("/mine/clouds.yaml", CLOUD)
                .file("/work/clouds.yaml", other)
                .file("/xdg/openstack/clouds.yaml", other)
                .file("/home/me/.config/openstack/clouds.yaml", other)
                .file("/etc/openstack/clouds.yaml", other)
        };
        let url = |m: &Machine| CloudConfig::named_in(m, "c").unwrap().auth_url.unwrap();
        assert_eq!(url(&all()), "http://k/v3");
        let mut m = all();
        m.files.remove(Path::new("/mine/clouds.yaml"));
        m.files.insert(PathBuf::from("/work/clouds.yaml"), CLOUD);
        assert_eq!(url(&m), "http://k/v3", "the current folder next");
        m.files.remove(Path::new("/work/clouds.yaml"));
        m.files.insert(PathBuf::from("/xdg/openstack/clouds.yaml"), CLOUD);
        assert_eq!(url(&m), "http://k/v3", "then XDG_CONFIG_HOME, before HOME");
        m.vars.remove("XDG_CONFIG_HOME");
        m.files.insert(PathBuf::from("/home/me/.config/openstack/clouds.yaml"), CLOUD);
        m.files.insert(PathBuf::from("/xdg/openstack/clouds.yaml"), other);
        assert_eq!(url(&m), "http://k/v3", "then HOME");

        let none = Machine { cwd: Some("/work"), ..Default::default() }.var("HOME", "/home/me");
        assert_eq!(
            message(CloudConfig::named_in(&none, "c")),
            "configuration: cloud \"c\": no clouds.yaml found (looked at /work/clouds.yaml, \
             /home/me/.config/openstack/clouds.yaml, /etc/openstack/clouds.yaml) (nothing was sent)"
        );
        let etc = Machine::default().file("/etc/openstack/clouds.yaml", CLOUD);
        assert_eq!(url(&etc), "http://k/v3");
        let unknown = message(CloudConfig::named_in(&etc, "d"));
        assert!(unknown.contains("/etc/openstack/clouds.yaml: no cloud named \"d\" (it has [\"c\"])"), "{unknown}");
        let broken = Machine::default().file("/etc/openstack/clouds.yaml", "clouds: [");
        assert!(message(CloudConfig::named_in(&broken, "c")).contains("/etc/openstack/clouds.yaml: not valid YAML"));
    }

    /// `secure.yaml` is merged into the cloud, its values winning, key by
    /// key; `OS_CLOUD` picks the cloud, and without it the variables count.
    #[test]
    fn secure_yaml_and_os_cloud() {
        let m = Machine::default()
            .var("OS_CLOUD", "c")
            .file(
                "/etc/openstack/clouds.yaml",
                "clouds: {c: {auth: {auth_url: 'http://k/v3', username: u, password: old, project_name: p}, region_name: r1}}",
            )
            .var("OS_CLIENT_SECURE_FILE", "/s/secure.yaml")
            .file("/s/secure.yaml", "clouds: {c: {auth: {password: new}}, d: {region_name: r9}}");
        let config = CloudConfig::from_environment(&m).unwrap();
        assert_eq!((config.name.as_str(), config.region.as_deref()), ("c", Some("r1")));
        match config.auth {
            Some(AuthMethod::Password { password, .. }) => assert_eq!(password.expose(), "new"),
            other => panic!("{other:?}"),
        }
        let variables = Machine::default().var("OS_AUTH_URL", "http://k/v3").var("OS_TOKEN", "t");
        let config = CloudConfig::from_environment(&variables).unwrap();
        assert_eq!((config.name.as_str(), config.auth_url.as_deref()), ("envvars", Some("http://k/v3")));
        let bad = Machine::default().file("/etc/openstack/clouds.yaml", "clouds: {c: {interface: private}}");
        let e = message(CloudConfig::named_in(&bad, "c"));
        assert!(e.starts_with("configuration: /etc/openstack/clouds.yaml cloud \"c\": interface must be"), "{e}");
    }

    #[test]
    fn a_clouds_yaml_entry_field_by_field() {
        let cloud = |yaml: &str| serde_norway::from_str::<Value>(yaml).unwrap();
        let config = CloudConfig::from_value(
            "c",
            &cloud(
                "{auth: {auth_url: 'http://k/v3', user_id: u1, password: pw, tenant_id: 42}, region_name: '',
                  interface: internalURL, block-storage_endpoint_override: 'http://cinder/v3/%(project_id)s',
                  database_endpoint_override: 'http://trove/v1.0', cacert: /ca.pem, verify: 'No',
                  volume_api_version: '3.60'}",
            ),
        )
        .unwrap();
        assert_eq!(config.region, None, "an empty string is no value");
        assert_eq!(config.interface, Interface::Internal);
        assert_eq!(
            config.endpoint_overrides.into_iter().collect::<Vec<_>>(),
            [
                ("block_storage".to_owned(), "http://cinder/v3/%(project_id)s".to_owned()),
                ("database".to_owned(), "http://trove/v1.0".to_owned())
            ]
        );
        assert_eq!(config.cacert.as_deref(), Some(Path::new("/ca.pem")));
        assert!(config.insecure);
        assert_eq!(config.block_storage_microversion.as_deref(), Some("3.60"));
        assert_eq!(format!("{:?}", config.scope), "Some(Project(Id(\"42\")))", "a number read as text");
        assert!(matches!(config.auth, Some(AuthMethod::Password { user: User::Id(ref id), .. }) if id == "u1"));

        for (verify, insecure) in
            [("true", false), ("false", true), ("'yes'", false), ("'0'", true), ("'no'", true), ("3", false)]
        {
            let config = CloudConfig::from_value("c", &cloud(&format!("{{verify: {verify}}}"))).unwrap();
            assert_eq!(config.insecure, insecure, "verify: {verify}");
        }
        let pinned =
            CloudConfig::from_value("c", &cloud("{block_storage_api_version: '3.55', volume_api_version: '3.60'}"))
                .unwrap();
        assert_eq!(pinned.block_storage_microversion.as_deref(), Some("3.55"), "block_storage_api_version first");
        let nothing = CloudConfig::from_value("c", &cloud("{}")).unwrap();
        assert!(nothing.auth.is_none() && nothing.scope.is_none() && !nothing.insecure);
        assert_eq!(nothing.interface, Interface::Public);
    }

    #[test]
    fn the_os_variables() {
        let m = Machine::default()
            .var("OS_AUTH_URL", "http://k/v3")
            .var("OS_REGION_NAME", "r2")
            .var("OS_ENDPOINT_TYPE", "adminURL")
            .var("OS_CACERT", "/ca.pem")
            .var("OS_INSECURE", "Yes")
            .var("OS_BLOCK_STORAGE_ENDPOINT_OVERRIDE", "http://cinder/v3")
            .var("OS_DATABASE_ENDPOINT_OVERRIDE", "http://trove/v1.0")
            .var("OS_VOLUME_API_VERSION", "3.50")
            .var("OS_USERNAME", "u")
            .var("OS_PASSWORD", "pw")
            .var("OS_TENANT_NAME", "p")
            .var("OS_DOMAIN_ID", "d1");
        let config = CloudConfig::from_variables(&m).unwrap();
        assert_eq!((config.region.as_deref(), config.interface), (Some("r2"), Interface::Admin));
        assert_eq!(config.cacert.as_deref(), Some(Path::new("/ca.pem")));
        assert!(config.insecure);
        assert_eq!(config.endpoint_overrides.get("block_storage").map(String::as_str), Some("http://cinder/v3"));
        assert_eq!(config.endpoint_overrides.get("database").map(String::as_str), Some("http://trove/v1.0"));
        assert_eq!(config.block_storage_microversion.as_deref(), Some("3.50"));
        assert_eq!(
            format!("{:?}", config.scope),
            "Some(Project(Name { name: \"p\", domain: Id(\"d1\") }))",
            "the project's domain falls back to OS_DOMAIN_ID"
        );
        match &config.auth {
            Some(AuthMethod::Password { user: User::Name { name, domain }, password }) => {
                assert_eq!((name.as_str(), domain, password.expose()), ("u", &Domain::Id("d1".to_owned()), "pw"));
            }
            other => panic!("{other:?}"),
        }
        let preferred = m
            .var("OS_INTERFACE", "internal")
            .var("OS_BLOCK_STORAGE_API_VERSION", "3.55")
            .var("OS_INSECURE", "0")
            .var("OS_PROJECT_NAME", "p2")
            .var("OS_PROJECT_DOMAIN_NAME", "Dom")
            .var("OS_USER_DOMAIN_ID", "ud");
        let config = CloudConfig::from_variables(&preferred).unwrap();
        assert_eq!(config.interface, Interface::Internal, "OS_INTERFACE before OS_ENDPOINT_TYPE");
        assert_eq!(config.block_storage_microversion.as_deref(), Some("3.55"));
        assert!(!config.insecure);
        assert_eq!(format!("{:?}", config.scope), "Some(Project(Name { name: \"p2\", domain: Name(\"Dom\") }))");
        assert!(
            matches!(&config.auth, Some(AuthMethod::Password { user: User::Name { domain: Domain::Id(d), .. }, .. }) if d == "ud")
        );
        for value in ["true", "1", "TRUE"] {
            let m = Machine::default().var("OS_INSECURE", value);
            assert!(CloudConfig::from_variables(&m).unwrap().insecure, "{value}");
        }
    }

    /// Which method a cloud authenticates with, its scope, and what is
    /// missing for it.
    #[test]
    fn methods_scopes_and_what_they_miss() {
        let cloud = |auth: &str| {
            let value = serde_norway::from_str::<Value>(auth).unwrap();
            CloudConfig::from_value("c", &value)
        };
        let method = |auth: &str| format!("{:?}", cloud(auth).unwrap().auth);
        assert!(
            method("{auth: {application_credential_secret: s, application_credential_id: a}}")
                .contains("ApplicationCredential")
        );
        assert!(method("{auth: {token: t}}").starts_with("Some(Token("));
        assert!(
            method("{auth: {token: t, password: p, username: u}}").starts_with("Some(Password"),
            "a password wins over a token"
        );
        assert!(method("{auth_type: v3token, auth: {token: t}}").starts_with("Some(Token("));
        assert!(method("{auth_type: v3applicationcredential, auth: {application_credential_secret: s, application_credential_name: n, username: u}}")
            .contains("name: Some(\"n\")"));
        assert!(method("{auth_type: v3-password, auth: {username: u, password: p}}").starts_with("Some(Password"));

        let scope = |auth: &str| format!("{:?}", cloud(auth).unwrap().scope);
        assert_eq!(scope("{auth: {token: t, project_id: p1, project_name: p}}"), "Some(Project(Id(\"p1\")))");
        assert_eq!(
            scope("{auth: {token: t, project_name: p}}"),
            "Some(Project(Name { name: \"p\", domain: Id(\"default\") }))"
        );
        assert_eq!(
            scope("{auth: {token: t, project_name: p, project_domain_id: pd, domain_name: D}}"),
            "Some(Project(Name { name: \"p\", domain: Id(\"pd\") }))"
        );
        assert_eq!(
            scope("{auth: {token: t, project_name: p, domain_name: D}}"),
            "Some(Project(Name { name: \"p\", domain: Name(\"D\") }))"
        );
        assert_eq!(scope("{auth: {token: t, system_scope: all}}"), "Some(System)");
        assert_eq!(scope("{auth: {token: t, system_scope: none}}"), "None");
        assert_eq!(scope("{auth: {token: t, domain_name: D}}"), "Some(Domain(Name(\"D\")))");
        assert_eq!(scope("{auth: {token: t, domain_id: d, domain_name: D}}"), "Some(Domain(Id(\"d\")))");
        assert_eq!(
            scope("{auth: {application_credential_secret: s, application_credential_id: a, project_id: p}}"),
            "None",
            "an application credential carries its own scope"
        );

        let error = |auth: &str| match cloud(auth) {
            Ok(c) => panic!("{auth}: expected an error, got {c:?}"),
            Err(e) => e.to_string(),
        };
        assert!(
            error("{auth_type: password, auth: {password: p}}")
                .contains("auth type password: username or user_id is missing")
        );
        assert!(
            error("{auth_type: password, auth: {username: u}}").contains("auth type password: password is missing")
        );
        assert!(error("{auth_type: token, auth: {}}").contains("auth type token: token is missing"));
        assert!(
            error("{auth_type: v3applicationcredential, auth: {application_credential_id: a}}")
                .contains("application_credential_secret is missing")
        );
        assert!(error("{auth_type: v3oidcpassword, auth: {}}").contains("auth type \"oidcpassword\" is not supported"));
        assert!(error("{auth_type: admin_token, auth: {}}").contains("auth type admin_token: token is missing"));

        for auth_type in ["admin_token", "noauth"] {
            let config =
                cloud(&format!("{{auth_type: {auth_type}, auth: {{token: t, project_id: p, endpoint: 'http://e'}}}}"))
                    .unwrap();
            let (token, project) = config.fixed_token.expect(auth_type);
            assert_eq!(
                (token.expose(), project.as_deref(), config.endpoint.as_deref()),
                ("t", Some("p"), Some("http://e"))
            );
            assert!(config.auth.is_none());
        }
        let m =
            Machine::default().var("OS_AUTH_TYPE", "admin_token").var("OS_TOKEN", "t").var("OS_ENDPOINT", "http://e");
        let config = CloudConfig::from_variables(&m).unwrap();
        assert_eq!(config.fixed_token.map(|(t, _)| t.expose().to_owned()).as_deref(), Some("t"));
        assert_eq!(config.endpoint.as_deref(), Some("http://e"));
        assert_eq!(
            format!(
                "{:?}",
                AuthFields {
                    auth_type: None,
                    username: None,
                    user_id: None,
                    password: Some("pw".to_owned()),
                    token: None,
                    project_name: None,
                    project_id: None,
                    user_domain_name: None,
                    user_domain_id: None,
                    project_domain_name: None,
                    project_domain_id: None,
                    domain_name: None,
                    domain_id: None,
                    system_scope: None,
                    app_cred_id: None,
                    app_cred_name: None,
                    app_cred_secret: None,
                    endpoint: None,
                }
            ),
            "AuthFields { <redacted> }"
        );
    }
}
