//! Telegram's pace, shared through the database: the bot's moments reserved in batches, and a
//! chat held back after a message, whichever process claims its next call. On SQLite and on
//! PostgreSQL (`TEST_DATABASE_URL`).
#![allow(clippy::unwrap_used)] // integration tests: a panic is the failure report

use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use studio_domain::ChatId;
use studio_persistence::repos::workers;
use studio_persistence::repos::{outbox, send_pace};
use studio_testkit::{TestDb, on_both_backends};

async fn migrated(db: &TestDb) -> DatabaseConnection {
    let conn = studio_persistence::connect(&db.url, 4).await.unwrap();
    studio_persistence::migrate_up(&conn).await.unwrap();
    conn
}

on_both_backends!(
    batches_get_evenly_spaced_moments_after_every_earlier_batch,
    a_chat_is_held_back_after_a_message_for_every_claimer,
);

/// Ten seconds apart, so the few milliseconds between two statements cannot blur the order.
const SPACING: Duration = Duration::from_secs(10);

async fn batches_get_evenly_spaced_moments_after_every_earlier_batch(db: TestDb) {
    let first_replica = migrated(&db).await;
    let second_replica = studio_persistence::connect(&db.url, 4).await.unwrap();

    let first = send_pace::reserve(&first_replica, 3, SPACING)
        .await
        .unwrap();
    assert_eq!(first.wait(0), Duration::ZERO, "an idle pace sends at once");
    assert_eq!(first.wait(2), 2 * SPACING);

    // Another process's batch comes after the three moments already promised.
    let second = send_pace::reserve(&second_replica, 2, SPACING)
        .await
        .unwrap();
    assert!(
        second.wait(0) > 2 * SPACING && second.wait(0) <= 3 * SPACING,
        "{:?}",
        second.wait(0)
    );
    assert_eq!(second.wait(1) - second.wait(0), SPACING);
}

async fn a_chat_is_held_back_after_a_message_for_every_claimer(db: TestDb) {
    let conn = migrated(&db).await;
    let holder = workers::register(&conn).await.unwrap();
    let lease = Duration::from_secs(30);
    for (chat, text) in [(1, "a1"), (1, "a2"), (2, "b1"), (2, "b2")] {
        outbox::enqueue(&conn, ChatId(chat), "sendMessage", text)
            .await
            .unwrap();
    }
    let first = outbox::claim(&conn, 10, lease, &holder).await.unwrap();
    let got: Vec<&str> = first.iter().map(|c| c.payload.as_str()).collect();
    assert_eq!(got, ["a1", "b1"]);
    // A message to chat 1 holds it for a minute; the call to chat 2 counted for nothing.
    let minute = Some(Duration::from_secs(60));
    assert!(outbox::mark_sent(&conn, &first[0], minute).await.unwrap());
    assert!(outbox::mark_sent(&conn, &first[1], None).await.unwrap());

    let another_replica = studio_persistence::connect(&db.url, 4).await.unwrap();

    let another_replica_holder = workers::register(&another_replica).await.unwrap();
    let next = outbox::claim(&another_replica, 10, lease, &another_replica_holder)
        .await
        .unwrap();
    let got: Vec<&str> = next.iter().map(|c| c.payload.as_str()).collect();
    assert_eq!(got, ["b2"], "chat 1 waits out its pace");
    assert!(outbox::mark_sent(&conn, &next[0], None).await.unwrap());

    // Once the moment has passed, the chat's next call is offered.
    let backend = conn.get_database_backend();
    conn.execute_raw(Statement::from_string(
        backend,
        "UPDATE outbox SET paced_until_ms = paced_until_ms - 61000 WHERE paced_until_ms IS NOT NULL",
    ))
    .await
    .unwrap();
    let last = outbox::claim(&another_replica, 10, lease, &another_replica_holder)
        .await
        .unwrap();
    let got: Vec<&str> = last.iter().map(|c| c.payload.as_str()).collect();
    assert_eq!(got, ["a2"]);
}
