//! The binary's commands, run as a process against a real database and a fake Bot API.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Output};

use studio_testkit::{FakeFal, FakeOpenAi, FakeTelegram, TestDb};

fn avatar_studio(db_url: &str, telegram_url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_avatar-studio"))
        .args(args)
        .env_clear()
        .env("DATABASE_URL", db_url)
        .env("TELEGRAM_BOT_TOKEN", "123:cli-test")
        .env("TELEGRAM_API_URL", telegram_url)
        .env("RUST_LOG", "error")
        .output()
        .expect("binary runs")
}

/// Runs the binary off the async runtime, which keeps serving the fake Bot API meanwhile.
async fn run(db_url: &str, telegram_url: &str, args: &'static [&'static str]) -> Output {
    let (db_url, telegram_url) = (db_url.to_owned(), telegram_url.to_owned());
    tokio::task::spawn_blocking(move || avatar_studio(&db_url, &telegram_url, args))
        .await
        .unwrap()
}

#[tokio::test]
async fn migrate_down_and_up_then_check_reports_ready() {
    let db = TestDb::postgres().await;
    let telegram = FakeTelegram::start().await;
    for args in [&["migrate"][..], &["migrate", "--down"], &["migrate"]] {
        let output = run(&db.url, &telegram.url, args).await;
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let (fal, openai) = (FakeFal::start().await, FakeOpenAi::start().await);
    let storage = tempfile::tempdir().unwrap();
    let output = check(&[
        ("DATABASE_URL", &db.url),
        ("TELEGRAM_API_URL", &telegram.url),
        ("FAL_KEY", "fal-cli-test"),
        ("FAL_QUEUE_URL", &fal.url),
        ("FAL_REST_URL", &fal.url),
        ("OPENAI_API_KEY", "sk-cli-test"),
        ("OPENAI_BASE_URL", &openai.url),
        ("OPENAI_MODEL", "vision-model"),
        (
            "STORAGE_URL",
            &format!("file://{}", storage.path().display()),
        ),
    ])
    .await;
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{report}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for line in [
        "ok   database: postgres://",
        "ok   storage: file://",
        "ok   FAL webhook keys: 1 from",
        "ok   FAL key: accepted",
        "ok   model: vision-model available",
        "ok   telegram bot: @AvatarStudioBot",
        "ok   telegram webhook: none (polling mode)",
    ] {
        assert!(report.contains(line), "{line:?} missing from:\n{report}");
    }
    assert!(!report.contains("FIX"), "{report}");
    assert!(
        !report.contains("cli-test"),
        "no key or token is ever printed: {report}"
    );
    let probes = std::fs::read_dir(storage.path().join("check")).map_or(0, |d| d.count());
    assert_eq!(probes, 0, "the storage probe was deleted again");
}

/// Before go-live, each broken part gets its own line with what to do, and the command fails.
#[tokio::test]
async fn check_names_the_fix_for_each_broken_part() {
    let db = TestDb::postgres().await; // never migrated
    let (telegram, fal) = (FakeTelegram::start().await, FakeFal::start().await);
    fal.lock_account();
    let not_a_directory = tempfile::NamedTempFile::new().unwrap();
    let output = check(&[
        ("DATABASE_URL", &db.url),
        ("TELEGRAM_API_URL", &telegram.url),
        ("PUBLIC_URL", "https://bot.example.test"),
        (
            "TELEGRAM_WEBHOOK_SECRET",
            "a-long-enough-webhook-secret-0123456789",
        ),
        ("FAL_KEY", "fal-cli-test"),
        ("FAL_QUEUE_URL", &fal.url),
        ("FAL_REST_URL", &fal.url),
        (
            "STORAGE_URL",
            &format!("file://{}/storage", not_a_directory.path().display()),
        ),
    ])
    .await;
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "{report}");
    for line in [
        "FIX  database: migrations not applied (m20261125_000001_initial",
        "run `avatar-studio migrate`",
        "FIX  storage: ",
        "check STORAGE_URL",
        "FIX  FAL key: FAL refuses the account (403: User is locked. Reason: Exhausted balance",
        "FIX  telegram webhook: not registered: run `avatar-studio set-webhook` for https://bot.example.test/telegram/webhook",
    ] {
        assert!(report.contains(line), "{line:?} missing from:\n{report}");
    }
}

/// Runs `avatar-studio check` with the bot token and these settings only.
async fn check(settings: &[(&str, &str)]) -> Output {
    let settings: Vec<(String, String)> = settings
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_avatar-studio"))
            .arg("check")
            .env_clear()
            .env("TELEGRAM_BOT_TOKEN", "123:cli-test")
            .env("RUST_LOG", "error")
            .envs(settings)
            .output()
            .expect("binary runs")
    })
    .await
    .unwrap()
}

#[test]
fn a_missing_token_stops_start_up_with_one_line_naming_it() {
    let db = TestDb::sqlite();
    let output = Command::new(env!("CARGO_BIN_EXE_avatar-studio"))
        .arg("serve")
        .env_clear()
        .env("DATABASE_URL", &db.url)
        .output()
        .expect("binary runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    let line = stderr
        .lines()
        .find(|l| l.starts_with("error:"))
        .expect("an error line");
    assert!(line.contains("TELEGRAM_BOT_TOKEN"), "{stderr}");
}

#[tokio::test]
async fn styles_are_listed_switched_off_and_on_by_key() {
    let db = TestDb::postgres().await;
    let telegram = FakeTelegram::start().await;
    let ok = |output: &Output| {
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    ok(&run(&db.url, &telegram.url, &["migrate"]).await);
    let off = ok(&run(
        &db.url,
        &telegram.url,
        &["styles", "disable", "business.headshot"],
    )
    .await);
    assert!(off.contains("business.headshot disabled"), "{off}");
    let list = ok(&run(&db.url, &telegram.url, &["styles", "list"]).await);
    let line = |prefix: &str| {
        list.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix} in {list}"))
            .to_owned()
    };
    assert!(line("business.headshot ").contains("disabled"), "{list}");
    assert!(line("business.office ").contains(" on "), "{list}");
    assert!(line("pack business ").contains("hidden"), "{list}");
    assert!(line("pack travel ").contains(" on "), "{list}");
    assert!(list.lines().count() >= 40, "every style listed");
    let on = ok(&run(
        &db.url,
        &telegram.url,
        &["styles", "enable", "business.headshot"],
    )
    .await);
    assert!(on.contains("business.headshot enabled"), "{on}");
    let unknown = run(
        &db.url,
        &telegram.url,
        &["styles", "disable", "business.nope"],
    )
    .await;
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no style \"business.nope\""));
}
