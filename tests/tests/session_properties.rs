//! Property tests of what a session reads from the cloud, through a mock
//! Keystone and Cinder: any service catalog (the endpoint chosen is the
//! model's: the first of the wanted types, in catalog order, with the
//! session's interface and region; otherwise an error that lists what the
//! catalog offers), and any version document (a microversion within both
//! sides' ranges, or an error that says why; never a panic). Cases:
//! `PROPTEST_CASES` (64 by default: each case authenticates).

use openstack_backups::{ErrorKind, Microversion, Session};
use openstack_backups_tests::proptest_cases;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

mod mock_cloud;

use mock_cloud::*;

const TYPES: [&str; 3] = ["block-storage", "volumev3", "volume"];

#[derive(Debug, Clone)]
struct Endpoint {
    interface: String,
    region: Option<String>,
    url: String,
}

#[derive(Debug, Clone)]
struct Entry {
    service_type: String,
    endpoints: Vec<Endpoint>,
}

fn catalogs() -> impl Strategy<Value = (Vec<Entry>, Option<String>)> {
    let endpoint = (
        prop::sample::select(vec!["public", "internal", "admin", "PUBLIC", "publicURL"]),
        prop::option::of(prop::sample::select(vec!["RegionOne", "RegionTwo", ""])),
        (0u32..1000, any::<bool>()),
    )
        .prop_map(|(interface, region, (n, placeholder))| Endpoint {
            interface: interface.to_owned(),
            region: region.map(str::to_owned),
            url: if placeholder { format!("http://h{n}/v3/%(project_id)s") } else { format!("http://h{n}/v3/p") },
        });
    let entry = (
        prop::sample::select(vec!["block-storage", "volumev3", "volume", "identity", "compute", "Volume", "volumev2"]),
        prop::collection::vec(endpoint, 0..4),
    )
        .prop_map(|(t, endpoints)| Entry { service_type: t.to_owned(), endpoints });
    (prop::collection::vec(entry, 0..6), prop::option::of(prop::sample::select(vec!["RegionOne", "RegionTwo"])))
        .prop_map(|(entries, region)| (entries, region.map(str::to_owned)))
}

/// The model: the endpoint a session must choose.
fn expected(entries: &[Entry], region: Option<&str>) -> Option<String> {
    TYPES.iter().find_map(|wanted| {
        entries.iter().filter(|e| e.service_type == *wanted).find_map(|e| {
            e.endpoints
                .iter()
                .find(|p| p.interface == "public" && region.is_none_or(|r| p.region.as_deref() == Some(r)))
                .map(|p| p.url.replace("%(project_id)s", PROJECT))
        })
    })
}

fn catalog_json(entries: &[Entry]) -> Value {
    Value::Array(
        entries
            .iter()
            .map(|e| {
                json!({"type": e.service_type, "endpoints": e.endpoints.iter().map(|p| {
                    let mut v = json!({"interface": p.interface, "url": p.url});
                    if let Some(r) = &p.region {
                        v["region"] = json!(r);
                    }
                    v
                }).collect::<Vec<_>>()})
            })
            .collect(),
    )
}

fn session(server: &MockServer, region: Option<&str>) -> Session {
    let mut builder = Session::builder()
        .auth_url(format!("{}/identity", server.uri()))
        .auth(openstack_backups::auth::AuthMethod::Password {
            user: openstack_backups::auth::User::Name {
                name: "demo".into(),
                domain: openstack_backups::auth::Domain::Name("Default".into()),
            },
            password: openstack_backups::Secret::new(PASSWORD),
        })
        .clock(FakeClock::at(t0()))
        .retry(openstack_backups::retry::RetryPolicy::none());
    if let Some(r) = region {
        builder = builder.region(r);
    }
    builder.build().unwrap()
}

async fn keystone_with(server: &MockServer, catalog: Value) {
    let mut body = token_body_base(t0() + chrono::Duration::hours(1));
    body["token"]["catalog"] = catalog;
    Mock::given(method("POST"))
        .and(path("/identity/v3/auth/tokens"))
        .respond_with(ResponseTemplate::new(201).insert_header("x-subject-token", "tok").set_body_json(body))
        .mount(server)
        .await;
}

#[tokio::test]
async fn any_catalog_gives_the_models_endpoint_or_says_what_it_offers() {
    let server = MockServer::start().await;
    let mut runner =
        TestRunner::new(Config { cases: proptest_cases(64), failure_persistence: None, ..Config::default() });
    let strategy = catalogs();
    for _ in 0..runner.config().cases {
        let (entries, region) = strategy.new_tree(&mut runner).unwrap().current();
        server.reset().await;
        keystone_with(&server, catalog_json(&entries)).await;
        let got = session(&server, region.as_deref()).endpoint("block_storage", &TYPES).await;
        match (expected(&entries, region.as_deref()), got) {
            (Some(url), Ok(got)) => assert_eq!(got, url, "{entries:?} {region:?}"),
            (None, Err(e)) => {
                assert_eq!(e.kind(), ErrorKind::Configuration, "{e}");
                let shown = e.to_string();
                assert!(shown.contains("the catalog has no public endpoint"), "{shown}");
                assert!(shown.contains("(it offers: "), "{shown}");
                for entry in &entries {
                    for p in &entry.endpoints {
                        assert!(shown.contains(&format!("{} {}", entry.service_type, p.interface)), "{shown}");
                    }
                }
                assert!(!shown.contains(PASSWORD), "{shown}");
            }
            (want, got) => panic!("{entries:?} in {region:?}: wanted {want:?}, got {got:?}"),
        }
    }
}

/// A version document with any `version` and `min_version` (or none, or
/// junk): the client gets the highest microversion both sides know, or an
/// error that names the document's values.
#[tokio::test]
async fn any_version_document_is_negotiated_or_refused_clearly() {
    let server = MockServer::start().await;
    let mut runner =
        TestRunner::new(Config { cases: proptest_cases(64), failure_persistence: None, ..Config::default() });
    let version = prop_oneof![
        8 => (3u32..4, 0u32..100).prop_map(|(a, b)| json!(format!("{a}.{b}"))),
        1 => Just(json!("")),
        1 => Just(json!("3")),
        1 => Just(json!("3.x")),
        1 => Just(json!("99999999999.1")),
        1 => Just(json!(3.5)),
        1 => Just(json!(null)),
    ];
    let strategy = (version.clone(), version, prop::bool::weighted(0.8));
    let mut usable = 0;
    for _ in 0..runner.config().cases {
        let (max, min, as_list) = strategy.new_tree(&mut runner).unwrap().current();
        server.reset().await;
        keystone_with(&server, catalog(&server.uri())).await;
        let entry = json!({"id": "v3.0", "status": "CURRENT", "version": max, "min_version": min, "links": []});
        let doc = if as_list { json!({"versions": [entry]}) } else { json!({"version": entry}) };
        Mock::given(method("GET"))
            .and(path("/v3/"))
            .respond_with(ResponseTemplate::new(200).set_body_json(doc.clone()))
            .mount(&server)
            .await;
        let parse = |v: &Value| v.as_str().and_then(|s| s.parse::<Microversion>().ok());
        let client_max = Microversion::new(3, 71);
        // A usable document: the highest microversion both sides know.
        if let (true, Some(lo), Some(hi)) = (as_list, parse(&min), parse(&max))
            && lo <= hi
            && lo <= client_max
        {
            let client = session(&server, None).block_storage().await.unwrap_or_else(|e| panic!("{doc}: {e}"));
            assert_eq!(client.microversion(), Some(hi.min(client_max)), "{doc}");
            usable += 1;
            continue;
        }
        match session(&server, None).block_storage().await {
            Ok(client) => {
                let chosen = client.microversion().expect("a negotiated microversion");
                assert!(chosen <= Microversion::new(3, 71), "{doc}: {chosen}");
                if let (Some(lo), Some(hi)) = (parse(&min), parse(&max)) {
                    assert!(lo <= chosen && chosen <= hi, "{doc}: {chosen} outside the server's range");
                }
            }
            Err(e) => {
                let shown = e.to_string();
                assert!(!shown.is_empty() && !shown.contains(PASSWORD), "{shown}");
                assert!(
                    matches!(e.kind(), ErrorKind::Configuration | ErrorKind::UndecodableResponse),
                    "{doc}: {:?} {shown}",
                    e.kind()
                );
            }
        }
    }
    assert!(usable > 0, "no usable version document was generated");
}
