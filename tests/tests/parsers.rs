//! Property tests of the parsers a cloud's answers and an operator's files
//! go through: timestamps, microversions, next links, `clouds.yaml` and
//! `secure.yaml`. On any input: never a panic, and a clear error for what
//! cannot be read; on generated valid input: the value the reference
//! implementation (chrono, the url crate) reads.
//!
//! `PROPTEST_CASES` raises the number of cases (see TESTING.md).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use chrono::{DateTime, NaiveDateTime};
use openstack_backups::cloud::{CloudConfig, Environment};
use openstack_backups::{ErrorKind, Microversion, Timestamp};
use proptest::prelude::*;
use serde_json::Value;

/// Timestamps in every dialect the clouds write: Cinder's six fractional
/// digits without zone, Trove's none, a `Z`, an offset, up to nine digits.
fn timestamp_text() -> impl Strategy<Value = String> {
    (
        1970i32..2200,
        1u32..13,
        1u32..29,
        0u32..24,
        0u32..60,
        0u32..60,
        proptest::option::of(proptest::string::string_regex("[0-9]{1,9}").unwrap()),
        prop_oneof![
            Just(String::new()),
            Just("Z".to_owned()),
            (-14i32..15, 0u32..60).prop_map(|(h, m)| format!("{}{:02}:{m:02}", if h < 0 { '-' } else { '+' }, h.abs()))
        ],
    )
        .prop_map(|(y, mo, d, h, mi, s, fraction, zone)| {
            let fraction = fraction.map(|f| format!(".{f}")).unwrap_or_default();
            format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{fraction}{zone}")
        })
}

/// What chrono reads in `text`, in UTC.
fn chrono_reads(text: &str) -> NaiveDateTime {
    match DateTime::parse_from_rfc3339(text) {
        Ok(zoned) => zoned.naive_utc(),
        Err(_) => NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").unwrap(),
    }
}

/// An `Environment` of variables and files held in memory.
#[derive(Default)]
struct Fake {
    vars: BTreeMap<String, String>,
    files: BTreeMap<PathBuf, String>,
}

impl Environment for Fake {
    fn var(&self, name: &str) -> Option<String> {
        self.vars.get(name).cloned()
    }
    fn read(&self, path: &Path) -> Option<String> {
        self.files.get(path).cloned()
    }
    fn current_dir(&self) -> Option<PathBuf> {
        Some(PathBuf::from("/work"))
    }
}

/// Arbitrary JSON, a few levels deep.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("auth".to_owned()),
                    Just("auth_type".to_owned()),
                    Just("password".to_owned()),
                    Just("region_name".to_owned()),
                    Just("verify".to_owned()),
                    Just("project_name".to_owned()),
                    "[a-z_]{1,10}"
                ],
                inner,
                0..5
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: openstack_backups_tests::proptest_cases(256), ..ProptestConfig::default() })]

    #[test]
    fn timestamps_never_panic(text in ".{0,40}") {
        if let Err(e) = Timestamp::from_str(&text) {
            prop_assert!(e.to_string().contains("expected a timestamp like"));
        }
    }

    #[test]
    fn timestamps_read_as_chrono_reads_them(text in timestamp_text()) {
        let ours = Timestamp::from_str(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(ours.naive_utc(), chrono_reads(&text), "{}", text);
        // What the crate writes, it reads back (to the microsecond it keeps).
        let again = Timestamp::from_str(&ours.to_string()).unwrap();
        prop_assert_eq!(again.to_string(), ours.to_string());
    }

    #[test]
    fn microversions_never_panic_and_round_trip(text in ".{0,12}", major in 0u16..100, minor in any::<u16>()) {
        let _ = Microversion::from_str(&text);
        let v = Microversion::new(major, minor);
        prop_assert_eq!(Microversion::from_str(&v.to_string()), Ok(v));
    }

    #[test]
    fn markers_come_out_of_any_next_link(
        base in prop_oneof![Just("https://cinder.example:8776/v3/p"), Just("http://10.0.0.1/volume/v3"), Just("https://trove.example/v1.0/p")],
        marker in ".{0,40}",
        before in proptest::collection::vec(("[a-z_]{1,8}", ".{0,8}"), 0..3),
        junk in ".{0,60}",
    ) {
        // Any text at all: no panic.
        let _ = openstack_backups_runtime::__private::marker_of(&junk);
        // A real link, with the marker anywhere among other parameters, encoded as the url crate does.
        let mut url = reqwest::Url::parse(&format!("{base}/backups")).unwrap();
        {
            let mut q = url.query_pairs_mut();
            for (k, v) in &before {
                if k != "marker" {
                    q.append_pair(k, v);
                }
            }
            q.append_pair("marker", &marker);
        }
        prop_assert_eq!(openstack_backups_runtime::__private::marker_of(url.as_str()), Some(marker));
    }

    #[test]
    fn any_clouds_yaml_is_read_or_refused_with_its_path(text in ".{0,200}", cloud in json(), secure in json()) {
        let mut env = Fake::default();
        env.vars.insert("OS_CLIENT_CONFIG_FILE".into(), "/etc/clouds.yaml".into());
        env.vars.insert("OS_CLIENT_SECURE_FILE".into(), "/etc/secure.yaml".into());
        // Arbitrary text.
        env.files.insert("/etc/clouds.yaml".into(), text);
        if let Err(e) = CloudConfig::named_in(&env, "mycloud") {
            prop_assert_eq!(e.kind(), ErrorKind::Configuration);
            prop_assert!(e.to_string().contains("clouds.yaml") || e.to_string().contains("mycloud"), "{}", e);
        }
        // Well-formed YAML with an arbitrary cloud, and an arbitrary secure.yaml.
        let clouds = serde_json::json!({"clouds": {"mycloud": cloud}});
        env.files.insert("/etc/clouds.yaml".into(), serde_norway::to_string(&clouds).unwrap());
        env.files.insert("/etc/secure.yaml".into(), serde_norway::to_string(&serde_json::json!({"clouds": {"mycloud": secure}})).unwrap());
        if let Err(e) = CloudConfig::named_in(&env, "mycloud") {
            prop_assert_eq!(e.kind(), ErrorKind::Configuration, "{}", e);
            prop_assert!(e.to_string().contains("/etc/clouds.yaml"), "the file is named: {}", e);
        }
    }

    #[test]
    fn any_os_variables_are_read_or_refused(
        vars in proptest::collection::btree_map(
            prop_oneof![
                Just("OS_AUTH_URL"), Just("OS_AUTH_TYPE"), Just("OS_USERNAME"), Just("OS_PASSWORD"),
                Just("OS_PROJECT_NAME"), Just("OS_PROJECT_ID"), Just("OS_TOKEN"), Just("OS_INSECURE"),
                Just("OS_VOLUME_API_VERSION"), Just("OS_INTERFACE"), Just("OS_APPLICATION_CREDENTIAL_ID"),
                Just("OS_APPLICATION_CREDENTIAL_SECRET"), Just("OS_USER_DOMAIN_NAME"), Just("OS_REGION_NAME"),
            ],
            ".{0,16}",
            0..8,
        ),
    ) {
        let env = Fake { vars: vars.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect(), ..Fake::default() };
        match CloudConfig::from_environment(&env) {
            Ok(cloud) => {
                // A password or secret read from the environment never shows in Debug.
                let shown = format!("{cloud:?}");
                for secret in ["OS_PASSWORD", "OS_TOKEN", "OS_APPLICATION_CREDENTIAL_SECRET"] {
                    if let Some(v) = vars.get(secret).filter(|v| v.len() >= 6) {
                        prop_assert!(!shown.contains(v.as_str()), "{} leaked: {}", secret, shown);
                    }
                }
            }
            Err(e) => prop_assert_eq!(e.kind(), ErrorKind::Configuration, "{}", e),
        }
    }
}
