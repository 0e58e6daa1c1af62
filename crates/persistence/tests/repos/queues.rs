//! The inbox, the outbox and their claims, leases and settling; chat state and tagged messages.

use super::*;

on_both_backends!(
    inbox_dedupes_and_keeps_chat_order,
    a_dead_processs_claims_are_free_at_once,
    edits_of_one_message_coalesce_while_they_wait,
    inbox_stores_batches_with_duplicates,
    inbox_claims_are_fenced_and_retried,
    outbox_orders_per_chat_and_drops_for_blocked_chats,
    chat_state_round_trips,
    tagged_messages_are_remembered_per_chat,
    settled_queue_rows_are_purged_but_dead_ones_kept,
    a_batch_completes_together_or_not_at_all,
    dialogs_load_and_save_in_batches,
    sent_calls_settle_together_each_fenced_and_paced,
    calls_that_lead_their_chat_are_claimed_as_they_are_written,
);

async fn inbox_dedupes_and_keeps_chat_order(db: TestDb) {
    let conn = migrated(&db).await;
    let holder = workers::register(&conn).await.unwrap();
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

    let first = inbox::claim(&conn, 10, lease, &holder).await.unwrap();
    let ids: Vec<i64> = first.iter().map(|c| c.update_id.0).collect();
    assert_eq!(ids, [10, 11], "one row per lane, the oldest arrival first");
    assert!(
        inbox::claim(&conn, 10, lease, &holder)
            .await
            .unwrap()
            .is_empty(),
        "leased rows wait"
    );

    assert!(inbox::complete(&conn, &first[0]).await.unwrap());
    let second = inbox::claim(&conn, 10, lease, &holder).await.unwrap();
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
    let holder = workers::register(&conn).await.unwrap();
    let new = inbox::NewUpdate {
        update_id: UpdateId(1),
        lane: 1,
        payload: "{\"update_id\":1}",
    };
    inbox::accept(&conn, new).await.unwrap();
    let stale = inbox::claim(&conn, 1, Duration::from_secs(30), &holder)
        .await
        .unwrap()
        .remove(0);
    // The claimant crashed and its lease ran out.
    conn.execute_unprepared("UPDATE inbox SET lease_until_ms = 0")
        .await
        .unwrap();
    let fresh = inbox::claim(&conn, 1, Duration::from_secs(30), &holder)
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
    let again = inbox::claim(&conn, 1, Duration::from_secs(30), &holder)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(again.payload, "{\"update_id\":1}");
    assert!(inbox::dead_letter(&conn, &again, "gave up").await.unwrap());
    assert!(
        inbox::claim(&conn, 1, Duration::ZERO, &holder)
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
    let holder = workers::register(&conn).await.unwrap();
    let lease = Duration::from_secs(30);
    for (chat, text) in [(1, "a1"), (1, "a2"), (2, "b1")] {
        outbox::enqueue(&conn, ChatId(chat), "sendMessage", text)
            .await
            .unwrap();
    }
    let first = outbox::claim(&conn, 10, lease, &holder).await.unwrap();
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
    assert!(
        outbox::claim(&conn, 10, lease, &holder)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(outbox::backlog(&conn).await.unwrap().0, 0);
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

async fn settled_queue_rows_are_purged_but_dead_ones_kept(db: TestDb) {
    let conn = migrated(&db).await;
    let holder = workers::register(&conn).await.unwrap();
    let lease = Duration::from_secs(30);
    accept_three(&conn).await;
    let claimed = inbox::claim(&conn, 10, lease, &holder).await.unwrap();
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
    let call = outbox::claim(&conn, 1, lease, &holder)
        .await
        .unwrap()
        .remove(0);
    outbox::mark_sent(&conn, &call, None).await.unwrap();
    assert_eq!(
        outbox::purge(&conn, earlier).await.unwrap(),
        0,
        "recent rows stay"
    );
    assert_eq!(outbox::purge(&conn, later).await.unwrap(), 1);
}

/// A claim is its holder's for the lease while the holder beats; once it stops (killed), the
/// claim is free without waiting for the lease.
async fn a_dead_processs_claims_are_free_at_once(db: TestDb) {
    let conn = migrated(&db).await;
    let update = inbox::NewUpdate {
        update_id: UpdateId(1),
        lane: 1,
        payload: "{}",
    };
    inbox::accept(&conn, update).await.unwrap();
    let lease = Duration::from_secs(600);
    let (killed, survivor) = (
        workers::register(&conn).await.unwrap(),
        workers::register(&conn).await.unwrap(),
    );
    assert_eq!(
        inbox::claim(&conn, 10, lease, &killed).await.unwrap().len(),
        1
    );
    assert!(
        inbox::claim(&conn, 10, lease, &survivor)
            .await
            .unwrap()
            .is_empty(),
        "a live holder keeps its claim"
    );
    // The holder's heartbeat goes stale as it would after a SIGKILL.
    let stale = Statement::from_sql_and_values(
        conn.get_database_backend(),
        match conn.get_database_backend() {
            DbBackend::Postgres => "UPDATE workers SET heartbeat_ms = 0 WHERE id = $1",
            _ => "UPDATE workers SET heartbeat_ms = 0 WHERE id = ?",
        },
        [killed.id().to_string().into()],
    );
    conn.execute_raw(stale).await.unwrap();
    let taken = inbox::claim(&conn, 10, lease, &survivor).await.unwrap();
    assert_eq!(taken.len(), 1, "taken over before its lease ends");
    assert_eq!(taken[0].attempts, 2);
    // A holder that stops cleanly frees what it holds the same way.
    inbox::complete(&conn, &taken[0]).await.unwrap();
    workers::forget(&conn, &survivor).await.unwrap();
    assert_eq!(workers::purge(&conn, Duration::ZERO).await.unwrap(), 1);
}

/// A chat pressing one button over and over: its message's edits replace each other while
/// they wait, so one stays pending; one already claimed is left to finish.
async fn edits_of_one_message_coalesce_while_they_wait(db: TestDb) {
    let conn = migrated(&db).await;
    let holder = workers::register(&conn).await.unwrap();
    let chat = studio_domain::ChatId(77);
    let edit = |n: u32| format!("{{\"chat_id\":77,\"message_id\":5,\"text\":\"v{n}\"}}");
    let mut dropped = 0;
    for n in 0..3 {
        dropped += outbox::enqueue_edit(&conn, chat, "editMessageText", &edit(n), 5)
            .await
            .unwrap();
    }
    assert_eq!(dropped, 2);
    outbox::enqueue_edit(&conn, chat, "editMessageText", &edit(9), 6)
        .await
        .unwrap();
    let rows = outbox::for_chat(&conn, chat).await.unwrap();
    let texts: Vec<&str> = rows.iter().map(|r| r.payload.as_str()).collect();
    assert_eq!(texts, [edit(2), edit(9)], "the last edit of each message");

    let claimed = outbox::claim(&conn, 1, Duration::from_secs(60), &holder)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    let age = chrono::Utc::now().timestamp_millis() - claimed[0].created_ms;
    assert!((0..60_000).contains(&age), "decided {age} ms ago");
    outbox::enqueue_edit(&conn, chat, "editMessageText", &edit(3), 5)
        .await
        .unwrap();
    assert_eq!(
        outbox::for_chat(&conn, chat).await.unwrap().len(),
        3,
        "the claimed edit is being sent: it stays"
    );
}

async fn a_batch_completes_together_or_not_at_all(db: TestDb) {
    let conn = migrated(&db).await;
    let holder = workers::register(&conn).await.unwrap();
    accept_three(&conn).await;
    let lease = Duration::from_secs(30);
    let claims = inbox::claim(&conn, 10, lease, &holder).await.unwrap();
    assert_eq!(claims.len(), 3);
    // One claim goes stale: its lease ran out and it was claimed again elsewhere.
    conn.execute_unprepared("UPDATE inbox SET attempts = attempts + 1 WHERE update_id = 2")
        .await
        .unwrap();
    let all: Vec<&inbox::ClaimedUpdate> = claims.iter().collect();
    let txn = studio_persistence::begin(&conn).await.unwrap();
    assert!(
        !inbox::complete_many(&txn, &all).await.unwrap(),
        "a lost claim fails the batch"
    );
    drop(txn);
    let ours: Vec<&inbox::ClaimedUpdate> = claims.iter().filter(|c| c.update_id.0 != 2).collect();
    assert!(inbox::complete_many(&conn, &ours).await.unwrap());
    let again = inbox::claim(&conn, 10, Duration::ZERO, &holder)
        .await
        .unwrap();
    assert!(
        again.is_empty(),
        "done rows are not offered, the taken one is leased"
    );
}

async fn dialogs_load_and_save_in_batches(db: TestDb) {
    let conn = migrated(&db).await;
    chat_state::save(&conn, ChatId(1), "one").await.unwrap();
    let writes = [
        (ChatId(2), "two".to_owned()),
        (ChatId(1), "first".to_owned()),
        (ChatId(1), "uno".to_owned()),
    ];
    chat_state::save_many(&conn, &writes).await.unwrap();
    let loaded = chat_state::load_many(&conn, &[ChatId(1), ChatId(2), ChatId(3)])
        .await
        .unwrap();
    assert_eq!(loaded.len(), 2, "a chat without a dialog is absent");
    assert_eq!(loaded[&ChatId(1)], "uno", "the last write for a chat wins");
    assert_eq!(loaded[&ChatId(2)], "two");
}

async fn sent_calls_settle_together_each_fenced_and_paced(db: TestDb) {
    let conn = migrated(&db).await;
    let holder = workers::register(&conn).await.unwrap();
    let lease = Duration::from_secs(30);
    let calls = [(1, "a1"), (1, "a2"), (2, "b1"), (2, "b2"), (3, "c1")].map(|(chat, text)| {
        outbox::NewCall {
            chat: ChatId(chat),
            method: "sendMessage",
            payload: text.to_owned(),
            tag: None,
        }
    });
    outbox::enqueue_many(&conn, calls.to_vec()).await.unwrap();
    let first = outbox::claim(&conn, 10, lease, &holder).await.unwrap();
    let got: Vec<&str> = first.iter().map(|c| c.payload.as_str()).collect();
    assert_eq!(got, ["a1", "b1", "c1"], "one call per chat, in order");
    let sent = |call: &outbox::ClaimedCall, attempts: i32, hold: Option<Duration>| outbox::Sent {
        id: call.id,
        attempts,
        hold,
    };
    let settled = outbox::mark_sent_many(
        &conn,
        &[
            sent(
                &first[0],
                first[0].attempts,
                Some(Duration::from_secs(3600)),
            ),
            sent(&first[1], first[1].attempts, None),
            sent(&first[2], first[2].attempts + 1, None),
        ],
    )
    .await
    .unwrap();
    assert_eq!(
        settled.len(),
        2,
        "a stale claim is not settled: {settled:?}"
    );
    assert!(settled.contains(&first[0].id) && settled.contains(&first[1].id));
    let next = outbox::claim(&conn, 10, lease, &holder).await.unwrap();
    let got: Vec<&str> = next.iter().map(|c| c.payload.as_str()).collect();
    assert_eq!(
        got,
        ["b2"],
        "chat 1 is held for an hour, chat 3's call still leased"
    );
    assert!(outbox::mark_sent_many(&conn, &[]).await.unwrap().is_empty());
}

async fn calls_that_lead_their_chat_are_claimed_as_they_are_written(db: TestDb) {
    let conn = migrated(&db).await;
    let holder = workers::register(&conn).await.unwrap();
    let lease = Duration::from_secs(30);
    let call = |chat: i64, text: &str| outbox::NewCall {
        chat: ChatId(chat),
        method: "sendMessage",
        payload: text.to_owned(),
        tag: None,
    };
    // Chat 1 has a call waiting; chat 3 was just sent to and is held back.
    outbox::enqueue(&conn, ChatId(1), "sendMessage", "earlier")
        .await
        .unwrap();
    outbox::enqueue(&conn, ChatId(3), "sendMessage", "sent")
        .await
        .unwrap();
    let claimed = outbox::claim(&conn, 10, lease, &holder).await.unwrap();
    let held = claimed.iter().find(|c| c.chat_id == ChatId(3)).unwrap();
    let sent = outbox::Sent {
        id: held.id,
        attempts: held.attempts,
        hold: Some(Duration::from_secs(3600)),
    };
    outbox::mark_sent_many(&conn, &[sent]).await.unwrap();
    let first = claimed
        .iter()
        .find(|c| c.chat_id == ChatId(1))
        .unwrap()
        .clone();
    outbox::retry(&conn, &first, Duration::ZERO, "later", None)
        .await
        .unwrap();

    let batch = vec![call(1, "x"), call(2, "y1"), call(2, "y2"), call(3, "z")];
    let heads = outbox::enqueue_and_claim_heads(&conn, batch, lease, &holder)
        .await
        .unwrap();
    let got: Vec<&str> = heads.iter().map(|c| c.payload.as_str()).collect();
    assert_eq!(
        got,
        ["y1"],
        "behind an earlier call, second in its chat, or held: not claimed"
    );
    let rest = outbox::claim(&conn, 10, lease, &holder).await.unwrap();
    let got: Vec<&str> = rest.iter().map(|c| c.payload.as_str()).collect();
    assert_eq!(got, ["earlier"], "the rest wait for the sender, in order");
    let sent = outbox::Sent {
        id: heads[0].id,
        attempts: heads[0].attempts,
        hold: None,
    };
    assert_eq!(
        outbox::mark_sent_many(&conn, &[sent]).await.unwrap(),
        [heads[0].id],
        "a call born claimed settles like a claimed one"
    );
}

/// Updates 1, 2 and 3, each in its own lane.
async fn accept_three(conn: &DatabaseConnection) {
    for id in 1..=3 {
        let new = inbox::NewUpdate {
            update_id: UpdateId(id),
            lane: id,
            payload: "{}",
        };
        inbox::accept(conn, new).await.unwrap();
    }
}
