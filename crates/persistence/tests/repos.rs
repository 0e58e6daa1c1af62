//! The repository suite, run on SQLite and on PostgreSQL (`TEST_DATABASE_URL`).
#![allow(clippy::unwrap_used)] // integration tests: a panic is the failure report

use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use studio_domain::{
    AvatarId, AvatarName, AvatarStatus, ChatId, Credits, Gender, GenerationStatus, LedgerKind,
    TelegramUserId, UpdateId, UserId,
};
use studio_persistence::repos::{avatars, chat_state, inbox, ledger, outbox, users};
use studio_persistence::{DbAvatarStatus, DbGenerationStatus, check_ready, enum_labels};
use studio_testkit::{TestDb, on_both_backends};

async fn migrated(db: &TestDb) -> DatabaseConnection {
    let conn = studio_persistence::connect(&db.url, 4)
        .await
        .expect("connect");
    studio_persistence::migrate_up(&conn)
        .await
        .expect("migrate up");
    conn
}

fn profile(telegram_id: i64) -> users::TelegramProfile {
    users::TelegramProfile {
        telegram_id: TelegramUserId(telegram_id),
        first_name: format!("User {telegram_id}"),
        last_name: None,
        username: Some(format!("user{telegram_id}")),
        language_code: Some("ru".into()),
        is_premium: false,
    }
}

async fn user(conn: &DatabaseConnection, telegram_id: i64) -> UserId {
    UserId(
        users::upsert(conn, &profile(telegram_id))
            .await
            .expect("upsert")
            .id,
    )
}

on_both_backends!(
    migrations_go_up_down_and_up_again,
    status_labels_match_the_rust_enums,
    unknown_status_labels_are_refused,
    inbox_dedupes_and_keeps_chat_order,
    inbox_claims_are_fenced_and_retried,
    inbox_stores_batches_with_duplicates,
    outbox_orders_per_chat_and_drops_for_blocked_chats,
    settled_queue_rows_are_purged_but_dead_ones_kept,
    users_upsert_and_block,
    avatars_are_found_only_through_their_owner,
    avatar_status_changes_follow_the_domain,
    one_main_avatar_per_user,
    ledger_books_each_event_once,
    concurrent_debits_never_overdraw,
    promo_codes_respect_every_limit,
    payments_credit_once_and_refund_once,
    history_shows_balance_after_each_entry,
    chat_state_round_trips,
    photos_count_refuse_duplicates_and_cap_at_twenty,
    tagged_messages_are_remembered_per_chat,
);

async fn migrations_go_up_down_and_up_again(db: TestDb) {
    let conn = migrated(&db).await;
    check_ready(&conn).await.expect("ready after up");
    studio_persistence::migrate_down(&conn).await.expect("down");
    assert!(check_ready(&conn).await.is_err(), "not ready after down");
    let labels = enum_labels(&conn, "avatar_status", "avatars")
        .await
        .expect("labels");
    assert!(labels.is_empty(), "enum type dropped by down: {labels:?}");
    studio_persistence::migrate_up(&conn)
        .await
        .expect("up again");
    check_ready(&conn).await.expect("ready after up again");
}

/// Replicas (PostgreSQL only: SQLite is the one-process mode) starting at once.
#[tokio::test]
async fn replicas_migrating_at_once_take_turns() {
    let db = TestDb::postgres().await;
    let (a, b) = (
        studio_persistence::connect(&db.url, 2).await.unwrap(),
        studio_persistence::connect(&db.url, 2).await.unwrap(),
    );
    let (first, second) = tokio::join!(
        studio_persistence::migrate_up(&a),
        studio_persistence::migrate_up(&b)
    );
    first.expect("first replica migrates");
    second.expect("second replica finds the schema ready");
    check_ready(&a).await.expect("ready");
}

async fn status_labels_match_the_rust_enums(db: TestDb) {
    let conn = migrated(&db).await;
    let avatar = enum_labels(&conn, "avatar_status", "avatars")
        .await
        .expect("labels");
    let expected: Vec<&str> = AvatarStatus::ALL.iter().map(|s| s.label()).collect();
    assert_eq!(avatar, expected);
    let generation = enum_labels(&conn, "generation_status", "generations")
        .await
        .expect("labels");
    let expected: Vec<&str> = GenerationStatus::ALL.iter().map(|s| s.label()).collect();
    assert_eq!(generation, expected);
    // The storage mapping spells the same labels as the domain.
    for status in AvatarStatus::ALL {
        assert_eq!(
            sea_orm::ActiveEnum::to_value(&DbAvatarStatus::from(status)),
            status.label()
        );
    }
    for status in GenerationStatus::ALL {
        assert_eq!(
            sea_orm::ActiveEnum::to_value(&DbGenerationStatus::from(status)),
            status.label()
        );
    }
    if db.backend == studio_testkit::Backend::Postgres {
        let row = conn
            .query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT udt_name FROM information_schema.columns \
                 WHERE table_name = 'avatars' AND column_name = 'status'",
            ))
            .await
            .expect("query")
            .expect("column exists");
        let udt: String = row.try_get("", "udt_name").expect("udt_name");
        assert_eq!(udt, "avatar_status", "status is a native enum column");
    }
}

async fn unknown_status_labels_are_refused(db: TestDb) {
    let conn = migrated(&db).await;
    let owner = user(&conn, 1).await;
    let sql = format!(
        "INSERT INTO avatars (user_id, name, gender, status, is_main, created_at, updated_at) \
         VALUES ({}, 'Bad', 'male', 'TRAINING', false, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
        owner.0
    );
    assert!(
        conn.execute_unprepared(&sql).await.is_err(),
        "upper-case label refused"
    );
}

async fn inbox_dedupes_and_keeps_chat_order(db: TestDb) {
    let conn = migrated(&db).await;
    let lease = Duration::from_secs(30);
    let put = |id: i64, lane: i64| inbox::NewUpdate {
        update_id: UpdateId(id),
        lane,
        payload: "{}",
    };
    assert_eq!(
        inbox::accept(&conn, put(10, 7)).await.unwrap(),
        inbox::Accepted::Stored
    );
    assert_eq!(
        inbox::accept(&conn, put(10, 7)).await.unwrap(),
        inbox::Accepted::Duplicate
    );
    // update_id order is not arrival order after a quiet week: 5 arrives after 10.
    inbox::accept(&conn, put(5, 7)).await.unwrap();
    inbox::accept(&conn, put(11, 8)).await.unwrap();

    let first = inbox::claim(&conn, 10, lease).await.unwrap();
    let ids: Vec<i64> = first.iter().map(|c| c.update_id.0).collect();
    assert_eq!(ids, [10, 11], "one row per lane, the oldest arrival first");
    assert!(
        inbox::claim(&conn, 10, lease).await.unwrap().is_empty(),
        "leased rows wait"
    );

    assert!(inbox::complete(&conn, &first[0]).await.unwrap());
    let second = inbox::claim(&conn, 10, lease).await.unwrap();
    let ids: Vec<i64> = second.iter().map(|c| c.update_id.0).collect();
    assert_eq!(
        ids,
        [5],
        "the lane's next update only after the first is done"
    );
    assert_eq!(inbox::backlog(&conn).await.unwrap().0, 2);
}

async fn inbox_stores_batches_with_duplicates(db: TestDb) {
    let conn = migrated(&db).await;
    let put = |id: i64| inbox::NewUpdate {
        update_id: UpdateId(id),
        lane: id,
        payload: "{}",
    };
    inbox::accept(&conn, put(1)).await.unwrap();
    let answers = inbox::accept_many(&conn, &[put(1), put(2), put(3), put(2)])
        .await
        .unwrap();
    use inbox::Accepted::{Duplicate, Stored};
    assert_eq!(answers, [Duplicate, Stored, Stored, Duplicate]);
    assert_eq!(inbox::backlog(&conn).await.unwrap().0, 3);
    assert!(inbox::accept_many(&conn, &[]).await.unwrap().is_empty());
}

async fn inbox_claims_are_fenced_and_retried(db: TestDb) {
    let conn = migrated(&db).await;
    let new = inbox::NewUpdate {
        update_id: UpdateId(1),
        lane: 1,
        payload: "{\"update_id\":1}",
    };
    inbox::accept(&conn, new).await.unwrap();
    let stale = inbox::claim(&conn, 1, Duration::from_secs(30))
        .await
        .unwrap()
        .remove(0);
    // The claimant crashed and its lease ran out.
    conn.execute_unprepared("UPDATE inbox SET lease_until_ms = 0")
        .await
        .unwrap();
    let fresh = inbox::claim(&conn, 1, Duration::from_secs(30))
        .await
        .unwrap()
        .remove(0);
    assert_eq!(fresh.attempts, stale.attempts + 1);
    assert!(
        !inbox::complete(&conn, &stale).await.unwrap(),
        "the stale claim cannot settle"
    );
    assert!(
        inbox::retry(&conn, &fresh, Duration::ZERO, "boom")
            .await
            .unwrap()
    );
    let again = inbox::claim(&conn, 1, Duration::from_secs(30))
        .await
        .unwrap()
        .remove(0);
    assert_eq!(again.payload, "{\"update_id\":1}");
    assert!(inbox::dead_letter(&conn, &again, "gave up").await.unwrap());
    assert!(
        inbox::claim(&conn, 1, Duration::ZERO)
            .await
            .unwrap()
            .is_empty()
    );
    let row = inbox::find(&conn, UpdateId(1))
        .await
        .unwrap()
        .expect("kept");
    assert_eq!(row.last_error.as_deref(), Some("gave up"));
    assert_eq!(row.attempts, 3);
}

async fn outbox_orders_per_chat_and_drops_for_blocked_chats(db: TestDb) {
    let conn = migrated(&db).await;
    let lease = Duration::from_secs(30);
    for (chat, text) in [(1, "a1"), (1, "a2"), (2, "b1")] {
        outbox::enqueue(&conn, ChatId(chat), "sendMessage", text)
            .await
            .unwrap();
    }
    let first = outbox::claim(&conn, 10, lease).await.unwrap();
    let got: Vec<&str> = first.iter().map(|c| c.payload.as_str()).collect();
    assert_eq!(got, ["a1", "b1"]);
    assert!(outbox::mark_sent(&conn, &first[0], None).await.unwrap());
    assert_eq!(
        outbox::drop_pending(&conn, ChatId(1), "blocked")
            .await
            .unwrap(),
        1
    );
    assert!(outbox::mark_sent(&conn, &first[1], None).await.unwrap());
    assert!(outbox::claim(&conn, 10, lease).await.unwrap().is_empty());
    assert_eq!(outbox::backlog(&conn).await.unwrap().0, 0);
}

async fn users_upsert_and_block(db: TestDb) {
    let conn = migrated(&db).await;
    let first = users::upsert(&conn, &profile(42)).await.unwrap();
    let mut renamed = profile(42);
    renamed.first_name = "Renamed".into();
    renamed.is_premium = true;
    assert!(
        users::set_blocked(&conn, TelegramUserId(42), true)
            .await
            .unwrap()
    );
    assert!(users::is_blocked(&conn, TelegramUserId(42)).await.unwrap());
    let second = users::upsert(&conn, &renamed).await.unwrap();
    assert_eq!(first.id, second.id);
    assert_eq!(second.first_name, "Renamed");
    assert!(second.is_premium);
    assert!(
        !second.is_blocked,
        "a new message means the bot is not blocked"
    );
    assert!(
        !users::set_blocked(&conn, TelegramUserId(43), true)
            .await
            .unwrap()
    );
}

async fn avatars_are_found_only_through_their_owner(db: TestDb) {
    let conn = migrated(&db).await;
    let (alice, bob) = (user(&conn, 1).await, user(&conn, 2).await);
    let name = AvatarName::parse("Alice").unwrap();
    let avatar = avatars::create_draft(&conn, alice, &name, Gender::Female)
        .await
        .unwrap();
    let id = AvatarId(avatar.id);
    assert!(
        avatars::find_owned(&conn, alice, id)
            .await
            .unwrap()
            .is_some()
    );
    assert!(avatars::find_owned(&conn, bob, id).await.unwrap().is_none());
    assert!(
        avatars::find_owned(&conn, alice, AvatarId(9_999))
            .await
            .unwrap()
            .is_none()
    );
    assert!(matches!(
        avatars::change_status(&conn, bob, id, AvatarStatus::PhotosUploading).await,
        Err(avatars::StatusChangeError::NotFound)
    ));
    assert!(!avatars::delete_owned(&conn, bob, id).await.unwrap());
    assert!(avatars::delete_owned(&conn, alice, id).await.unwrap());
    assert!(avatars::list_owned(&conn, alice).await.unwrap().is_empty());
}

async fn avatar_status_changes_follow_the_domain(db: TestDb) {
    let conn = migrated(&db).await;
    let owner = user(&conn, 1).await;
    let name = AvatarName::parse("Me").unwrap();
    let id = AvatarId(
        avatars::create_draft(&conn, owner, &name, Gender::Male)
            .await
            .unwrap()
            .id,
    );
    for next in [
        AvatarStatus::PhotosUploading,
        AvatarStatus::ReadyForTraining,
        AvatarStatus::Training,
        AvatarStatus::Completed,
    ] {
        let avatar = avatars::change_status(&conn, owner, id, next)
            .await
            .expect("legal");
        assert_eq!(avatar.status(), next);
    }
    let illegal = avatars::change_status(&conn, owner, id, AvatarStatus::Training).await;
    assert!(matches!(
        illegal,
        Err(avatars::StatusChangeError::Illegal(_))
    ));
    let completed = avatars::with_status(&conn, owner, AvatarStatus::Completed)
        .await
        .unwrap();
    assert_eq!(
        completed.len(),
        1,
        "a completed avatar is found as completed"
    );
}

async fn one_main_avatar_per_user(db: TestDb) {
    let conn = migrated(&db).await;
    let owner = user(&conn, 1).await;
    let name = AvatarName::parse("One").unwrap();
    let a = avatars::create_draft(&conn, owner, &name, Gender::Male)
        .await
        .unwrap();
    avatars::change_status(&conn, owner, AvatarId(a.id), AvatarStatus::Cancelled)
        .await
        .unwrap();
    let b = avatars::create_draft(&conn, owner, &name, Gender::Male)
        .await
        .unwrap();
    let set_main = |id: i64| format!("UPDATE avatars SET is_main = true WHERE id = {id}");
    conn.execute_unprepared(&set_main(a.id))
        .await
        .expect("first main");
    assert!(
        conn.execute_unprepared(&set_main(b.id)).await.is_err(),
        "second main refused"
    );
    // The draft index: a second open draft for the same user is refused too.
    assert!(
        avatars::create_draft(&conn, owner, &name, Gender::Female)
            .await
            .is_err()
    );
}

async fn ledger_books_each_event_once(db: TestDb) {
    let conn = migrated(&db).await;
    let owner = user(&conn, 1).await;
    let entry = |kind, amount, key| ledger::Entry {
        user: owner,
        kind,
        amount: Credits::new(amount),
        key,
        note: None,
    };
    assert_eq!(
        ledger::book(&conn, entry(LedgerKind::TopUp, 100, "pay:1"))
            .await
            .unwrap(),
        ledger::Booked::Booked
    );
    assert_eq!(
        ledger::book(&conn, entry(LedgerKind::TopUp, 100, "pay:1"))
            .await
            .unwrap(),
        ledger::Booked::AlreadyBooked
    );
    ledger::book(&conn, entry(LedgerKind::GenerationDebit, 5, "gen:1:debit"))
        .await
        .unwrap();
    assert_eq!(
        ledger::balance(&conn, owner).await.unwrap(),
        Credits::new(95)
    );
    assert_eq!(
        ledger::balance(&conn, UserId(777)).await.unwrap(),
        Credits::ZERO
    );
}

async fn chat_state_round_trips(db: TestDb) {
    let conn = migrated(&db).await;
    assert_eq!(chat_state::load(&conn, ChatId(5)).await.unwrap(), None);
    chat_state::save(&conn, ChatId(5), "{\"state\":\"idle\"}")
        .await
        .unwrap();
    chat_state::save(&conn, ChatId(5), "{\"state\":\"other\"}")
        .await
        .unwrap();
    assert_eq!(
        chat_state::load(&conn, ChatId(5)).await.unwrap().as_deref(),
        Some("{\"state\":\"other\"}")
    );
}

async fn photos_count_refuse_duplicates_and_cap_at_twenty(db: TestDb) {
    use studio_domain::photo::{InspectedPhoto, PhotoFormat};
    use studio_persistence::repos::photos::{self, Added, NewPhoto};
    let conn = migrated(&db).await;
    let owner = user(&conn, 1).await;
    let name = AvatarName::parse("Me").unwrap();
    let avatar = avatars::create_draft(&conn, owner, &name, Gender::Male)
        .await
        .unwrap();
    let inspected = |i: usize| InspectedPhoto {
        format: PhotoFormat::Jpeg,
        width: 800,
        height: 600,
        sha256: format!("{i:064}"),
    };
    let add = |i: usize| {
        let (conn, avatar) = (&conn, &avatar);
        async move {
            let photo = inspected(i);
            let key = format!("avatars/{}/{i}.jpg", avatar.id);
            let new = NewPhoto {
                inspected: &photo,
                storage_key: &key,
                telegram_file_id: "f",
                photo_file_id: Some("f"),
                size_bytes: 10,
            };
            photos::add(conn, avatar, new).await.unwrap()
        }
    };
    assert_eq!(add(1).await, Added::Added(1));
    assert_eq!(add(1).await, Added::Duplicate);
    for i in 2..=20 {
        assert_eq!(add(i).await, Added::Added(i));
    }
    assert_eq!(add(21).await, Added::Full);
    assert_eq!(
        add(5).await,
        Added::Duplicate,
        "a duplicate stays a duplicate when full"
    );
    let synced = avatars::sync_draft_status(&conn, &avatar, 20)
        .await
        .unwrap();
    assert_eq!(synced.status(), AvatarStatus::ReadyForTraining);
    let first = photos::list(&conn, &synced).await.unwrap()[0].id;
    assert!(
        photos::delete(&conn, &synced, first)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        photos::delete(&conn, &synced, first)
            .await
            .unwrap()
            .is_none()
    );
    let back = avatars::sync_draft_status(&conn, &synced, 9).await.unwrap();
    assert_eq!(back.status(), AvatarStatus::PhotosUploading);
    let empty = avatars::sync_draft_status(&conn, &back, 0).await.unwrap();
    assert_eq!(empty.status(), AvatarStatus::Draft);
    // Another user's avatar row cannot be had, so neither can its photos.
    assert!(
        avatars::find_owned(&conn, user(&conn, 2).await, AvatarId(avatar.id))
            .await
            .unwrap()
            .is_none()
    );
}

async fn tagged_messages_are_remembered_per_chat(db: TestDb) {
    use studio_persistence::repos::sent_messages;
    let conn = migrated(&db).await;
    assert_eq!(
        sent_messages::find(&conn, ChatId(1), "progress")
            .await
            .unwrap(),
        None
    );
    sent_messages::remember(&conn, ChatId(1), "progress", 10)
        .await
        .unwrap();
    sent_messages::remember(&conn, ChatId(1), "progress", 11)
        .await
        .unwrap();
    assert_eq!(
        sent_messages::find(&conn, ChatId(1), "progress")
            .await
            .unwrap(),
        Some(11)
    );
    assert_eq!(
        sent_messages::find(&conn, ChatId(2), "progress")
            .await
            .unwrap(),
        None
    );
    sent_messages::forget(&conn, ChatId(1), "progress")
        .await
        .unwrap();
    assert_eq!(
        sent_messages::find(&conn, ChatId(1), "progress")
            .await
            .unwrap(),
        None
    );
}

async fn concurrent_debits_never_overdraw(db: TestDb) {
    use sea_orm::TransactionTrait;
    let conn = migrated(&db).await;
    let owner = user(&conn, 1).await;
    let top_up = ledger::Entry {
        user: owner,
        kind: LedgerKind::TopUp,
        amount: Credits::new(20),
        key: "pay:1",
        note: None,
    };
    ledger::book(&conn, top_up).await.unwrap();
    let pool = studio_persistence::connect(&db.url, 50).await.unwrap();
    // On PostgreSQL all 50 transactions are open before any debits, so without the row lock
    // they would all read the same balance. SQLite has one connection: they queue anyway.
    let parties = if db.backend == studio_testkit::Backend::Postgres {
        50
    } else {
        1
    };
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(parties));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..50 {
        let (pool, barrier) = (pool.clone(), std::sync::Arc::clone(&barrier));
        tasks.spawn(async move {
            let txn = pool.begin().await.unwrap();
            txn.execute_unprepared("SELECT 1").await.unwrap();
            barrier.wait().await;
            let key = format!("gen:{i}:debit");
            let entry = ledger::Entry {
                user: owner,
                kind: LedgerKind::GenerationDebit,
                amount: Credits::new(1),
                key: &key,
                note: None,
            };
            let outcome = ledger::debit(&txn, entry).await.unwrap();
            txn.commit().await.unwrap();
            outcome
        });
    }
    let outcomes = tasks.join_all().await;
    let booked = outcomes
        .iter()
        .filter(|o| **o == ledger::Debit::Booked)
        .count();
    let refused = outcomes
        .iter()
        .filter(|o| **o == ledger::Debit::Missing(Credits::new(1)))
        .count();
    assert_eq!((booked, refused), (20, 30));
    assert_eq!(ledger::balance(&conn, owner).await.unwrap(), Credits::ZERO);
    let negative: i64 = conn
        .query_one_raw(Statement::from_string(conn.get_database_backend(), "SELECT CAST(MIN(s) AS BIGINT) AS m FROM (SELECT SUM(amount) OVER (ORDER BY id) AS s FROM ledger) t"))
        .await
        .unwrap()
        .unwrap()
        .try_get("", "m")
        .unwrap();
    assert!(negative >= 0, "the running balance never went below zero");
    assert_eq!(ledger::spent(&conn, owner).await.unwrap(), Credits::new(20));
}

async fn history_shows_balance_after_each_entry(db: TestDb) {
    let conn = migrated(&db).await;
    let owner = user(&conn, 1).await;
    for (i, (kind, amount)) in [
        (LedgerKind::TopUp, 100),
        (LedgerKind::GenerationDebit, 5),
        (LedgerKind::GenerationRefund, 5),
        (LedgerKind::GenerationDebit, 5),
    ]
    .into_iter()
    .enumerate()
    {
        let key = format!("e{i}");
        ledger::book(
            &conn,
            ledger::Entry {
                user: owner,
                kind,
                amount: Credits::new(amount),
                key: &key,
                note: None,
            },
        )
        .await
        .unwrap();
    }
    let page = ledger::history(&conn, owner, None, 2).await.unwrap();
    let seen: Vec<(i64, i64)> = page.iter().map(|l| (l.amount, l.balance_after)).collect();
    assert_eq!(seen, [(-5, 95), (5, 100)]);
    let older = ledger::history(&conn, owner, Some(page[1].id), 2)
        .await
        .unwrap();
    let seen: Vec<(i64, i64)> = older.iter().map(|l| (l.amount, l.balance_after)).collect();
    assert_eq!(seen, [(-5, 95), (100, 100)]);
    assert_eq!(older[1].kind, Some(LedgerKind::TopUp));
}

async fn promo_codes_respect_every_limit(db: TestDb) {
    use sea_orm::TransactionTrait;
    use studio_persistence::repos::promos::{self, NewPromo, Redeemed};
    let conn = migrated(&db).await;
    let new = |code, max_uses, valid_until| NewPromo {
        code,
        credits: Credits::new(10),
        max_uses,
        per_user: 1,
        valid_until,
    };
    assert!(promos::create(&conn, new("spring", 3, None)).await.unwrap());
    assert!(
        !promos::create(&conn, new("SPRING", 3, None)).await.unwrap(),
        "codes are case-insensitive"
    );
    let past = chrono::Utc::now() - chrono::Duration::days(1);
    promos::create(&conn, new("old", 5, Some(past)))
        .await
        .unwrap();
    let mut users = Vec::new();
    for i in 0..10 {
        users.push(user(&conn, 100 + i).await);
    }
    let pool = studio_persistence::connect(&db.url, 10).await.unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for owner in users.clone() {
        let pool = pool.clone();
        tasks.spawn(async move {
            let txn = pool.begin().await.unwrap();
            let outcome = promos::redeem(&txn, owner, " Spring ").await.unwrap();
            txn.commit().await.unwrap();
            outcome
        });
    }
    let outcomes = tasks.join_all().await;
    let credited = outcomes
        .iter()
        .filter(|o| **o == Redeemed::Credited(Credits::new(10)))
        .count();
    assert_eq!(credited, 3);
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| **o == Redeemed::Exhausted)
            .count(),
        7
    );
    let mut winners = Vec::new();
    for owner in &users {
        if ledger::balance(&conn, *owner).await.unwrap() == Credits::new(10) {
            winners.push(*owner);
        }
    }
    assert_eq!(
        winners.len(),
        3,
        "exactly the three credited users got the credits"
    );
    let winner = winners[0];
    promos::create(&conn, new("twice", 10, None)).await.unwrap();
    assert_eq!(
        promos::redeem(&conn, winner, "twice").await.unwrap(),
        Redeemed::Credited(Credits::new(10))
    );
    assert_eq!(
        promos::redeem(&conn, winner, "twice").await.unwrap(),
        Redeemed::AlreadyUsed
    );
    assert_eq!(
        promos::redeem(&conn, winner, "old").await.unwrap(),
        Redeemed::Expired
    );
    assert_eq!(
        promos::redeem(&conn, winner, "nope").await.unwrap(),
        Redeemed::Unknown
    );
    assert!(promos::disable(&conn, "twice").await.unwrap());
    assert_eq!(
        promos::redeem(&conn, users[0], "twice").await.unwrap(),
        Redeemed::Unknown
    );
    let listed = promos::list(&conn).await.unwrap();
    assert_eq!((listed[0].code.as_str(), listed[0].uses), ("SPRING", 3));
    assert_eq!(
        listed.iter().find(|p| p.code == "TWICE").unwrap().uses,
        1,
        "a refused reuse gives its use back"
    );
}

async fn payments_credit_once_and_refund_once(db: TestDb) {
    use studio_persistence::repos::payments::{self, Credited};
    let conn = migrated(&db).await;
    let owner = user(&conn, 1).await;
    assert_eq!(
        payments::credit(&conn, owner, "ch_1", 50, Credits::new(100))
            .await
            .unwrap(),
        Credited::Credited
    );
    assert_eq!(
        payments::credit(&conn, owner, "ch_1", 50, Credits::new(100))
            .await
            .unwrap(),
        Credited::AlreadyCredited
    );
    assert_eq!(
        ledger::balance(&conn, owner).await.unwrap(),
        Credits::new(100)
    );
    let payment = payments::find(&conn, "ch_1").await.unwrap().unwrap();
    assert_eq!(
        (payment.stars, payment.credits, payment.refunded),
        (50, Credits::new(100), false)
    );
    assert_eq!(
        payments::refund(&conn, "ch_1", &payment).await.unwrap(),
        ledger::Debit::Booked
    );
    assert_eq!(
        payments::refund(&conn, "ch_1", &payment).await.unwrap(),
        ledger::Debit::Missing(Credits::new(100))
    );
    assert!(
        payments::find(&conn, "ch_1")
            .await
            .unwrap()
            .unwrap()
            .refunded
    );
    assert_eq!(ledger::balance(&conn, owner).await.unwrap(), Credits::ZERO);
}

async fn settled_queue_rows_are_purged_but_dead_ones_kept(db: TestDb) {
    let conn = migrated(&db).await;
    let lease = Duration::from_secs(30);
    for id in 1..=3 {
        let new = inbox::NewUpdate {
            update_id: UpdateId(id),
            lane: id,
            payload: "{}",
        };
        inbox::accept(&conn, new).await.unwrap();
    }
    let claimed = inbox::claim(&conn, 10, lease).await.unwrap();
    assert!(inbox::complete(&conn, &claimed[0]).await.unwrap());
    assert!(
        inbox::dead_letter(&conn, &claimed[1], "kept")
            .await
            .unwrap()
    );
    let later = chrono::Utc::now() + chrono::Duration::seconds(5);
    assert_eq!(
        inbox::purge(&conn, later).await.unwrap(),
        1,
        "only the done row"
    );
    assert!(inbox::find(&conn, UpdateId(1)).await.unwrap().is_none());
    assert!(
        inbox::find(&conn, UpdateId(2)).await.unwrap().is_some(),
        "dead rows stay"
    );
    assert!(
        inbox::find(&conn, UpdateId(3)).await.unwrap().is_some(),
        "pending rows stay"
    );
    let earlier = chrono::Utc::now() - chrono::Duration::days(1);
    outbox::enqueue(&conn, ChatId(1), "sendMessage", "{}")
        .await
        .unwrap();
    let call = outbox::claim(&conn, 1, lease).await.unwrap().remove(0);
    outbox::mark_sent(&conn, &call, None).await.unwrap();
    assert_eq!(
        outbox::purge(&conn, earlier).await.unwrap(),
        0,
        "recent rows stay"
    );
    assert_eq!(outbox::purge(&conn, later).await.unwrap(), 1);
}
