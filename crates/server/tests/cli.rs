//! The binary's commands, run as a process against a real database and a fake Bot API.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Output};

use studio_testkit::{FakeTelegram, TestDb};

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
    let openai = studio_testkit::FakeOpenAi::start().await;
    let (db_url, telegram_url, openai_url) =
        (db.url.clone(), telegram.url.clone(), openai.url.clone());
    let output = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_avatar-studio"))
            .arg("check")
            .env_clear()
            .env("DATABASE_URL", db_url)
            .env("TELEGRAM_BOT_TOKEN", "123:cli-test")
            .env("TELEGRAM_API_URL", telegram_url)
            .env("OPENAI_API_KEY", "sk-cli-test")
            .env("OPENAI_BASE_URL", openai_url)
            .env("OPENAI_MODEL", "vision-model")
            .env("RUST_LOG", "error")
            .output()
            .expect("binary runs")
    })
    .await
    .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(report.contains("database: ready"), "{report}");
    assert!(report.contains("@AvatarStudioBot"), "{report}");
    assert!(
        report.contains("openai: model vision-model available"),
        "{report}"
    );
    assert!(
        !report.contains("cli-test"),
        "the token is never printed: {report}"
    );
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
