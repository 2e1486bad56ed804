//! Reading a policy file: YAML through `serde_norway` (as `clouds.yaml`),
//! with `serde_path_to_error` for the field, so every error names the
//! file, the line and the field.

use std::collections::BTreeMap;
use std::fmt;
use std::num::{NonZeroU32, NonZeroUsize};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::{InUse, NameGlob, Policy, Projects, Selection};
use crate::retention;

/// A policy file, read and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyFile {
    /// Where it was read from (for messages).
    pub path: PathBuf,
    /// Its policies, by name.
    pub policies: BTreeMap<String, Policy>,
}

/// What is wrong with a policy file: where, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyFileError {
    /// The file.
    pub path: PathBuf,
    /// The line (1-based), when known.
    pub line: Option<usize>,
    /// The column (1-based), when known.
    pub column: Option<usize>,
    /// The field, as a path (`policies.nightly.every`); empty for the file
    /// as a whole.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for PolicyFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        if !self.field.is_empty() {
            write!(f, ": {}", self.field)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for PolicyFileError {}

impl PolicyFile {
    /// Reads and checks the file at `path`.
    ///
    /// # Errors
    ///
    /// The file cannot be read, is not YAML, or a field is missing, unknown
    /// or wrong: the error names the file, the line and the field.
    pub fn read(path: &Path) -> Result<PolicyFile, PolicyFileError> {
        let text = std::fs::read_to_string(path).map_err(|e| PolicyFileError {
            path: path.to_owned(),
            line: None,
            column: None,
            field: String::new(),
            message: format!("cannot read it: {e}"),
        })?;
        Self::parse(path, &text)
    }

    /// Checks `text`, a policy file's content; `path` is for messages.
    ///
    /// # Errors
    ///
    /// As [`read`](Self::read), except reading.
    pub fn parse(path: &Path, text: &str) -> Result<PolicyFile, PolicyFileError> {
        let de = serde_norway::Deserializer::from_str(text);
        let raw: RawFile = serde_path_to_error::deserialize(de).map_err(|e| {
            let field = e.path().to_string();
            let inner = e.into_inner();
            let location = inner.location();
            // serde_norway writes its own path (of the enclosing mapping)
            // before the message and the position after it; both are in
            // the error's fields already.
            let mut message = inner.to_string();
            if let Some(cut) = message.rfind(" at line ") {
                message.truncate(cut);
            }
            if let Some((prefix, rest)) = message.split_once(": ")
                && (field == prefix || field.starts_with(&format!("{prefix}.")))
            {
                message = rest.to_owned();
            }
            PolicyFileError {
                path: path.to_owned(),
                line: location.as_ref().map(|l| l.line()),
                column: location.as_ref().map(|l| l.column()),
                field: if field == "." { String::new() } else { field },
                message,
            }
        })?;
        let policies = raw.policies.into_iter().map(|(name, p)| (name.0.clone(), p.0.into_policy(name.0))).collect();
        Ok(PolicyFile { path: path.to_owned(), policies })
    }

    /// The policies named in `only` (every policy when it is empty).
    ///
    /// # Errors
    ///
    /// A name the file does not have (the message lists those it has).
    pub fn chosen(&self, only: &[String]) -> Result<Vec<&Policy>, PolicyFileError> {
        if only.is_empty() {
            return Ok(self.policies.values().collect());
        }
        only.iter()
            .map(|name| {
                self.policies.get(name).ok_or_else(|| PolicyFileError {
                    path: self.path.clone(),
                    line: None,
                    column: None,
                    field: "policies".to_owned(),
                    message: format!(
                        "no policy named {name:?} (the file has: {})",
                        self.policies.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                })
            })
            .collect()
    }
}

/// A policy name: what can be written into a backup's metadata and name.
pub(super) fn check_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{name:?} is not a policy name: 1 to 64 letters, digits, '-', '_' or '.', starting with a letter or a digit"
        ))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    policies: BTreeMap<Name, CheckedPolicy>,
}

/// A policy whose fields are checked together (an error points at the
/// policy's mapping).
struct CheckedPolicy(RawPolicy);

impl<'de> Deserialize<'de> for CheckedPolicy {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked_map(d, "a policy (select, every, …)", |raw: RawPolicy| {
            if raw.select.group.is_some() && raw.in_use.is_some() {
                return Err("in-use does not apply to a group: its group snapshot takes attached volumes as they \
                            are; leave in-use out"
                    .to_owned());
            }
            Ok(CheckedPolicy(raw))
        })
    }
}

#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Name(String);

/// Deserializes a string and checks it inside the visitor, so that an
/// error carries the position of the value itself.
fn checked_str<'de, D, T>(d: D, expecting: &'static str, check: fn(&str) -> Result<T, String>) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
{
    struct V<T>(&'static str, fn(&str) -> Result<T, String>);
    impl<T> serde::de::Visitor<'_> for V<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<T, E> {
            (self.1)(v).map_err(E::custom)
        }
    }
    d.deserialize_str(V(expecting, check))
}

/// Deserializes a mapping into `R` and checks it inside the visitor, so
/// that an error carries the position of the mapping itself.
fn checked_map<'de, D, R, T>(d: D, expecting: &'static str, check: fn(R) -> Result<T, String>) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    R: Deserialize<'de>,
{
    struct V<R, T>(&'static str, fn(R) -> Result<T, String>);
    impl<'de, R: Deserialize<'de>, T> serde::de::Visitor<'de> for V<R, T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
            let raw = R::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
            (self.1)(raw).map_err(serde::de::Error::custom)
        }
    }
    d.deserialize_map(V(expecting, check))
}

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked_str(d, "a policy name", |name| check_name(name).map(|()| Name(name.to_owned())))
    }
}

/// A duration as people write it (`24h`, `90m`, `1h 30m`, `7d`).
struct Dur(Duration);

fn duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text).map_err(|e| format!("expected a duration like 24h, 90m or 1h 30m: {e}"))
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked_str(d, "a duration like 24h", |t| duration(t).map(Dur))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawPolicy {
    select: Selection,
    every: NonZeroDur,
    slack: Option<Dur>,
    #[serde(alias = "full_every")]
    full_every: Option<NonZeroU32>,
    #[serde(alias = "in_use")]
    in_use: Option<InUse>,
    keep: Option<Keep>,
    concurrency: Option<NonZeroUsize>,
    timeout: Option<NonZeroDur>,
    #[serde(alias = "poll_interval")]
    poll_interval: Option<NonZeroDur>,
    container: Option<String>,
    #[serde(alias = "availability_zone")]
    availability_zone: Option<String>,
    #[serde(default)]
    properties: Properties,
}

impl RawPolicy {
    fn into_policy(self, name: String) -> Policy {
        let every = self.every.0;
        Policy {
            name,
            select: self.select,
            every,
            slack: self.slack.map_or(every / 10, |s| s.0),
            full_every: self.full_every.map_or(1, NonZeroU32::get),
            in_use: self.in_use.unwrap_or(InUse::Snapshot),
            keep: self.keep.map(|k| k.0),
            concurrency: self.concurrency.map_or(4, NonZeroUsize::get),
            timeout: self.timeout.map_or(Duration::from_secs(6 * 3600), |t| t.0),
            poll_interval: self.poll_interval.map_or(Duration::from_secs(10), |t| t.0),
            container: self.container,
            availability_zone: self.availability_zone,
            properties: self.properties.0,
        }
    }
}

/// A duration longer than zero.
struct NonZeroDur(Duration);

impl<'de> Deserialize<'de> for NonZeroDur {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked_str(d, "a duration like 24h", |t| match duration(t)? {
            zero if zero.is_zero() => Err("must be longer than zero".to_owned()),
            longer => Ok(NonZeroDur(longer)),
        })
    }
}

/// Backup properties: the marker key is the policy's own.
#[derive(Default)]
struct Properties(BTreeMap<String, String>);

impl<'de> Deserialize<'de> for Properties {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked_map(d, "a map of backup properties", |map: BTreeMap<String, String>| {
            if map.contains_key(super::MARKER) {
                return Err(format!("{} is set by the policy itself (its name); choose another key", super::MARKER));
            }
            Ok(Properties(map))
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawSelection {
    #[serde(default)]
    names: Vec<String>,
    #[serde(alias = "name_glob", alias = "glob")]
    name_glob: Option<String>,
    #[serde(default)]
    metadata: BTreeMap<String, String>,
    #[serde(default)]
    all: bool,
    project: Option<String>,
    #[serde(default, alias = "all_projects")]
    all_projects: bool,
    group: Option<String>,
}

impl<'de> Deserialize<'de> for Selection {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked_map(d, "a selection (names, name-glob, metadata, all, group)", selection)
    }
}

fn selection(raw: RawSelection) -> Result<Selection, String> {
    let narrows = !raw.names.is_empty() || raw.name_glob.is_some() || !raw.metadata.is_empty();
    if let Some(group) = raw.group {
        if narrows || raw.all || raw.project.is_some() || raw.all_projects {
            return Err("group selects the volumes of one volume group of the caller's project; it cannot be \
                        combined with names, name-glob, metadata, all, project or all-projects"
                .into());
        }
        if group.is_empty() {
            return Err("group: give the volume group's name or id".into());
        }
        return Ok(Selection { group: Some(group), ..Selection::default() });
    }
    if raw.all && narrows {
        return Err("all: true selects every volume; it cannot be combined with names, name-glob or metadata".into());
    }
    if !raw.all && !narrows {
        return Err("selects no volume: give names, name-glob, metadata, group, or all: true".into());
    }
    let projects = match (raw.project, raw.all_projects) {
        (Some(_), true) => return Err("give project or all-projects, not both".into()),
        (Some(p), false) => Projects::Project(p),
        (None, true) => Projects::All,
        (None, false) => Projects::Own,
    };
    let name_glob = raw.name_glob.as_deref().map(NameGlob::new).transpose()?;
    Ok(Selection { names: raw.names, name_glob, metadata: raw.metadata, all: raw.all, projects, group: None })
}

/// `keep`: the retention rules of `backup prune`.
struct Keep(retention::Policy);

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawKeep {
    #[serde(default)]
    last: usize,
    #[serde(default)]
    hourly: usize,
    #[serde(default)]
    daily: usize,
    #[serde(default)]
    weekly: usize,
    #[serde(default)]
    monthly: usize,
    #[serde(default)]
    yearly: usize,
    within: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(alias = "utc_offset")]
    utc_offset: Option<String>,
}

impl<'de> Deserialize<'de> for Keep {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked_map(d, "keep rules (last, daily, …)", keep)
    }
}

fn keep(raw: RawKeep) -> Result<Keep, String> {
    let keep_within =
        raw.within.as_deref().map(retention::parse_within).transpose().map_err(|e| format!("within: {e}"))?;
    let offset = raw
        .utc_offset
        .as_deref()
        .map(retention::parse_utc_offset)
        .transpose()
        .map_err(|e| format!("utc-offset {e}"))?;
    let keep_tags = raw.tags.iter().map(|t| retention::parse_tag(t)).collect();
    let policy = retention::Policy {
        keep_last: raw.last,
        keep_hourly: raw.hourly,
        keep_daily: raw.daily,
        keep_weekly: raw.weekly,
        keep_monthly: raw.monthly,
        keep_yearly: raw.yearly,
        keep_within,
        keep_tags,
        offset,
    };
    if policy.is_empty() {
        return Err("keep has no rule, so every backup of the policy would go; leave keep out to delete nothing".into());
    }
    Ok(Keep(policy))
}
