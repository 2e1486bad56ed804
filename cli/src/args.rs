//! The command line, as clap reads it: python-openstackclient's global
//! options, commands, flags and names, so that habits and scripts carry over.

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Manage OpenStack volume backups, snapshots, volumes and database backups.
///
/// The cloud comes from `clouds.yaml` (`--os-cloud` / `OS_CLOUD`) or the
/// `OS_*` variables, as for python-openstackclient. Microversions are
/// negotiated with the cloud unless `--os-volume-api-version` pins one;
/// names are accepted wherever IDs are.
///
/// Exit status: 0 on success, 1 when a command fails, 2 on a usage error,
/// 130 when interrupted.
#[derive(Debug, Parser)]
#[command(name = "osbackup", version, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
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
    /// Do not check servers' certificates [env: OS_INSECURE]
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

/// `backup …`
#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// Back up a volume (or one of its snapshots)
    Create(BackupCreate),
    /// List backups
    List(BackupList),
    /// Show a backup
    Show {
        /// The backup (name or ID)
        backup: String,
        #[command(flatten)]
        output: ShowOutput,
    },
    /// Change a backup's name, description, properties or state
    Set(BackupSet),
    /// Remove properties of a backup
    Unset {
        /// The backup (name or ID)
        backup: String,
        /// A property key to remove (repeatable; needs 3.43)
        #[arg(long = "property", value_name = "KEY")]
        properties: Vec<String>,
    },
    /// Delete backups
    Delete {
        /// The backups (names or IDs)
        #[arg(required = true)]
        backups: Vec<String>,
        /// Delete whatever the state (administrators)
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// Restore a backup to a new volume or, with --force, an existing one
    Restore {
        /// The backup (name or ID)
        backup: String,
        /// The volume to restore into (name or ID), or the name of the new volume
        volume: Option<String>,
        /// Restore into an existing volume, overwriting it
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        wait: WaitArgs,
        #[command(flatten)]
        output: ShowOutput,
    },
    /// Export and import backup records
    #[command(subcommand)]
    Record(RecordCommand),
    /// Back up the volumes of backup policies, then prune the policies' backups
    ///
    /// Reads the policy file (see the README, or the docs of
    /// openstack_backups::policy, for every field), plans each policy (each
    /// selected volume: a full backup, an incremental one, or nothing yet,
    /// and why), checks the backup quota (what does not fit is reported,
    /// not attempted), makes the backups with at most `concurrency` in
    /// flight, then deletes the policy's own backups its `keep` rules do
    /// not keep. Safe to run again at any time, and after a kill: a fresh
    /// backup is not made again, one still being made is waited for, and
    /// temporary snapshots left behind are removed. One run of a policy at
    /// a time on a host (a lock file).
    ///
    /// Exit status: 0 when every selected volume is protected, 1 when any
    /// is not (the others still run), 2 on a usage or policy-file error.
    Run(BackupRun),
    /// How protected the volumes of backup policies are (for monitoring)
    ///
    /// Every volume a policy selects, with its newest available backup of
    /// the policy and its age, the length of its chain, its backups and
    /// their size, and a state: protected, stale (older than `every` plus
    /// `slack`), never backed up, failing (the newest attempt failed), or
    /// missing (a volume the policy names does not exist). With
    /// --older-than and no policy: every volume of the project, any backup
    /// counting. `-f prometheus` writes the text format of node_exporter's
    /// textfile collector.
    ///
    /// Exit status: 0 when every volume is protected, 1 when any is not, 2
    /// on a usage or policy-file error.
    Report(BackupReport),
    /// Delete the backups a retention policy does not keep
    ///
    /// restic's `forget` rules: the N newest (--keep-last), the newest of
    /// each of the last N hours, days, weeks, months or years that have a
    /// backup, every backup within a duration of the newest, every backup
    /// with a property. A backup kept by any rule is kept, and so is the
    /// base of every kept incremental. Each volume is its own group (or each
    /// value of a property, with --group-by metadata:KEY). Deletes run
    /// children before parents; a failure stops its group's deletes.
    Prune {
        /// The volumes whose backups to prune (names or IDs; repeatable)
        #[arg(long = "volume", value_name = "VOLUME")]
        volumes: Vec<String>,
        /// Every backup of the project
        #[arg(long, conflicts_with = "volumes")]
        all_volumes: bool,
        /// Group by volume (default) or by a property's value: metadata:KEY
        #[arg(long, value_name = "volume|metadata:KEY", default_value = "volume")]
        group_by: String,
        #[command(flatten)]
        policy: RetentionArgs,
        #[command(flatten)]
        output: ListOutput,
    },
}

/// `backup run`
#[derive(Debug, Args)]
pub struct BackupRun {
    /// The policy file (YAML)
    #[arg(long, value_name = "FILE")]
    pub policy: std::path::PathBuf,
    /// Run only this policy of the file (repeatable; default: all)
    #[arg(long = "only", value_name = "NAME")]
    pub only: Vec<String>,
    /// Show the plan (and what retention would delete) without doing it
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub output: ListOutput,
}

/// `backup report`
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("standard").required(true).args(["policy", "older_than"]))]
pub struct BackupReport {
    /// The policy file (YAML)
    #[arg(long, value_name = "FILE")]
    pub policy: Option<std::path::PathBuf>,
    /// Report only this policy of the file (repeatable; default: all)
    #[arg(long = "only", value_name = "NAME", requires = "policy")]
    pub only: Vec<String>,
    /// No policy: every volume of the project, stale when its newest backup is older than this (24h, 7d, 1h 30m)
    #[arg(long, value_name = "DURATION", conflicts_with = "policy")]
    pub older_than: Option<String>,
    #[command(flatten)]
    pub output: ReportOutput,
}

/// Output of `backup report`.
#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "Output formatters")]
pub struct ReportOutput {
    /// The output format (prometheus: the text exposition format, for node_exporter's textfile collector)
    #[arg(short = 'f', long = "format", value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
    /// Show only this column (repeatable; not with prometheus)
    #[arg(short = 'c', long = "column", value_name = "COLUMN")]
    pub columns: Vec<String>,
    #[command(flatten)]
    pub common: OutputCommon,
    /// When to quote csv fields
    #[arg(long, value_enum, default_value_t = Quote::Nonnumeric)]
    pub quote: Quote,
}

/// Formats of `backup report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Table,
    Json,
    Yaml,
    Value,
    Csv,
    Prometheus,
}

/// `message …`
#[derive(Debug, Subcommand)]
pub enum MessageCommand {
    /// List messages (3.3; filters and paging 3.5)
    ///
    /// Note that Cinder lists every project's messages, not only the
    /// caller's: filter with --resource-uuid.
    List(MessageList),
    /// Show a message
    Show {
        /// The message (ID)
        message: String,
        #[command(flatten)]
        output: ShowOutput,
    },
    /// Delete messages
    Delete {
        /// The messages (IDs)
        #[arg(required = true)]
        messages: Vec<String>,
    },
}

/// `message list`
#[derive(Debug, Args)]
pub struct MessageList {
    /// Only this project's messages, by id (administrators)
    #[arg(long, value_name = "PROJECT_ID")]
    pub project: Option<String>,
    /// The project's domain (accepted for python-openstackclient's scripts; projects are given by id)
    #[arg(long, value_name = "DOMAIN")]
    pub project_domain: Option<String>,
    /// Only messages about this resource (a backup's, snapshot's or volume's id)
    #[arg(long, value_name = "ID")]
    pub resource_uuid: Option<String>,
    /// Only messages about this kind of resource: VOLUME, VOLUME_SNAPSHOT, VOLUME_BACKUP
    #[arg(long, value_name = "TYPE")]
    pub resource_type: Option<String>,
    /// Only messages with this event id (VOLUME_VOLUME_BACKUP_013_020)
    #[arg(long, value_name = "EVENT_ID")]
    pub event_id: Option<String>,
    /// Only messages caused by this request (req-…)
    #[arg(long, value_name = "REQUEST_ID")]
    pub request_id: Option<String>,
    /// Only messages of this level: ERROR, WARNING
    #[arg(long, value_name = "LEVEL")]
    pub level: Option<String>,
    #[command(flatten)]
    pub paging: Paging,
    #[command(flatten)]
    pub output: ListOutput,
}

/// A retention policy and how to carry it out.
#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "Retention")]
pub struct RetentionArgs {
    /// Keep the N newest backups
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub keep_last: usize,
    /// Keep the newest backup of each of the last N hours that have one
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub keep_hourly: usize,
    /// Keep the newest backup of each of the last N days that have one
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub keep_daily: usize,
    /// Keep the newest backup of each of the last N ISO weeks that have one
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub keep_weekly: usize,
    /// Keep the newest backup of each of the last N months that have one
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub keep_monthly: usize,
    /// Keep the newest backup of each of the last N years that have one
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub keep_yearly: usize,
    /// Keep every backup made within this long of the newest (2y5m7d3h: years, months, weeks, days, hours)
    #[arg(long, value_name = "DURATION")]
    pub keep_within: Option<String>,
    /// Keep every backup with this property (KEY, or KEY=VALUE; repeatable)
    #[arg(long = "keep-tag", value_name = "KEY[=VALUE]")]
    pub keep_tags: Vec<String>,
    /// With no keep rule: delete every backup (required to mean it)
    #[arg(long)]
    pub keep_none: bool,
    /// The time zone of days, weeks, months and years (default UTC)
    #[arg(long, value_name = "+HH:MM")]
    pub utc_offset: Option<String>,
    /// Print the plan (keep or delete, and why), delete nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Wait until every deleted backup is gone (those a later delete depends on are always waited for)
    #[arg(long)]
    pub wait: bool,
    /// The longest to wait for one deletion, in seconds
    #[arg(long, value_name = "SECONDS", default_value_t = 1800)]
    pub wait_timeout: u64,
    /// Deletes in flight at once
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub concurrency: usize,
}

/// `backup record …`
#[derive(Debug, Subcommand)]
pub enum RecordCommand {
    /// Export a backup's record (administrators)
    Export {
        /// The backup (name or ID)
        backup: String,
        #[command(flatten)]
        output: ShowOutput,
    },
    /// Import a backup record (administrators)
    Import {
        /// The backup service of the record
        backup_service: String,
        /// The record's backup URL (its metadata)
        backup_metadata: String,
        #[command(flatten)]
        wait: WaitArgs,
        #[command(flatten)]
        output: ShowOutput,
    },
}

#[derive(Debug, Args)]
pub struct BackupCreate {
    /// The volume to back up (name or ID)
    pub volume: String,
    /// The backup's name
    #[arg(long)]
    pub name: Option<String>,
    /// The backup's description
    #[arg(long)]
    pub description: Option<String>,
    /// Where the backup driver stores it
    #[arg(long)]
    pub container: Option<String>,
    /// Back up this snapshot of the volume (name or ID)
    #[arg(long)]
    pub snapshot: Option<String>,
    /// Back up an in-use volume
    #[arg(long)]
    pub force: bool,
    /// Back up what changed since the latest backup
    #[arg(long)]
    pub incremental: bool,
    /// A full backup (the default)
    #[arg(long, overrides_with = "incremental")]
    pub no_incremental: bool,
    /// A property key=value (repeatable; needs 3.43)
    #[arg(long = "property", value_name = "KEY=VALUE", value_parser = key_value)]
    pub properties: Vec<(String, String)>,
    /// The availability zone of the backup service (needs 3.51)
    #[arg(long)]
    pub availability_zone: Option<String>,
    #[command(flatten)]
    pub wait: WaitArgs,
    #[command(flatten)]
    pub output: ShowOutput,
}

#[derive(Debug, Args)]
pub struct BackupList {
    /// Show more columns
    #[arg(long)]
    pub long: bool,
    /// Only backups with this name
    #[arg(long)]
    pub name: Option<String>,
    /// Only backups with this status
    #[arg(long)]
    pub status: Option<String>,
    /// Only backups of this volume (name or ID; an unknown one is taken as an ID)
    #[arg(long)]
    pub volume: Option<String>,
    #[command(flatten)]
    pub projects: Projects,
    #[command(flatten)]
    pub paging: Paging,
    #[command(flatten)]
    pub output: ListOutput,
}

#[derive(Debug, Args)]
pub struct BackupSet {
    /// The backup (name or ID)
    pub backup: String,
    /// A new name (needs 3.9)
    #[arg(long)]
    pub name: Option<String>,
    /// A new description (needs 3.9)
    #[arg(long)]
    pub description: Option<String>,
    /// Reset the state: available or error (administrators)
    #[arg(long, value_name = "STATE")]
    pub state: Option<String>,
    /// A property key=value to add or change (repeatable; needs 3.43)
    #[arg(long = "property", value_name = "KEY=VALUE", value_parser = key_value)]
    pub properties: Vec<(String, String)>,
    /// Remove every property first
    #[arg(long)]
    pub no_property: bool,
    #[command(flatten)]
    pub wait: WaitArgs,
}

/// `snapshot …`
#[derive(Debug, Subcommand)]
pub enum SnapshotCommand {
    /// Snapshot a volume
    Create(SnapshotCreate),
    /// List snapshots
    List(SnapshotList),
    /// Show a snapshot
    Show {
        /// The snapshot (name or ID)
        snapshot: String,
        #[command(flatten)]
        output: ShowOutput,
    },
    /// Change a snapshot's name, description, properties or state
    Set(SnapshotSet),
    /// Remove properties of a snapshot
    Unset {
        /// The snapshot (name or ID)
        snapshot: String,
        /// A property key to remove (repeatable)
        #[arg(long = "property", value_name = "KEY")]
        properties: Vec<String>,
    },
    /// Delete snapshots
    Delete {
        /// The snapshots (names or IDs)
        #[arg(required = true)]
        snapshots: Vec<String>,
        /// Delete whatever the state (administrators)
        #[arg(long)]
        force: bool,
        /// Only stop managing them: the backend keeps them (administrators)
        #[arg(long, conflicts_with = "force")]
        remote: bool,
        #[command(flatten)]
        wait: WaitArgs,
    },
}

#[derive(Debug, Args)]
pub struct SnapshotCreate {
    /// The snapshot's name
    pub snapshot_name: String,
    /// The volume (name or ID; default: the snapshot's name)
    #[arg(long)]
    pub volume: Option<String>,
    /// The snapshot's description
    #[arg(long)]
    pub description: Option<String>,
    /// Snapshot an in-use volume (sent below 3.66 only: from 3.66 on the cloud allows it)
    #[arg(long)]
    pub force: bool,
    /// A property key=value (repeatable)
    #[arg(long = "property", value_name = "KEY=VALUE", value_parser = key_value)]
    pub properties: Vec<(String, String)>,
    /// Adopt this snapshot of the volume's backend instead of taking one, e.g.
    /// source-name=snap-1 (repeatable; administrators; needs 3.8)
    #[arg(long = "remote-source", value_name = "KEY=VALUE", value_parser = key_value, conflicts_with = "force")]
    pub remote_source: Vec<(String, String)>,
    #[command(flatten)]
    pub wait: WaitArgs,
    #[command(flatten)]
    pub output: ShowOutput,
}

#[derive(Debug, Args)]
pub struct SnapshotList {
    /// Show more columns
    #[arg(long)]
    pub long: bool,
    /// Only snapshots with this name
    #[arg(long)]
    pub name: Option<String>,
    /// Only snapshots with this status
    #[arg(long)]
    pub status: Option<String>,
    /// Only snapshots of this volume (name or ID)
    #[arg(long)]
    pub volume: Option<String>,
    #[command(flatten)]
    pub projects: Projects,
    #[command(flatten)]
    pub paging: Paging,
    #[command(flatten)]
    pub output: ListOutput,
}

#[derive(Debug, Args)]
pub struct SnapshotSet {
    /// The snapshot (name or ID)
    pub snapshot: String,
    /// A new name
    #[arg(long)]
    pub name: Option<String>,
    /// A new description
    #[arg(long)]
    pub description: Option<String>,
    /// Reset the state (administrators)
    #[arg(long, value_name = "STATE")]
    pub state: Option<String>,
    /// A property key=value to add or change (repeatable)
    #[arg(long = "property", value_name = "KEY=VALUE", value_parser = key_value)]
    pub properties: Vec<(String, String)>,
    /// Remove every property first
    #[arg(long)]
    pub no_property: bool,
    #[command(flatten)]
    pub wait: WaitArgs,
}

/// `limits …`
#[derive(Debug, Subcommand)]
pub enum LimitsCommand {
    /// Show the project's absolute limits (quotas and usage) or rate limits
    Show {
        /// The absolute limits: each quota and its usage (-1 is unlimited)
        #[arg(long, required_unless_present = "rate", conflicts_with = "rate")]
        absolute: bool,
        /// The rate limits (empty unless the cloud runs Cinder's rate-limiting middleware)
        #[arg(long)]
        rate: bool,
        /// Another project's limits, by id (administrators; needs 3.39)
        #[arg(long, value_name = "PROJECT_ID")]
        project: Option<String>,
        /// The project's domain (accepted for python-openstackclient's scripts; projects are given by id)
        #[arg(long, value_name = "DOMAIN", visible_alias = "domain")]
        project_domain: Option<String>,
        /// Reservations (python-openstackclient sends it to compute only: block-storage limits count none)
        #[arg(long)]
        reserved: bool,
        #[command(flatten)]
        output: ListOutput,
    },
}

/// `quota …`
#[derive(Debug, Subcommand)]
pub enum QuotaCommand {
    /// Show a project's block-storage quotas (per-volume-type ones included)
    Show {
        /// The project, by id (default: the session's)
        project: Option<String>,
        /// The defaults instead of the project's quotas
        #[arg(long, conflicts_with = "usage")]
        default: bool,
        /// Each quota's usage and reservations too
        #[arg(long)]
        usage: bool,
        /// The block-storage quotas (what this command shows in any case)
        #[arg(long)]
        volume: bool,
        #[command(flatten)]
        output: ListOutput,
    },
}

/// `volume …`
#[derive(Debug, Subcommand)]
pub enum VolumeCommand {
    /// Create a volume (empty, or from a snapshot, a volume or a backup)
    Create(VolumeCreate),
    /// List volumes
    List(VolumeList),
    /// Show a volume
    Show {
        /// The volume (name or ID)
        volume: String,
        #[command(flatten)]
        output: ShowOutput,
    },
    /// Delete volumes
    Delete {
        /// The volumes (names or IDs)
        #[arg(required = true)]
        volumes: Vec<String>,
        /// Delete whatever the state (administrators; needs 3.23)
        #[arg(long)]
        force: bool,
        /// Delete the volumes' snapshots too (--purge: OSC's older name)
        #[arg(long, alias = "purge")]
        cascade: bool,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// Revert a volume in place to its latest snapshot (needs 3.40)
    ///
    /// The volume is the snapshot's; it must be available (detached), the
    /// snapshot must be its newest and available, and their sizes equal.
    Revert {
        /// The snapshot (name or ID)
        snapshot: String,
        #[command(flatten)]
        wait: WaitArgs,
    },
}

#[derive(Debug, Args)]
pub struct VolumeCreate {
    /// The volume's name (default: none)
    pub name: Option<String>,
    /// Its size in GiB (default: the source's)
    #[arg(long, value_name = "GiB")]
    pub size: Option<i64>,
    /// Create from this snapshot (name or ID)
    #[arg(long)]
    pub snapshot: Option<String>,
    /// Clone this volume (name or ID)
    #[arg(long)]
    pub source: Option<String>,
    /// Restore this backup into the new volume (name or ID; needs 3.47)
    #[arg(long)]
    pub backup: Option<String>,
    /// The volume's description
    #[arg(long)]
    pub description: Option<String>,
    /// The volume type
    #[arg(long = "type")]
    pub volume_type: Option<String>,
    /// The availability zone
    #[arg(long)]
    pub availability_zone: Option<String>,
    /// A property key=value (repeatable)
    #[arg(long = "property", value_name = "KEY=VALUE", value_parser = key_value)]
    pub properties: Vec<(String, String)>,
    /// Create from this image (ID)
    #[arg(long, value_name = "IMAGE_ID", conflicts_with_all = ["snapshot", "source", "backup"])]
    pub image: Option<String>,
    /// The consistency group the volume joins (ID)
    #[arg(long, value_name = "GROUP_ID")]
    pub consistency_group: Option<String>,
    /// A scheduler hint key=value (repeatable; same_host and different_host gather their values)
    #[arg(long = "hint", value_name = "KEY=VALUE", value_parser = key_value)]
    pub hints: Vec<(String, String)>,
    /// Not bootable (what Cinder makes in any case)
    #[arg(long)]
    pub non_bootable: bool,
    /// Read-write access (what Cinder makes in any case)
    #[arg(long)]
    pub read_write: bool,
    #[command(flatten)]
    pub wait: WaitArgs,
    #[command(flatten)]
    pub output: ShowOutput,
}

#[derive(Debug, Args)]
pub struct VolumeList {
    /// Show more columns
    #[arg(long)]
    pub long: bool,
    /// Only volumes with this name
    #[arg(long)]
    pub name: Option<String>,
    /// Only volumes with this status
    #[arg(long)]
    pub status: Option<String>,
    /// Only volumes with this property key=value (repeatable)
    #[arg(long = "property", value_name = "KEY=VALUE", value_parser = key_value)]
    pub properties: Vec<(String, String)>,
    #[command(flatten)]
    pub projects: Projects,
    #[command(flatten)]
    pub paging: Paging,
    #[command(flatten)]
    pub output: ListOutput,
}

/// `database …`
#[derive(Debug, Subcommand)]
pub enum DatabaseCommand {
    /// Database backups
    #[command(subcommand)]
    Backup(DatabaseBackupCommand),
}

/// `database backup strategy …`
#[derive(Debug, Subcommand)]
pub enum StrategyCommand {
    /// List backup strategies
    List {
        /// Only this instance's strategy (ID)
        #[arg(long, value_name = "INSTANCE_ID")]
        instance_id: Option<String>,
        /// Another project's strategies (administrators)
        #[arg(long, value_name = "PROJECT_ID")]
        project_id: Option<String>,
        #[command(flatten)]
        output: ListOutput,
    },
    /// Create or replace the project's backup strategy, or an instance's
    ///
    /// Backups made without a container go to this Swift container: the
    /// instance's strategy first, then the project's, then the cloud's
    /// default. The project is always the session's.
    Create {
        /// The Swift container (at least one letter or digit; Trove refuses a strategy without one)
        #[arg(long, value_name = "CONTAINER")]
        swift_container: Option<String>,
        /// The instance (ID; default: the whole project)
        #[arg(long, value_name = "INSTANCE_ID")]
        instance_id: Option<String>,
        #[command(flatten)]
        output: ShowOutput,
    },
    /// Delete the project's backup strategy, or an instance's
    Delete {
        /// The instance (ID; default: the project-wide strategy)
        #[arg(long, value_name = "INSTANCE_ID")]
        instance_id: Option<String>,
        /// Another project's strategy (administrators)
        #[arg(long, value_name = "PROJECT_ID")]
        project_id: Option<String>,
    },
}

/// `database backup …`
#[derive(Debug, Subcommand)]
pub enum DatabaseBackupCommand {
    /// Where backups go when no container is given
    #[command(subcommand)]
    Strategy(StrategyCommand),
    /// Back up a database instance
    Create {
        /// The backup's name
        name: String,
        /// The instance to back up (ID; Trove needs one unless --restore-from)
        #[arg(short = 'i', long)]
        instance: Option<String>,
        /// The backup's description
        #[arg(long)]
        description: Option<String>,
        /// The parent backup of an incremental one (name or ID)
        #[arg(long)]
        parent: Option<String>,
        /// Back up what changed since the instance's latest backup
        #[arg(long)]
        incremental: bool,
        /// The Swift container to store the backup in (created if missing)
        #[arg(long, value_name = "CONTAINER")]
        swift_container: Option<String>,
        /// The storage driver: swift (the default) or cinder
        #[arg(long, value_name = "DRIVER")]
        storage_driver: Option<String>,
        /// Import a backup stored elsewhere, by its URL (no instance; with --restore-datastore-version and --restore-size)
        #[arg(long, value_name = "URL", requires_all = ["restore_datastore_version", "restore_size"])]
        restore_from: Option<String>,
        /// The datastore version of the imported backup (ID)
        #[arg(long, value_name = "VERSION_ID", requires = "restore_from")]
        restore_datastore_version: Option<String>,
        /// The size of the imported backup, in GiB
        #[arg(long, value_name = "GiB", requires = "restore_from")]
        restore_size: Option<f64>,
        #[command(flatten)]
        wait: WaitArgs,
        #[command(flatten)]
        output: ShowOutput,
    },
    /// List database backups
    ///
    /// `--limit N` lists up to N backups (one page), as python-troveclient
    /// does; without it every page is read.
    List {
        /// Only this instance's backups (ID)
        #[arg(short = 'i', long, visible_alias = "instance-id")]
        instance: Option<String>,
        /// Only backups of this datastore type (mysql, …)
        #[arg(long)]
        datastore: Option<String>,
        /// Every project's (administrators)
        #[arg(long)]
        all_projects: bool,
        /// Only this project's (administrators)
        #[arg(long, value_name = "PROJECT_ID")]
        project_id: Option<String>,
        #[command(flatten)]
        paging: Paging,
        #[command(flatten)]
        output: ListOutput,
    },
    /// Show a database backup
    Show {
        /// The backup (name or ID)
        backup: String,
        #[command(flatten)]
        output: ShowOutput,
    },
    /// Delete database backups
    Delete {
        /// The backups (names or IDs)
        #[arg(required = true)]
        backups: Vec<String>,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// Delete the database backups a retention policy does not keep (see `backup prune`)
    Prune {
        /// The instances whose backups to prune (IDs; repeatable)
        #[arg(short = 'i', long = "instance", value_name = "INSTANCE")]
        instances: Vec<String>,
        /// Every backup of the project
        #[arg(long, conflicts_with = "instances")]
        all_instances: bool,
        #[command(flatten)]
        policy: RetentionArgs,
        #[command(flatten)]
        output: ListOutput,
    },
}

/// `KEY=VALUE`.
fn key_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!("expected KEY=VALUE, found {text:?}")),
    }
}
