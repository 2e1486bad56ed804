//! The fake Cinder beyond the lifecycle: limits and quota sets, what the
//! default policy keeps to administrators, attached volumes, snapshot
//! updates and metadata, reverts, backup updates, export and import.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use openstack_backups::block_storage::{Client, types};
use openstack_backups::{Error, Microversion};
use openstack_backups_fake::{FakeCloud, PROJECT};

async fn volume(cinder: &Client, size: u64) -> Result<String, Error> {
    let body = types::VolumeCreateRequest::builder()
        .volume(types::VolumeCreate::builder().size(std::num::NonZeroU64::new(size)).name("v".to_owned()));
    let created = cinder.create_volume().body(body).send().await?;
    cinder.wait_for_volume(&created.volume.id, types::VolumeStatus::Available).await?;
    Ok(created.volume.id.clone())
}

/// Starts a snapshot of `volume_id` (`creating`); its id.
async fn start_snapshot(cinder: &Client, volume_id: &str, force: Option<bool>) -> Result<String, Error> {
    let mut create = types::SnapshotCreate::builder().volume_id(volume_id.to_owned());
    if let Some(force) = force {
        create = create.force(force);
    }
    let created =
        cinder.create_snapshot().body(types::SnapshotCreateRequest::builder().snapshot(create)).send().await?;
    Ok(created.into_inner().snapshot.id)
}

async fn snapshot(cinder: &Client, volume_id: &str, force: Option<bool>) -> Result<String, Error> {
    let id = start_snapshot(cinder, volume_id, force).await?;
    cinder.wait_for_snapshot(&id, types::SnapshotStatus::Available).await?;
    Ok(id)
}

async fn backup(cinder: &Client, volume_id: &str, force: bool) -> Result<String, Error> {
    let create = types::BackupCreate::builder().volume_id(volume_id).force(force);
    let created = cinder.create_backup().body(types::BackupCreateRequest::builder().backup(create)).send().await?;
    cinder.wait_for_backup(&created.backup.id, types::BackupStatus::Available).await?;
    Ok(created.backup.id.clone())
}

/// `HTTP <status> <fault name>` of a refusal.
fn refusal<T: std::fmt::Debug>(result: Result<T, Error>) -> String {
    match result {
        Ok(v) => format!("accepted: {v:?}"),
        Err(e) => {
            format!("HTTP {} {}", e.status().map_or(0, |s| s.as_u16()), e.fault().and_then(|f| f.name()).unwrap_or("-"))
        }
    }
}

/// Limits and quota sets count what the project holds; an administrator
/// sets a quota, a member may not (403), and a create over it is 413.
#[tokio::test]
async fn quotas_count_usage_and_refuse_with_413() {
    let cloud = FakeCloud::start().await;
    let cinder = cloud.session().unwrap().block_storage().await.unwrap();
    let admin = cloud.admin_session().unwrap().block_storage().await.unwrap();
    let v = volume(&cinder, 2).await.unwrap();
    backup(&cinder, &v, false).await.unwrap();

    let limits = cinder.show_limits().send().await.unwrap().into_inner().limits.absolute;
    assert_eq!(limits.max_total_backups, Some(10));
    assert_eq!(limits.total_backups_used, Some(1));
    assert_eq!(limits.total_backup_gigabytes_used, Some(2));
    assert_eq!(limits.total_gigabytes_used, Some(2));

    let set = cinder.show_quota_set().target_project_id(PROJECT).usage(true).send().await.unwrap().into_inner();
    match &set.quota_set.extra["backups"] {
        types::QuotaValue::QuotaUsage(u) => assert_eq!((u.limit, u.in_use, u.reserved), (10, 1, 0)),
        other => panic!("{other:?}"),
    }
    assert_eq!(set.quota_set.id.as_deref(), Some(PROJECT));

    let update = || types::QuotaSetUpdateRequest { quota_set: BTreeMap::from([("volumes".to_owned(), 1)]) };
    let member = cinder.update_quota_set().target_project_id(PROJECT).body(update()).send().await;
    assert_eq!(refusal(member), "HTTP 403 forbidden");
    let updated = admin.update_quota_set().target_project_id(PROJECT).body(update()).send().await.unwrap();
    assert!(updated.quota_set.id.is_none(), "an update answers without id");
    let over = volume(&cinder, 1).await;
    assert_eq!(refusal(over), "HTTP 413 overLimit");
    let bad = types::QuotaSetUpdateRequest { quota_set: BTreeMap::from([("backupz".to_owned(), 1)]) };
    let err = admin.update_quota_set().target_project_id(PROJECT).body(bad).send().await.unwrap_err();
    assert!(err.to_string().contains("Bad key(s) in quota set: backupz"), "{err}");

    admin.delete_quota_set().target_project_id(PROJECT).send().await.unwrap();
    volume(&cinder, 1).await.unwrap();
    let defaults = cinder.show_quota_set_defaults().target_project_id(PROJECT).send().await.unwrap();
    assert!(matches!(defaults.quota_set.extra["volumes"], types::QuotaValue::Integer(10)), "{defaults:?}");
    let theirs = cinder.show_quota_set().target_project_id("another").send().await;
    assert_eq!(refusal(theirs), "HTTP 403 forbidden");
}

/// An attached volume: a backup needs `force` and leaves it `in-use`; a
/// snapshot needs `force` below 3.66, and none from it.
#[tokio::test]
async fn attached_volumes_follow_cinders_force_rules() {
    let cloud = FakeCloud::start().await;
    let session = cloud.session().unwrap();
    let cinder = session.block_storage().await.unwrap();
    let v = volume(&cinder, 1).await.unwrap();
    assert!(cloud.attach_volume(&v, "server-1"));
    assert!(!cloud.attach_volume(&v, "server-2"), "an in-use volume cannot be attached again");

    let err = backup(&cinder, &v, false).await.unwrap_err();
    assert!(err.to_string().contains("must use the force flag"), "{err}");
    backup(&cinder, &v, true).await.unwrap();
    let shown = cinder.show_volume().volume_id(&v).send().await.unwrap().into_inner().volume;
    assert_eq!(shown.status, types::VolumeStatus::InUse, "back to in-use after the backup");
    assert_eq!(shown.attachments[0].server_id.as_deref(), Some("server-1"));

    // From 3.66 `force` is gone from the spec: the client refuses it.
    let err = snapshot(&cinder, &v, Some(false)).await.unwrap_err();
    assert_eq!(err.kind(), openstack_backups::ErrorKind::MicroversionUnsupported, "{err}");
    snapshot(&cinder, &v, None).await.unwrap();
    let old = session_at(&cloud, Microversion::new(3, 65)).block_storage().await.unwrap();
    assert_eq!(refusal(snapshot(&old, &v, None).await), "HTTP 400 badRequest");
    snapshot(&old, &v, Some(true)).await.unwrap();
    assert_eq!(refusal(cinder.delete_volume().volume_id(&v).send().await), "HTTP 400 badRequest");
    assert!(cloud.detach_volume(&v));
    assert!(!cloud.detach_volume(&v), "an available volume cannot be detached");
    assert!(!cloud.detach_volume("00000000-0000-4000-8000-000000000000"), "nor an unknown one");
}

/// A session of the fake's user that speaks `microversion` to Cinder.
fn session_at(cloud: &FakeCloud, microversion: Microversion) -> openstack_backups::Session {
    use openstack_backups::auth::{AuthMethod, Domain, Project, Scope, User};
    openstack_backups::Session::builder()
        .auth_url(cloud.auth_url())
        .auth(AuthMethod::Password {
            user: User::Name { name: openstack_backups_fake::USER.into(), domain: Domain::Name("Default".into()) },
            password: openstack_backups::Secret::new(openstack_backups_fake::PASSWORD),
        })
        .scope(Scope::Project(Project::Name { name: PROJECT.into(), domain: Domain::Id("default".into()) }))
        .clock(cloud.clock())
        .microversion("block-storage", microversion)
        .build()
        .unwrap()
}

/// Snapshot updates and metadata; a revert to the latest snapshot only.
#[tokio::test]
async fn snapshots_update_their_metadata_and_revert() {
    let cloud = FakeCloud::start().await;
    let cinder = cloud.session().unwrap().block_storage().await.unwrap();
    let v = volume(&cinder, 1).await.unwrap();
    let older = snapshot(&cinder, &v, None).await.unwrap();
    cloud.clock().advance(Duration::from_secs(5));
    let latest = snapshot(&cinder, &v, None).await.unwrap();

    let body =
        types::SnapshotUpdateRequest::builder().snapshot(types::SnapshotUpdate::builder().name("renamed".to_owned()));
    let updated = cinder.update_snapshot().snapshot_id(&latest).body(body).send().await.unwrap();
    assert_eq!(updated.snapshot.name.as_deref(), Some("renamed"));

    let meta = |pairs: &[(&str, &str)]| types::Metadata {
        metadata: pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
    };
    cinder.merge_snapshot_metadata().snapshot_id(&latest).body(meta(&[("a", "1")])).send().await.unwrap();
    let merged = cinder.merge_snapshot_metadata().snapshot_id(&latest).body(meta(&[("b", "2")])).send().await.unwrap();
    assert_eq!(merged.metadata.len(), 2, "{merged:?}");
    let replaced =
        cinder.replace_snapshot_metadata().snapshot_id(&latest).body(meta(&[("c", "3")])).send().await.unwrap();
    assert_eq!(replaced.metadata.keys().collect::<Vec<_>>(), ["c"]);
    let one = cinder.show_snapshot_metadata_key().snapshot_id(&latest).key("c").send().await.unwrap();
    assert_eq!(one.meta["c"], "3");
    let mismatch = types::MetadataItem { meta: BTreeMap::from([("d".to_owned(), "4".to_owned())]) };
    let err =
        cinder.update_snapshot_metadata_key().snapshot_id(&latest).key("c").body(mismatch).send().await.unwrap_err();
    assert!(err.to_string().contains("Request body and URI mismatch"), "{err}");
    cinder.delete_snapshot_metadata_key().snapshot_id(&latest).key("c").send().await.unwrap();
    let gone = cinder.show_snapshot_metadata_key().snapshot_id(&latest).key("c").send().await;
    assert_eq!(refusal(gone), "HTTP 404 itemNotFound");

    let err = cinder.revert_volume_to_snapshot(&v, types::VolumeRevert { snapshot_id: older }).await.unwrap_err();
    assert!(err.to_string().contains("not the latest one"), "{err}");
    cinder.revert_volume_to_snapshot(&v, types::VolumeRevert { snapshot_id: latest.clone() }).await.unwrap();
    let reverting = cinder.show_volume().volume_id(&v).send().await.unwrap().into_inner().volume;
    assert_eq!(reverting.status, types::VolumeStatus::Reverting);
    cinder.wait_for_volume(&v, types::VolumeStatus::Available).await.unwrap();
    cinder.wait_for_snapshot(&latest, types::SnapshotStatus::Available).await.unwrap();
}

/// Backup updates (3.9; metadata 3.43), export and import (administrators:
/// the same id back; refused while it exists), reset status and force
/// delete (administrators; a member gets 403).
#[tokio::test]
async fn administrators_export_import_reset_and_force_delete() {
    let cloud = FakeCloud::start().await;
    let cinder = cloud.session().unwrap().block_storage().await.unwrap();
    let admin = cloud.admin_session().unwrap().block_storage().await.unwrap();
    let v = volume(&cinder, 1).await.unwrap();
    let b = backup(&cinder, &v, false).await.unwrap();

    let update = types::BackupUpdateRequest::builder().backup(
        types::BackupUpdate::builder()
            .name("nightly".to_owned())
            .metadata(BTreeMap::from([("policy".to_owned(), "nightly".to_owned())])),
    );
    let updated = cinder.update_backup().backup_id(&b).body(update).send().await.unwrap();
    assert_eq!(updated.backup.name.as_deref(), Some("nightly"));
    let shown = cinder.show_backup().backup_id(&b).send().await.unwrap().into_inner().backup;
    assert_eq!(shown.metadata.get("policy").map(String::as_str), Some("nightly"));

    assert_eq!(refusal(cinder.export_backup_record().backup_id(&b).send().await), "HTTP 403 forbidden");
    let record = admin.export_backup_record().backup_id(&b).send().await.unwrap().into_inner().backup_record;
    let import = || types::BackupRecordRequest { backup_record: record.clone() };
    let exists = admin.import_backup_record().body(import()).send().await;
    assert_eq!(refusal(exists), "HTTP 400 badRequest");
    admin.delete_backup().backup_id(&b).send().await.unwrap();
    admin.wait_for_backup_deleted(&b).await.unwrap();
    let imported = admin.import_backup_record().body(import()).send().await.unwrap();
    assert_eq!(imported.status().as_u16(), 201);
    assert_eq!(imported.backup.id, b, "an import keeps the exported id");
    assert!(imported.backup.name.is_none(), "the summary's name is null");
    admin.wait_for_backup(&b, types::BackupStatus::Available).await.unwrap();

    let error = types::BackupResetStatus { status: types::BackupResetStatusStatus::Error };
    assert_eq!(refusal(cinder.reset_backup_status(&b, error.clone()).await), "HTTP 403 forbidden");
    admin.reset_backup_status(&b, error).await.unwrap();
    let shown = cinder.show_backup().backup_id(&b).send().await.unwrap().into_inner().backup;
    assert_eq!(shown.status, types::BackupStatus::Error);
    assert_eq!(refusal(cinder.force_delete_backup(&b).await), "HTTP 403 forbidden");
    admin.force_delete_backup(&b).await.unwrap();
    cinder.wait_for_backup_deleted(&b).await.unwrap();

    // A backup force-deleted while it is made: gone, and its volume gets
    // its status back when the copy ends (not `backing-up` for ever).
    let body = types::BackupCreateRequest::builder().backup(types::BackupCreate::builder().volume_id(&v));
    let making = cinder.create_backup().body(body).send().await.unwrap().into_inner().backup.id;
    admin.force_delete_backup(&making).await.unwrap();
    cinder.wait_for_backup_deleted(&making).await.unwrap();
    cinder.wait_for_volume(&v, types::VolumeStatus::Available).await.unwrap();
}

/// Quota sets as Cinder 29 keeps them: the defaults of every key, usage
/// counted from volumes and snapshots (per type too), the strict `usage`
/// flag, the 413s of gigabytes and snapshots, an administrator's view of
/// another project, and the update's checks (bounds, keys, `id`, the
/// below-usage rule only for keys with a limit of the project's own).
#[tokio::test]
async fn quota_sets_follow_cinders_rules() {
    use serde_json::json;
    let cloud = FakeCloud::start().await;
    let cinder = cloud.session().unwrap().block_storage().await.unwrap();
    let admin = cloud.admin_session().unwrap().block_storage().await.unwrap();
    let integers = |set: &types::QuotaSet| -> BTreeMap<String, i64> {
        set.extra
            .iter()
            .map(|(k, v)| match v {
                types::QuotaValue::Integer(i) => (k.clone(), *i),
                types::QuotaValue::QuotaUsage(u) => (k.clone(), u.in_use),
            })
            .collect()
    };
    let defaults = cinder.show_quota_set_defaults().target_project_id(PROJECT).send().await.unwrap();
    let want: BTreeMap<String, i64> = serde_json::from_value(json!({
        "volumes": 10, "snapshots": 10, "gigabytes": 1000, "backups": 10, "backup_gigabytes": 1000,
        "per_volume_gigabytes": -1, "groups": 10, "volumes___DEFAULT__": -1, "gigabytes___DEFAULT__": -1,
        "snapshots___DEFAULT__": -1
    }))
    .unwrap();
    assert_eq!(integers(&defaults.quota_set), want);

    // Usage: a 3 GiB volume and a snapshot of it count 6 GiB, per type too.
    let v = volume(&cinder, 3).await.unwrap();
    snapshot(&cinder, &v, None).await.unwrap();
    let used = cinder.show_quota_set().target_project_id(PROJECT).usage(true).send().await.unwrap();
    let used = integers(&used.quota_set);
    assert_eq!((used["gigabytes"], used["gigabytes___DEFAULT__"], used["snapshots"]), (6, 6, 1), "{used:?}");
    let plain = cinder.show_quota_set().target_project_id(PROJECT).usage(false).send().await.unwrap();
    assert!(matches!(plain.quota_set.extra["volumes"], types::QuotaValue::Integer(10)), "{plain:?}");
    let raw = reqwest::Client::new();
    let token = admin_token(&cloud).await;
    let odd = raw
        .get(format!("{}/os-quota-sets/{PROJECT}?usage=banana", cloud.block_storage_endpoint()))
        .header("x-auth-token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(odd.status().as_u16(), 400, "a usage that is not a boolean");

    // The administrator sees another project's defaults; the member its own.
    let theirs = admin.show_quota_set().target_project_id("another").usage(true).send().await.unwrap();
    assert_eq!(integers(&theirs.quota_set)["volumes"], 0, "no usage in another project");
    admin.show_quota_set().target_project_id(PROJECT).send().await.unwrap();

    // Gigabytes and snapshots quotas refuse with 413.
    let set = |pairs: &[(&str, i64)]| types::QuotaSetUpdateRequest {
        quota_set: pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect(),
    };
    admin.update_quota_set().target_project_id(PROJECT).body(set(&[("gigabytes", 5)])).send().await.unwrap();
    assert_eq!(refusal(volume(&cinder, 2).await), "HTTP 413 overLimit");
    admin.update_quota_set().target_project_id(PROJECT).body(set(&[("snapshots", 1)])).send().await.unwrap();
    assert_eq!(refusal(snapshot(&cinder, &v, None).await), "HTTP 413 overLimit");

    // Bounds and keys.
    let update =
        |body: types::QuotaSetUpdateRequest| admin.update_quota_set().target_project_id(PROJECT).body(body).send();
    assert_eq!(refusal(update(set(&[("backups", -2)])).await), "HTTP 400 badRequest");
    assert_eq!(refusal(update(set(&[("backups", 2_147_483_648)])).await), "HTTP 400 badRequest");
    update(set(&[("backups", 2_147_483_647)])).await.unwrap();
    update(set(&[("backups", -1)])).await.unwrap();
    let answered = update(set(&[("id", 7), ("tenant_id", 7), ("groups", 3)])).await.unwrap();
    assert_eq!(integers(&answered.quota_set)["groups"], 3, "the update answers the new limits");
    // `id` and `tenant_id` are taken and ignored, whatever their value.
    let ignored = raw
        .put(format!("{}/os-quota-sets/{PROJECT}", cloud.block_storage_endpoint()))
        .header("x-auth-token", &token)
        .json(&json!({"quota_set": {"id": "not a number", "tenant_id": null, "groups": 3}}))
        .send()
        .await
        .unwrap();
    assert_eq!(ignored.status().as_u16(), 200, "id and tenant_id are ignored");
    let strings = raw
        .put(format!("{}/os-quota-sets/{PROJECT}", cloud.block_storage_endpoint()))
        .header("x-auth-token", &token)
        .json(&json!({"quota_set": {"backups": "5"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(strings.status().as_u16(), 400, "a string is not an integer");

    // Below usage: refused only for a key with a limit of the project's own
    // (snapshots now has one, 1 in use); accepted for one still on its
    // default (volumes, 1 in use), for -1, and for per_volume_gigabytes.
    assert_eq!(refusal(update(set(&[("snapshots", 0)])).await), "HTTP 400 badRequest");
    update(set(&[("snapshots", 1)])).await.unwrap();
    update(set(&[("volumes", 0)])).await.unwrap();
    update(set(&[("snapshots", -1)])).await.unwrap();
    update(set(&[("per_volume_gigabytes", 1)])).await.unwrap();
    update(set(&[("per_volume_gigabytes", 0)])).await.unwrap();
    let after = cinder.show_quota_set().target_project_id(PROJECT).send().await.unwrap();
    let after = integers(&after.quota_set);
    assert_eq!((after["volumes"], after["snapshots"], after["groups"]), (0, -1, 3), "{after:?}");
    // The defaults stay the defaults whatever the project's own limits.
    let defaults = cinder.show_quota_set_defaults().target_project_id(PROJECT).send().await.unwrap();
    assert_eq!(integers(&defaults.quota_set), want);
}

/// A token of the fake's administrator, for requests the typed client
/// refuses to send.
async fn admin_token(cloud: &FakeCloud) -> String {
    common::token(cloud, openstack_backups_fake::ADMIN_USER, openstack_backups_fake::ADMIN_PASSWORD).await
}

/// The snapshot actions as Cinder 29's default policy and checks have
/// them: reset status, force delete and unmanage are the administrator's
/// (403 naming the rule for the member); the driver's status update is a
/// member's, from `creating` or `deleting` only; unmanage needs an
/// `available` or `error` snapshot. The whole metadata is shown as set.
#[tokio::test]
async fn snapshot_actions_follow_cinders_policy_and_checks() {
    use types::{SnapshotResetStatusStatus as Reset, SnapshotStatus as S, SnapshotStatusUpdateStatus as Update};
    let cloud = FakeCloud::start().await;
    let cinder = cloud.session().unwrap().block_storage().await.unwrap();
    let admin = cloud.admin_session().unwrap().block_storage().await.unwrap();
    let v = volume(&cinder, 1).await.unwrap();
    let status = |id: String| {
        let cinder = &cinder;
        async move { cinder.show_snapshot().snapshot_id(&id).send().await.unwrap().into_inner().snapshot.status }
    };
    let reset = |status| types::SnapshotResetStatus { status };
    let update = |status| types::SnapshotStatusUpdate { progress: None, status };

    // The driver's update: from `creating` to `available`; not from there.
    let created = start_snapshot(&cinder, &v, None).await.unwrap();
    assert_eq!(status(created.clone()).await, S::Creating);
    cinder.update_snapshot_status(&created, update(Update::Available)).await.unwrap();
    assert_eq!(status(created.clone()).await, S::Available);
    let err = cinder.update_snapshot_status(&created, update(Update::Error)).await.unwrap_err();
    assert!(err.to_string().contains("Snapshot status error not allowed."), "{err}");

    // Administrators' actions, refused to the member with the rule's name.
    for (err, rule) in [
        (cinder.reset_snapshot_status(&created, reset(Reset::Error)).await.unwrap_err(), "reset_status"),
        (cinder.force_delete_snapshot(&created).await.unwrap_err(), "force_delete"),
        (cinder.unmanage_snapshot(&created).await.unwrap_err(), "snapshot_unmanage"),
    ] {
        let said = err.to_string();
        assert!(said.contains(rule), "{said}");
        assert_eq!(refusal(Err::<(), _>(err)), "HTTP 403 forbidden");
    }
    assert_eq!(status(created.clone()).await, S::Available, "nothing changed");

    // Reset to `deleting`, then the driver may end it in `error_deleting`.
    admin.reset_snapshot_status(&created, reset(Reset::Deleting)).await.unwrap();
    assert_eq!(status(created.clone()).await, S::Deleting);
    cinder.update_snapshot_status(&created, update(Update::ErrorDeleting)).await.unwrap();
    assert_eq!(status(created.clone()).await, S::ErrorDeleting);
    let err = cinder.update_snapshot_status(&created, update(Update::Deleting)).await.unwrap_err();
    assert!(err.to_string().contains("not allowed"), "{err}");
    // Unmanage needs `available` or `error`.
    let err = admin.unmanage_snapshot(&created).await.unwrap_err();
    assert!(err.to_string().contains("must be available or error"), "{err}");
    admin.reset_snapshot_status(&created, reset(Reset::Error)).await.unwrap();
    admin.unmanage_snapshot(&created).await.unwrap();
    assert_eq!(status(created.clone()).await, S::Unmanaging);
    cinder.wait_for_snapshot_deleted(&created).await.unwrap();

    // Force delete, whatever the status: `deleting`, then gone.
    let other = snapshot(&cinder, &v, None).await.unwrap();
    admin.reset_snapshot_status(&other, reset(Reset::Creating)).await.unwrap();
    admin.force_delete_snapshot(&other).await.unwrap();
    assert_eq!(status(other.clone()).await, S::Deleting);
    cinder.wait_for_snapshot_deleted(&other).await.unwrap();
    assert_eq!(refusal(admin.force_delete_snapshot(&other).await), "HTTP 404 itemNotFound");

    // A snapshot force-deleted while it is made never becomes `available`,
    // and what else is being made goes on.
    let making = start_snapshot(&cinder, &v, None).await.unwrap();
    let body = types::VolumeCreateRequest::builder()
        .volume(types::VolumeCreate::builder().size(std::num::NonZeroU64::new(1)).name("beside".to_owned()));
    let beside = cinder.create_volume().body(body).send().await.unwrap().into_inner().volume.id;
    admin.force_delete_snapshot(&making).await.unwrap();
    cloud.clock().advance(Duration::from_millis(500));
    assert_eq!(status(making.clone()).await, S::Deleting);
    cloud.clock().advance(Duration::from_millis(500));
    assert_eq!(refusal(cinder.show_snapshot().snapshot_id(&making).send().await), "HTTP 404 itemNotFound");
    let shown = cinder.show_volume().volume_id(&beside).send().await.unwrap().into_inner().volume;
    assert_eq!(shown.status, types::VolumeStatus::Available);

    // The whole metadata, as merged.
    let third = snapshot(&cinder, &v, None).await.unwrap();
    let meta = types::Metadata { metadata: BTreeMap::from([("a".to_owned(), "1".to_owned())]) };
    cinder.merge_snapshot_metadata().snapshot_id(&third).body(meta).send().await.unwrap();
    let shown = cinder.show_snapshot_metadata().snapshot_id(&third).send().await.unwrap().into_inner();
    assert_eq!(shown.metadata, BTreeMap::from([("a".to_owned(), "1".to_owned())]));
}
