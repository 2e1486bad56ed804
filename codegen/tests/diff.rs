//! `spec-diff`'s rules: each applies one JSON patch (RFC 6902) to the
//! fixture `fixtures/diff/base.yaml`, builds both sides' models with the
//! generator (a patch whose result does not generate fails the test), checks
//! the level and the Rust words of the change the rule is about, and
//! snapshots the markdown report a reviewer would read. Then the whole thing
//! on real material: an older copy of this repository's block-storage spec
//! against today's. (Reading revisions from git is `xtask`'s, tested there.)

use std::path::Path;

use openstack_backups_codegen::diff::{self, Change, Format, Level};
use openstack_backups_codegen::model::Model;
use serde_json::{Value, json};

fn fixture(path: &str) -> Value {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/diff").join(path);
    let text = std::fs::read_to_string(full).unwrap();
    openstack_backups_codegen::load(path, &text).unwrap_or_else(|e| panic!("{e}")).raw
}

/// The generator's model of a document, or the generator's error.
fn model(file: &str, doc: &Value) -> Result<Model, String> {
    let text = serde_json::to_string(doc).unwrap();
    openstack_backups_codegen::model_of(file, &text).map_err(|e| e.to_string())
}

/// The changes between two documents of one spec; a document that does not
/// generate fails the test with the generator's error.
fn diff_docs(file: &str, old: &Value, new: &Value) -> Vec<Change> {
    try_diff_docs(file, old, new).unwrap_or_else(|e| panic!("{e}"))
}

fn try_diff_docs(file: &str, old: &Value, new: &Value) -> Result<Vec<Change>, String> {
    Ok(diff::diff_models(file, Some(&model(file, old)?), Some(&model(file, new)?)))
}

/// The changes `patch` makes to the base fixture, or the generator's error
/// when the patched document does not generate.
fn try_changes_of(patch: Value) -> Result<Vec<Change>, String> {
    let old = fixture("base.yaml");
    let mut new = old.clone();
    let patch: json_patch::Patch = serde_json::from_value(patch).unwrap();
    json_patch::patch(&mut new, &patch).unwrap();
    try_diff_docs("spec/fixture.yaml", &old, &new)
}

fn changes_of(patch: Value) -> Vec<Change> {
    try_changes_of(patch).unwrap_or_else(|e| panic!("{e}"))
}

/// One rule: the patch, then the level and a piece of the Rust words one of
/// the changes must have.
struct Rule {
    name: &'static str,
    patch: Value,
    level: Level,
    rust: &'static str,
}

const LIST: &str = "/paths/~1things/get";
const CREATE: &str = "/paths/~1things/post";
const SHOW: &str = "/paths/~1things~1{thing_id}/get";
const DELETE: &str = "/paths/~1things~1{thing_id}/delete";
const ACTION: &str = "/paths/~1things~1{thing_id}~1action/post";
const THING: &str = "/components/schemas/Thing";
const CREATE_BODY: &str = "/components/schemas/ThingCreate";
const ACTION_BODY: &str = "/components/schemas/ThingActionRequest";

fn rules() -> Vec<Rule> {
    use Level::{Breaking, Info, Warning};
    let rule = |name, patch, level, rust| Rule { name, patch, level, rust };
    let fault = json!({"$ref": "#/components/responses/Fault"});
    let update = json!({"operationId": "updateThing", "tags": ["things"], "summary": "Update a thing", "description": "Renames it.",
        "responses": {"200": {"description": "Updated."}, "4XX": fault, "5XX": fault}});
    // A second success carries the same body as the first (one return type).
    let same_body = json!({"description": "Done at once.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ThingResponse"}}}});
    vec![
        // Operations.
        rule(
            "operation_added",
            json!([{"op": "add", "path": "/paths/~1things~1{thing_id}/put", "value": update}]),
            Info,
            "method update_thing added",
        ),
        rule("operation_removed", json!([{"op": "remove", "path": DELETE}]), Breaking, "method delete_thing removed"),
        rule(
            "operation_id_changed",
            json!([{"op": "replace", "path": format!("{CREATE}/operationId"), "value": "makeThing"}]),
            Breaking,
            "method create_thing renamed to make_thing",
        ),
        rule(
            "path_changed",
            json!([{"op": "add", "path": "/paths/~1things~1{thing_id}~1purge", "value": {"parameters": [{"name": "thing_id", "in": "path", "required": true, "schema": {"type": "string"}}]}}, {"op": "move", "from": DELETE, "path": "/paths/~1things~1{thing_id}~1purge/delete"}]),
            Warning,
            "method delete_thing keeps its name and calls the new route",
        ),
        rule(
            "method_changed",
            json!([{"op": "move", "from": DELETE, "path": "/paths/~1things~1{thing_id}/post"}]),
            Warning,
            "method delete_thing keeps its name",
        ),
        rule(
            "request_body_schema_changed",
            json!([{"op": "replace", "path": format!("{CREATE}/requestBody/content/application~1json/schema/$ref"), "value": "#/components/schemas/ThingCreate"}]),
            Breaking,
            "create_thing's body: ThingCreateRequest → ThingCreate",
        ),
        rule(
            "response_schema_changed",
            json!([{"op": "replace", "path": format!("{CREATE}/responses/202/content/application~1json/schema/$ref"), "value": "#/components/schemas/Thing"}]),
            Breaking,
            "create_thing returns Thing instead of ThingResponse",
        ),
        // Parameters.
        rule(
            "parameter_added_required",
            json!([{"op": "add", "path": format!("{LIST}/parameters/-"), "value": {"name": "project_id", "in": "query", "required": true, "schema": {"type": "string"}}}]),
            Breaking,
            "list_things fails unless the new .project_id(…) is set",
        ),
        rule(
            "parameter_added_optional",
            json!([{"op": "add", "path": format!("{LIST}/parameters/-"), "value": {"name": "offset", "in": "query", "schema": {"type": "integer"}}}]),
            Info,
            "list_things's builder gains .offset(…)",
        ),
        rule(
            "parameter_removed",
            json!([{"op": "remove", "path": format!("{LIST}/parameters/3")}]),
            Breaking,
            "list_things's builder loses .sort_dir(…)",
        ),
        rule(
            "parameter_made_required",
            json!([{"op": "add", "path": format!("{LIST}/parameters/2/required"), "value": true}]),
            Breaking,
            "list_things fails unless .name(…) is set",
        ),
        rule(
            "parameter_type_changed",
            json!([{"op": "replace", "path": format!("{LIST}/parameters/0/schema"), "value": {"type": "string"}}]),
            Breaking,
            "list_things's .limit(…): u64 → String",
        ),
        rule(
            "parameter_format_changed",
            json!([{"op": "add", "path": format!("{LIST}/parameters/1/schema/format"), "value": "uuid"}]),
            Breaking,
            "list_things's .marker(…)",
        ),
        rule(
            "parameter_enum_value_removed",
            json!([{"op": "remove", "path": format!("{LIST}/parameters/3/schema/enum/1")}]),
            Breaking,
            "list_things's .sort_dir(…): variant Desc removed",
        ),
        // Request bodies.
        rule(
            "request_property_added_required",
            json!([{"op": "add", "path": format!("{CREATE_BODY}/properties/container"), "value": {"type": "string"}}, {"op": "add", "path": format!("{CREATE_BODY}/required/-"), "value": "container"}]),
            Breaking,
            "ThingCreate gains required field container (String)",
        ),
        rule(
            "request_property_added_optional",
            json!([{"op": "add", "path": format!("{CREATE_BODY}/properties/description"), "value": {"type": "string"}}]),
            Info,
            "field ThingCreate::description added (Option<String>)",
        ),
        rule(
            "request_property_removed",
            json!([{"op": "remove", "path": format!("{CREATE_BODY}/properties/name")}]),
            Breaking,
            "field ThingCreate::name removed",
        ),
        rule(
            "request_property_type_changed",
            json!([{"op": "replace", "path": format!("{CREATE_BODY}/properties/name"), "value": {"type": "integer"}}]),
            Breaking,
            "field ThingCreate::name: Option<String> → Option<i64>",
        ),
        rule(
            "request_property_became_required",
            json!([{"op": "add", "path": format!("{CREATE_BODY}/required/-"), "value": "name"}]),
            Breaking,
            "field ThingCreate::name: Option<String> → String",
        ),
        rule(
            "request_enum_value_removed",
            json!([{"op": "remove", "path": format!("{CREATE_BODY}/properties/mode/enum/1")}]),
            Breaking,
            "field ThingCreate::mode: variant Incremental removed",
        ),
        rule(
            "request_enum_value_added",
            json!([{"op": "add", "path": format!("{CREATE_BODY}/properties/mode/enum/-"), "value": "differential"}]),
            Info,
            "field ThingCreate::mode: variant Differential added",
        ),
        rule(
            "inline_object_property_changed",
            json!([{"op": "replace", "path": format!("{CREATE_BODY}/properties/options/properties/compress"), "value": {"type": "string"}}]),
            Breaking,
            "field ThingCreateOptions::compress: Option<bool> → Option<String>",
        ),
        // Responses.
        rule(
            "response_property_removed",
            json!([{"op": "remove", "path": format!("{THING}/properties/metadata")}]),
            Breaking,
            "field Thing::metadata removed",
        ),
        rule(
            "response_property_became_optional",
            json!([{"op": "remove", "path": format!("{THING}/required/2")}]),
            Breaking,
            "field Thing::size: u64 → Option<u64>",
        ),
        rule(
            "response_property_became_nullable",
            json!([{"op": "add", "path": format!("{THING}/properties/size/nullable"), "value": true}]),
            Breaking,
            "field Thing::size: u64 → Option<u64>",
        ),
        rule(
            "response_property_type_changed",
            json!([{"op": "replace", "path": format!("{THING}/properties/size"), "value": {"type": "string"}}]),
            Breaking,
            "field Thing::size: u64 → String",
        ),
        rule(
            "response_property_added",
            json!([{"op": "add", "path": format!("{THING}/properties/zone"), "value": {"type": "string"}}]),
            Info,
            "field Thing::zone added (Option<String>)",
        ),
        rule(
            "extensible_enum_value_added",
            json!([{"op": "add", "path": "/components/schemas/ThingStatus/x-extensible-enum/-", "value": "restoring"}]),
            Info,
            "type ThingStatus: variant Restoring added (open enums decoded it as Unknown before)",
        ),
        rule(
            "extensible_enum_value_removed",
            json!([{"op": "remove", "path": "/components/schemas/ThingStatus/x-extensible-enum/1"}]),
            Warning,
            "type ThingStatus: variant Available removed; a server that still sends it decodes as Unknown",
        ),
        rule(
            "success_status_added",
            json!([{"op": "add", "path": format!("{CREATE}/responses/200"), "value": same_body}]),
            Warning,
            "create_thing also succeeds with 200",
        ),
        rule(
            "success_status_removed",
            json!([{"op": "move", "from": format!("{DELETE}/responses/202"), "path": format!("{DELETE}/responses/204")}]),
            Breaking,
            "delete_thing no longer succeeds with 202",
        ),
        // Schemas.
        rule(
            "schema_renamed",
            json!([{"op": "move", "from": "/components/schemas/Link", "path": "/components/schemas/PageLink"}, {"op": "replace", "path": "/components/schemas/ThingList/properties/things_links/items/$ref", "value": "#/components/schemas/PageLink"}]),
            Breaking,
            "type Link renamed to PageLink",
        ),
        rule(
            "schema_removed",
            json!([{"op": "remove", "path": "/components/schemas/Link"}, {"op": "replace", "path": "/components/schemas/ThingList/properties/things_links/items", "value": {"type": "object"}}]),
            Breaking,
            "type Link removed",
        ),
        // Microversions.
        rule(
            "operation_min_microversion_raised",
            json!([{"op": "add", "path": format!("{DELETE}/x-openstack-min-microversion"), "value": "3.40"}]),
            Breaking,
            "method delete_thing is refused below 3.40 (it worked from the base)",
        ),
        rule(
            "parameter_min_microversion_raised",
            json!([{"op": "replace", "path": format!("{LIST}/parameters/4/x-openstack-min-microversion"), "value": "3.60"}]),
            Breaking,
            "list_things's .with_count(…) is refused below 3.60 (it worked from 3.45)",
        ),
        rule(
            "property_min_microversion_raised",
            json!([{"op": "replace", "path": format!("{THING}/properties/is_incremental/x-openstack-min-microversion"), "value": "3.10"}]),
            Breaking,
            "field Thing::is_incremental is refused below 3.10 (it worked from 3.9)",
        ),
        rule(
            "min_microversion_lowered",
            json!([{"op": "replace", "path": format!("{LIST}/parameters/4/x-openstack-min-microversion"), "value": "3.30"}]),
            Info,
            "list_things's .with_count(…) works from 3.30 (was 3.45)",
        ),
        rule(
            "new_parameter_with_min_microversion",
            json!([{"op": "add", "path": format!("{LIST}/parameters/-"), "value": {"name": "consumes_quota", "in": "query", "x-openstack-min-microversion": "3.65", "schema": {"type": "boolean"}}}]),
            Info,
            "list_things's builder gains .consumes_quota(…) (from microversion 3.65)",
        ),
        rule(
            "max_microversion_added",
            json!([{"op": "add", "path": format!("{CREATE_BODY}/properties/mode/x-openstack-max-microversion"), "value": "3.63"}]),
            Breaking,
            "field ThingCreate::mode is refused above 3.63 (it worked up to the latest)",
        ),
        // Actions, pagination, helpers and other extensions.
        rule(
            "action_added",
            json!([
                {"op": "add", "path": format!("{ACTION}/x-openstack-actions/-"), "value": {"action": "revert", "operationId": "revertThing", "summary": "Revert it.", "x-openstack-min-microversion": "3.40"}},
                {"op": "add", "path": format!("{ACTION_BODY}/oneOf/-"), "value": {"type": "object", "required": ["revert"], "additionalProperties": false, "properties": {"revert": {"$ref": "#/components/schemas/NoArguments"}}}},
            ]),
            Info,
            "method revert_thing added",
        ),
        rule(
            "action_removed",
            json!([
                {"op": "remove", "path": format!("{ACTION}/x-openstack-actions/1")},
                {"op": "remove", "path": format!("{ACTION_BODY}/oneOf/1")},
            ]),
            Breaking,
            "method force_delete_thing removed",
        ),
        rule(
            "action_renamed",
            json!([{"op": "replace", "path": format!("{ACTION}/x-openstack-actions/0/operationId"), "value": "resetStatus"}]),
            Breaking,
            "method reset_thing_status renamed to reset_status",
        ),
        rule(
            "action_min_microversion_raised",
            json!([{"op": "add", "path": format!("{ACTION}/x-openstack-actions/1/x-openstack-min-microversion"), "value": "3.50"}]),
            Breaking,
            "method force_delete_thing is refused below 3.50",
        ),
        rule(
            "action_extension_added",
            json!([{"op": "add", "path": format!("{ACTION}/x-openstack-actions/0/x-openstack-policy"), "value": "volume_extension:volume_admin_actions:reset_status"}]),
            Warning,
            "method reset_thing_status follows the new action description",
        ),
        rule(
            "pagination_changed",
            json!([
                {"op": "add", "path": "/components/schemas/ThingList/properties/next", "value": {"type": "array", "items": {"$ref": "#/components/schemas/Link"}}},
                {"op": "replace", "path": format!("{LIST}/x-openstack-pagination"), "value": {"items": "things", "links": "next"}},
            ]),
            Warning,
            "list_things's stream() and all() follow the new description",
        ),
        rule(
            "finder_removed",
            json!([{"op": "remove", "path": format!("{SHOW}/x-openstack-find")}]),
            Breaking,
            "method find_thing removed",
        ),
        rule(
            "waiter_removed",
            json!([{"op": "move", "from": format!("{SHOW}/x-openstack-waiter"), "path": format!("{SHOW}/x-openstack-waiter-draft")}]),
            Breaking,
            "methods wait_for_thing and wait_for_thing_deleted removed",
        ),
        rule(
            "waiter_changed",
            json!([
                {"op": "add", "path": "/components/schemas/ThingStatus/x-extensible-enum/-", "value": "restoring"},
                {"op": "add", "path": format!("{SHOW}/x-openstack-waiter/transitional/-"), "value": "restoring"},
            ]),
            Warning,
            "methods wait_for_thing and wait_for_thing_deleted follow the new description",
        ),
        rule(
            "other_extension_changed",
            json!([{"op": "add", "path": format!("{LIST}/x-openstack-cache"), "value": {"seconds": 30}}]),
            Warning,
            "no rule of its own here: review the regenerated diff",
        ),
        rule(
            "request_body_removed",
            json!([{"op": "remove", "path": format!("{CREATE}/requestBody")}]),
            Breaking,
            "create_thing's builder loses .body(…)",
        ),
        rule(
            "finder_and_waiter_item_renamed",
            json!([
                {"op": "move", "from": "/components/schemas/ThingResponse/properties/thing", "path": "/components/schemas/ThingResponse/properties/widget"},
                {"op": "replace", "path": "/components/schemas/ThingResponse/required/0", "value": "widget"},
                {"op": "replace", "path": format!("{SHOW}/x-openstack-find/item"), "value": "widget"},
                {"op": "replace", "path": format!("{SHOW}/x-openstack-waiter/item"), "value": "widget"},
            ]),
            Breaking,
            "method find_thing renamed to find_widget",
        ),
        rule(
            "path_item_extension_added",
            json!([{"op": "add", "path": "/paths/~1things/x-openstack-cache", "value": {"seconds": 30}}]),
            Warning,
            "no rule of its own here: review the regenerated diff",
        ),
        rule(
            "document_extension_added",
            json!([{"op": "add", "path": "/info/x-audience", "value": "operators"}]),
            Warning,
            "no rule of its own here: review the regenerated diff",
        ),
        rule(
            "service_module_renamed",
            json!([{"op": "replace", "path": "/info/x-openstack-service/module", "value": "volume"}]),
            Breaking,
            "module fixture renamed to volume",
        ),
    ]
}

#[test]
fn every_rule() {
    for rule in rules() {
        let changes = try_changes_of(rule.patch.clone()).unwrap_or_else(|e| panic!("{}: {e}", rule.name));
        let found = changes.iter().find(|c| c.rust.contains(rule.rust));
        let Some(change) = found else {
            panic!("{}: no change says `{}`; got:\n{}", rule.name, rule.rust, diff::report(&changes, Format::Text));
        };
        assert_eq!(change.level, rule.level, "{}: {change:?}", rule.name);
        assert!(change.pointer.starts_with('/'), "{}: pointer {:?}", rule.name, change.pointer);
        insta::assert_snapshot!(rule.name, diff::report(&changes, Format::Markdown));
    }
}

/// Rules read the other way (the patched document as the old side): a
/// body that becomes needed, a parameter that becomes optional, an
/// extension removed (found by the mutation test: only the forward
/// direction was tried).
#[test]
fn rules_read_backwards() {
    let cases = [
        ("request_body_removed", Level::Breaking, "create_thing's builder needs .body(…)", None),
        ("parameter_made_required", Level::Info, "list_things no longer needs .name(…)", None),
        (
            "other_extension_changed",
            Level::Warning,
            "no rule of its own here",
            Some("{\"op\": \"remove\", \"path\": \"/paths/~1things/get/x-openstack-cache\"}"),
        ),
    ];
    let rules = rules();
    for (name, level, rust, what) in cases {
        let rule = rules.iter().find(|r| r.name == name).unwrap();
        let base = fixture("base.yaml");
        let mut patched = base.clone();
        json_patch::patch(&mut patched, &serde_json::from_value::<json_patch::Patch>(rule.patch.clone()).unwrap())
            .unwrap();
        let changes = diff_docs("spec/fixture.yaml", &patched, &base);
        let found = changes.iter().find(|c| c.rust.contains(rust));
        let Some(change) = found else { panic!("{name} backwards: {}", diff::report(&changes, Format::Text)) };
        assert_eq!(change.level, level, "{name}: {change:?}");
        if let Some(what) = what {
            assert_eq!(change.what, what, "{name}");
        }
    }
}

/// What the generator makes the same is no change: a keyword beside a
/// `$ref` (OpenAPI 3.0 ignores it) in a body or a parameter, and a `$ref`
/// wrapped in a one-branch `allOf` (to give it a description). And a
/// parameter whose inline enum becomes a named one is one change, of its
/// type: the named schema's values are its own.
#[test]
fn what_generates_the_same_is_no_change() {
    let patched = |patch: Value| {
        let mut doc = fixture("base.yaml");
        json_patch::patch(&mut doc, &serde_json::from_value::<json_patch::Patch>(patch).unwrap()).unwrap();
        doc
    };
    let body = format!("{CREATE}/requestBody/content/application~1json/schema/enum");
    let beside = |values: Value| patched(json!([{"op": "add", "path": body, "value": values}]));
    assert!(diff_docs("spec/fixture.yaml", &beside(json!(["a", "b"])), &beside(json!(["a"]))).is_empty());
    let wrapped = patched(json!([{"op": "replace", "path": "/components/schemas/ThingCreateRequest/properties/thing",
        "value": {"allOf": [{"$ref": "#/components/schemas/ThingCreate"}], "description": "The new thing."}}]));
    let said = diff_docs("spec/fixture.yaml", &fixture("base.yaml"), &wrapped);
    assert!(said.is_empty(), "{}", diff::report(&said, Format::Text));

    let named = patched(json!([
        {"op": "add", "path": "/components/schemas/SortDir", "value": {"type": "string", "enum": ["asc", "desc"]}},
        {"op": "replace", "path": format!("{LIST}/parameters/3/schema"), "value": {"$ref": "#/components/schemas/SortDir"}},
    ]));
    let said = diff_docs("spec/fixture.yaml", &fixture("base.yaml"), &named);
    let on_parameter: Vec<&str> =
        said.iter().filter(|c| c.pointer.starts_with(LIST)).map(|c| c.rust.as_str()).collect();
    assert_eq!(on_parameter, ["list_things's .sort_dir(…): String → SortDir"], "{}", diff::report(&said, Format::Text));
}

/// The Rust types in the report's words, as the generator makes them: a
/// named `format` schema is the crate's type (not the schema's name), and
/// inline dates, numbers and string maps are what typify makes of them.
#[test]
fn rust_types_are_named_as_generated() {
    let thing = |created: Value, extra: Value| {
        let mut doc = fixture("base.yaml");
        let patch = json!([
            {"op": "add", "path": "/components/schemas/Moment", "value": {"type": "string", "format": "date-time"}},
            {"op": "add", "path": format!("{THING}/properties/created"), "value": created},
            {"op": "add", "path": format!("{THING}/properties/extra"), "value": extra},
        ]);
        json_patch::patch(&mut doc, &serde_json::from_value::<json_patch::Patch>(patch).unwrap()).unwrap();
        doc
    };
    let old = thing(json!({"$ref": "#/components/schemas/Moment"}), json!({"type": "string", "format": "date"}));
    let new = thing(json!({"type": "string"}), json!({"type": "number"}));
    let said: Vec<String> = diff_docs("spec/fixture.yaml", &old, &new).into_iter().map(|c| c.rust).collect();
    assert_eq!(
        said,
        [
            "field Thing::created: Option<Timestamp> → Option<String>",
            "field Thing::extra: Option<NaiveDate> → Option<f64>"
        ]
    );
    let maps =
        |values: Value| thing(json!({"type": "string"}), json!({"type": "object", "additionalProperties": values}));
    let said: Vec<String> =
        diff_docs("spec/fixture.yaml", &maps(json!({"type": "string"})), &maps(json!({"type": "integer"})))
            .into_iter()
            .map(|c| c.rust)
            .collect();
    assert!(said.iter().any(|r| r.contains("BTreeMap<String, String>")), "{said:?}");
}

/// An inline request body (no `$ref`) is a type of its own
/// (`<Operation>Body`), compared like a named one. (Response bodies are
/// always named: the generator refuses inline ones.)
#[test]
fn inline_bodies_are_compared() {
    let patched = |patch: Value| {
        let mut doc = fixture("base.yaml");
        json_patch::patch(&mut doc, &serde_json::from_value::<json_patch::Patch>(patch).unwrap()).unwrap();
        doc
    };
    let create = format!("{CREATE}/requestBody/content/application~1json/schema");
    let body = json!({"type": "object", "properties": {
        "thing": {"$ref": "#/components/schemas/ThingCreate"},
        "dry_run": {"type": "boolean"}}});
    let old = patched(json!([{"op": "replace", "path": create, "value": body}]));
    let new = patched(json!([
        {"op": "replace", "path": create, "value": body},
        {"op": "remove", "path": format!("{create}/properties/dry_run")},
        {"op": "add", "path": format!("{create}/required"), "value": ["thing"]},
    ]));
    let changes = diff_docs("spec/fixture.yaml", &old, &new);
    let said: Vec<(Level, &str)> = changes.iter().map(|c| (c.level, c.rust.as_str())).collect();
    assert_eq!(
        said,
        vec![
            (Level::Breaking, "field CreateThingBody::dry_run removed"),
            (Level::Breaking, "field CreateThingBody::thing: Option<ThingCreate> → ThingCreate"),
        ]
    );
    insta::assert_snapshot!("inline_bodies", diff::report(&changes, Format::Markdown));
}

/// A `oneOf` whose branch changes type (the generator's enum changes a
/// variant), or gains a branch, is a change of the type (found by the
/// mutation test: `QuotaValue`'s integer branch made a number was not
/// reported).
#[test]
fn composition_branches_are_compared() {
    let with = |branches: Value| {
        let mut doc = fixture("base.yaml");
        let add = json!([
            {"op": "add", "path": "/components/schemas/Limit", "value": {"oneOf": branches}},
            {"op": "add", "path": format!("{THING}/properties/limit"), "value": {"$ref": "#/components/schemas/Limit"}},
        ]);
        json_patch::patch(&mut doc, &serde_json::from_value::<json_patch::Patch>(add).unwrap()).unwrap();
        doc
    };
    let old = with(json!([{"type": "integer"}, {"$ref": "#/components/schemas/ThingStatus"}]));
    let retyped = with(json!([{"type": "number"}, {"$ref": "#/components/schemas/ThingStatus"}]));
    let widened = with(json!([{"type": "integer"}, {"$ref": "#/components/schemas/ThingStatus"}, {"type": "boolean"}]));
    let said = |new: &Value| -> Vec<(Level, String, String)> {
        diff_docs("spec/fixture.yaml", &old, new).into_iter().map(|c| (c.level, c.pointer, c.rust)).collect()
    };
    assert_eq!(
        said(&retyped),
        [(Level::Breaking, "/components/schemas/Limit/oneOf/0".to_owned(), "type Limit changes shape".to_owned())]
    );
    assert_eq!(
        said(&widened),
        [(Level::Breaking, "/components/schemas/Limit/oneOf".to_owned(), "type Limit changes shape".to_owned())]
    );
    assert!(said(&old).is_empty());
    // A `$ref` branch made nullable keeps its type key but not its Rust type.
    let nullable = with(json!([{"type": "integer"}, {"$ref": "#/components/schemas/ThingStatus", "nullable": true}]));
    assert_eq!(
        said(&nullable),
        [(Level::Breaking, "/components/schemas/Limit/oneOf/1".to_owned(), "type Limit changes shape".to_owned())]
    );
    // Beside a `$ref`, OpenAPI 3.0 (and so the generator) ignores every
    // other keyword: a change there changes no type.
    let beside = |values: Value| {
        with(json!([{"type": "integer"}, {"$ref": "#/components/schemas/ThingStatus", "enum": values}]))
    };
    assert!(diff_docs("spec/fixture.yaml", &beside(json!(["a", "b"])), &beside(json!(["a"]))).is_empty());
}

/// Inline object branches are compared like schemas, named as the
/// generator names them: a `oneOf` or `anyOf` branch is a variant type of
/// its own, `allOf` branches merge into the one type (found by the
/// mutation test: no inline branch had changed).
#[test]
fn inline_composition_branches_are_compared_as_their_types() {
    let with = |keyword: &str, a: &str| {
        let mut doc = fixture("base.yaml");
        let branch = json!({"type": "object", "properties": {"a": {"type": a}}});
        let add = json!([
            {"op": "add", "path": "/components/schemas/Limit", "value": {keyword: [branch, {"type": "integer"}]}},
            {"op": "add", "path": format!("{THING}/properties/limit"), "value": {"$ref": "#/components/schemas/Limit"}},
        ]);
        json_patch::patch(&mut doc, &serde_json::from_value::<json_patch::Patch>(add).unwrap()).unwrap();
        doc
    };
    for (keyword, field) in [("oneOf", "LimitVariant0::a"), ("anyOf", "LimitVariant0::a"), ("allOf", "Limit::a")] {
        let changes = diff_docs("spec/fixture.yaml", &with(keyword, "string"), &with(keyword, "integer"));
        let said: Vec<(Level, &str, &str)> =
            changes.iter().map(|c| (c.level, c.pointer.as_str(), c.rust.as_str())).collect();
        assert_eq!(
            said,
            [(
                Level::Breaking,
                format!("/components/schemas/Limit/{keyword}/0/properties/a").as_str(),
                format!("field {field}: Option<String> → Option<i64>").as_str()
            )]
        );
        assert!(diff_docs("spec/fixture.yaml", &with(keyword, "string"), &with(keyword, "string")).is_empty());
    }
}

#[test]
fn no_change_reports_none_and_passes() {
    let changes = changes_of(json!([]));
    assert!(changes.is_empty());
    assert_eq!(diff::report(&changes, Format::Text), "no API changes\n");
    insta::assert_snapshot!("no_change", diff::report(&changes, Format::Markdown));
    assert!(!diff::fails(&changes, Some(Level::Info)));
}

#[test]
fn descriptions_and_examples_are_not_api_changes() {
    let changes = changes_of(json!([
        {"op": "replace", "path": format!("{LIST}/summary"), "value": "List the things"},
        {"op": "replace", "path": format!("{THING}/properties/size/description"), "value": "The size, in GiB."},
        {"op": "add", "path": format!("{THING}/example"), "value": {"id": "x"}},
    ]));
    assert_eq!(changes, Vec::new());
}

#[test]
fn fail_on_levels() {
    let breaking = changes_of(json!([{"op": "remove", "path": DELETE}]));
    let warning = changes_of(
        json!([{"op": "add", "path": format!("{CREATE}/responses/200"), "value": {"description": "x", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ThingResponse"}}}}}]),
    );
    let info =
        changes_of(json!([{"op": "add", "path": format!("{THING}/properties/zone"), "value": {"type": "string"}}]));
    let fail_on = |s| diff::parse_fail_on(s).unwrap();
    assert!(diff::fails(&breaking, fail_on("breaking")));
    assert!(!diff::fails(&warning, fail_on("breaking")));
    assert!(diff::fails(&warning, fail_on("warning")));
    assert!(diff::fails(&breaking, fail_on("warning")));
    assert!(!diff::fails(&info, fail_on("warning")));
    assert!(diff::fails(&info, fail_on("info")));
    assert!(!diff::fails(&breaking, fail_on("none")));
    assert_eq!(
        diff::parse_fail_on("fatal").unwrap_err(),
        "--fail-on takes breaking, warning, info or none, not `fatal`"
    );
    assert_eq!("yaml".parse::<Format>().unwrap_err(), "--format takes text, markdown or json, not `yaml`");
}

#[test]
fn json_report_carries_pointer_old_and_new() {
    let changes = changes_of(json!([{"op": "replace", "path": format!("{CREATE}/operationId"), "value": "makeThing"}]));
    let report: Value = serde_json::from_str(&diff::report(&changes, Format::Json)).unwrap();
    assert_eq!(
        report,
        json!([{
            "file": "spec/fixture.yaml",
            "level": "breaking",
            "scope": "POST /things makeThing",
            "pointer": "/paths/~1things/post/operationId",
            "what": "operationId changed",
            "rust": "method create_thing renamed to make_thing",
            "old": "createThing",
            "new": "makeThing",
        }])
    );
}

/// An older copy of the block-storage spec (commit b8ff299, before
/// microversion gates on request bodies, offset paging and the response
/// `required` audit) against today's.
#[test]
fn real_spec_history() {
    let old = fixture("block-storage-v3.b8ff299.yaml");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let text = std::fs::read_to_string(root.join("spec/block-storage-v3.yaml")).unwrap();
    let new = openstack_backups_codegen::load("spec/block-storage-v3.yaml", &text).unwrap().raw;
    let changes = diff_docs("spec/block-storage-v3.yaml", &old, &new);
    let says = |level: Level, scope: &str, rust: &str| {
        changes.iter().any(|c| c.level == level && c.scope.contains(scope) && c.rust.contains(rust))
    };
    let text = diff::report(&changes, Format::Text);
    // The response `required` audit made fields optional: breaking.
    assert!(says(Level::Breaking, "schema Volume", "field Volume::size: i64 → Option<i64>"), "{text}");
    // Forcing a snapshot became refused from 3.66.
    assert!(
        says(Level::Breaking, "schema SnapshotCreate", "field SnapshotCreate::force is refused above 3.65"),
        "{text}"
    );
    // The waiters and finders arrived as spec extensions.
    assert!(says(Level::Info, "showBackup", "method find_backup added"), "{text}");
    assert!(
        says(Level::Info, "showSnapshot", "methods wait_for_snapshot and wait_for_snapshot_deleted added"),
        "{text}"
    );
    // The reverse direction turns each addition into a removal.
    let back = diff_docs("spec/block-storage-v3.yaml", &new, &old);
    assert!(back.iter().any(|c| c.level == Level::Breaking && c.rust == "method find_backup removed"));
    // Nothing is reported twice.
    let mut keys: Vec<_> = changes.iter().map(|c| (&c.pointer, &c.what)).collect();
    keys.sort();
    let before = keys.len();
    keys.dedup();
    assert_eq!(keys.len(), before, "{text}");
}

/// Every spec of the repository compared with itself: nothing to report.
#[test]
fn each_real_spec_against_itself_is_unchanged() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    for service in openstack_backups_codegen::services(root).unwrap() {
        let text = std::fs::read_to_string(root.join(&service.spec_path)).unwrap();
        let doc = openstack_backups_codegen::model_of(&service.spec_path, &text).unwrap();
        let changes = diff::diff_models(&service.spec_path, Some(&doc), Some(&doc));
        assert_eq!(changes, Vec::new(), "{}", service.spec_path);
    }
}

/// `base.yaml` with `patch` applied.
fn base_with(patch: Value) -> Value {
    let mut doc = fixture("base.yaml");
    json_patch::patch(&mut doc, &serde_json::from_value::<json_patch::Patch>(patch).unwrap()).unwrap();
    doc
}

/// The changes between two patched copies of `base.yaml`, as (level, Rust words).
fn between(old: Value, new: Value) -> Vec<(Level, String)> {
    diff_docs("spec/fixture.yaml", &base_with(old), &base_with(new)).into_iter().map(|c| (c.level, c.rust)).collect()
}

/// Properties whose type stays but whose shape changes, each reported
/// once (found by the mutation test): a request's list that becomes
/// required, an object that gains properties, array items that lose their
/// enum or change type, a `$ref` made inline.
#[test]
fn property_shapes_are_reported_once() {
    use Level::{Breaking, Info};
    let tags = |required: bool| {
        let mut patch = vec![json!({"op": "add", "path": format!("{CREATE_BODY}/properties/tags"),
            "value": {"type": "array", "items": {"type": "string"}}})];
        if required {
            patch.push(json!({"op": "add", "path": format!("{CREATE_BODY}/required/-"), "value": "tags"}));
        }
        Value::Array(patch)
    };
    assert_eq!(between(tags(false), tags(true)), [(Breaking, "ThingCreate needs tags".to_owned())]);
    let extra = |value: Value| json!([{"op": "add", "path": format!("{THING}/properties/extra"), "value": value}]);
    assert_eq!(
        between(
            extra(json!({"type": "object"})),
            extra(json!({"type": "object", "properties": {"zone": {"type": "string"}}}))
        ),
        [(Info, "field ThingExtra::zone added (Option<String>)".to_owned())]
    );
    // Items of a request's list: an enum dropped, a type changed.
    let items = |items: Value| {
        json!([{"op": "add", "path": format!("{CREATE_BODY}/properties/extra"),
            "value": {"type": "array", "items": items}}])
    };
    assert_eq!(
        between(items(json!({"type": "string", "enum": ["a", "b"]})), items(json!({"type": "string"}))),
        [
            (Breaking, "type ThingCreateExtraItem: variant A removed".to_owned()),
            (Breaking, "type ThingCreateExtraItem: variant B removed".to_owned())
        ]
    );
    assert_eq!(
        between(items(json!({"type": "string"})), items(json!({"type": "integer"}))),
        [(Breaking, "field ThingCreate::extra: Vec<String> → Vec<i64>".to_owned())]
    );
    assert_eq!(
        between(
            extra(json!({"$ref": "#/components/schemas/ThingStatus"})),
            extra(json!({"type": "string", "x-extensible-enum": ["available"]}))
        ),
        [(Breaking, "field Thing::extra: Option<ThingStatus> → Option<String>".to_owned())]
    );
    // A free-form map is a `Map`, a map of one type a `BTreeMap`.
    assert_eq!(
        between(extra(json!({"type": "object", "additionalProperties": true})), extra(json!({"type": "string"}))),
        [(Breaking, "field Thing::extra: Option<Map> → Option<String>".to_owned())]
    );
}

/// A schema's side (request, response, both) decides how much a change
/// of its values matters, found through `$ref`s inside arrays too; a
/// schema that moves from responses to requests counts as both. And a
/// schema removed while an unrelated one is added is no rename (found by
/// the mutation test).
#[test]
fn schema_sides_and_renames() {
    use Level::{Breaking, Info, Warning};
    let mode = |values: Value| {
        json!([
            {"op": "add", "path": "/components/schemas/Mode", "value": {"type": "string", "enum": values}},
            {"op": "add", "path": format!("{CREATE_BODY}/properties/choice"),
                "value": {"oneOf": [{"$ref": "#/components/schemas/Mode"}, {"type": "integer"}]}},
        ])
    };
    assert_eq!(
        between(mode(json!(["full"])), mode(json!(["full", "differential"]))),
        [(Info, "type Mode: variant Differential added".to_owned())],
        "a request's closed enum, reached through oneOf"
    );
    // An open enum moves from a response (Thing.kind) to a request
    // (ThingCreate.kind) and loses a value: both sides, a warning.
    let kind = |values: Value, at: &str| {
        json!([
            {"op": "add", "path": "/components/schemas/Kind", "value": {"type": "string", "x-extensible-enum": values}},
            {"op": "add", "path": format!("{at}/properties/kind"), "value": {"$ref": "#/components/schemas/Kind"}},
        ])
    };
    let said = between(kind(json!(["hot", "cold"]), THING), kind(json!(["hot"]), CREATE_BODY));
    assert!(
        said.contains(&(
            Warning,
            "type Kind: variant Cold removed; a server that still sends it decodes as Unknown".to_owned()
        )),
        "{said:?}"
    );
    let swapped = json!([
        {"op": "remove", "path": "/components/schemas/Link"},
        {"op": "replace", "path": "/components/schemas/ThingList/properties/things_links/items", "value": {"type": "object"}},
        {"op": "add", "path": "/components/schemas/Other", "value": {"type": "string"}},
    ]);
    let said = between(json!([]), swapped);
    assert!(said.contains(&(Breaking, "type Link removed".to_owned())), "{said:?}");
    assert!(said.contains(&(Info, "type Other added".to_owned())), "{said:?}");
}

/// A maximum microversion moved between two values (lowered: breaking;
/// raised: info), and an open enum of requests only losing a value (the
/// server no longer takes it: breaking), found by the mutation test.
#[test]
fn maximums_moved_and_open_request_enums() {
    use Level::{Breaking, Info};
    let max = |v: &str| json!([{"op": "add", "path": format!("{CREATE_BODY}/properties/mode/x-openstack-max-microversion"), "value": v}]);
    assert_eq!(
        between(max("3.63"), max("3.50")),
        [(Breaking, "field ThingCreate::mode is refused above 3.50 (it worked up to 3.63)".to_owned())]
    );
    assert_eq!(
        between(max("3.50"), max("3.63")),
        [(Info, "field ThingCreate::mode works up to 3.63 (was 3.50)".to_owned())]
    );
    let kind = |values: Value| {
        json!([
            {"op": "add", "path": "/components/schemas/Kind", "value": {"type": "string", "x-extensible-enum": values}},
            {"op": "add", "path": format!("{CREATE_BODY}/properties/kind"), "value": {"$ref": "#/components/schemas/Kind"}},
        ])
    };
    assert_eq!(
        between(kind(json!(["hot", "cold"])), kind(json!(["hot"]))),
        [(Breaking, "type Kind: variant Cold removed (the server no longer takes it)".to_owned())]
    );
}

/// The model keeps what each operation carries: an action's own `x-…`
/// keys (of its entry in `x-openstack-actions`), beside its endpoint's
/// (found by the mutation test: spec-diff compares an action's whole
/// entry, so no rule read them).
#[test]
fn the_model_keeps_an_actions_own_extensions() {
    let doc = base_with(json!([{"op": "add", "path": format!("{ACTION}/x-openstack-actions/0/x-openstack-policy"),
        "value": "volume:reset"}]));
    let m = model("spec/fixture.yaml", &doc).unwrap();
    let reset = m.operations.iter().find(|o| o.operation_id == "resetThingStatus").unwrap();
    assert_eq!(reset.spec.extensions.get("x-openstack-policy"), Some(&json!("volume:reset")));
    let endpoint = m.operations.iter().find(|o| o.operation_id == "thingAction").unwrap();
    assert!(endpoint.spec.extensions.contains_key("x-openstack-actions"));
    assert!(!endpoint.spec.extensions.contains_key("x-openstack-policy"));
}
