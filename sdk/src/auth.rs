//! Keystone v3 authentication: password, application credential or token;
//! the token is issued through the generated identity client, kept with its
//! expiry and catalog, renewed before it expires and on demand after a 401.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::clock::Clock;
use crate::identity::types;
use crate::{AuthenticationError, ClientConfig, Error, Secret, TokenFuture, TokenSource};

/// A domain, by id or by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Domain {
    /// By id (`default`).
    Id(String),
    /// By name (`Default`).
    Name(String),
}

/// A user, by id or by name within a domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum User {
    /// By id.
    Id(String),
    /// By name, within its domain.
    Name {
        /// The user name.
        name: String,
        /// The user's domain.
        domain: Domain,
    },
}

/// A project, by id or by name within a domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Project {
    /// By id.
    Id(String),
    /// By name, within its domain.
    Name {
        /// The project name.
        name: String,
        /// The project's domain.
        domain: Domain,
    },
}

/// What a token is scoped to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// A project (what block storage and database need).
    Project(Project),
    /// A domain.
    Domain(Domain),
    /// The whole deployment (`{"system": {"all": true}}`).
    System,
}

/// How to get a token. `Debug` hides passwords, secrets and tokens.
#[derive(Debug, Clone)]
pub enum AuthMethod {
    /// A user's password.
    Password {
        /// The user.
        user: User,
        /// The password.
        password: Secret,
    },
    /// An application credential (it carries its own scope: no [`Scope`]).
    ApplicationCredential {
        /// The credential by id (`None`: by `name` with `user`).
        id: Option<String>,
        /// The credential's name, with `user`, when there is no id.
        name: Option<String>,
        /// The owner, needed with a name.
        user: Option<User>,
        /// The secret.
        secret: Secret,
    },
    /// An existing token (exchanged for a new one, possibly with another scope).
    Token(Secret),
}

/// A token and what came with it.
#[derive(Clone)]
pub struct TokenInfo {
    /// The token.
    pub token: Secret,
    /// When it expires.
    pub expires_at: DateTime<Utc>,
    /// The project it is scoped to.
    pub project_id: Option<String>,
    /// The service catalog.
    pub catalog: Vec<types::CatalogEntry>,
}

impl fmt::Debug for TokenInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenInfo")
            .field("token", &self.token)
            .field("expires_at", &self.expires_at)
            .field("project_id", &self.project_id)
            .field("catalog", &format_args!("[{} services]", self.catalog.len()))
            .finish()
    }
}

/// Issues and renews tokens from Keystone.
pub struct KeystoneAuth {
    identity: crate::identity::Client,
    method: AuthMethod,
    scope: Option<Scope>,
    clock: Arc<dyn Clock>,
    renew_before: Duration,
    current: tokio::sync::Mutex<Option<Arc<TokenInfo>>>,
}

impl fmt::Debug for KeystoneAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeystoneAuth")
            .field(
                "auth_url",
                &openstack_backups_runtime::__private::ClientInfo::<ClientConfig>::baseurl(&self.identity),
            )
            .field("method", &self.method)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl KeystoneAuth {
    /// Authenticates against `auth_url` (the identity endpoint; `/v3` is
    /// added when missing) through `http`.
    pub fn new(
        auth_url: &str,
        http: reqwest::Client,
        method: AuthMethod,
        scope: Option<Scope>,
        config: ClientConfig,
    ) -> Result<Self, Error> {
        if matches!(method, AuthMethod::ApplicationCredential { .. }) && scope.is_some() {
            return Err(Error::Configuration(
                "an application credential carries its own scope: remove the project/domain/system scope".to_owned(),
            ));
        }
        if let AuthMethod::ApplicationCredential { id: None, name, user, .. } = &method
            && (name.is_none() || user.is_none())
        {
            return Err(Error::Configuration(
                "an application credential needs its id, or its name and its user".to_owned(),
            ));
        }
        let trimmed = auth_url.trim_end_matches('/');
        let base = if trimmed.ends_with("/v3") { trimmed.to_owned() } else { format!("{trimmed}/v3") };
        let clock = config.clock().clone();
        Ok(Self {
            identity: crate::identity::Client::new_with_client(&base, http, config),
            method,
            scope,
            clock,
            renew_before: Duration::from_secs(120),
            current: tokio::sync::Mutex::new(None),
        })
    }

    /// How long before its expiry a token is replaced (default two minutes).
    pub fn renew_before(mut self, margin: Duration) -> Self {
        self.renew_before = margin;
        self
    }

    /// The current token, issuing or renewing it when needed.
    pub async fn token_info(&self, renew: bool) -> Result<Arc<TokenInfo>, Error> {
        let mut current = self.current.lock().await;
        if let Some(info) = current.as_ref()
            && !renew
            && info.expires_at - self.clock.now() > chrono::Duration::from_std(self.renew_before).unwrap_or_default()
        {
            return Ok(info.clone());
        }
        let info = Arc::new(self.issue().await?);
        *current = Some(info.clone());
        Ok(info)
    }

    async fn issue(&self) -> Result<TokenInfo, Error> {
        let body =
            types::AuthRequest { auth: types::Auth { identity: self.identity_body(), scope: self.scope_body() } };
        let response = self.identity.issue_token().body(body).send().await.map_err(|e| match e {
            Error::ErrorResponse(rv) => {
                AuthenticationError::new(rv.message().unwrap_or("Keystone refused to issue a token"))
                    .answered(rv.status(), rv.request_id().map(str::to_owned))
                    .into()
            }
            other => other,
        })?;
        let token = subject_token(response.headers()).map_err(|problem| {
            Error::from(
                AuthenticationError::new(format!("Keystone answered with {problem}"))
                    .answered(response.status(), response.request_id().map(str::to_owned)),
            )
        })?;
        let body = response.into_inner().token;
        Ok(TokenInfo {
            token,
            expires_at: body.expires_at.to_utc(),
            project_id: body.project.map(|p| p.id),
            catalog: body.catalog,
        })
    }

    fn identity_body(&self) -> types::Identity {
        let mut identity =
            types::Identity { methods: Vec::new(), password: None, token: None, application_credential: None };
        match &self.method {
            AuthMethod::Password { user, password } => {
                identity.methods.push("password".to_owned());
                let (id, name, domain) = user_parts(user);
                identity.password = Some(types::PasswordMethod {
                    user: types::PasswordUser { id, name, domain, password: password.clone() },
                });
            }
            AuthMethod::ApplicationCredential { id, name, user, secret } => {
                identity.methods.push("application_credential".to_owned());
                identity.application_credential = Some(types::ApplicationCredentialMethod {
                    id: id.clone(),
                    name: if id.is_some() { None } else { name.clone() },
                    user: if id.is_some() {
                        None
                    } else {
                        user.as_ref().map(|u| {
                            let (id, name, domain) = user_parts(u);
                            types::UserRef { id, name, domain }
                        })
                    },
                    secret: secret.clone(),
                });
            }
            AuthMethod::Token(token) => {
                identity.methods.push("token".to_owned());
                identity.token = Some(types::TokenMethod { id: token.clone() });
            }
        }
        identity
    }

    fn scope_body(&self) -> Option<types::Scope> {
        let scope = self.scope.as_ref()?;
        let mut out = types::Scope { project: None, domain: None, system: None };
        match scope {
            Scope::Project(Project::Id(id)) => {
                out.project = Some(types::ProjectRef { id: Some(id.clone()), name: None, domain: None })
            }
            Scope::Project(Project::Name { name, domain }) => {
                out.project =
                    Some(types::ProjectRef { id: None, name: Some(name.clone()), domain: Some(domain_ref(domain)) })
            }
            Scope::Domain(domain) => out.domain = Some(domain_ref(domain)),
            Scope::System => out.system = Some(types::SystemScope { all: Some(true) }),
        }
        Some(out)
    }
}

/// The token in `X-Subject-Token`: visible ASCII, not empty (anything else
/// could not be sent back as `X-Auth-Token`).
fn subject_token(headers: &reqwest::header::HeaderMap) -> Result<Secret, &'static str> {
    let value = headers.get("x-subject-token").ok_or("no X-Subject-Token header")?;
    let text = value.to_str().map_err(|_| "an X-Subject-Token that is not visible ASCII")?.trim();
    if text.is_empty() {
        return Err("an empty X-Subject-Token");
    }
    Ok(Secret::from(text))
}

fn domain_ref(domain: &Domain) -> types::DomainRef {
    match domain {
        Domain::Id(id) => types::DomainRef { id: Some(id.clone()), name: None },
        Domain::Name(name) => types::DomainRef { id: None, name: Some(name.clone()) },
    }
}

fn user_parts(user: &User) -> (Option<String>, Option<String>, Option<types::DomainRef>) {
    match user {
        User::Id(id) => (Some(id.clone()), None, None),
        User::Name { name, domain } => (None, Some(name.clone()), Some(domain_ref(domain))),
    }
}

impl TokenSource for KeystoneAuth {
    fn token(&self, renew: bool) -> TokenFuture<'_> {
        Box::pin(async move { Ok(self.token_info(renew).await?.token.clone()) })
    }

    fn renewable(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue};

    #[test]
    fn subject_tokens_are_read_without_panics() {
        let read = |value: &[u8]| {
            let mut headers = HeaderMap::new();
            headers.insert("x-subject-token", HeaderValue::from_bytes(value).unwrap());
            subject_token(&headers).map(|s| s.expose().to_owned())
        };
        assert_eq!(read(b"gAAAAAB-token").as_deref(), Ok("gAAAAAB-token"));
        assert_eq!(read(b" padded ").as_deref(), Ok("padded"));
        assert_eq!(read(b"").unwrap_err(), "an empty X-Subject-Token");
        assert_eq!(read(b"\xff\xfe").unwrap_err(), "an X-Subject-Token that is not visible ASCII");
        assert_eq!(read("caf\u{e9}".as_bytes()).unwrap_err(), "an X-Subject-Token that is not visible ASCII");
        assert_eq!(subject_token(&HeaderMap::new()).unwrap_err(), "no X-Subject-Token header");
    }
}
