//! What a spec change does to the API and to the generated Rust: every
//! change between two [`Model`]s of a spec, with its operation or schema,
//! JSON pointer, old and new value, level and effect in Rust words.
//!
//! Both sides are the generator's own model (built by
//! [`crate::validate`]), so spec-diff and the generator cannot disagree
//! about what a spec means: an extension is read once, by its module in
//! `ext/`, which also owns its change rules. This module compares the
//! operations (routes, ids, parameters, bodies, responses; [`operations`]),
//! walks the component schemas ([`schema`]: classified by use, because the
//! same change is harmless on the request side and breaking on the
//! response side), and reports any `x-…` key no module knows as a
//! JSON-patch style entry, so that nothing is ignored silently. Reading old
//! revisions from git is the driver's business (`cargo xtask spec-diff`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::error::escape_pointer_token;
use crate::model::Model;

mod operations;
mod report;
pub(crate) mod schema;

pub use report::{Format, fails, parse_fail_on, report};

/// How much a change matters to users of the generated crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Code that compiles and works today may not after the change.
    Breaking,
    /// Behaviour or a contract changes; code keeps compiling.
    Warning,
    /// Additive or cosmetic.
    Info,
}

impl Level {
    /// `breaking`, `warning`, `info`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Breaking => "breaking",
            Level::Warning => "warning",
            Level::Info => "info",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// The spec file.
    pub file: String,
    /// How much it matters.
    pub level: Level,
    /// The operation (`GET /backups listBackups`) or schema (`schema Backup`).
    pub scope: String,
    /// Where, as a JSON pointer into the spec.
    pub pointer: String,
    /// What changed, in the spec's words.
    pub what: String,
    /// What it does to the generated Rust API.
    pub rust: String,
    /// The value before (absent when added).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<Value>,
    /// The value after (absent when removed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<Value>,
}

/// The changes found so far in one spec; every rule writes here.
pub(crate) struct Changes {
    file: String,
    list: Vec<Change>,
}

impl Changes {
    /// Records a change at `pointer` of `scope`; the values before and
    /// after are set on the returned change with [`Change::values`].
    pub(crate) fn push(
        &mut self,
        level: Level,
        scope: &str,
        pointer: &str,
        what: impl Into<String>,
        rust: impl Into<String>,
    ) -> &mut Change {
        self.list.push(Change {
            file: self.file.clone(),
            level,
            scope: scope.to_owned(),
            pointer: pointer.to_owned(),
            what: what.into(),
            rust: rust.into(),
            old: None,
            new: None,
        });
        self.list.last_mut().expect("just pushed")
    }

    /// `x-…` keys that no rule knows at this place (`known` have rules of
    /// their own), as JSON patches: reported, never ignored.
    pub(crate) fn unknown_extensions(
        &mut self,
        scope: &str,
        at: &str,
        old: &BTreeMap<String, Value>,
        new: &BTreeMap<String, Value>,
        known: &[&str],
    ) {
        let keys: BTreeSet<&String> = old.keys().chain(new.keys()).filter(|k| !known.contains(&k.as_str())).collect();
        for key in keys {
            let (a, b) = (old.get(key), new.get(key));
            if a == b {
                continue;
            }
            let op = match (a, b) {
                (None, Some(_)) => "add",
                (Some(_), None) => "remove",
                _ => "replace",
            };
            self.push(
                Level::Warning,
                scope,
                &format!("{at}/{}", escape_pointer_token(key)),
                format!("{{\"op\": \"{op}\", \"path\": \"{at}/{key}\"}}"),
                "no rule of its own here: review the regenerated diff for its effect",
            )
            .values(a.cloned(), b.cloned());
        }
    }
}

/// What an extension on an operation generates: its parsed form, the
/// client methods it makes (`method find_backup`), and its value as written.
pub(crate) struct Generated<'a, T> {
    pub(crate) spec: &'a T,
    pub(crate) methods: String,
    pub(crate) written: Option<Value>,
}

impl Changes {
    /// The rule of an extension that generates client methods
    /// (`x-openstack-find`, `x-openstack-waiter`) at `at`: added (info),
    /// removed (breaking), its item renamed so its methods are (breaking), or
    /// described anew (a warning: the methods `verb` the new description).
    pub(crate) fn generated_methods<T: PartialEq>(
        &mut self,
        scope: &str,
        key: &str,
        at: &str,
        old: Option<Generated<'_, T>>,
        new: Option<Generated<'_, T>>,
        verb: &str,
    ) {
        match (old, new) {
            (None, None) => {}
            (Some(a), Some(b)) if a.spec == b.spec => {}
            (None, Some(b)) => self
                .push(Level::Info, scope, at, format!("{key} added"), format!("{} added", b.methods))
                .values(None, b.written),
            (Some(a), None) => self
                .push(Level::Breaking, scope, at, format!("{key} removed"), format!("{} removed", a.methods))
                .values(a.written, None),
            (Some(a), Some(b)) if a.methods != b.methods => {
                let to = b.methods.trim_start_matches("methods ").trim_start_matches("method ");
                self.push(
                    Level::Breaking,
                    scope,
                    at,
                    format!("{key}'s item renamed"),
                    format!("{} renamed to {to}", a.methods),
                )
                .values(a.written, b.written)
            }
            (Some(a), Some(b)) => self
                .push(
                    Level::Warning,
                    scope,
                    at,
                    format!("{{\"op\": \"replace\", \"path\": \"{at}\"}}"),
                    format!("{} {verb} the new description: review the regenerated diff", b.methods),
                )
                .values(a.written, b.written),
        }
    }
}

impl Change {
    /// Sets the values before and after.
    pub(crate) fn values(&mut self, old: Option<Value>, new: Option<Value>) {
        (self.old, self.new) = (old, new);
    }
}

/// Compares two models of one spec file (`None`: the file did not exist
/// on that side). The changes come sorted: by level (breaking first), then
/// scope, then pointer.
pub fn diff_models(file: &str, old: Option<&Model>, new: Option<&Model>) -> Vec<Change> {
    let mut d = Changes { file: file.to_owned(), list: Vec::new() };
    match (old, new) {
        (None, None) => {}
        (None, Some(n)) => {
            d.push(Level::Info, "spec", "", "a new spec", format!("module {} added", n.service.module));
        }
        (Some(o), None) => {
            d.push(Level::Breaking, "spec", "", "the spec is removed", format!("module {} removed", o.service.module));
        }
        (Some(o), Some(n)) => {
            operations::compare(&mut d, o, n);
            schema::compare(&mut d, o, n);
            crate::ext::service::diff(&mut d, o, n);
            sites(&mut d, o, n);
        }
    }
    d.list.sort_by(|a, b| {
        a.level.cmp(&b.level).then_with(|| a.scope.cmp(&b.scope)).then_with(|| a.pointer.cmp(&b.pointer))
    });
    d.list
}

/// `x-…` keys of the document, `info` and the path items: none has rules
/// of its own there (the service identity is [`crate::ext::service`]'s).
fn sites(d: &mut Changes, old: &Model, new: &Model) {
    let by_pointer = |m: &Model| -> BTreeMap<String, (String, BTreeMap<String, Value>)> {
        m.extension_sites.iter().map(|s| (s.pointer.clone(), (s.scope.clone(), s.extensions.clone()))).collect()
    };
    let (a, b) = (by_pointer(old), by_pointer(new));
    let empty = BTreeMap::new();
    for at in a.keys().chain(b.keys()).collect::<BTreeSet<_>>() {
        let scope = b.get(at).or_else(|| a.get(at)).map(|(s, _)| s.clone()).unwrap_or_default();
        let ext = |side: &BTreeMap<String, (String, BTreeMap<String, Value>)>| side.get(at).map(|(_, e)| e.clone());
        d.unknown_extensions(&scope, at, &ext(&a).unwrap_or(empty.clone()), &ext(&b).unwrap_or(empty.clone()), &[]);
    }
}
