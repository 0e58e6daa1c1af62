//! The generation queue on SQLite and PostgreSQL: debits, claims, the per-user limit, fenced
//! settles and refunds.
#![allow(clippy::unwrap_used)] // integration tests: a panic is the failure report

use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use studio_domain::styles::{PackKey, StyleKey};
use studio_domain::{
    AspectRatio, AvatarId, AvatarName, AvatarStatus, ChatId, Credits, Gender, GenerationFailure,
    GenerationStatus, LedgerKind, TelegramUserId, UserId,
};
use studio_persistence::repos::generations::{self, Generation, NewGeneration, Queued};
use studio_persistence::repos::jobs::{self, Submission};
use studio_persistence::repos::packs::{self, NewPack, Ordered, PackItem};
use studio_persistence::repos::prompt_jobs::{self, NewPromptJob, PromptJobKind};
use studio_persistence::repos::workers;
use studio_persistence::repos::{avatars, fal_callbacks, ledger, users};
use studio_testkit::{TestDb, on_both_backends};

const LEASE: Duration = Duration::from_secs(60);

async fn migrated(db: &TestDb) -> DatabaseConnection {
    let conn = studio_persistence::connect(&db.url, 4).await.unwrap();
    studio_persistence::migrate_up(&conn).await.unwrap();
    conn
}

/// A user with a trained avatar and `credits`.
async fn member(conn: &DatabaseConnection, telegram_id: i64, credits: u32) -> (UserId, AvatarId) {
    let profile = users::TelegramProfile {
        telegram_id: TelegramUserId(telegram_id),
        first_name: "Jo".into(),
        last_name: None,
        username: None,
        language_code: None,
        is_premium: false,
    };
    let owner = users::upsert(conn, &profile).await.unwrap().id;
    let name = AvatarName::parse("Jo").unwrap();
    let avatar = avatars::create_draft(conn, owner, &name, Gender::Male)
        .await
        .unwrap()
        .id;
    for status in [
        AvatarStatus::PhotosUploading,
        AvatarStatus::ReadyForTraining,
        AvatarStatus::Training,
        AvatarStatus::Completed,
    ] {
        avatars::change_status(conn, owner, avatar, status)
            .await
            .unwrap();
    }
    if credits > 0 {
        let key = format!("credit:{telegram_id}");
        let entry = ledger::Entry {
            user: owner,
            kind: LedgerKind::AdminCredit,
            amount: Credits::new(credits),
            key: &key,
            note: None,
        };
        ledger::book(conn, entry).await.unwrap();
    }
    (owner, avatar)
}

async fn queue(conn: &DatabaseConnection, owner: UserId, avatar: AvatarId) -> Queued {
    let new = NewGeneration {
        user: owner,
        avatar,
        prompt_original: "a knight",
        prompt_english: "a knight",
        ratio: AspectRatio::Square,
        cost: Credits::new(5),
        deadline: Duration::from_secs(600),
        style: None,
    };
    generations::queue(conn, new).await.unwrap()
}

on_both_backends!(
    queueing_debits_or_refuses_without_writing,
    claims_respect_the_per_user_limit_and_leases,
    settles_are_fenced_and_refund_once,
    callbacks_are_stored_once_and_wake_their_job,
    prompt_jobs_run_in_order_per_chat_and_settle_once,
);

async fn queueing_debits_or_refuses_without_writing(db: TestDb) {
    let conn = migrated(&db).await;
    let (owner, avatar) = member(&conn, 1, 7).await;
    let Queued::Queued { position, .. } = queue(&conn, owner, avatar).await else {
        panic!("7 credits cover 5");
    };
    assert_eq!(position, 1);
    assert_eq!(
        queue(&conn, owner, avatar).await,
        Queued::Missing(Credits::new(3))
    );
    assert_eq!(
        ledger::balance(&conn, owner).await.unwrap(),
        Credits::new(2)
    );
    let ids = generations::gallery_ids(&conn, owner, Default::default())
        .await
        .unwrap();
    assert!(ids.is_empty(), "queued jobs are not in the gallery");
}

async fn claims_respect_the_per_user_limit_and_leases(db: TestDb) {
    let conn = migrated(&db).await;
    let (busy, busy_avatar) = member(&conn, 1, 100).await;
    let (other, other_avatar) = member(&conn, 2, 100).await;
    for _ in 0..3 {
        queue(&conn, busy, busy_avatar).await;
    }
    queue(&conn, other, other_avatar).await;
    let claimed = jobs::claim(&conn, 10, LEASE, 2).await.unwrap();
    let of = |user: UserId| claimed.iter().filter(|j| j.user_id == user).count();
    assert_eq!(
        (of(busy), of(other)),
        (2, 1),
        "two running per person at most"
    );
    assert!(
        claimed
            .iter()
            .all(|j| j.status == GenerationStatus::Running && j.attempts == 1)
    );
    assert!(
        jobs::claim(&conn, 10, LEASE, 2).await.unwrap().is_empty(),
        "leased and limited"
    );

    // Releasing a step due now makes it claimable again; its owner is still at the limit.
    let first = &claimed[0];
    assert!(jobs::reschedule(&conn, first, 0, None).await.unwrap());
    let again = jobs::claim(&conn, 10, LEASE, 2).await.unwrap();
    assert_eq!(again.iter().map(|j| j.id).collect::<Vec<_>>(), [first.id]);
    assert_eq!(again[0].attempts, 2);

    // A lease that expired (its replica died) is claimed by someone else.
    let stale = jobs::claim(&conn, 10, Duration::ZERO, 2).await.unwrap();
    assert!(stale.is_empty(), "leases of 60 s still hold");
}

async fn settles_are_fenced_and_refund_once(db: TestDb) {
    let conn = migrated(&db).await;
    let (owner, avatar) = member(&conn, 1, 10).await;
    queue(&conn, owner, avatar).await;
    queue(&conn, owner, avatar).await;
    assert_eq!(ledger::balance(&conn, owner).await.unwrap(), Credits::ZERO);
    let mut claimed = jobs::claim(&conn, 10, Duration::ZERO, 2).await.unwrap();
    let (failing, completing) = (claimed.remove(0), claimed.remove(0));
    // The zero lease expired at once: another worker takes the first job over.
    let taken_over = jobs::claim(&conn, 10, LEASE, 2).await.unwrap();
    assert_eq!(taken_over.len(), 2);
    let failing_now = taken_over.iter().find(|j| j.id == failing.id).unwrap();
    assert!(
        !jobs::fail(&conn, &failing, GenerationFailure::Provider, "x")
            .await
            .unwrap(),
        "the old claim is fenced off"
    );
    assert!(
        jobs::fail(&conn, failing_now, GenerationFailure::Nsfw, "flagged")
            .await
            .unwrap()
    );
    assert!(
        !jobs::fail(&conn, failing_now, GenerationFailure::Nsfw, "again")
            .await
            .unwrap()
    );
    assert_eq!(
        ledger::balance(&conn, owner).await.unwrap(),
        Credits::new(5),
        "one refund"
    );

    let completing_now = taken_over.iter().find(|j| j.id == completing.id).unwrap();
    let submission = Submission {
        request_id: "req-1",
        status_url: "http://fal/status",
        response_url: "http://fal/result",
        cancel_url: "http://fal/cancel",
    };
    assert!(
        jobs::record_submission(&conn, completing_now, submission, 0)
            .await
            .unwrap()
    );
    assert!(
        jobs::complete(&conn, completing_now, "generations/1.jpg", Some(42))
            .await
            .unwrap()
    );
    assert!(
        !jobs::fail(&conn, completing_now, GenerationFailure::Timeout, "late")
            .await
            .unwrap()
    );
    assert_eq!(
        ledger::balance(&conn, owner).await.unwrap(),
        Credits::new(5)
    );
    let done = generations::find_owned(&conn, owner, completing_now.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.status, GenerationStatus::Completed);
    assert_eq!(done.fal_request_id.as_deref(), Some("req-1"));
    let failed = generations::find_owned(&conn, owner, failing.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(failed.failure, Some(GenerationFailure::Nsfw));
    let stats = generations::stats(&conn, owner).await.unwrap();
    assert_eq!((stats.images, stats.spent), (1, Credits::new(5)));
}

async fn callbacks_are_stored_once_and_wake_their_job(db: TestDb) {
    let conn = migrated(&db).await;
    let (owner, avatar) = member(&conn, 1, 10).await;
    queue(&conn, owner, avatar).await;
    let job = jobs::claim(&conn, 1, LEASE, 2).await.unwrap().remove(0);
    let submission = Submission {
        request_id: "req-9",
        status_url: "s",
        response_url: "r",
        cancel_url: "c",
    };
    let far = chrono::Utc::now().timestamp_millis() + 3_600_000;
    assert!(
        jobs::record_submission(&conn, &job, submission, far)
            .await
            .unwrap()
    );
    assert!(
        jobs::claim(&conn, 1, LEASE, 2).await.unwrap().is_empty(),
        "not due"
    );
    assert!(fal_callbacks::store(&conn, "req-9", "{}").await.unwrap());
    assert!(
        !fal_callbacks::store(&conn, "req-9", "{\"again\":1}")
            .await
            .unwrap()
    );
    assert_eq!(
        fal_callbacks::find(&conn, "req-9")
            .await
            .unwrap()
            .as_deref(),
        Some("{}")
    );
    assert!(jobs::wake(&conn, "req-9").await.unwrap());
    assert!(!jobs::wake(&conn, "req-unknown").await.unwrap());
    let woken = jobs::claim(&conn, 1, LEASE, 2).await.unwrap();
    assert_eq!(woken.len(), 1, "due once woken");

    // A callback of no job of ours is kept only a while (it may have beaten its submission).
    assert!(
        fal_callbacks::store(&conn, "req-other", "{}")
            .await
            .unwrap()
    );
    let later = chrono::Utc::now() + chrono::Duration::seconds(5);
    assert_eq!(fal_callbacks::purge_orphans(&conn, later).await.unwrap(), 1);
    assert!(
        fal_callbacks::find(&conn, "req-other")
            .await
            .unwrap()
            .is_none()
    );
    assert!(fal_callbacks::find(&conn, "req-9").await.unwrap().is_some());
}

async fn prompt_jobs_run_in_order_per_chat_and_settle_once(db: TestDb) {
    let conn = migrated(&db).await;
    let holder = workers::register(&conn).await.unwrap();
    let (owner, avatar) = member(&conn, 1, 0).await;
    let (other, other_avatar) = member(&conn, 2, 0).await;
    let new = |chat: i64, user, avatar, kind, input| NewPromptJob {
        chat: ChatId(chat),
        user,
        avatar,
        kind,
        input,
        deadline: Duration::from_secs(120),
    };
    let photo = new(1, owner, avatar, PromptJobKind::Vision, "file-1");
    let first = prompt_jobs::queue(&conn, photo).await.unwrap();
    let words = new(1, owner, avatar, PromptJobKind::Translation, "кот");
    let second = prompt_jobs::queue(&conn, words).await.unwrap();
    let theirs = new(2, other, other_avatar, PromptJobKind::Translation, "собака");
    prompt_jobs::queue(&conn, theirs).await.unwrap();

    let claimed = prompt_jobs::claim(&conn, 10, LEASE, &holder).await.unwrap();
    assert_eq!(
        claimed.len(),
        2,
        "one per chat: the second waits for the first"
    );
    let mine = claimed.iter().find(|j| j.chat == ChatId(1)).unwrap();
    assert_eq!(
        (mine.id, mine.kind, mine.input.as_str(), mine.attempts),
        (first, PromptJobKind::Vision, "file-1", 1)
    );
    assert!(
        prompt_jobs::claim(&conn, 10, LEASE, &holder)
            .await
            .unwrap()
            .is_empty()
    );

    // A retry is due later; a stale claim cannot settle it.
    assert!(
        prompt_jobs::retry(&conn, mine, Duration::ZERO, "429")
            .await
            .unwrap()
    );
    let again = prompt_jobs::claim(&conn, 10, LEASE, &holder).await.unwrap();
    assert_eq!((again[0].id, again[0].attempts), (first, 2));
    assert!(
        !prompt_jobs::complete(&conn, mine).await.unwrap(),
        "stale claim"
    );
    assert!(prompt_jobs::complete(&conn, &again[0]).await.unwrap());
    assert!(
        !prompt_jobs::fail(&conn, &again[0], "late").await.unwrap(),
        "settled once"
    );

    let next = prompt_jobs::claim(&conn, 10, LEASE, &holder).await.unwrap();
    assert_eq!(next.iter().map(|j| j.id).collect::<Vec<_>>(), [second]);
    assert!(prompt_jobs::fail(&conn, &next[0], "refused").await.unwrap());
    let failed = prompt_jobs::find(&conn, second).await.unwrap().unwrap();
    assert_eq!(failed.last_error.as_deref(), Some("refused"));
    assert_eq!(
        failed.input, "",
        "a settled request forgets the person's text"
    );
    assert_eq!(
        prompt_jobs::backlog(&conn).await.unwrap().0,
        1,
        "the other chat's"
    );

    // A request the chat stopped waiting for is failed at once, even while claimed.
    let theirs = claimed.iter().find(|j| j.chat == ChatId(2)).unwrap();
    assert!(prompt_jobs::abandon(&conn, theirs.id).await.unwrap());
    assert!(
        !prompt_jobs::abandon(&conn, theirs.id).await.unwrap(),
        "once"
    );
    assert!(
        !prompt_jobs::complete(&conn, theirs).await.unwrap(),
        "its worker lost it"
    );
    assert!(!prompt_jobs::is_pending(&conn, theirs.id).await.unwrap());
    let later = chrono::Utc::now() + chrono::Duration::seconds(1);
    assert_eq!(prompt_jobs::purge(&conn, later).await.unwrap(), 3);
}

fn pack_items(n: usize, price: Credits) -> Vec<PackItem> {
    let keys = ["a.one", "a.two", "a.three", "a.four", "a.five", "a.six"];
    keys.iter()
        .take(n)
        .zip(studio_domain::styles::shares(price, n))
        .map(|(key, share)| PackItem {
            style: StyleKey::parse(key).unwrap(),
            prompt: format!("{key} portrait of ohwx"),
            ratio: AspectRatio::Portrait,
            share,
        })
        .collect()
}

async fn order(
    conn: &DatabaseConnection,
    owner: UserId,
    avatar: AvatarId,
    items: &[PackItem],
    key: &str,
) -> Ordered {
    let new = NewPack {
        user: owner,
        avatar,
        pack: PackKey::parse("test").unwrap(),
        price: Credits::new(18),
        items,
        deadline: Duration::from_secs(600),
        order_key: key.to_owned(),
    };
    packs::order(conn, new).await.unwrap()
}

/// Claims every queued job and completes it with a stored file.
async fn complete_all(conn: &DatabaseConnection, expected: usize) -> Vec<Generation> {
    let claimed = jobs::claim(conn, 20, LEASE, 20).await.unwrap();
    assert_eq!(claimed.len(), expected);
    for job in &claimed {
        let key = format!("generations/{}.jpg", job.id);
        assert!(jobs::complete(conn, job, &key, None).await.unwrap());
    }
    claimed
}

on_both_backends!(a_pack_debits_once_and_sends_each_image_in_one_album);

async fn a_pack_debits_once_and_sends_each_image_in_one_album(db: TestDb) {
    let conn = migrated(&db).await;
    let (owner, avatar) = member(&conn, 950, 100).await;
    let items = pack_items(5, Credits::new(18));
    let Ordered::Queued(id) = order(&conn, owner, avatar, &items, "press-1").await else {
        panic!("not ordered");
    };
    assert_eq!(
        order(&conn, owner, avatar, &items, "press-1").await,
        Ordered::AlreadyOrdered,
        "the same press orders once"
    );
    assert_eq!(
        ledger::balance(&conn, owner).await.unwrap(),
        Credits::new(82)
    );

    let mut claimed = jobs::claim(&conn, 20, LEASE, 20).await.unwrap();
    assert_eq!(claimed.len(), 5, "one job per style");
    let last = claimed.pop().unwrap();
    let mut albums = Vec::new();
    for job in &claimed {
        assert!(
            jobs::complete(&conn, job, "generations/x.jpg", None)
                .await
                .unwrap()
        );
        let progress = packs::settle(&conn, id).await.unwrap().unwrap();
        albums.push(progress.album.len());
    }
    assert_eq!(albums, [0, 0, 0, 4], "an album once four wait");
    assert!(
        jobs::fail(&conn, &last, GenerationFailure::Provider, "x")
            .await
            .unwrap()
    );
    let done = packs::settle(&conn, id).await.unwrap().unwrap();
    assert!(done.finished && done.album.is_empty());
    assert_eq!((done.completed, done.failed), (4, 1));
    assert_eq!(done.refunded, last.cost, "the failed image's share");
    assert_eq!(
        ledger::balance(&conn, owner).await.unwrap(),
        Credits::new(82).credit(last.cost)
    );
}

/// Two images of a pack finishing at once: the second settle waits for the first's lock, so
/// the images go out in one album, not in two.
#[tokio::test]
async fn settles_of_one_pack_are_serialised() {
    let db = TestDb::postgres().await;
    let conn = migrated(&db).await;
    let (owner, avatar) = member(&conn, 951, 100).await;
    let items = pack_items(4, Credits::new(18));
    let Ordered::Queued(id) = order(&conn, owner, avatar, &items, "press-2").await else {
        panic!("not ordered");
    };
    complete_all(&conn, 4).await;
    let first = studio_persistence::begin(&conn).await.unwrap();
    let album = packs::settle(&first, id).await.unwrap().unwrap().album;
    assert_eq!(album.len(), 4);
    let other = conn.clone();
    let second = tokio::spawn(async move {
        let txn = studio_persistence::begin(&other).await.unwrap();
        let progress = packs::settle(&txn, id).await.unwrap().unwrap();
        txn.commit().await.unwrap();
        progress.album.len()
    });
    // The second settle is waiting on the first's row lock before the first commits.
    let waiting = "SELECT COUNT(*) AS n FROM pg_stat_activity \
                   WHERE datname = current_database() AND wait_event_type = 'Lock'";
    loop {
        let row = conn
            .query_one_raw(Statement::from_string(DbBackend::Postgres, waiting))
            .await
            .unwrap()
            .unwrap();
        if row.try_get::<i64>("", "n").unwrap() > 0 {
            break;
        }
        tokio::task::yield_now().await;
    }
    first.commit().await.unwrap();
    assert_eq!(second.await.unwrap(), 0, "nothing sent twice");
}
