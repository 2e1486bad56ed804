//! What the generator emits, locked by insta snapshots of the parts a
//! reviewer cares about: the operation table of the real spec, and one small
//! fixture spec per generator behaviour. The whole generated tree is guarded
//! by the freshness check instead.

use std::path::Path;

use openstack_backups_codegen::{Error, ServiceSpec, generate, operation_table};

fn fixture_service(name: &str) -> ServiceSpec {
    ServiceSpec { spec_path: format!("tests/fixtures/{name}.yaml") }
}

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

/// The generated file `file` of fixture `name`, parsed.
fn generated(name: &str, file: &str) -> syn::File {
    let service = fixture_service(name);
    let files = generate(&service, &read(&service.spec_path)).unwrap_or_else(|e| panic!("{e}"));
    let wanted = format!("generated/src/fixture/{file}");
    let f = files.into_iter().find(|f| f.path == wanted).expect("file generated");
    syn::parse_file(&f.contents).unwrap()
}

/// The `operations.rs` a fixture service gets from `spec` (the fixture's
/// text, edited), pretty-printed.
fn operations_of(fixture: &str, spec: &str) -> String {
    let files = generate(&fixture_service(fixture), spec).unwrap_or_else(|e| panic!("{e}"));
    let ops = files.into_iter().find(|f| f.path == "generated/src/fixture/operations.rs").expect("operations.rs");
    prettyplease::unparse(&syn::parse_file(&ops.contents).unwrap())
}

/// The body of the first method `name` in pretty-printed `text`, trimmed.
fn fn_body(text: &str, name: &str) -> String {
    let start = text.find(&format!("fn {name}(")).unwrap_or_else(|| panic!("no fn {name}"));
    let body = &text[start..];
    body[body.find('{').unwrap() + 1..body.find("\n    }").unwrap()].trim().to_owned()
}

/// The items of `file` that define or implement `name`, pretty-printed.
fn items_of(file: &syn::File, name: &str) -> String {
    let is_named =
        |ty: &syn::Type| matches!(ty, syn::Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == name));
    let mut out: syn::File = syn::parse_quote!();
    out.items = file
        .items
        .iter()
        .filter(|item| match item {
            syn::Item::Struct(s) => s.ident == name,
            syn::Item::Enum(e) => e.ident == name,
            syn::Item::Impl(i) => is_named(&i.self_ty),
            _ => false,
        })
        .cloned()
        .collect();
    assert!(!out.items.is_empty(), "no item named {name}");
    prettyplease::unparse(&out)
}

fn table(spec: &str) -> String {
    let rows = operation_table(spec, &read(&format!("../{spec}"))).unwrap();
    let width = rows.iter().map(|r| r.path.len()).max().unwrap_or(0);
    rows.iter()
        .map(|r| {
            format!("{:<6} {:<width$}  {:<28} {:<17} {}\n", r.method, r.path, r.operation_id, r.tag, r.min_microversion)
        })
        .collect()
}

#[test]
fn operation_table_of_block_storage() {
    insta::assert_snapshot!("operation_table_block_storage", table("spec/block-storage-v3.yaml"));
}

#[test]
fn operation_table_of_database() {
    insta::assert_snapshot!("operation_table_database", table("spec/database-v1.yaml"));
}

#[test]
fn operation_table_of_identity() {
    insta::assert_snapshot!("operation_table_identity", table("spec/identity-v3.yaml"));
}

/// Nullable required fields decode as `Option` but must be present; optional
/// fields may be absent; a nullable timestamp is an optional `Timestamp`.
#[test]
fn nullable_fields() {
    insta::assert_snapshot!("nullable_fields", items_of(&generated("nullable-fields", "types.rs"), "Thing"));
}

/// `x-extensible-enum` becomes an open enum with an `Unknown` variant that
/// keeps the server's value; it serializes back to the same string.
#[test]
fn open_status_enum() {
    insta::assert_snapshot!("open_status_enum", items_of(&generated("open-status-enum", "types.rs"), "ThingStatus"));
}

/// `format: naive-date-time` maps to the crate's `Timestamp`.
#[test]
fn naive_timestamp() {
    insta::assert_snapshot!("naive_timestamp", items_of(&generated("naive-timestamp", "types.rs"), "Thing"));
}

/// Each action of an `…/action` endpoint gets its own call that sends exactly
/// `{"<key>": …}`; the table records each action and its microversion.
#[test]
fn action_bodies() {
    let ops = generated("action-bodies", "operations.rs");
    insta::assert_snapshot!("action_bodies", prettyplease::unparse(&ops));
    insta::assert_snapshot!("action_body_enum", items_of(&generated("action-bodies", "types.rs"), "ThingAction"));
}

/// A marker-paged list: `Page` for the list type, `stream()` on the builder
/// (sending the caller's `offset` with the first page only), and the
/// microversion-gated query parameter in the table.
#[test]
fn paged_list() {
    insta::assert_snapshot!("paged_list", prettyplease::unparse(&generated("paged-list", "operations.rs")));
    insta::assert_snapshot!("paged_list_stream", items_of(&generated("paged-list", "builder.rs"), "ListThings"));
}

/// Typed mocks: one function per operation (per action for an `…/action`
/// endpoint), a `When` with one method per path and query parameter (the
/// client's own types) and the body, a `Then` with one method per success
/// response and, for the paged list, the next page.
#[test]
fn typed_mocks() {
    insta::assert_snapshot!("paged_list_mock", prettyplease::unparse(&generated("paged-list", "mock.rs")));
    insta::assert_snapshot!("action_bodies_mock", prettyplease::unparse(&generated("action-bodies", "mock.rs")));
}

/// Gated request-body properties at any depth (through `$ref`s, array
/// items, map values, action arguments), and a maximum limited to some
/// values, become the `gated_body` rows of the operation table.
#[test]
fn gated_body_properties() {
    let ops = generated("gated-body", "operations.rs");
    let mut table: syn::File = syn::parse_quote!();
    table.items = ops
        .items
        .iter()
        .filter(|item| matches!(item, syn::Item::Static(s) if s.ident == "OPERATIONS"))
        .cloned()
        .collect();
    insta::assert_snapshot!("gated_body", prettyplease::unparse(&table));

    // Each call finds the gated properties its typed body sets (through a
    // `$ref`, array items, map values, an action's variant; a maximum
    // limited to some values), and an action picks its own row.
    let builder = generated("gated-body", "builder.rs");
    let mut infos: syn::File = syn::parse_quote!();
    infos.items = builder
        .items
        .iter()
        .filter(|item| matches!(item, syn::Item::Fn(f) if f.sig.ident.to_string().ends_with("_info")))
        .cloned()
        .collect();
    assert_eq!(infos.items.len(), 2, "create_thing_info and thing_action_info");
    insta::assert_snapshot!("gated_body_info", prettyplease::unparse(&infos));
}

/// `x-openstack-waiter` and `x-openstack-find`: a marker type with
/// `Waitable` (the spec's status lists) and `Findable` (the list and its
/// name filter) impls, and `wait_for_thing`, `wait_for_thing_deleted` and
/// `find_thing` on the client.
#[test]
fn waiter_and_finder_from_the_spec() {
    let ops = generated("resources", "operations.rs");
    let mut waiters: syn::File = syn::parse_quote!();
    waiters.items = ops
        .items
        .iter()
        .filter(|item| match item {
            syn::Item::Mod(m) => m.ident == "resources",
            syn::Item::Impl(i) => {
                let text = quote::quote!(#i).to_string();
                text.contains("wait") || text.contains("find")
            }
            _ => false,
        })
        .cloned()
        .collect();
    insta::assert_snapshot!("resources", prettyplease::unparse(&waiters));
}

/// A waiter's reason reached through nested properties: a step is
/// optional when its schema does not require it or makes it nullable, and
/// the walk reads each step so (found by the mutation test: no fixture had
/// a required step nor an optional one that is not nullable).
#[test]
fn nested_waiter_reasons_follow_each_steps_optionality() {
    let reason_of = |path: &str| -> String {
        let spec = read("tests/fixtures/resources.yaml")
            .replace("reason: fail_reason", &format!("reason: {path}"))
            .replace("      required: [id, status]\n", "      required: [id, status, detail, label]\n")
            .replace(
                "        fail_reason: {type: string, nullable: true}\n",
                "        fail_reason: {type: string, nullable: true}\n        fault: {$ref: \"#/components/schemas/ThingFault\"}\n        detail: {$ref: \"#/components/schemas/ThingFault\"}\n        cause: {type: string}\n        label: {type: string}\n",
            )
            .replace(
                "  schemas:\n",
                "  schemas:\n    ThingFault:\n      type: object\n      required: [message]\n      properties:\n        message: {type: string}\n        note: {type: string, nullable: true}\n",
            );
        fn_body(&operations_of("resources", &spec), "reason")
    };
    // One step: optional unless required and not nullable.
    assert_eq!(reason_of("fail_reason"), "item.fail_reason.clone()");
    assert_eq!(reason_of("cause"), "item.cause.clone()");
    assert_eq!(reason_of("label"), "::std::option::Option::Some(item.label.clone())");
    // `fault` is optional (not required), `message` required and not nullable.
    assert_eq!(reason_of("[fault, message]"), "item.fault.as_ref().map(|v| &v.message).cloned()");
    // `detail` is required and not nullable, `note` nullable.
    assert_eq!(
        reason_of("[detail, note]"),
        "::std::option::Option::Some(&item.detail).and_then(|v| v.note.as_ref()).cloned()"
    );
}

/// What the checks must let through (found by the mutation test: each
/// was refused by a mutant and no spec had it): values of every type in
/// `default` and `enum` (a negative integer, a fraction as a number,
/// `null` where nullable, an empty array and map), and examples, which
/// are literal values even where they carry a `$ref` or a `format` key.
#[test]
fn values_of_every_type_and_literal_examples_are_accepted() {
    let paged = read("tests/fixtures/paged-list.yaml");
    let spec = paged
        .replace(
            "        - {name: marker, in: query, schema: {type: string}}\n",
            "        - {name: marker, in: query, schema: {type: string}}\n        - {name: ratio, in: query, schema: {type: number, default: 1.5}}\n        - {name: shift, in: query, schema: {type: integer, default: -3}}\n        - {name: count, in: query, schema: {type: integer, default: 3}}\n        - {name: brief, in: query, schema: {type: boolean, default: true}}\n        - {name: order, in: query, schema: {type: string, nullable: true, enum: [asc, null]}}\n",
        )
        .replace(
            "properties: {id: {type: string}}",
            "properties: {id: {type: string}, tags: {type: array, items: {type: string}, default: []}, meta: {type: object, additionalProperties: {type: string}, default: {}}}\n      example: {id: x, meta: {$ref: \"#/components/schemas/Nope\", format: naive-date-time}}",
        );
    assert_ne!(spec, paged);
    let service = fixture_service("paged-list");
    generate(&service, &spec).unwrap_or_else(|e| panic!("{e}"));
}

/// A body property of one microversion only (its minimum equal to its
/// maximum) is a gate like any other, not a minimum above its maximum.
#[test]
fn a_gate_of_one_microversion_is_accepted() {
    let gated = read("tests/fixtures/gated-body.yaml");
    let one = gated.replace(
        "          x-openstack-max-microversion: \"3.49\"\n",
        "          x-openstack-max-microversion: \"3.49\"\n          x-openstack-min-microversion: \"3.49\"\n",
    );
    assert_ne!(one, gated);
    generate(&fixture_service("gated-body"), &one).unwrap_or_else(|e| panic!("{e}"));
}

/// A query parameter gated at the operation's own minimum microversion
/// needs no gate of its own: the operation's is enough.
#[test]
fn a_query_gate_at_the_operations_minimum_is_dropped() {
    let paged = read("tests/fixtures/paged-list.yaml");
    let operations = |spec: &str| operations_of("paged-list", spec);
    assert!(operations(&paged).contains("(\"with_count\","), "gated above the operation's minimum");
    let same = paged.replace(
        "      x-openstack-pagination:",
        "      x-openstack-min-microversion: \"3.45\"\n      x-openstack-pagination:",
    );
    assert_ne!(same, paged);
    assert!(!operations(&same).contains("(\"with_count\","));
}

/// A finder reads the item's name as the schema makes it: `Option<String>`
/// unless `name` is required and not nullable (found by the mutation
/// test: the fixture's name was both optional and nullable).
#[test]
fn a_finders_name_is_read_as_its_schema_makes_it() {
    let name_of = |required: &str, name: &str| -> String {
        let spec = read("tests/fixtures/resources.yaml")
            .replace("      required: [id, status]\n", &format!("      required: {required}\n"))
            .replace("        name: {type: string, nullable: true}\n", &format!("        name: {name}\n"));
        fn_body(&operations_of("resources", &spec), "name")
    };
    assert_eq!(name_of("[id, status, name]", "{type: string}"), "Some(item.name.as_str())");
    assert_eq!(name_of("[id, status]", "{type: string}"), "item.name.as_deref()");
    assert_eq!(name_of("[id, status, name]", "{type: string, nullable: true}"), "item.name.as_deref()");
}

/// String lengths stay in the spec (the conformance check reads them) but
/// are the server's to check: a length on a query parameter, on a property
/// (also one named `example`) and inside an `allOf` leaves a plain string,
/// not a newtype whose construction can fail.
#[test]
fn string_lengths_leave_plain_strings() {
    let spec = read("tests/fixtures/resources.yaml")
        .replace(
            "        - {name: name, in: query, schema: {type: string}}\n",
            "        - {name: name, in: query, schema: {type: string, minLength: 1, maxLength: 255}}\n",
        )
        .replace(
            "        fail_reason: {type: string, nullable: true}\n",
            "        fail_reason: {type: string, nullable: true}\n        example: {type: string, maxLength: 255}\n        \
             label: {allOf: [{type: string, maxLength: 64}]}\n",
        );
    let files = generate(&fixture_service("resources"), &spec).unwrap_or_else(|e| panic!("{e}"));
    let file = |name: &str| {
        let f = files.iter().find(|f| f.path == format!("generated/src/fixture/{name}")).expect("generated");
        prettyplease::unparse(&syn::parse_file(&f.contents).unwrap())
    };
    let types = file("types.rs");
    for field in [
        "pub example: ::std::option::Option<::std::string::String>,",
        "pub label: ::std::option::Option<::std::string::String>,",
    ] {
        assert!(types.contains(field), "{field} in:\n{types}");
    }
    assert!(!types.contains("maxLength") && !types.contains("TryFrom<&str>"), "{types}");
    let builder = file("builder.rs");
    assert!(builder.contains("name: Result<Option<::std::string::String>, String>"), "{builder}");
}

#[test]
fn output_is_byte_deterministic_and_carries_its_header() {
    let service = ServiceSpec { spec_path: "spec/block-storage-v3.yaml".to_owned() };
    let text = read(&format!("../{}", service.spec_path));
    let a = generate(&service, &text).unwrap();
    let b = generate(&service, &text).unwrap();
    assert_eq!(a, b);
    for f in &a {
        let first = f.contents.lines().next().unwrap();
        assert!(
            first.starts_with("// Code generated by `cargo xtask regenerate` from spec/block-storage-v3.yaml (sha256 "),
            "{}: {first}",
            f.path
        );
        assert!(f.contents.contains("DO NOT EDIT"));
        assert!(!f.contents.contains('\r'));
    }
}

/// Broken specs give an error naming the file, the operation and the JSON
/// pointer: never a panic.
#[test]
fn broken_specs_are_reported_not_panicked_on() {
    let base = read("tests/fixtures/action-bodies.yaml");
    let paged = read("tests/fixtures/paged-list.yaml");
    let cases: Vec<(&str, String)> = vec![
        ("not YAML", "openapi: [3.0.3\n".to_owned()),
        ("OpenAPI 3.1", base.replace("openapi: 3.0.3", "openapi: 3.1.0")),
        ("wrong type deep inside", base.replace("required: true\n        content:", "required: maybe\n        content:")),
        ("missing operationId", base.replace("      operationId: thingAction\n", "")),
        ("missing summary", base.replace("      summary: Act on a thing\n", "")),
        ("undeclared tag", base.replace("      tags: [things]", "      tags: [stuff]")),
        ("dangling $ref", base.replace("#/components/schemas/ResetStatus\"}", "#/components/schemas/Nope\"}")),
        ("default response", base.replace("        \"4XX\":", "        default: {description: x}\n        \"4XX\":")),
        (
            "several success types",
            paged.replace(
                "        \"4XX\":",
                "        \"203\":\n          description: Other.\n          content:\n            application/json:\n              schema: {$ref: \"#/components/schemas/Thing\"}\n        \"4XX\":",
            ),
        ),
        ("no error responses", base.replace("        \"5XX\": {$ref: \"#/components/responses/Fault\"}\n", "")),
        ("bad microversion", paged.replace("x-openstack-min-microversion: \"3.45\"", "x-openstack-min-microversion: \"3.045\"")),
        ("header parameter", paged.replace("{name: marker, in: query", "{name: marker, in: header")),
        ("closed enum in a response", paged.replace("properties: {id: {type: string}}", "properties: {id: {type: string, enum: [a]}}")),
        ("closed object in a response", paged.replace("      required: [id]\n", "      required: [id]\n      additionalProperties: false\n")),
        ("paging without marker", paged.replace("        - {name: marker, in: query, schema: {type: string}}\n", "")),
        ("paging on a missing property", paged.replace("links: things_links}", "links: thing_links}")),
        ("paging with an unknown key", paged.replace("links: things_links}", "links: things_links, style: offset}")),
        ("action not listed", base.replace("        - {action: os-force_delete, operationId: forceDeleteThing, summary: Delete whatever the status., x-openstack-min-microversion: \"3.10\"}\n", "")),
        ("action unknown", base.replace("action: os-reset_status,", "action: os-reset,")),
        (
            "inline naive timestamp",
            read("tests/fixtures/naive-timestamp.yaml").replace(
                "created_at: {$ref: \"#/components/schemas/Timestamp\"}",
                "created_at: {type: string, format: naive-date-time}",
            ),
        ),
        ("undeclared path parameter", base.replace("{name: thing_id, in: path", "{name: thing, in: path")),
        (
            "gated required property",
            read("tests/fixtures/gated-body.yaml").replace("required: [new_size]", "required: [new_size, online]"),
        ),
        (
            "gate values without a maximum",
            read("tests/fixtures/gated-body.yaml").replace("          x-openstack-max-microversion: \"3.65\"\n", ""),
        ),
        (
            "gate minimum above its maximum",
            read("tests/fixtures/gated-body.yaml").replace("x-openstack-max-microversion: \"3.49\"", "x-openstack-max-microversion: \"3.1\"\n          x-openstack-min-microversion: \"3.3\""),
        ),
        (
            "gate in a recursive schema",
            read("tests/fixtures/gated-body.yaml").replace("        size: {type: integer}\n", "        size: {type: integer}\n        sub: {$ref: \"#/components/schemas/Part\"}\n"),
        ),
        ("always-sent names no property", paged.replace("      required: [id]\n", "      required: [id]\n      x-openstack-always-sent: [name]\n")),
        ("always-sent repeats required", paged.replace("      required: [id]\n", "      required: [id]\n      x-openstack-always-sent: [id]\n")),
        ("waiter status unknown to the enum", read("tests/fixtures/resources.yaml").replace("failure: [error]", "failure: [broken]")),
        ("waiter on a list", read("tests/fixtures/resources.yaml").replace("        item: thing\n", "        item: things\n")),
        ("waiter without its 404 rule", read("tests/fixtures/resources.yaml").replace("        not-found-means-deleted: true\n", "")),
        ("waiter reason that is no property", read("tests/fixtures/resources.yaml").replace("reason: fail_reason", "reason: why")),
        ("open enum value named like its catch-all", read("tests/fixtures/resources.yaml").replace("x-extensible-enum: [creating,", "x-extensible-enum: [unknown, creating,")),
        ("waiter reason path through a string", read("tests/fixtures/resources.yaml").replace("reason: fail_reason", "reason: [fail_reason, text]")),
        ("waiter reason path of one step", read("tests/fixtures/resources.yaml").replace("reason: fail_reason", "reason: [fail_reason]")),
        ("waiter reason path to no property", read("tests/fixtures/resources.yaml").replace("reason: fail_reason", "reason: [thing_link, title]").replace("        fail_reason: {type: string, nullable: true}\n", "        fail_reason: {type: string, nullable: true}\n        thing_link: {$ref: \"#/components/schemas/Link\"}\n")),
        ("finder on a list of something else", read("tests/fixtures/resources.yaml").replace("list: listThings", "list: showThing")),
        ("blank service type", base.replace("type: fixture,", "type: \" \",")),
        ("request timeout of zero", base.replace("microversion-header: volume}", "microversion-header: volume, request-timeout: 0}")),
        ("version discovery naming no operation", read("../spec/block-storage-v3.yaml").replace("version-discovery: showApiV3Version", "version-discovery: showNothing")),
        ("version discovery off the service root", read("../spec/block-storage-v3.yaml").replace("version-discovery: showApiV3Version", "version-discovery: listBackups")),
        ("version without its min_version", read("../spec/block-storage-v3.yaml").replace("      required: [status, version, min_version]\n", "      required: [status, version]\n")),
        ("gate values empty", read("tests/fixtures/gated-body.yaml").replace("x-openstack-max-microversion-values: [false]", "x-openstack-max-microversion-values: []")),
        ("gate value an object", read("tests/fixtures/gated-body.yaml").replace("x-openstack-max-microversion-values: [false]", "x-openstack-max-microversion-values: [{on: false}]")),
        ("gate value null", read("tests/fixtures/gated-body.yaml").replace("x-openstack-max-microversion-values: [false]", "x-openstack-max-microversion-values: [null]")),
        ("finder item whose id is not required", read("tests/fixtures/resources.yaml").replace("      required: [id, status]\n", "      required: [status]\n")),
        (
            "action with a second property",
            base.replace(
                "            os-reset_status: {$ref: \"#/components/schemas/ResetStatus\"}\n",
                "            os-reset_status: {$ref: \"#/components/schemas/ResetStatus\"}\n            zone: {type: string}\n",
            ),
        ),
        ("action whose required names another key", base.replace("          required: [os-reset_status]\n", "          required: [os-reset]\n")),
        ("finder filter the list lacks", read("tests/fixtures/resources.yaml").replace("name-filter: name}", "name-filter: title}")),
        ("no service identity", base.replace(", x-openstack-service: {module: fixture, type: fixture, microversion-header: volume}", "")),
        ("service module not snake_case", base.replace("module: fixture", "module: Fixture")),
        ("unknown service key", base.replace("type: fixture,", "type: fixture, kind: x,")),
        // Found by tests/mutations.rs (progenitor or typify panicked):
        ("type that OpenAPI lacks", paged.replace("properties: {id: {type: string}}", "properties: {id: {type: bogus}}")),
        ("type-specific keyword without a type", paged.replace("{name: limit, in: query, schema: {type: integer, minimum: 0}}", "{name: limit, in: query, schema: {minimum: 0}}")),
        ("body without a schema", paged.replace("            application/json:\n              schema: {$ref: \"#/components/schemas/ThingList\"}", "            application/json: {}")),
        ("enum value of another type", paged.replace("{name: marker, in: query, schema: {type: string}}", "{name: marker, in: query, schema: {type: integer, enum: [asc]}}")),
        ("error body missing in a shared response", paged.replace("          schema: {$ref: \"#/components/schemas/Fault\"}", "          schema: null")),
        ("path parameter not required", base.replace("{name: thing_id, in: path, required: true", "{name: thing_id, in: path")),
        ("bad parameter schema", paged.replace("{name: limit, in: query, schema: {type: integer, minimum: 0}}", "{name: limit, in: query, schema: {type: integer, minimum: zero}}")),
        // Found by the mutation test (each rule had no case of its own):
        ("default of another type", paged.replace("{name: marker, in: query, schema: {type: string}}", "{name: marker, in: query, schema: {type: string, default: 3}}")),
        ("null value of a schema not nullable", paged.replace("{name: marker, in: query, schema: {type: string}}", "{name: marker, in: query, schema: {type: string, enum: [asc, null]}}")),
        ("fraction as an integer", paged.replace("{name: limit, in: query, schema: {type: integer, minimum: 0}}", "{name: limit, in: query, schema: {type: integer, default: 1.5}}")),
        (
            "naive timestamp inside a composition",
            read("tests/fixtures/naive-timestamp.yaml").replace(
                "created_at: {$ref: \"#/components/schemas/Timestamp\"}",
                "created_at: {allOf: [{type: string, format: naive-date-time}]}",
            ),
        ),
        ("service root with a path parameter", read("tests/fixtures/naive-timestamp.yaml").replace("      operationId: showThing\n", "      operationId: showThing\n      servers: [{url: \"http://127.0.0.1:8776\"}]\n")),
        ("service root with a query parameter", read("tests/fixtures/open-status-enum.yaml").replace("      operationId: listThings\n", "      operationId: listThings\n      servers: [{url: \"http://127.0.0.1:8776\"}]\n")),
        (
            "service root that is no GET",
            read("tests/fixtures/gated-body.yaml")
                .replace("      operationId: createThing\n", "      operationId: createThing\n      servers: [{url: \"http://127.0.0.1:8776\"}]\n")
                .replace("        \"202\": {description: Accepted.}\n", "        \"200\":\n          description: The versions.\n          content:\n            application/json:\n              schema: {$ref: \"#/components/schemas/Fault\"}\n"),
        ),
    ];
    let mut report = String::new();
    for (name, text) in cases {
        let service = fixture_service("broken");
        let result = std::panic::catch_unwind(|| generate(&service, &text));
        let message = match result {
            Err(_) => panic!("{name}: the generator panicked"),
            Ok(Ok(_)) => panic!("{name}: the broken spec was accepted"),
            Ok(Err(e)) => e,
        };
        if let Error::Spec { location, .. } = &message {
            assert!(location.pointer.starts_with('/') || location.pointer.is_empty(), "{name}: {message}");
        }
        report.push_str(&format!("{name}:\n  {message}\n"));
    }
    insta::assert_snapshot!("broken_specs", report);
}

/// In a request body (a closed object), an optional map or list is an
/// `Option`, so that an empty one is sent (it replaces the server's value,
/// where leaving it out leaves that alone); a required one and a response's
/// stay bare collections.
#[test]
fn optional_collections_in_requests_can_be_sent_empty() {
    let spec = read("tests/fixtures/action-bodies.yaml").replace(
        "      required: [status]\n      additionalProperties: false\n      properties:\n",
        "      required: [status, needed]\n      additionalProperties: false\n      properties:\n        \
         labels: {type: object, additionalProperties: {type: string}}\n        \
         tags: {type: array, items: {type: string}}\n        \
         needed: {type: array, items: {type: string}}\n",
    );
    let files = generate(&fixture_service("action-bodies"), &spec).unwrap_or_else(|e| panic!("{e}"));
    let f = files.iter().find(|f| f.path == "generated/src/fixture/types.rs").expect("generated");
    let types = prettyplease::unparse(&syn::parse_file(&f.contents).unwrap());
    for field in [
        "pub labels: ::std::option::Option<\n        ::std::collections::BTreeMap<::std::string::String, ::std::string::String>,\n    >,",
        "pub tags: ::std::option::Option<::std::vec::Vec<::std::string::String>>,",
        "pub needed: ::std::vec::Vec<::std::string::String>,",
    ] {
        assert!(types.contains(field), "{field} in:\n{types}");
    }
}
