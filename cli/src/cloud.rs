//! The cloud the command talks to: `clouds.yaml` or the `OS_*` variables,
//! with the global options on top (an option wins over its variable; with a
//! named cloud, the region, interface, volume API version and CA file of an
//! option or variable win over the cloud's, as in python-openstackclient),
//! and how the client's errors read on a terminal.

use std::collections::BTreeMap;
use std::path::PathBuf;

use openstack_backups::cloud::{CloudConfig, Environment, Interface, ProcessEnvironment};
use openstack_backups::{Error, Gated, Session};

use crate::Failure;
use crate::args::Global;

/// An environment (the process's, in `osbackup`) with the options' values
/// in place of their `OS_*` variables.
struct Options<'a> {
    vars: BTreeMap<&'static str, String>,
    base: &'a dyn Environment,
}

impl Environment for Options<'_> {
    fn var(&self, name: &str) -> Option<String> {
        self.vars.get(name).cloned().or_else(|| self.base.var(name))
    }

    fn read(&self, path: &std::path::Path) -> Option<String> {
        self.base.read(path)
    }

    fn current_dir(&self) -> Option<PathBuf> {
        self.base.current_dir()
    }
}

/// The session the global options and the environment describe (no
/// request is sent until a command needs the cloud).
pub fn session(g: &Global) -> Result<Session, Failure> {
    Ok(Session::builder().cloud(cloud_config(g, &ProcessEnvironment)?)?.build()?)
}

/// The cloud the global options describe over `base` (its variables and
/// `clouds.yaml`): an option wins over its variable; with a named cloud,
/// the region, interface, volume API version and CA file of an option or
/// variable win over the cloud's (as python-openstackclient does).
fn cloud_config(g: &Global, base: &dyn Environment) -> Result<CloudConfig, Failure> {
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
    if let Some(version) = &g.volume_api_version {
        // The option wins over both variables the library reads for it.
        vars.insert("OS_BLOCK_STORAGE_API_VERSION", version.clone());
    }
    if g.insecure {
        vars.insert("OS_INSECURE", "true".to_owned());
    }
    let env = Options { vars, base };
    let mut cloud = CloudConfig::from_environment(&env)?;
    // With a cloud from clouds.yaml, as with python-openstackclient, an
    // option (or else its variable) still wins over the cloud's value; only
    // `OS_INSECURE` does not (`--insecure` does). A volume API version
    // without a minor part (`3`, as openrc files set it) names the API, not
    // a microversion: the cloud's pin stays.
    if cloud.name != "envvars" {
        if let Some(region) = env.var("OS_REGION_NAME") {
            cloud.region = Some(region);
        }
        if let Some(interface) = env.var("OS_INTERFACE") {
            cloud.interface = Interface::parse(&interface)?;
        }
        if let Some(version) = env.var("OS_VOLUME_API_VERSION").filter(|v| v.contains('.')) {
            cloud.block_storage_microversion = Some(version);
        }
        if let Some(cacert) = env.var("OS_CACERT") {
            cloud.cacert = Some(PathBuf::from(cacert));
        }
        cloud.insecure |= g.insecure;
    }
    Ok(cloud)
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use clap::Parser;

    use super::*;

    /// A machine with a `clouds.yaml` in its working folder and no
    /// variables but the ones given.
    struct Machine {
        vars: BTreeMap<&'static str, &'static str>,
        clouds: &'static str,
    }

    impl Environment for Machine {
        fn var(&self, name: &str) -> Option<String> {
            self.vars.get(name).map(|v| (*v).to_owned())
        }

        fn read(&self, path: &Path) -> Option<String> {
            (path == Path::new("/srv/ops/clouds.yaml")).then(|| self.clouds.to_owned())
        }

        fn current_dir(&self) -> Option<PathBuf> {
            Some(PathBuf::from("/srv/ops"))
        }
    }

    const CLOUDS: &str = "clouds:\n  secure: {auth: {auth_url: 'https://keystone.example:5000/v3', token: t}, region_name: r1, block_storage_api_version: '3.50'}\n  lab: {auth: {auth_url: 'https://keystone.lab:5000/v3', token: t}, verify: false}\n";

    fn config(args: &[&str], vars: &[(&'static str, &'static str)]) -> CloudConfig {
        let cli = crate::args::Cli::try_parse_from([&["osbackup"], args, &["volume", "list"]].concat()).unwrap();
        let machine = Machine { vars: vars.iter().copied().collect(), clouds: CLOUDS };
        cloud_config(&cli.global, &machine).unwrap()
    }

    /// `clouds.yaml` is found in the working folder, and `--insecure` adds
    /// to a cloud's `verify` (it never turns checking back on).
    #[test]
    fn insecure_adds_to_the_named_cloud() {
        let secure = config(&["--os-cloud", "secure"], &[]);
        assert_eq!((secure.name.as_str(), secure.insecure), ("secure", false));
        assert!(config(&["--os-cloud", "secure", "--insecure"], &[]).insecure);
        assert!(config(&["--insecure"], &[("OS_CLOUD", "secure")]).insecure);
        assert!(config(&["--os-cloud", "lab"], &[]).insecure);
        assert!(config(&["--os-cloud", "lab", "--insecure"], &[]).insecure);
    }

    /// The options, or else their variables, win over the named cloud's
    /// values, as with python-openstackclient 10.5 and osc-lib 4.7
    /// (`openstack configuration show` with `OS_CLOUD` and `OS_REGION_NAME`,
    /// `OS_INTERFACE`, `OS_VOLUME_API_VERSION`, `OS_CACERT` set shows the
    /// variables' values; with `OS_INSECURE=true` it still checks
    /// certificates). A bare major version leaves the cloud's pin.
    #[test]
    fn options_and_variables_win_over_the_named_cloud() {
        let plain = config(&["--os-cloud", "secure"], &[]);
        assert_eq!(plain.region.as_deref(), Some("r1"));
        assert_eq!(plain.interface, Interface::Public);
        assert_eq!(plain.block_storage_microversion.as_deref(), Some("3.50"));
        assert_eq!(plain.cacert, None);
        let major = config(&["--os-cloud", "secure"], &[("OS_VOLUME_API_VERSION", "3")]);
        assert_eq!(major.block_storage_microversion.as_deref(), Some("3.50"), "3 names the API, not a microversion");
        let by_variables = config(
            &[],
            &[
                ("OS_CLOUD", "secure"),
                ("OS_REGION_NAME", "r9"),
                ("OS_INTERFACE", "internal"),
                ("OS_VOLUME_API_VERSION", "3.60"),
                ("OS_CACERT", "/ca.pem"),
                ("OS_INSECURE", "true"),
            ],
        );
        assert_eq!(by_variables.region.as_deref(), Some("r9"));
        assert_eq!(by_variables.interface, Interface::Internal);
        assert_eq!(by_variables.block_storage_microversion.as_deref(), Some("3.60"));
        assert_eq!(by_variables.cacert.as_deref(), Some(Path::new("/ca.pem")));
        assert!(!by_variables.insecure, "OS_INSECURE is not read for a named cloud");
        let by_options = config(
            &[
                "--os-cloud",
                "secure",
                "--os-region-name",
                "r2",
                "--os-interface",
                "admin",
                "--os-volume-api-version",
                "3.44",
                "--os-cacert",
                "/other.pem",
            ],
            &[("OS_CLOUD", "lab"), ("OS_REGION_NAME", "r9"), ("OS_VOLUME_API_VERSION", "3.60")],
        );
        assert_eq!(by_options.name, "secure");
        assert_eq!(by_options.region.as_deref(), Some("r2"));
        assert_eq!(by_options.interface, Interface::Admin);
        assert_eq!(by_options.block_storage_microversion.as_deref(), Some("3.44"));
        assert_eq!(by_options.cacert.as_deref(), Some(Path::new("/other.pem")));
    }

    /// Without a named cloud the option wins over both variables the
    /// library reads for the volume API version.
    #[test]
    fn the_version_option_wins_over_the_variables() {
        let vars = [
            ("OS_AUTH_URL", "https://keystone.example:5000/v3"),
            ("OS_TOKEN", "t"),
            ("OS_BLOCK_STORAGE_API_VERSION", "3.55"),
            ("OS_VOLUME_API_VERSION", "3.60"),
        ];
        assert_eq!(config(&[], &vars).block_storage_microversion.as_deref(), Some("3.55"));
        let pinned = config(&["--os-volume-api-version", "3.44"], &vars);
        assert_eq!((pinned.name.as_str(), pinned.block_storage_microversion.as_deref()), ("envvars", Some("3.44")));
    }
}
