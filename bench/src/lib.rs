//! Shared pieces of the benchmark programs: the backup objects the static
//! server serves, and how a program reports what it cost.

/// A realistic Cinder backup in the detail representation (about 1 KiB),
/// numbered `i`.
pub fn backup_json(i: usize, base: &str) -> String {
    let id = backup_id(i);
    format!(
        r#"{{"availability_zone":"nova","container":"{c}/{id}","created_at":"2026-11-22T12:05:53.624993","data_timestamp":"2026-11-22T12:05:53.624993","description":"Nightly backup of the database volume of service {i}","fail_reason":null,"has_dependent_backups":false,"id":"{id}","is_incremental":{inc},"links":[{{"href":"{base}/backups/{id}","rel":"self"}},{{"href":"{base}/backups/{id}","rel":"bookmark"}}],"metadata":{{"tier":"gold","owner":"team-{t}"}},"name":"backup-{i:08}","object_count":{oc},"os-backup-project-attr:project_id":"89afd400b6464bbcb12bc0a4d63e5bd3","size":{size},"snapshot_id":null,"status":"{status}","updated_at":"2026-11-22T12:06:40.012345","user_id":"c853ca26e8ea47978a52ee124a013d0e","volume_id":"9de8bbf6-015e-4ccd-a484-{i:012}"}}"#,
        c = &id[..2],
        inc = i.is_multiple_of(3),
        t = i % 17,
        oc = i % 50,
        size = 1 + i % 100,
        status = if i.is_multiple_of(10) { "creating" } else { "available" },
    )
}

/// The id of backup `i`.
pub fn backup_id(i: usize) -> String {
    format!("6a122f4b-d2f6-448f-aeb5-{i:012}")
}

/// What a program cost, from `getrusage(RUSAGE_SELF)`.
pub fn report(items: usize, wall_seconds: f64) {
    println!("{}", usage(items, wall_seconds));
}

/// The figures [`report`] prints, as JSON: `items`, `wall` (s), `user` and
/// `sys` (CPU s) and `max_rss_kib`.
pub fn usage(items: usize, wall_seconds: f64) -> serde_json::Value {
    // SAFETY: getrusage only writes into the struct we pass.
    let usage = unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut u);
        u
    };
    let cpu = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    serde_json::json!({
        "items": items,
        "wall": wall_seconds,
        "user": cpu(usage.ru_utime),
        "sys": cpu(usage.ru_stime),
        "max_rss_kib": usage.ru_maxrss,
    })
}
