//! The generator on specs mutated from the real ones: a `$ref` to nothing,
//! a wrong `type`, a duplicated `operationId`, a vendor extension with a
//! value it cannot take, several success types, a `$ref` cycle, a removed
//! key, a node made null. The generator accepts the spec or names the
//! cause (file, operation, JSON pointer) from its own validation: it never
//! panics, and progenitor's panic is never the guard that catches it.
//!
//! When a mutated spec still generates, spec-diff and the generator must
//! agree on what changed: spec-diff compares the two models, the generated
//! public API (client methods, types, fields) is compared by name, and
//! neither may see a change the other does not (see [`agree`]).
//!
//! Cases per spec: `PROPTEST_CASES` (48 by default: each case generates a
//! whole client; `cargo xtask fuzz` runs many more).

use std::collections::BTreeSet;
use std::path::Path;

use openstack_backups_codegen::diff::{self, Change};
use openstack_backups_codegen::model::Model;
use openstack_backups_codegen::{Error, GeneratedFile, ServiceSpec, generate, model_of};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};

fn read(path: &str) -> Value {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)).unwrap();
    serde_norway::from_str(&text).unwrap()
}

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[derive(Debug, Clone)]
enum Mutation {
    /// The n-th `$ref` points at a schema that does not exist.
    MissingRef(usize),
    /// The n-th `type` becomes this.
    WrongType(usize, Value),
    /// Operation a takes the `operationId` of operation b.
    DuplicateOperationId(usize, usize),
    /// The n-th vendor extension (`x-…`) takes this value.
    ExtensionValue(usize, Value),
    /// Operation n gets a second success response of another type.
    SeveralSuccessTypes(usize, usize),
    /// Component schemas a and b refer to each other (`a: $ref b`, `b: $ref a`).
    RefCycle(usize, usize),
    /// Component schema n gets a property that refers to itself.
    SelfReference(usize),
    /// The n-th object loses its k-th key.
    RemoveKey(usize, usize),
    /// The n-th node becomes null.
    Null(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let n = any::<usize>;
    prop_oneof![
        2 => n().prop_map(Mutation::MissingRef),
        2 => (n(), prop::sample::select(vec![
            json!("string"), json!("integer"), json!("number"), json!("boolean"), json!("array"),
            json!("object"), json!("null"), json!("bogus"), json!(5), json!(["string", "null"]),
        ])).prop_map(|(n, t)| Mutation::WrongType(n, t)),
        1 => (n(), n()).prop_map(|(a, b)| Mutation::DuplicateOperationId(a, b)),
        3 => (n(), prop::sample::select(vec![
            json!(42), json!("nonsense"), json!("3.x"), json!([]), json!({}), json!(null),
            json!({"unknown-key": 1}), json!(["unknown"]), json!(true),
        ])).prop_map(|(n, v)| Mutation::ExtensionValue(n, v)),
        1 => (n(), n()).prop_map(|(a, b)| Mutation::SeveralSuccessTypes(a, b)),
        1 => (n(), n()).prop_map(|(a, b)| Mutation::RefCycle(a, b)),
        1 => n().prop_map(Mutation::SelfReference),
        2 => (n(), n()).prop_map(|(a, b)| Mutation::RemoveKey(a, b)),
        2 => n().prop_map(Mutation::Null),
    ]
}

/// The pointers of every node of `value` that `wanted` accepts
/// (`key` is the node's own key in its parent).
fn nodes(value: &Value, at: &str, key: &str, wanted: &dyn Fn(&str, &Value) -> bool, out: &mut Vec<String>) {
    if wanted(key, value) {
        out.push(at.to_owned());
    }
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                nodes(v, &format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")), k, wanted, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                nodes(v, &format!("{at}/{i}"), "", wanted, out);
            }
        }
        _ => {}
    }
}

fn pick(doc: &Value, n: usize, wanted: &dyn Fn(&str, &Value) -> bool) -> Option<String> {
    let mut out = Vec::new();
    nodes(doc, "", "", wanted, &mut out);
    (!out.is_empty()).then(|| out[n % out.len()].clone())
}

/// The pointers of every operation.
fn operations(doc: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in ["get", "put", "post", "delete", "patch"] {
            if item.get(method).is_some() {
                out.push(format!("/paths/{}/{method}", path.replace('~', "~0").replace('/', "~1")));
            }
        }
    }
    out
}

/// Applies `mutation`; returns the pointer of the node it changed.
fn apply(doc: &mut Value, mutation: &Mutation) -> Option<String> {
    let schemas: Vec<String> = doc["components"]["schemas"].as_object().unwrap().keys().cloned().collect();
    let ops = operations(doc);
    match mutation {
        Mutation::MissingRef(n) => {
            let at = pick(doc, *n, &|k, v| k == "$ref" && v.is_string())?;
            *doc.pointer_mut(&at)? = json!("#/components/schemas/NoSuchSchema");
            Some(at)
        }
        Mutation::WrongType(n, t) => {
            let at = pick(doc, *n, &|k, v| k == "type" && v.is_string())?;
            *doc.pointer_mut(&at)? = t.clone();
            Some(at)
        }
        Mutation::DuplicateOperationId(a, b) => {
            let (a, b) = (&ops[a % ops.len()], &ops[b % ops.len()]);
            let id = doc.pointer(&format!("{b}/operationId"))?.clone();
            *doc.pointer_mut(&format!("{a}/operationId"))? = id;
            Some(format!("{a}/operationId"))
        }
        Mutation::ExtensionValue(n, v) => {
            let at = pick(doc, *n, &|k, _| k.starts_with("x-"))?;
            *doc.pointer_mut(&at)? = v.clone();
            Some(at)
        }
        Mutation::SeveralSuccessTypes(a, b) => {
            let op = &ops[a % ops.len()];
            let schema = &schemas[b % schemas.len()];
            let responses = doc.pointer_mut(&format!("{op}/responses"))?.as_object_mut()?;
            let status = if responses.contains_key("200") { "203" } else { "200" };
            responses.insert(
                status.to_owned(),
                json!({"description": "Another success.", "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}}),
            );
            Some(format!("{op}/responses/{status}"))
        }
        Mutation::RefCycle(a, b) => {
            let (a, b) = (&schemas[a % schemas.len()], &schemas[b % schemas.len()]);
            doc["components"]["schemas"][a] = json!({"$ref": format!("#/components/schemas/{b}")});
            doc["components"]["schemas"][b] = json!({"$ref": format!("#/components/schemas/{a}")});
            Some(format!("/components/schemas/{a}"))
        }
        Mutation::SelfReference(n) => {
            let name = &schemas[n % schemas.len()];
            let properties = doc["components"]["schemas"][name].get_mut("properties")?.as_object_mut()?;
            properties.insert("again".to_owned(), json!({"$ref": format!("#/components/schemas/{name}")}));
            Some(format!("/components/schemas/{name}/properties/again"))
        }
        Mutation::RemoveKey(n, k) => {
            let at = pick(doc, *n, &|_, v| v.as_object().is_some_and(|m| !m.is_empty()))?;
            let map = doc.pointer_mut(&at)?.as_object_mut()?;
            let key = map.keys().nth(k % map.len())?.clone();
            map.remove(&key);
            Some(at)
        }
        Mutation::Null(n) => {
            let at = pick(doc, *n, &|_, _| true).filter(|p| !p.is_empty())?;
            *doc.pointer_mut(&at)? = Value::Null;
            Some(at)
        }
    }
}

/// The generated public API by name: `Client::method` for the client's
/// calls, `builder::Type::method` for builder setters, `type Name` and
/// `Name.field` for the types.
fn public_api(files: &[GeneratedFile]) -> BTreeSet<String> {
    use syn::visit::Visit;
    struct Names(BTreeSet<String>);
    fn last(ty: &syn::Type) -> String {
        match ty {
            syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default(),
            _ => String::new(),
        }
    }
    impl<'ast> Visit<'ast> for Names {
        fn visit_item_impl(&mut self, i: &'ast syn::ItemImpl) {
            if i.trait_.is_none() {
                let owner = last(&i.self_ty);
                for item in &i.items {
                    if let syn::ImplItem::Fn(f) = item
                        && matches!(f.vis, syn::Visibility::Public(_))
                    {
                        self.0.insert(format!("{owner}::{}", f.sig.ident));
                    }
                }
            }
            syn::visit::visit_item_impl(self, i);
        }
        fn visit_item_struct(&mut self, s: &'ast syn::ItemStruct) {
            if matches!(s.vis, syn::Visibility::Public(_)) {
                self.0.insert(format!("type {}", s.ident));
                for f in &s.fields {
                    if let (Some(name), syn::Visibility::Public(_)) = (&f.ident, &f.vis) {
                        self.0.insert(format!("{}.{name}", s.ident));
                    }
                }
            }
            syn::visit::visit_item_struct(self, s);
        }
        fn visit_item_enum(&mut self, e: &'ast syn::ItemEnum) {
            if matches!(e.vis, syn::Visibility::Public(_)) {
                self.0.insert(format!("type {}", e.ident));
                for v in &e.variants {
                    self.0.insert(format!("{}::{}", e.ident, v.ident));
                }
            }
            syn::visit::visit_item_enum(self, e);
        }
    }
    let mut names = Names(BTreeSet::new());
    for f in files.iter().filter(|f| f.path.ends_with(".rs")) {
        let file = syn::parse_file(&f.contents).unwrap_or_else(|e| panic!("{}: {e}", f.path));
        names.visit_file(&file);
    }
    names.0
}

/// What the unmutated spec gives: its model and its generated public API.
struct Baseline {
    model: Model,
    api: BTreeSet<String>,
}

/// spec-diff and the generator agree on a mutation that still generates:
/// - spec-diff reports nothing only when the generated public API keeps
///   every name;
/// - every client method the generator adds or drops is named by a change
///   (`method x removed`, `… renamed to x`, `x's builder …`);
/// - every method spec-diff says is added exists, every one it says is
///   removed is gone.
fn agree(base: &Baseline, model: &Model, api: &BTreeSet<String>, changed: &str) -> Result<(), TestCaseError> {
    let changes: Vec<Change> = diff::diff_models("spec", Some(&base.model), Some(model));
    let text = diff::report(&changes, diff::Format::Text);
    let added: Vec<&String> = api.difference(&base.api).collect();
    let removed: Vec<&String> = base.api.difference(api).collect();
    if changes.is_empty() {
        prop_assert!(
            added.is_empty() && removed.is_empty(),
            "spec-diff reports nothing (changed {}), but the generated API gains {:?} and loses {:?}",
            changed,
            added,
            removed
        );
    }
    let client_methods = added.iter().chain(&removed).filter_map(|n| n.strip_prefix("Client::"));
    for method in client_methods {
        let named = changes
            .iter()
            .any(|c| c.rust.split(|ch: char| !(ch.is_alphanumeric() || ch == '_')).any(|word| word == method));
        prop_assert!(
            named,
            "client method {} changed (changed {}), and spec-diff does not name it:\n{}",
            method,
            changed,
            text
        );
    }
    for c in &changes {
        let words: Vec<&str> = c.rust.split(' ').collect();
        if let ["method", name, "added"] = words.as_slice() {
            prop_assert!(
                api.contains(&format!("Client::{name}")),
                "spec-diff says {} (changed {}), the client has no such method",
                c.rust,
                changed
            );
        }
        if let ["method", name, "removed"] = words.as_slice() {
            prop_assert!(
                !api.contains(&format!("Client::{name}")),
                "spec-diff says {} (changed {}), the client still has it",
                c.rust,
                changed
            );
        }
    }
    Ok(())
}

fn check(file: &str, original: &Value, base: &Baseline, mutation: &Mutation) -> Result<(), TestCaseError> {
    let mut doc = original.clone();
    let Some(changed) = apply(&mut doc, mutation) else { return Ok(()) };
    let text = serde_json::to_string_pretty(&doc).unwrap();
    let service = ServiceSpec { spec_path: file.to_owned() };
    let result = std::panic::catch_unwind(|| generate(&service, &text))
        .map_err(|_| TestCaseError::fail(format!("the generator panicked (changed {changed})")))?;
    match result {
        Ok(files) => {
            let model =
                model_of(file, &text).map_err(|e| TestCaseError::fail(format!("generates, but no model: {e}")))?;
            agree(base, &model, &public_api(&files), &changed)
        }
        Err(Error::Spec { location, message }) => {
            prop_assert_eq!(&location.file, file);
            // A pointer (empty: the document itself).
            prop_assert!(
                location.pointer.is_empty() || location.pointer.starts_with('/'),
                "no pointer: {}: {}",
                location,
                message
            );
            // The pointer names a node of the mutated spec (or the key it
            // lacks, inside a node that exists).
            let parent = location.pointer.rsplit_once('/').map_or("", |(p, _)| p);
            prop_assert!(
                doc.pointer(&location.pointer).is_some() || doc.pointer(parent).is_some(),
                "the pointer names no node: {}: {}",
                location,
                message
            );
            // Inside an operation, the operation is named.
            let in_operation = location.pointer.starts_with("/paths/")
                && location
                    .pointer
                    .split('/')
                    .nth(3)
                    .is_some_and(|m| ["get", "put", "post", "delete", "patch"].contains(&m));
            if in_operation {
                // By its operationId, or by method and path when it has none.
                let op_at: String = location.pointer.split('/').take(4).collect::<Vec<_>>().join("/");
                let has_id = doc.pointer(&format!("{op_at}/operationId")).is_some_and(Value::is_string);
                prop_assert!(location.operation.is_some() || !has_id, "no operation named: {}: {}", location, message);
            }
            Ok(())
        }
        Err(other) => Err(TestCaseError::fail(format!("not a spec error with a pointer (changed {changed}): {other}"))),
    }
}

fn run(file: &str, default_cases: u32) {
    let original = read(file);
    let text = serde_json::to_string_pretty(&original).unwrap();
    let base = Baseline {
        model: model_of(file, &text).unwrap(),
        api: public_api(&generate(&ServiceSpec { spec_path: file.to_owned() }, &text).unwrap()),
    };
    let mut runner =
        TestRunner::new(Config { cases: cases(default_cases), failure_persistence: None, ..Config::default() });
    runner.run(&mutation(), |m| check(file, &original, &base, &m)).unwrap_or_else(|e| panic!("{file}: {e}"));
}

#[test]
fn mutated_database_specs_get_a_located_error_or_a_client() {
    run("spec/database-v1.yaml", 48);
}

#[test]
fn mutated_identity_specs_get_a_located_error_or_a_client() {
    run("spec/identity-v3.yaml", 48);
}

#[test]
fn mutated_block_storage_specs_get_a_located_error_or_a_client() {
    run("spec/block-storage-v3.yaml", 48);
}

/// The agreement check on one known mutation that generates: the finder of
/// `showBackup` removed. spec-diff names `find_backup`; and the check bites
/// when the two disagree (the unmutated model against the mutated API).
#[test]
fn spec_diff_and_the_generator_agree_on_a_removed_finder() {
    let file = "spec/block-storage-v3.yaml";
    let original = read(file);
    let service = ServiceSpec { spec_path: file.to_owned() };
    let text = serde_json::to_string_pretty(&original).unwrap();
    let base = Baseline { model: model_of(file, &text).unwrap(), api: public_api(&generate(&service, &text).unwrap()) };
    let mut doc = original.clone();
    let show = doc.pointer_mut("/paths/~1backups~1{backup_id}/get").and_then(Value::as_object_mut).unwrap();
    assert!(show.remove("x-openstack-find").is_some());
    let mutated = serde_json::to_string_pretty(&doc).unwrap();
    let api = public_api(&generate(&service, &mutated).unwrap());
    assert!(base.api.contains("Client::find_backup") && !api.contains("Client::find_backup"));
    let model = model_of(file, &mutated).unwrap();
    agree(&base, &model, &api, "x-openstack-find removed").unwrap();
    let err = agree(&base, &base.model, &api, "x-openstack-find removed").unwrap_err();
    assert!(err.to_string().contains("find_backup"), "{err}");
}
