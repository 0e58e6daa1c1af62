//! The ledger, debits, history, promo codes and payments.

use super::*;

on_both_backends!(
    ledger_books_each_event_once,
    concurrent_debits_never_overdraw,
    history_shows_balance_after_each_entry,
    promo_codes_respect_every_limit,
    payments_credit_once_and_refund_once,
);

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
    assert_eq!(older[1].kind, LedgerKind::TopUp);
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
