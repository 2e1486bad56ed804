//! The session against a real Keystone 30 in front of a real Cinder 29
//! (`auth_strategy = keystone`): password, application-credential and token
//! flows, wrong credentials, renewal after a revoked token, and the example
//! program with `OS_CLOUD` and a password `clouds.yaml`. The token calls go
//! through the recording proxy and are checked against `spec/identity-v3.yaml`.
//!
//! Own harness (like `real_cinder`): one Keystone, one Cinder, scenarios one
//! after the other (sqlite under Keystone takes one writer at a time).

use std::process::ExitCode;
use std::time::{Duration, Instant};

use futures_util::TryStreamExt;
use openstack_backups::auth::{AuthMethod, Domain, Project, Scope, User};
use openstack_backups::block_storage::types;
use openstack_backups::wait::Waiter;
use openstack_backups::{ErrorKind, Secret, Session};
use openstack_backups_harness::KEYSTONE_ADMIN_PASSWORD;
use openstack_backups_tests::conformance::Conformance;
use openstack_backups_tests::ensure;
use serde_json::json;

use openstack_backups_tests::world::{Admin, DEMO_PASSWORD, World, provision};

type Outcome = Result<(), String>;

fn password_session(w: &World, user: User, scope: Scope) -> Result<Session, String> {
    Session::builder()
        .auth_url(&w.keystone_url)
        .auth(AuthMethod::Password { user, password: Secret::new(DEMO_PASSWORD) })
        .scope(scope)
        .build()
        .map_err(|e| e.to_string())
}

/// How the scenarios wait: looks every 0.1 to 1 s, a minute at most.
fn waiter() -> Waiter {
    Waiter::new().delays(Duration::from_millis(100), Duration::from_secs(1)).timeout(Duration::from_secs(60))
}

/// A 1 GiB volume, once available.
async fn new_volume(c: &openstack_backups::block_storage::Client) -> Result<String, String> {
    let v = c
        .create_volume()
        .body_map(|b| b.volume(types::builder::VolumeCreate::default().size(Some(1.try_into().unwrap()))))
        .send()
        .await
        .map_err(|e| format!("create volume: {e}"))?
        .into_inner()
        .volume
        .id;
    c.wait_for_volume(&v, types::VolumeStatus::Available).with(&waiter()).await.map_err(|e| e.to_string())?;
    Ok(v)
}

async fn list_and_back_up(session: &Session) -> Outcome {
    let c = session.block_storage().await.map_err(|e| format!("block_storage: {e}"))?;
    let wait = waiter();
    let v = new_volume(&c).await?;
    let b = c
        .create_backup()
        .body_map(|b| b.backup(types::builder::BackupCreate::default().volume_id(v.clone())))
        .send()
        .await
        .map_err(|e| format!("create backup: {e}"))?
        .into_inner()
        .backup
        .id;
    let done = c.wait_for_backup(&b, types::BackupStatus::Available).with(&wait).await.map_err(|e| e.to_string())?;
    ensure!(done.user_id.is_none(), "a member does not see user_id (admin-only policy)");
    let all: Vec<types::Backup> = c.list_backups_detail().stream().try_collect().await.map_err(|e| e.to_string())?;
    ensure!(all.iter().any(|x| x.id == b), "the new backup is listed");
    c.delete_backup().backup_id(&b).send().await.map_err(|e| e.to_string())?;
    c.wait_for_backup_deleted(&b).with(&wait).await.map_err(|e| e.to_string())?;
    c.delete_volume().volume_id(&v).send().await.map_err(|e| e.to_string())?;
    c.wait_for_volume_deleted(&v).with(&wait).await.map_err(|e| e.to_string())
}

async fn password_by_name_and_by_id(w: &World) -> Outcome {
    let s = password_session(
        w,
        User::Name { name: "demo".into(), domain: Domain::Id("default".into()) },
        Scope::Project(Project::Name { name: "demo".into(), domain: Domain::Name("Default".into()) }),
    )?;
    list_and_back_up(&s).await?;
    ensure!(
        s.project_id().await.map_err(|e| e.to_string())?.as_deref() == Some(w.demo_project.as_str()),
        "scoped to demo"
    );
    let s = password_session(w, User::Id(w.demo_user.clone()), Scope::Project(Project::Id(w.demo_project.clone())))?;
    let c = s.block_storage().await.map_err(|e| e.to_string())?;
    c.list_backups().send().await.map_err(|e| e.to_string())?;
    Ok(())
}

async fn application_credentials(w: &World) -> Outcome {
    // The user makes the credential with its own project-scoped token.
    let http = reqwest::Client::new();
    let (token, _) = Admin::token(
        &http,
        &w.keystone_url,
        json!({"identity": {"methods": ["password"], "password": {"user": {"id": w.demo_user, "password": DEMO_PASSWORD}}},
               "scope": {"project": {"id": w.demo_project}}}),
    )
    .await?;
    let me = Admin { http, url: w.keystone_url.clone(), token };
    let created = me
        .call(
            reqwest::Method::POST,
            &format!("/users/{}/application_credentials", w.demo_user),
            Some(json!({"application_credential": {"name": "backup-bot"}})),
        )
        .await?;
    let id = created["application_credential"]["id"].as_str().ok_or("credential id")?.to_owned();
    let secret = created["application_credential"]["secret"].as_str().ok_or("credential secret")?.to_owned();

    let by_id = Session::builder()
        .auth_url(&w.keystone_url)
        .auth(AuthMethod::ApplicationCredential {
            id: Some(id),
            name: None,
            user: None,
            secret: Secret::new(secret.clone()),
        })
        .build()
        .map_err(|e| e.to_string())?;
    list_and_back_up(&by_id).await?;
    ensure!(!format!("{by_id:?}").contains(&secret), "the secret stays out of Debug");

    let by_name = Session::builder()
        .auth_url(&w.keystone_url)
        .auth(AuthMethod::ApplicationCredential {
            id: None,
            name: Some("backup-bot".into()),
            user: Some(User::Name { name: "demo".into(), domain: Domain::Name("Default".into()) }),
            secret: Secret::new(secret),
        })
        .build()
        .map_err(|e| e.to_string())?;
    by_name.block_storage().await.map_err(|e| e.to_string())?.list_backups().send().await.map_err(|e| e.to_string())?;
    Ok(())
}

async fn token_method_and_renewal_after_revocation(w: &World) -> Outcome {
    let http = reqwest::Client::new();
    let (token, _) = Admin::token(
        &http,
        &w.keystone_url,
        json!({"identity": {"methods": ["password"], "password": {"user": {"id": w.demo_user, "password": DEMO_PASSWORD}}},
               "scope": {"project": {"id": w.demo_project}}}),
    )
    .await?;
    let s = Session::builder()
        .auth_url(&w.keystone_url)
        .auth(AuthMethod::Token(Secret::new(token.clone())))
        .build()
        .map_err(|e| e.to_string())?;
    s.block_storage().await.map_err(|e| e.to_string())?.list_backups().send().await.map_err(|e| e.to_string())?;

    // A password session whose token is revoked under it: Cinder answers
    // 401 and the session renews the token once and sends again.
    let s = password_session(w, User::Id(w.demo_user.clone()), Scope::Project(Project::Id(w.demo_project.clone())))?;
    let c = s.block_storage().await.map_err(|e| e.to_string())?;
    c.list_backups().send().await.map_err(|e| e.to_string())?;
    let (admin_token, _) = Admin::token(
        &http,
        &w.keystone_url,
        json!({"identity": {"methods": ["password"], "password": {"user": {"name": "admin", "domain": {"id": "default"}, "password": KEYSTONE_ADMIN_PASSWORD}}},
               "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}),
    )
    .await?;
    // Setting the user's password revokes every token the user has.
    let revoke = http
        .patch(format!("{}/users/{}", w.keystone_url, w.demo_user))
        .header("x-auth-token", &admin_token)
        .json(&json!({"user": {"password": DEMO_PASSWORD}}))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    ensure!(revoke.status().is_success(), "re-setting the password: {}", revoke.status());
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let issued =
        |w: &World| w.proxy.count(|x| x.method == "POST" && x.path.starts_with("/v3/auth/tokens") && x.status == 201);
    let before = issued(w);
    c.list_backups().send().await.map_err(|e| format!("after revocation: {e}"))?;
    ensure!(issued(w) == before + 1, "Cinder's 401 made the session issue one new token ({} → {})", before, issued(w));
    Ok(())
}

/// Keystone restarted under a running session: its tokens stay valid (the
/// fernet keys are on disk), so the calls after the restart go on with the
/// same token and none is issued. Then the user's password changes under
/// it (which revokes its tokens): Cinder answers 401, the session asks
/// Keystone once for a new token with the password it has, Keystone
/// refuses, and the call ends with an authentication error; no loop.
async fn keystone_restart_and_a_refused_renewal(w: &World) -> Outcome {
    let s = password_session(w, User::Id(w.demo_user.clone()), Scope::Project(Project::Id(w.demo_project.clone())))?;
    let c = s.block_storage().await.map_err(|e| e.to_string())?;
    c.list_backups().send().await.map_err(|e| e.to_string())?;
    let token_requests = |w: &World| w.proxy.count(|x| x.method == "POST" && x.path.starts_with("/v3/auth/tokens"));
    let before = token_requests(w);
    let restarted = Instant::now();
    tokio::task::block_in_place(|| w.keystone.lock().map_err(|e| e.to_string())?.restart().map_err(|e| e.to_string()))?;
    eprintln!("  Keystone restarted in {:.1} s", restarted.elapsed().as_secs_f64());
    c.list_backups().send().await.map_err(|e| format!("after Keystone's restart: {e}"))?;
    ensure!(token_requests(w) == before, "the token outlived the restart: no new one was asked for");

    let http = reqwest::Client::new();
    let (admin_token, _) = Admin::token(
        &http,
        &w.keystone_url,
        json!({"identity": {"methods": ["password"], "password": {"user": {"name": "admin", "domain": {"id": "default"}, "password": KEYSTONE_ADMIN_PASSWORD}}},
               "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}),
    )
    .await?;
    let set_password = |password: &'static str| {
        http.patch(format!("{}/users/{}", w.keystone_url, w.demo_user))
            .header("x-auth-token", &admin_token)
            .json(&json!({"user": {"password": password}}))
            .send()
    };
    let changed = set_password("another-password-entirely").await.map_err(|e| e.to_string())?;
    ensure!(changed.status().is_success(), "changing the password: {}", changed.status());
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let before = token_requests(w);
    let result = c.list_backups().send().await;
    let restored = set_password(DEMO_PASSWORD).await.map_err(|e| e.to_string())?;
    ensure!(restored.status().is_success(), "restoring the password: {}", restored.status());
    let err = result.err().ok_or("a call with a revoked token and a stale password succeeded")?;
    ensure!(err.kind() == ErrorKind::Authentication, "{err}");
    ensure!(token_requests(w) == before + 1, "one renewal was tried ({} → {})", before, token_requests(w));
    eprintln!("  the call: {err}");
    Ok(())
}

async fn wrong_password(w: &World) -> Outcome {
    let s = Session::builder()
        .auth_url(&w.keystone_url)
        .auth(AuthMethod::Password { user: User::Id(w.demo_user.clone()), password: Secret::new("not-the-password") })
        .build()
        .map_err(|e| e.to_string())?;
    let err = s.authenticate().await.err().ok_or("a wrong password must fail")?;
    ensure!(err.kind() == ErrorKind::Authentication, "{err}");
    ensure!(err.status().map(|s| s.as_u16()) == Some(401), "{err}");
    ensure!(!err.to_string().contains("not-the-password") && !format!("{err:?}").contains("not-the-password"), "{err}");
    Ok(())
}

async fn example_with_os_cloud(w: &World) -> Outcome {
    let s = password_session(w, User::Id(w.demo_user.clone()), Scope::Project(Project::Id(w.demo_project.clone())))?;
    let c = s.block_storage().await.map_err(|e| e.to_string())?;
    let v = c
        .create_volume()
        .body_map(|b| b.volume(types::builder::VolumeCreate::default().size(Some(1.try_into().unwrap()))))
        .send()
        .await
        .map_err(|e| e.to_string())?
        .into_inner()
        .volume
        .id;
    c.wait_for_volume(&v, types::VolumeStatus::Available).await.map_err(|e| e.to_string())?;

    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let example = exe.parent().and_then(|d| d.parent()).map(|d| d.join("examples/backups")).ok_or("target folder")?;
    ensure!(example.exists(), "{} is missing: run the suite with `cargo xtask test`", example.display());
    let dir = w.cinder.dir().join("cloud-keystone");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    std::fs::write(
        dir.join("clouds.yaml"),
        format!(
            "clouds:\n  mycloud:\n    region_name: RegionOne\n    auth:\n      auth_url: {}\n      username: demo\n      user_domain_name: Default\n      project_name: demo\n      project_domain_id: default\n",
            w.keystone_url
        ),
    )
    .map_err(|e| e.to_string())?;
    std::fs::write(
        dir.join("secure.yaml"),
        format!("clouds:\n  mycloud:\n    auth:\n      password: {DEMO_PASSWORD}\n"),
    )
    .map_err(|e| e.to_string())?;
    let out = tokio::process::Command::new(&example)
        .arg(&v)
        .current_dir(&dir)
        .env("OS_CLOUD", "mycloud")
        .env_remove("OS_CLIENT_CONFIG_FILE")
        .output()
        .await
        .map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    ensure!(out.status.success(), "the example failed: {stdout}{}", String::from_utf8_lossy(&out.stderr));
    ensure!(stdout.contains(" is available"), "example printed: {stdout}");
    Ok(())
}

/// Cinder's user messages are listed across projects: a member of `demo`
/// lists the message about a backup that failed in the `admin` project
/// (the list query is not scoped), but cannot show or delete it (those are).
/// What the spec's `listMessages` description says comes from here.
async fn messages_across_projects(w: &World) -> Outcome {
    let admin = Session::builder()
        .auth_url(&w.keystone_url)
        .auth(AuthMethod::Password {
            user: User::Name { name: "admin".into(), domain: Domain::Id("default".into()) },
            password: Secret::new(KEYSTONE_ADMIN_PASSWORD),
        })
        .scope(Scope::Project(Project::Name { name: "admin".into(), domain: Domain::Id("default".into()) }))
        .build()
        .map_err(|e| e.to_string())?;
    let c = admin.block_storage().await.map_err(|e| format!("admin block_storage: {e}"))?;
    let wait = waiter();
    let v = new_volume(&c).await?;
    // The volume's file goes behind Cinder's back: the backup driver fails.
    let file = w.cinder.dir().join("volumes").join(format!("volume-{v}"));
    std::fs::remove_file(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    let b = c
        .create_backup()
        .body_map(|b| b.backup(types::builder::BackupCreate::default().volume_id(v.clone())))
        .send()
        .await
        .map_err(|e| format!("create backup: {e}"))?
        .into_inner()
        .backup
        .id;
    let failed = c.wait_for_backup(&b, types::BackupStatus::Available).with(&wait).await;
    ensure!(matches!(&failed, Err(e) if e.kind() == ErrorKind::WaitFailed), "the backup fails: {failed:?}");
    let own = c.list_messages().resource_uuid(b.clone()).send().await.map_err(|e| e.to_string())?;
    ensure!(own.messages.len() == 1, "the admin project's message: {:?}", own.messages);
    let message = own.messages[0].id.clone();

    let member =
        password_session(w, User::Id(w.demo_user.clone()), Scope::Project(Project::Id(w.demo_project.clone())))?;
    let m = member.block_storage().await.map_err(|e| format!("member block_storage: {e}"))?;
    let listed = m.list_messages().resource_uuid(b.clone()).send().await.map_err(|e| format!("member list: {e}"))?;
    ensure!(
        listed.messages.iter().any(|x| x.id == message),
        "a member of another project lists the message (Cinder 29 does not scope the list): {:?}",
        listed.messages
    );
    let shown = m.show_message().message_id(&message).send().await;
    ensure!(matches!(&shown, Err(e) if e.is_not_found()), "but cannot show it: {shown:?}");
    let deleted = m.delete_message().message_id(&message).send().await;
    ensure!(matches!(&deleted, Err(e) if e.is_not_found()), "nor delete it: {deleted:?}");
    c.delete_message().message_id(&message).send().await.map_err(|e| format!("admin delete: {e}"))?;
    c.delete_backup().backup_id(&b).send().await.map_err(|e| e.to_string())?;
    c.wait_for_backup_deleted(&b).with(&wait).await.map_err(|e| e.to_string())?;
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    const NAMES: [&str; 7] = [
        "password_by_name_and_by_id",
        "application_credentials",
        "token_method_and_renewal_after_revocation",
        "wrong_password",
        "example_with_os_cloud",
        "messages_across_projects",
        "keystone_restart_and_a_refused_renewal",
    ];
    if args.iter().any(|a| a == "--list") {
        for n in NAMES {
            println!("{n}: test");
        }
        println!("identity_responses_conform: test");
        return ExitCode::SUCCESS;
    }
    let filter = args.iter().find(|a| !a.starts_with('-')).cloned();
    let started = Instant::now();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let chosen: Vec<&str> =
        NAMES.iter().copied().filter(|n| filter.as_ref().is_none_or(|f| n.contains(f.as_str()))).collect();
    println!("\nrunning {} tests", chosen.len() + 1);
    let mut results: Vec<(String, Outcome)> = Vec::new();
    runtime.block_on(async {
        let boot = Instant::now();
        let world = match provision().await {
            Ok(w) => w,
            Err(e) => {
                results.push(("real_keystone_and_cinder".into(), Err(e)));
                return;
            }
        };
        eprintln!("real Keystone and Cinder up in {:.1} s", boot.elapsed().as_secs_f64());
        for name in &chosen {
            let t = Instant::now();
            let outcome = match *name {
                "password_by_name_and_by_id" => password_by_name_and_by_id(&world).await,
                "application_credentials" => application_credentials(&world).await,
                "token_method_and_renewal_after_revocation" => token_method_and_renewal_after_revocation(&world).await,
                "wrong_password" => wrong_password(&world).await,
                "messages_across_projects" => messages_across_projects(&world).await,
                "keystone_restart_and_a_refused_renewal" => keystone_restart_and_a_refused_renewal(&world).await,
                _ => example_with_os_cloud(&world).await,
            };
            println!(
                "test {name} ... {} ({:.1} s)",
                if outcome.is_ok() { "ok" } else { "FAILED" },
                t.elapsed().as_secs_f64()
            );
            results.push(((*name).to_owned(), outcome));
        }
        // Every token response Keystone sent, checked against the spec.
        let spec = Conformance::load("spec/identity-v3.yaml");
        let mut errors = Vec::new();
        let mut checked = 0;
        for ex in world.proxy.take().iter().filter(|x| x.path.starts_with("/v3/auth/tokens")) {
            match spec.check(ex, "") {
                Ok(_) => checked += 1,
                Err(e) => errors.extend(e),
            }
        }
        let outcome = if !errors.is_empty() {
            Err(errors.join("\n"))
        } else if checked == 0 {
            Err("no token response was checked".to_owned())
        } else {
            Ok(())
        };
        println!(
            "test identity_responses_conform ... {} ({checked} responses)",
            if outcome.is_ok() { "ok" } else { "FAILED" }
        );
        results.push(("identity_responses_conform".into(), outcome));
    });
    let failed: Vec<_> = results.iter().filter(|(_, o)| o.is_err()).collect();
    if !failed.is_empty() {
        println!("\nfailures:\n");
        for (name, o) in &failed {
            println!("---- {name} ----\n{}\n", o.as_ref().unwrap_err());
        }
    }
    println!(
        "\ntest result: {}. {} passed; {} failed; 0 ignored; 0 measured; 0 filtered out; finished in {:.2}s\n",
        if failed.is_empty() { "ok" } else { "FAILED" },
        results.len() - failed.len(),
        failed.len(),
        started.elapsed().as_secs_f64()
    );
    drop(runtime);
    if failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
