//! `x-openstack-always-sent`: properties every supported server sends but
//! the client does not need. They stay optional in the generated types (a
//! tolerant reader), and the conformance check requires them in the real
//! servers' responses. The generator checks the list and emits nothing.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::error::Result;
use crate::validate::Checker;

// Parse.

/// Properties every supported server sends but the client does not need:
/// optional in the generated types, required by the conformance check.
pub const ALWAYS_SENT: &str = "x-openstack-always-sent";

/// `x-openstack-always-sent` names declared properties that are not
/// `required` (a required property needs no second list).
pub(crate) fn always_sent(c: &Checker<'_>, schema: &Value, at: &str) -> Result<()> {
    let Some(list) = schema.get(ALWAYS_SENT) else { return Ok(()) };
    let list_at = format!("{at}/{ALWAYS_SENT}");
    let names = list.as_array().ok_or_else(|| c.err(None, &list_at, "expected a list of property names"))?;
    let required: BTreeSet<&str> =
        schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
    for (i, name) in names.iter().enumerate() {
        let here = format!("{list_at}/{i}");
        let name =
            name.as_str().ok_or_else(|| c.err(None, &here, format!("expected a property name, found {name}")))?;
        if schema.pointer(&format!("/properties/{}", crate::error::escape_pointer_token(name))).is_none() {
            return Err(c.err(None, &here, format!("`{name}` is not a property of this schema")));
        }
        if required.contains(name) {
            return Err(c.err(None, &here, format!("`{name}` is `required` already")));
        }
    }
    Ok(())
}
