//! The bot's own vacuum of churning tables: on PostgreSQL (`TEST_DATABASE_URL`) it finds the
//! tables that gathered dead rows and vacuums them; on SQLite it has nothing to do.
#![allow(clippy::unwrap_used)] // integration tests: a panic is the failure report

use sea_orm::{ConnectionTrait, DatabaseConnection};
use studio_domain::UpdateId;
use studio_persistence::repos::inbox::{self, NewUpdate};
use studio_persistence::upkeep;
use studio_testkit::{TestDb, on_both_backends};

on_both_backends!(a_churned_table_is_vacuumed_once_it_has_enough_dead_rows,);

/// One connection: its statistics are the ones flushed before the vacuum reads them.
async fn migrated(db: &TestDb) -> DatabaseConnection {
    let conn = studio_persistence::connect(&db.url, 1).await.unwrap();
    studio_persistence::migrate_up(&conn).await.unwrap();
    conn
}

async fn a_churned_table_is_vacuumed_once_it_has_enough_dead_rows(db: TestDb) {
    let conn = migrated(&db).await;
    let payloads: Vec<String> = (0..60).map(|i| format!("{{\"update_id\":{i}}}")).collect();
    let updates: Vec<NewUpdate<'_>> = payloads
        .iter()
        .enumerate()
        .map(|(i, payload)| NewUpdate {
            update_id: UpdateId(i64::try_from(i).unwrap()),
            lane: 7,
            payload,
        })
        .collect();
    inbox::accept_many(&conn, &updates).await.unwrap();
    conn.execute_unprepared("UPDATE inbox SET attempts = attempts + 1")
        .await
        .unwrap();
    if !upkeep::applies(&conn) {
        assert_eq!(upkeep::vacuum_churned(&conn, 0).await.unwrap(), vec![]);
        return;
    }
    // Statistics reach the shared counters when a transaction ends; this one's must not wait.
    conn.execute_unprepared("SELECT pg_stat_force_next_flush()")
        .await
        .unwrap();

    let vacuumed = upkeep::vacuum_churned(&conn, 50).await.unwrap();
    let inbox = vacuumed.iter().find(|t| t.table == "inbox");
    assert!(
        inbox.is_some_and(|t| t.dead >= 60),
        "the inbox's 60 dead rows call for a vacuum: {vacuumed:?}"
    );
    let again = upkeep::vacuum_churned(&conn, 50).await.unwrap();
    assert!(
        again.iter().all(|t| t.table != "inbox"),
        "a vacuumed table has no dead rows left: {again:?}"
    );
}
