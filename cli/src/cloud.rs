//! The cloud the command talks to: `clouds.yaml` or the `OS_*` variables,
//! with the global options on top (an option wins over its variable), and
//! how the client's errors read on a terminal.

use std::collections::BTreeMap;
use std::path::PathBuf;

use openstack_backups::cloud::{CloudConfig, Environment, Interface, ProcessEnvironment};
use openstack_backups::{Error, Gated, Session};

use crate::Failure;
use crate::args::Global;

/// The process's environment with the options' values in place of their
/// `OS_*` variables.
struct Options(BTreeMap<&'static str, String>);

impl Environment for Options {
    fn var(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned().or_else(|| ProcessEnvironment.var(name))
    }

    fn read(&self, path: &std::path::Path) -> Option<String> {
        ProcessEnvironment.read(path)
    }

    fn current_dir(&self) -> Option<PathBuf> {
        ProcessEnvironment.current_dir()
    }
}

/// The session the global options and the environment describe (no
/// request is sent until a command needs the cloud).
pub fn session(g: &Global) -> Result<Session, Failure> {
    let mut vars = BTreeMap::new();
    let pairs = [
        ("OS_CLOUD", &g.cloud),
        ("OS_AUTH_URL", &g.auth_url),
        ("OS_AUTH_TYPE", &g.auth_type),
        ("OS_USERNAME", &g.username),
        ("OS_USER_ID", &g.user_id),
        ("OS_PASSWORD", &g.password),
        ("OS_PROJECT_NAME", &g.project_name),
        ("OS_PROJECT_ID", &g.project_id),
        ("OS_USER_DOMAIN_NAME", &g.user_domain_name),
        ("OS_PROJECT_DOMAIN_NAME", &g.project_domain_name),
        ("OS_TOKEN", &g.token),
        ("OS_ENDPOINT", &g.endpoint),
        ("OS_APPLICATION_CREDENTIAL_ID", &g.application_credential_id),
        ("OS_APPLICATION_CREDENTIAL_SECRET", &g.application_credential_secret),
        ("OS_REGION_NAME", &g.region),
        ("OS_INTERFACE", &g.interface),
        ("OS_VOLUME_API_VERSION", &g.volume_api_version),
        ("OS_CACERT", &g.cacert),
    ];
    for (name, value) in pairs {
        if let Some(v) = value {
            vars.insert(name, v.clone());
        }
    }
    if g.insecure {
        vars.insert("OS_INSECURE", "true".to_owned());
    }
    let env = Options(vars);
    let mut cloud = CloudConfig::from_environment(&env)?;
    // With a cloud from clouds.yaml, the options still win over its values.
    if cloud.name != "envvars" {
        if let Some(region) = &g.region {
            cloud.region = Some(region.clone());
        }
        if let Some(interface) = &g.interface {
            cloud.interface = Interface::parse(interface)?;
        }
        if let Some(version) = &g.volume_api_version {
            cloud.block_storage_microversion = Some(version.clone());
        }
        if let Some(cacert) = &g.cacert {
            cloud.cacert = Some(PathBuf::from(cacert));
        }
        cloud.insecure |= g.insecure;
    }
    Ok(Session::builder().cloud(cloud)?.build()?)
}

/// `--debug`: every request on stderr when it ends (method, URL, status,
/// request id, attempts, time). The spans carry no token or password.
pub fn debug_log() {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::fmt::format::FmtSpan;
    use tracing_subscriber::prelude::*;
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_span_events(FmtSpan::CLOSE)
        .with_target(false)
        .with_filter(Targets::new().with_target("openstack_backups_runtime", LevelFilter::DEBUG));
    tracing_subscriber::registry().with(layer).init();
}

/// Flags named after the request-body properties they set, so that a
/// microversion refusal names what the operator typed.
const FLAGS: &[(&str, &str)] = &[
    ("/backup/metadata", "--property"),
    ("/backup/availability_zone", "--availability-zone"),
    ("/backup/name", "--name"),
    ("/backup/description", "--description"),
    ("/volume/backup_id", "--backup"),
    ("/volume/group_id", "--group"),
    ("/snapshot/force", "--force"),
];

/// How an error reads for an operator.
pub fn explain(e: &Error) -> String {
    if let Error::MicroversionUnsupported(m) = e {
        let what = match &m.gated {
            Gated::BodyProperty { pointer, .. } => {
                FLAGS.iter().find(|(p, _)| p == pointer).map(|(_, flag)| (*flag).to_owned())
            }
            Gated::Operation => Some(format!("this command ({})", m.operation.replace('_', " "))),
            _ => None,
        };
        if let Some(what) = what {
            let how = if m.service == "block-storage" { ", or --os-volume-api-version" } else { "" };
            return format!(
                "{what} needs {}; the {} microversion in use is {} (the cloud's maximum{how}). Nothing was sent.",
                m.required, m.service, m.configured
            );
        }
    }
    e.to_string()
}
