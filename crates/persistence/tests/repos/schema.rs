//! Migrations and the native enums behind statuses.

use super::*;

on_both_backends!(
    migrations_go_up_down_and_up_again,
    status_labels_match_the_rust_enums,
    every_enum_column_accepts_exactly_the_code_labels,
    unknown_status_labels_are_refused,
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

/// A text enum column whose CHECK list drifted from the code's labels (here a label the code
/// does not have) fails readiness, naming the column. PostgreSQL only: SQLite cannot change a
/// CHECK in place.
#[tokio::test]
async fn a_drifted_check_list_is_not_ready() {
    let db = TestDb::postgres().await;
    let conn = migrated(&db).await;
    for sql in [
        "ALTER TABLE avatars DROP CONSTRAINT avatars_gender_check",
        "ALTER TABLE avatars ADD CONSTRAINT avatars_gender_check \
         CHECK (gender IN ('male', 'female', 'other'))",
    ] {
        conn.execute_unprepared(sql)
            .await
            .expect("constraint changed");
    }
    match check_ready(&conn).await {
        Err(studio_persistence::NotReady::EnumDrift { name, database, .. }) => {
            assert_eq!(name, "avatars.gender");
            assert_eq!(database, ["male", "female", "other"]);
        }
        other => panic!("expected the drift, got {other:?}"),
    }
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

async fn every_enum_column_accepts_exactly_the_code_labels(db: TestDb) {
    let conn = migrated(&db).await;
    let columns = studio_persistence::enum_columns();
    assert!(columns.len() >= 12, "every enum column is listed");
    for column in columns {
        let labels = studio_persistence::column_labels(&conn, &column)
            .await
            .expect("labels");
        assert_eq!(labels, column.code, "{}.{}", column.table, column.column);
    }
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
