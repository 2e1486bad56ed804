//! `x-extensible-enum`: a server-controlled string with known values. On a
//! named string schema it becomes an open Rust enum, one variant per known
//! value and `Unknown` for the rest, so that a newer server's value decodes
//! (and is kept) instead of failing the response. Response schemas may not
//! close a value set with `enum` (see `validate::schema`).

use std::collections::BTreeSet;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;

use crate::diff::schema::Side;
use crate::diff::{Changes, Level};
use crate::error::Result;
use crate::model::{Model, pascal_case};
use crate::rt::{DESERIALIZE_OPEN, UNKNOWN_VALUE, UNKNOWN_VALUE_OF};
use crate::validate::Checker;

/// A server-controlled string with known values (`x-extensible-enum`).
#[derive(Debug, Clone)]
pub struct OpenEnum {
    /// The component name.
    pub name: String,
    /// The schema's description.
    pub description: Option<String>,
    /// The known values, in spec order.
    pub values: Vec<String>,
}

// Parse.

/// The vendor extension for open enums.
pub const EXTENSIBLE_ENUM: &str = "x-extensible-enum";

pub(crate) fn parse(c: &Checker<'_>, name: &str, schema: &Value, values: &Value, at: &str) -> Result<OpenEnum> {
    if schema.get("type").and_then(Value::as_str) != Some("string") {
        return Err(c.err(None, at, format!("`{EXTENSIBLE_ENUM}` needs `type: string`")));
    }
    if schema.get("enum").is_some() {
        return Err(c.err(
            None,
            &format!("{at}/enum"),
            format!("`enum` closes the value set; a schema with `{EXTENSIBLE_ENUM}` must not have it"),
        ));
    }
    let list = values
        .as_array()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| c.err(None, &format!("{at}/{EXTENSIBLE_ENUM}"), "expected a non-empty list of strings"))?;
    let mut out = Vec::new();
    let mut variants = BTreeSet::new();
    for (i, v) in list.iter().enumerate() {
        let s = v.as_str().ok_or_else(|| {
            c.err(None, &format!("{at}/{EXTENSIBLE_ENUM}/{i}"), format!("expected a string, found {v}"))
        })?;
        let variant = crate::model::pascal_case(s);
        if variant == "Unknown" {
            return Err(c.err(
                None,
                &format!("{at}/{EXTENSIBLE_ENUM}/{i}"),
                format!(
                    "`{s}` maps to `Unknown`, the open enum's variant for values it does not list; leave it out \
                     (it is read as `Unknown` with the server's text)"
                ),
            ));
        }
        if !variants.insert(variant) {
            return Err(c.err(
                None,
                &format!("{at}/{EXTENSIBLE_ENUM}/{i}"),
                format!("`{s}` repeats a value (or maps to the same Rust variant as another)"),
            ));
        }
        out.push(s.to_owned());
    }
    Ok(OpenEnum {
        name: name.to_owned(),
        description: schema.get("description").and_then(Value::as_str).map(str::to_owned),
        values: out,
    })
}

// Emit.

/// Open enums, appended to the `types` module.
pub(crate) fn open_enums(model: &Model) -> TokenStream {
    model.open_enums.iter().map(open_enum).collect()
}

pub(crate) fn open_enum(e: &OpenEnum) -> TokenStream {
    let name = format_ident!("{}", e.name);
    let doc = format!(
        "{}\n\nServer-controlled and open: a value this client does not know decodes as \
         [`{}::Unknown`] and is kept, so a newer server cannot break decoding.",
        e.description.as_deref().unwrap_or(&e.name).trim_end(),
        e.name
    );
    let variants: Vec<_> = e.values.iter().map(|v| format_ident!("{}", pascal_case(v))).collect();
    let values = &e.values;
    let variant_docs = values.iter().map(|v| format!("`{v}`"));
    let count = values.len();
    quote! {
        #[doc = #doc]
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum #name {
            #( #[doc = #variant_docs] #variants, )*
            /// A value this client does not know, kept as the server sent it.
            Unknown(#UNKNOWN_VALUE),
        }

        impl #name {
            /// The values this client knows, as the server spells them.
            pub const KNOWN: [&'static str; #count] = [#(#values),*];

            /// The value as the server spells it.
            pub fn as_str(&self) -> &str {
                match self {
                    #( Self::#variants => #values, )*
                    Self::Unknown(value) => value.as_str(),
                }
            }

            /// Whether this is a value the client does not know.
            pub fn is_unknown(&self) -> bool {
                matches!(self, Self::Unknown(_))
            }
        }

        impl ::std::convert::From<&str> for #name {
            fn from(value: &str) -> Self {
                match value {
                    #( #values => Self::#variants, )*
                    other => Self::Unknown(#UNKNOWN_VALUE_OF(other)),
                }
            }
        }

        impl ::std::convert::From<::std::string::String> for #name {
            fn from(value: ::std::string::String) -> Self {
                Self::from(value.as_str())
            }
        }

        impl ::std::str::FromStr for #name {
            type Err = ::std::convert::Infallible;
            fn from_str(value: &str) -> ::std::result::Result<Self, Self::Err> {
                Ok(Self::from(value))
            }
        }

        impl ::std::fmt::Display for #name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for #name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for #name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                #DESERIALIZE_OPEN(deserializer, |value: &str| Self::from(value))
            }
        }
    }
}

// Change rules.

/// Values of `enum` (closed) and `x-extensible-enum` (open) at a schema
/// node. A closed enum's value removed is breaking, one added is breaking
/// where responses use it (an exhaustive match breaks); an open enum's
/// value removed is breaking only for requests (responses still decode it,
/// as `Unknown`).
pub(crate) fn diff_values(d: &mut Changes, scope: &str, at: &str, old: &Value, new: &Value, side: Side, what: &str) {
    let text = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_owned);
    let listed = |n: &Value, key: &str| -> Vec<String> {
        n.get(key).and_then(Value::as_array).into_iter().flatten().map(text).collect()
    };
    let index = |n: &Value, key: &str, value: &str| listed(n, key).iter().position(|v| v == value).unwrap_or(0);
    for key in ["enum", EXTENSIBLE_ENUM] {
        let (a, b): (BTreeSet<String>, BTreeSet<String>) =
            (listed(old, key).into_iter().collect(), listed(new, key).into_iter().collect());
        for gone in a.difference(&b) {
            let variant = pascal_case(gone);
            let (level, rust) = match (key, side) {
                ("enum", _) => (Level::Breaking, format!("{what}: variant {variant} removed")),
                (_, Side::Request) => {
                    (Level::Breaking, format!("{what}: variant {variant} removed (the server no longer takes it)"))
                }
                _ => (
                    Level::Warning,
                    format!("{what}: variant {variant} removed; a server that still sends it decodes as Unknown"),
                ),
            };
            d.push(
                level,
                scope,
                &format!("{at}/{key}/{}", index(old, key, gone)),
                format!("{key} value {gone} removed"),
                rust,
            )
            .values(Some(Value::String(gone.clone())), None);
        }
        for added in b.difference(&a) {
            let variant = pascal_case(added);
            let (level, rust) = match (key, side) {
                ("enum", Side::Response | Side::Both) => (
                    Level::Breaking,
                    format!("{what}: variant {variant} added to a closed enum (an exhaustive match breaks)"),
                ),
                ("enum", Side::Request) => (Level::Info, format!("{what}: variant {variant} added")),
                _ => {
                    (Level::Info, format!("{what}: variant {variant} added (open enums decoded it as Unknown before)"))
                }
            };
            d.push(
                level,
                scope,
                &format!("{at}/{key}/{}", index(new, key, added)),
                format!("{key} value {added} added"),
                rust,
            )
            .values(None, Some(Value::String(added.clone())));
        }
    }
}
