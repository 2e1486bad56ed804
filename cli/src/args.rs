//! The command line, as clap reads it: python-openstackclient's global
//! options, commands, flags and names, so that habits and scripts carry over.
//! This file holds the top level and what every family shares (output
//! formatters, paging, `--wait`, projects); each family's commands sit
//! beside their handler (`backup`, `snapshot`, `volume`, `database`,
//! `message`, `limits`, `policy` for `backup run|report`, `prune` for the
//! keep rules).

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::backup::BackupCommand;
use crate::database::DatabaseCommand;
use crate::limits::{LimitsCommand, QuotaCommand};
use crate::message::MessageCommand;
use crate::snapshot::SnapshotCommand;
use crate::volume::VolumeCommand;

/// Manage OpenStack volume backups, snapshots, volumes and database backups.
///
/// The cloud comes from `clouds.yaml` (`--os-cloud` / `OS_CLOUD`) or the
/// `OS_*` variables, as for python-openstackclient: an option wins over its
/// variable, and with a named cloud the region, interface, volume API
/// version and CA file of an option or variable win over the cloud's.
/// Microversions are negotiated with the cloud unless
/// `--os-volume-api-version` pins one; names are accepted wherever IDs are.
///
/// Exit status: 0 on success, 1 when a command fails, 2 on a usage error,
/// 130 when interrupted.
#[derive(Debug, Parser)]
#[command(name = "osbackup", max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// `osbackup -V`: the crate version and the commit it was built from.
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("OSBACKUP_COMMIT"), ")");

/// `osbackup --version`: [`VERSION`], then the services' API versions and
/// the microversion range the block-storage spec covers (its service type
/// and range from the generated client's table), which is what the tool
/// can speak: a cloud's range is negotiated within it.
pub static LONG_VERSION: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    use openstack_backups::{block_storage, database};
    let block = &block_storage::operations::SERVICE;
    let range = match (block.base_microversion(), block.max_microversion) {
        (Some(min), Some(max)) => format!(", microversions {min} to {max}"),
        _ => String::new(),
    };
    format!(
        "{VERSION}\n{} API v3{range}\n{} API v1.0 (no microversions)",
        block.service_type,
        database::operations::SERVICE.service_type
    )
});

impl Cli {
    /// The command line's definition, with its version texts.
    pub fn definition() -> clap::Command {
        <Cli as clap::CommandFactory>::command().version(VERSION).long_version(LONG_VERSION.as_str())
    }

    /// Parses the process's arguments (`--help` and `--version` are errors
    /// of the kind clap prints to stdout).
    pub fn parse_args() -> Result<Cli, clap::Error> {
        let mut definition = Cli::definition();
        let matches = definition.try_get_matches_from_mut(std::env::args_os())?;
        <Cli as clap::FromArgMatches>::from_arg_matches(&matches).map_err(|e| e.format(&mut definition))
    }
}

/// Options every command takes (and the `OS_*` variables they override).
#[derive(Debug, Args)]
#[command(next_help_heading = "Cloud options")]
pub struct Global {
    /// The cloud of clouds.yaml to use [env: OS_CLOUD]
    #[arg(long = "os-cloud", global = true, value_name = "NAME")]
    pub cloud: Option<String>,
    /// The region [env: OS_REGION_NAME]
    #[arg(long = "os-region-name", global = true, value_name = "REGION")]
    pub region: Option<String>,
    /// The catalog interface: public, internal or admin [env: OS_INTERFACE]
    #[arg(long = "os-interface", global = true, value_name = "INTERFACE")]
    pub interface: Option<String>,
    /// Pin the block-storage microversion (3.N) instead of negotiating [env: OS_VOLUME_API_VERSION]
    #[arg(long = "os-volume-api-version", global = true, value_name = "3.N")]
    pub volume_api_version: Option<String>,
    /// Keystone's URL [env: OS_AUTH_URL]
    #[arg(long = "os-auth-url", global = true, value_name = "URL")]
    pub auth_url: Option<String>,
    /// The authentication type: password, v3applicationcredential, token, admin_token [env: OS_AUTH_TYPE]
    #[arg(long = "os-auth-type", global = true, value_name = "TYPE")]
    pub auth_type: Option<String>,
    /// The user's name [env: OS_USERNAME]
    #[arg(long = "os-username", global = true, value_name = "NAME")]
    pub username: Option<String>,
    /// The user's id [env: OS_USER_ID]
    #[arg(long = "os-user-id", global = true, value_name = "ID")]
    pub user_id: Option<String>,
    /// The user's password [env: OS_PASSWORD]
    #[arg(long = "os-password", global = true, value_name = "PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// The project's name [env: OS_PROJECT_NAME]
    #[arg(long = "os-project-name", global = true, value_name = "NAME")]
    pub project_name: Option<String>,
    /// The project's id [env: OS_PROJECT_ID]
    #[arg(long = "os-project-id", global = true, value_name = "ID")]
    pub project_id: Option<String>,
    /// The user's domain name [env: OS_USER_DOMAIN_NAME]
    #[arg(long = "os-user-domain-name", global = true, value_name = "NAME")]
    pub user_domain_name: Option<String>,
    /// The project's domain name [env: OS_PROJECT_DOMAIN_NAME]
    #[arg(long = "os-project-domain-name", global = true, value_name = "NAME")]
    pub project_domain_name: Option<String>,
    /// A token (with --os-auth-type token or admin_token) [env: OS_TOKEN]
    #[arg(long = "os-token", global = true, value_name = "TOKEN")]
    pub token: Option<String>,
    /// The endpoint of every service (with --os-auth-type admin_token) [env: OS_ENDPOINT]
    #[arg(long = "os-endpoint", global = true, value_name = "URL")]
    pub endpoint: Option<String>,
    /// An application credential's id [env: OS_APPLICATION_CREDENTIAL_ID]
    #[arg(long = "os-application-credential-id", global = true, value_name = "ID")]
    pub application_credential_id: Option<String>,
    /// An application credential's secret [env: OS_APPLICATION_CREDENTIAL_SECRET]
    #[arg(long = "os-application-credential-secret", global = true, value_name = "SECRET")]
    pub application_credential_secret: Option<String>,
    /// Extra trusted CA certificates, PEM [env: OS_CACERT]
    #[arg(long = "os-cacert", global = true, value_name = "FILE")]
    pub cacert: Option<String>,
    /// Do not check servers' certificates [env: OS_INSECURE, not read with a named cloud]
    #[arg(long, global = true)]
    pub insecure: bool,
    /// Print each request (method, URL, status, request id, time) on stderr; secrets stay hidden
    #[arg(long, global = true)]
    pub debug: bool,
}

/// What to manage.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Volume backups
    #[command(subcommand)]
    Backup(BackupCommand),
    /// Volume snapshots
    #[command(subcommand)]
    Snapshot(SnapshotCommand),
    /// Volumes (what backups and snapshots are made of and restored to)
    #[command(subcommand)]
    Volume(VolumeCommand),
    /// The project's absolute limits and their usage
    #[command(subcommand)]
    Limits(LimitsCommand),
    /// Block-storage quotas
    #[command(subcommand)]
    Quota(QuotaCommand),
    /// Cinder's user messages: why a backup, snapshot or restore failed
    #[command(subcommand)]
    Message(MessageCommand),
    /// Database (Trove) resources
    #[command(subcommand)]
    Database(DatabaseCommand),
    /// Print a shell completion script
    Completion {
        /// The shell
        shell: clap_complete::Shell,
    },
    /// Write the manual pages, one per command (osbackup.1, osbackup-backup-create.1, …)
    Man {
        /// The directory to write them into (created when missing)
        #[arg(long, value_name = "DIR")]
        dir: std::path::PathBuf,
    },
}

/// Output of a command that shows one resource.
#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "Output formatters")]
pub struct ShowOutput {
    /// The output format
    #[arg(short = 'f', long = "format", value_enum, default_value_t = ShowFormat::Table)]
    pub format: ShowFormat,
    /// Show only this column (repeatable)
    #[arg(short = 'c', long = "column", value_name = "COLUMN")]
    pub columns: Vec<String>,
    #[command(flatten)]
    pub common: OutputCommon,
    /// Print only this variable (shell format; repeatable)
    #[arg(long = "variable", value_name = "VARIABLE")]
    pub variables: Vec<String>,
    /// A prefix for the variable names (shell format)
    #[arg(long, default_value = "")]
    pub prefix: String,
}

/// Output of a command that lists resources.
#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "Output formatters")]
pub struct ListOutput {
    /// The output format
    #[arg(short = 'f', long = "format", value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
    /// Show only this column (repeatable)
    #[arg(short = 'c', long = "column", value_name = "COLUMN")]
    pub columns: Vec<String>,
    #[command(flatten)]
    pub common: OutputCommon,
    /// When to quote csv fields
    #[arg(long, value_enum, default_value_t = Quote::Nonnumeric)]
    pub quote: Quote,
    /// Sort the rows by this column (repeatable: the first has priority; unknown columns are ignored; names are case-insensitive and take underscores for spaces)
    #[arg(long = "sort-column", value_name = "SORT_COLUMN")]
    pub sort_columns: Vec<String>,
    /// Sort in ascending order (the default)
    #[arg(long, conflicts_with = "sort_descending")]
    pub sort_ascending: bool,
    /// Sort in descending order
    #[arg(long)]
    pub sort_descending: bool,
}

/// Table and json settings shared by every output.
#[derive(Debug, Args, Clone)]
pub struct OutputCommon {
    /// The widest a table may be (below 1: no limit)
    #[arg(
        long,
        value_name = "N",
        env = "CLIFF_MAX_TERM_WIDTH",
        hide_env_values = true,
        default_value_t = 0,
        allow_negative_numbers = true
    )]
    pub max_width: i64,
    /// Fit the table to the terminal's width
    #[arg(long, env = "CLIFF_FIT_WIDTH", hide_env_values = true)]
    pub fit_width: bool,
    /// Print an empty table when there is nothing to show
    #[arg(long)]
    pub print_empty: bool,
    /// Print json on one line
    #[arg(long)]
    pub noindent: bool,
}

/// Formats of one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShowFormat {
    Table,
    Json,
    Yaml,
    Value,
    Shell,
}

/// Formats of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Table,
    Json,
    Yaml,
    Value,
    Csv,
}

/// csv quoting, as cliff's `--quote`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Quote {
    All,
    Minimal,
    None,
    Nonnumeric,
}

/// `--wait` and its timeout.
#[derive(Debug, Args, Clone)]
pub struct WaitArgs {
    /// Wait until the operation ends (a live progress line on a terminal)
    #[arg(long)]
    pub wait: bool,
    /// The longest to wait, in seconds
    #[arg(long, value_name = "SECONDS", default_value_t = 1800, requires = "wait")]
    pub wait_timeout: u64,
}

/// Paging of a list.
#[derive(Debug, Args, Clone)]
pub struct Paging {
    /// The page size the server is asked for
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
    /// Start after the resource with this id
    #[arg(long, value_name = "ID")]
    pub marker: Option<String>,
    /// List at most this many, in all
    #[arg(long, value_name = "N")]
    pub max_items: Option<usize>,
}

/// Filters by project.
#[derive(Debug, Args, Clone)]
pub struct Projects {
    /// Every project's (administrators)
    #[arg(long)]
    pub all_projects: bool,
    /// Only this project's, by id (administrators; implies --all-projects)
    #[arg(long, value_name = "PROJECT_ID")]
    pub project: Option<String>,
    /// The project's domain (accepted for python-openstackclient's scripts; projects are given by id)
    #[arg(long, value_name = "DOMAIN")]
    pub project_domain: Option<String>,
}

/// The filters python-openstackclient's backup, snapshot and volume lists
/// share, applied to the generated list builders: `--name`, `--status`,
/// `--project` / `--all-projects`, `--limit`, `--marker`.
pub(crate) trait ListFilters: Sized {
    /// The builder with the filters set.
    fn filtered(self, name: Option<&String>, status: Option<&String>, projects: &Projects, paging: &Paging) -> Self;
}

macro_rules! list_filters {
    ($($builder:ty),* $(,)?) => {$(
        impl ListFilters for $builder {
            fn filtered(self, name: Option<&String>, status: Option<&String>, projects: &Projects, paging: &Paging) -> Self {
                let mut request = self;
                if let Some(name) = name {
                    request = request.name(name.clone());
                }
                if let Some(status) = status {
                    // Each status is an open enum: any text goes to the server.
                    request = request.status(status.as_str());
                }
                if projects.all_projects || projects.project.is_some() {
                    request = request.all_tenants(true);
                }
                if let Some(project) = &projects.project {
                    request = request.project_id(project.clone());
                }
                if let Some(limit) = paging.limit {
                    request = request.limit(limit);
                }
                if let Some(marker) = &paging.marker {
                    request = request.marker(marker.clone());
                }
                request
            }
        }
    )*};
}

list_filters!(
    openstack_backups::block_storage::builder::ListBackupsDetail<'_>,
    openstack_backups::block_storage::builder::ListSnapshotsDetail<'_>,
    openstack_backups::block_storage::builder::ListVolumesDetail<'_>,
);

/// `KEY=VALUE`.
pub(crate) fn key_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!("expected KEY=VALUE, found {text:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::key_value;

    #[test]
    fn properties_are_key_equals_value() {
        let pair = |k: &str, v: &str| Ok((k.to_owned(), v.to_owned()));
        assert_eq!(key_value("tier=gold"), pair("tier", "gold"));
        assert_eq!(key_value("tier="), pair("tier", ""));
        assert_eq!(key_value("url=a=b"), pair("url", "a=b"));
        assert_eq!(key_value("=gold"), Err("expected KEY=VALUE, found \"=gold\"".to_owned()));
        assert_eq!(key_value("tier"), Err("expected KEY=VALUE, found \"tier\"".to_owned()));
    }
}
