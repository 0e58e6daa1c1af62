//! Fresh databases for tests: a temporary SQLite file, or a new PostgreSQL database named
//! `test_<pid>_<random>` created through `TEST_DATABASE_URL`, so runs never see each other;
//! and a fake Bot API that records calls.
//!
//! A PostgreSQL test whose server cannot be reached fails with the reason: it never skips.

mod fake_fal;
mod fake_openai;
mod fake_telegram;
mod fal_schema;
mod images;
mod recorder;
mod tcp_proxy;

pub use fake_fal::{FAL_USER_ID, FakeFal, FalOutcome, FalSubmission, FalUpload};
pub use fake_openai::{ChatRequest, FakeOpenAi, OpenAiReply, TRANSLATION, VISION_PROMPT};
pub use fake_telegram::{Call, FakeTelegram, Limits};
pub use images::png_header_only;
use sea_orm::{ConnectionTrait, Database};
pub use tcp_proxy::{TcpProxy, postgres_addr, via};

/// Where PostgreSQL tests create their databases when `TEST_DATABASE_URL` is not set: the
/// machine's local server, as `.ci/run` and the README's test command also use.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database that exists for one test. SQLite files go with the temporary directory.
pub struct TestDb {
    pub url: String,
    pub backend: Backend,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub async fn fresh(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => Self::sqlite(),
            Backend::Postgres => Self::postgres().await,
        }
    }

    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory for SQLite");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
        Self {
            url,
            backend: Backend::Sqlite,
            _dir: Some(dir),
        }
    }

    pub async fn postgres() -> Self {
        let admin_url =
            std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned());
        let admin = Database::connect(admin_url.as_str())
            .await
            .unwrap_or_else(|e| {
                panic!("PostgreSQL at TEST_DATABASE_URL={admin_url} is unreachable: {e}")
            });
        let name = format!("test_{}_{:016x}", std::process::id(), fastrand::u64(..));
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap_or_else(|e| panic!("cannot create database {name}: {e}"));
        admin.close().await.ok();
        Self {
            url: replace_database(&admin_url, &name),
            backend: Backend::Postgres,
            _dir: None,
        }
    }
}

/// `postgres://u@h:p/db?x` with `db` replaced by `name`, query kept.
fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let authority_end = base.find("://").map_or(0, |i| i + 3);
    let prefix = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{prefix}/{name}?{q}"),
        None => format!("{prefix}/{name}"),
    }
}

/// Declares one test per backend for an `async fn(TestDb)`: `name::sqlite` and
/// `name::postgres`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                super::$name($crate::TestDb::fresh($crate::Backend::Sqlite).await).await;
            }
            #[tokio::test]
            async fn postgres() {
                super::$name($crate::TestDb::fresh($crate::Backend::Postgres).await).await;
            }
        }
    )+};
}

#[cfg(test)]
mod tests {
    #[test]
    fn replaces_the_database_name() {
        assert_eq!(
            super::replace_database("postgres://u@h:5432/postgres?sslmode=disable", "t1"),
            "postgres://u@h:5432/t1?sslmode=disable"
        );
        assert_eq!(
            super::replace_database("postgres://h", "t2"),
            "postgres://h/t2"
        );
    }
}
