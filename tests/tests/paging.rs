//! Paging never loses or repeats an item: over a model of each server's
//! paging (Cinder: `marker` is the last id seen, `offset` applies after the
//! marker and stays in next links; Trove: `marker` is an integer offset),
//! with random list sizes, page sizes, offsets, sort orders and filters, a
//! stream yields exactly what one unpaged request returns.

use std::sync::{Arc, Mutex};

use openstack_backups::block_storage::{Client, types};
use openstack_backups::retry::RetryPolicy;
use openstack_backups::{ClientConfig, Microversion};
use proptest::prelude::*;
use serde_json::{Value, json};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// One backup of the model: id, name, status.
type Row = (String, String, &'static str);

/// Cinder's list semantics over a list of rows.
#[derive(Clone, Default)]
struct CinderModel {
    rows: Arc<Mutex<Vec<Row>>>,
    max_limit: usize,
}

impl Respond for CinderModel {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let q = |name: &str| request.url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
        let mut rows: Vec<_> = self.rows.lock().unwrap().clone();
        if let Some(status) = q("status") {
            rows.retain(|r| r.2 == status);
        }
        // `sort=name:asc|desc`, ties broken by id the same way; the default
        // is newest first (here: id descending).
        let asc = q("sort").is_some_and(|s| s.ends_with(":asc"));
        rows.sort_by(|a, b| if q("sort").is_some() { (&a.1, &a.0).cmp(&(&b.1, &b.0)) } else { a.0.cmp(&b.0) });
        if !asc {
            rows.reverse();
        }
        let mut start = 0;
        if let Some(marker) = q("marker") {
            match rows.iter().position(|r| r.0 == marker) {
                Some(i) => start = i + 1,
                None => {
                    return ResponseTemplate::new(404)
                        .set_body_json(json!({"itemNotFound": {"code": 404, "message": "marker"}}));
                }
            }
        }
        start += q("offset").map_or(0, |o| o.parse::<usize>().unwrap());
        let limit = q("limit").map_or(self.max_limit, |l| l.parse::<usize>().unwrap().min(self.max_limit));
        let page: Vec<_> = rows.iter().skip(start).take(limit).collect();
        let mut body = json!({"backups": page.iter().map(|r| json!({
            "id": r.0, "name": r.1, "links": []
        })).collect::<Vec<_>>()});
        if !page.is_empty() && page.len() == limit {
            // Every original parameter kept (`offset` too), `marker` replaced.
            let mut next = request.url.clone();
            let pairs: Vec<(String, String)> = request
                .url
                .query_pairs()
                .filter(|(k, _)| k != "marker")
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            next.query_pairs_mut().clear().extend_pairs(pairs).append_pair("marker", &page.last().unwrap().0);
            body["backups_links"] = json!([{"rel": "next", "href": next.as_str()}]);
        }
        ResponseTemplate::new(200).set_body_json(body)
    }
}

/// A Trove backup with this id: the spec's sample, its id replaced.
fn trove_backup(id: &str) -> Value {
    let path = openstack_backups_tests::workspace_root().join("spec/examples/trove-v1/backup-get-response.json");
    let mut sample: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    sample["backup"]["id"] = json!(id);
    sample["backup"].take()
}

/// Trove's: `marker` is how many items to skip; the next link's marker is
/// the current one plus the page size; pages hold at most 20.
#[derive(Clone, Default)]
struct TroveModel {
    ids: Arc<Mutex<Vec<String>>>,
}

impl Respond for TroveModel {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let q = |name: &str| request.url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
        let ids = self.ids.lock().unwrap().clone();
        let offset: usize = q("marker").map_or(0, |m| m.parse().unwrap());
        let limit = q("limit").map_or(20, |l| l.parse::<usize>().unwrap().min(20));
        let page: Vec<_> = ids.iter().skip(offset).take(limit).collect();
        let items: Vec<Value> = page.iter().map(|id| trove_backup(id)).collect();
        let mut body = json!({"backups": items});
        if page.len() == limit {
            let mut next = request.url.clone();
            next.set_scheme("https").ok();
            let pairs: Vec<(String, String)> = request
                .url
                .query_pairs()
                .filter(|(k, _)| k != "marker")
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            next.query_pairs_mut().clear().extend_pairs(pairs).append_pair("marker", &(offset + limit).to_string());
            body["links"] = json!([{"rel": "next", "href": next.as_str()}]);
        }
        ResponseTemplate::new(200).set_body_json(body)
    }
}

struct World {
    runtime: tokio::runtime::Runtime,
    cinder: CinderModel,
    trove: TroveModel,
    cinder_client: Client,
    trove_client: openstack_backups::database::Client,
    _servers: (MockServer, MockServer),
}

fn world() -> &'static World {
    static WORLD: std::sync::OnceLock<World> = std::sync::OnceLock::new();
    WORLD.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let cinder = CinderModel { max_limit: 1000, ..Default::default() };
        let trove = TroveModel::default();
        let (a, b) = runtime.block_on(async {
            let a = MockServer::start().await;
            Mock::given(wiremock::matchers::any()).respond_with(cinder.clone()).mount(&a).await;
            let b = MockServer::start().await;
            Mock::given(wiremock::matchers::any()).respond_with(trove.clone()).mount(&b).await;
            (a, b)
        });
        let config = || ClientConfig::new().with_token("t").with_retry(RetryPolicy::none());
        let cinder_client =
            Client::new(&format!("{}/v3/p", a.uri()), config().with_microversion(Microversion::new(3, 71)));
        let trove_client = openstack_backups::database::Client::new(&format!("{}/v1.0/p", b.uri()), config());
        World { runtime, cinder, trove, cinder_client, trove_client, _servers: (a, b) }
    })
}

#[derive(Debug, Clone)]
struct CinderCase {
    names: Vec<(String, bool)>,
    page: Option<u64>,
    offset: Option<u64>,
    sort: Option<bool>,
    status: Option<bool>,
}

fn cinder_case() -> impl Strategy<Value = CinderCase> {
    (
        proptest::collection::vec(("[a-d]{1,2}", any::<bool>()), 0..40),
        proptest::option::of(1u64..9),
        proptest::option::of(0u64..12),
        proptest::option::of(any::<bool>()),
        proptest::option::of(any::<bool>()),
    )
        .prop_map(|(names, page, offset, sort, status)| CinderCase { names, page, offset, sort, status })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: openstack_backups_tests::proptest_cases(128), ..ProptestConfig::default() })]

    /// Cinder: the stream over pages of any size equals the unpaged list,
    /// whatever the offset, sort and filter.
    #[test]
    fn cinder_streams_equal_the_unpaged_list(case in cinder_case()) {
        let w = world();
        *w.cinder.rows.lock().unwrap() = case
            .names
            .iter()
            .enumerate()
            .map(|(i, (name, ok))| (format!("id-{i:03}"), name.clone(), if *ok { "available" } else { "error" }))
            .collect();
        let build = |paged: bool| {
            let mut b = w.cinder_client.list_backups();
            if paged && let Some(page) = case.page {
                b = b.limit(page);
            }
            if let Some(offset) = case.offset {
                b = b.offset(offset);
            }
            if let Some(asc) = case.sort {
                b = b.sort(if asc { "name:asc" } else { "name:desc" });
            }
            if let Some(ok) = case.status {
                b = b.status(if ok { types::BackupStatus::Available } else { types::BackupStatus::Error });
            }
            b
        };
        let (streamed, unpaged) = w.runtime.block_on(async {
            let streamed: Vec<String> = build(true).all().await.unwrap().into_iter().map(|b| b.id).collect();
            let unpaged: Vec<String> = build(false).send().await.unwrap().into_inner().backups.into_iter().map(|b| b.id).collect();
            (streamed, unpaged)
        });
        prop_assert_eq!(streamed, unpaged);
    }

    /// Trove: integer markers, pages of at most 20: every backup once.
    #[test]
    fn trove_streams_hold_every_backup_once(n in 0usize..70, page in proptest::option::of(1u64..25)) {
        let w = world();
        let ids: Vec<String> = (0..n).map(|i| format!("00000000-0000-0000-0000-{i:012}")).collect();
        *w.trove.ids.lock().unwrap() = ids.clone();
        let streamed: Vec<String> = w.runtime.block_on(async {
            let mut b = w.trove_client.list_database_backups();
            if let Some(page) = page {
                b = b.limit(page);
            }
            b.all().await.unwrap().into_iter().map(|b| b.id).collect()
        });
        prop_assert_eq!(streamed, ids);
    }
}

/// A server whose next links go round: pages 0..n, page `i`'s link carries
/// marker `m{i}` (leading to page `i + 1`), and the last page's link leads
/// back to page `back` (1 ≤ back < n: a cycle of period n - back; a page
/// linking to itself is period 1). Cinder's and Trove's body shapes, by
/// the request's path.
#[derive(Clone, Default)]
struct CycleModel {
    shape: Arc<Mutex<(usize, usize, usize)>>,
}

impl Respond for CycleModel {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let (n, back, per_page) = *self.shape.lock().unwrap();
        let marker = request.url.query_pairs().find(|(k, _)| k == "marker").map(|(_, v)| v.into_owned());
        let page = match marker {
            None => 0,
            Some(m) => m.trim_start_matches('m').parse::<usize>().unwrap() + 1,
        };
        let link_to = if page + 1 < n { page } else { back - 1 };
        let mut next = request.url.clone();
        next.query_pairs_mut().clear().append_pair("marker", &format!("m{link_to}"));
        let ids: Vec<String> = (0..per_page).map(|i| format!("00000000-0000-0000-0000-{:06}{:06}", page, i)).collect();
        let trove = request.url.path().contains("/v1.0/");
        let body = if trove {
            let items: Vec<Value> = ids.iter().map(|id| trove_backup(id)).collect();
            json!({"backups": items, "links": [{"rel": "next", "href": next.as_str()}]})
        } else {
            let items: Vec<Value> = ids.iter().map(|id| json!({"id": id, "name": null, "links": []})).collect();
            json!({"backups": items, "backups_links": [{"rel": "next", "href": next.as_str()}]})
        };
        ResponseTemplate::new(200).set_body_json(body)
    }
}

struct CycleWorld {
    runtime: tokio::runtime::Runtime,
    model: CycleModel,
    server: MockServer,
    cinder: Client,
    trove: openstack_backups::database::Client,
}

fn cycle_world() -> &'static CycleWorld {
    static WORLD: std::sync::OnceLock<CycleWorld> = std::sync::OnceLock::new();
    WORLD.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let model = CycleModel::default();
        let server = runtime.block_on(async {
            let server = MockServer::start().await;
            Mock::given(wiremock::matchers::any()).respond_with(model.clone()).mount(&server).await;
            server
        });
        let config = || ClientConfig::new().with_token("t").with_retry(RetryPolicy::none());
        let cinder =
            Client::new(&format!("{}/v3/p", server.uri()), config().with_microversion(Microversion::new(3, 71)));
        let trove = openstack_backups::database::Client::new(&format!("{}/v1.0/p", server.uri()), config());
        CycleWorld { runtime, model, server, cinder, trove }
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: openstack_backups_tests::proptest_cases(96), ..ProptestConfig::default() })]

    /// Next links that go round, with any period: `stream()` yields each
    /// page's items once, in order, then ends with the paging error naming
    /// the operation, the marker that came back and the pages read; `all()`
    /// returns that error; no page is asked for twice. Cinder and Trove.
    #[test]
    fn cycles_of_any_period_end_the_stream(n in 2usize..10, back_seed in 0usize..100, per_page in 1usize..4, trove in any::<bool>()) {
        use futures_util::StreamExt;
        let back = 1 + back_seed % (n - 1);
        let w = cycle_world();
        *w.model.shape.lock().unwrap() = (n, back, per_page);
        let (results, requests, all) = w.runtime.block_on(async {
            w.server.reset().await;
            Mock::given(wiremock::matchers::any()).respond_with(w.model.clone()).mount(&w.server).await;
            // Bounded: a stream that missed the cycle would never end.
            let bound = n * per_page + 5;
            let results: Vec<Result<String, openstack_backups::Error>> = if trove {
                w.trove.list_database_backups().stream().take(bound).map(|r| r.map(|b| b.id)).collect().await
            } else {
                w.cinder.list_backups().stream().take(bound).map(|r| r.map(|b| b.id)).collect().await
            };
            let requests = w.server.received_requests().await.unwrap().len();
            let all = if trove {
                w.trove.list_database_backups().all().await.map(|v| v.len())
            } else {
                w.cinder.list_backups().all().await.map(|v| v.len())
            };
            (results, requests, all)
        });
        let (items, errors): (Vec<_>, Vec<_>) = results.into_iter().partition(Result::is_ok);
        prop_assert_eq!(items.len(), n * per_page, "each page's items once");
        let ids: Vec<String> = items.into_iter().map(Result::unwrap).collect();
        let mut unique = ids.clone();
        unique.dedup();
        prop_assert_eq!(&unique, &ids, "nothing doubled");
        prop_assert_eq!(errors.len(), 1);
        let err = errors.into_iter().next().unwrap().unwrap_err();
        let operation = if trove { "list_database_backups" } else { "list_backups" };
        let want = format!(
            "{operation}: paging stopped after {n} pages: the server's next link leads back to marker m{}, followed already",
            back - 1
        );
        prop_assert_eq!(err.to_string(), want);
        prop_assert_eq!(err.kind(), openstack_backups::ErrorKind::Server);
        prop_assert_eq!(requests, n, "no page asked for twice");
        prop_assert!(matches!(all, Err(ref e) if e.to_string() == err.to_string()), "all(): {:?}", all.map_err(|e| e.to_string()));
    }
}
