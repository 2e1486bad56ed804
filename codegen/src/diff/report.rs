//! How a reviewer reads the changes: text for a terminal, markdown for a
//! pull-request comment, JSON for tools; and the `--fail-on` verdict.

use super::{Change, Level};

/// How [`report`] writes the changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One line per change, for a terminal.
    Text,
    /// A summary line with counts per level, then one table per level,
    /// breaking first: ready to paste as a pull-request comment.
    Markdown,
    /// The changes as a JSON array of objects (`file`, `level`, `scope`,
    /// `pointer`, `what`, `rust`, `old`, `new`).
    Json,
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "text" => Ok(Format::Text),
            "markdown" => Ok(Format::Markdown),
            "json" => Ok(Format::Json),
            other => Err(format!("--format takes text, markdown or json, not `{other}`")),
        }
    }
}

/// Parses a `--fail-on` level: `breaking`, `warning` (or a breaking
/// change), `info` (any change) or `none` (`None`: never fail).
pub fn parse_fail_on(s: &str) -> std::result::Result<Option<Level>, String> {
    match s {
        "breaking" => Ok(Some(Level::Breaking)),
        "warning" => Ok(Some(Level::Warning)),
        "info" => Ok(Some(Level::Info)),
        "none" => Ok(None),
        other => Err(format!("--fail-on takes breaking, warning, info or none, not `{other}`")),
    }
}

/// Whether any change reaches `fail_on` (a breaking change reaches
/// `warning`, everything reaches `info`).
pub fn fails(changes: &[Change], fail_on: Option<Level>) -> bool {
    fail_on.is_some_and(|level| changes.iter().any(|c| c.level <= level))
}

/// A pointer as shown to people: the whole document is `/`, as in the
/// generator's errors; JSON keeps the exact RFC 6901 pointer (`""`).
fn shown(pointer: &str) -> &str {
    if pointer.is_empty() { "/" } else { pointer }
}

/// The changes as text, markdown or JSON.
pub fn report(changes: &[Change], format: Format) -> String {
    let count = |l: Level| changes.iter().filter(|c| c.level == l).count();
    match format {
        Format::Json => serde_json::to_string_pretty(changes).unwrap_or_default() + "\n",
        Format::Markdown => {
            if changes.is_empty() {
                return "**Spec diff**: no API changes.\n".to_owned();
            }
            let mut out = format!(
                "**Spec diff**: {} breaking, {} warning, {} info\n",
                count(Level::Breaking),
                count(Level::Warning),
                count(Level::Info)
            );
            for level in [Level::Breaking, Level::Warning, Level::Info] {
                let rows: Vec<&Change> = changes.iter().filter(|c| c.level == level).collect();
                if rows.is_empty() {
                    continue;
                }
                out.push_str(&format!(
                    "\n### {} ({})\n\n| where | change | Rust | pointer |\n|---|---|---|---|\n",
                    level,
                    rows.len()
                ));
                for c in rows {
                    let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
                    out.push_str(&format!(
                        "| {} `{}` | {} | {} | `{}` |\n",
                        c.file,
                        cell(&c.scope),
                        cell(&c.what),
                        cell(&c.rust),
                        cell(shown(&c.pointer))
                    ));
                }
            }
            out
        }
        Format::Text => {
            if changes.is_empty() {
                return "no API changes\n".to_owned();
            }
            let mut out = format!(
                "{} breaking, {} warning, {} info\n",
                count(Level::Breaking),
                count(Level::Warning),
                count(Level::Info)
            );
            for c in changes {
                out.push_str(&format!(
                    "{:<8} {}: {}: {} — {} ({})\n",
                    c.level,
                    c.file,
                    c.scope,
                    c.what,
                    c.rust,
                    shown(&c.pointer)
                ));
            }
            out
        }
    }
}
