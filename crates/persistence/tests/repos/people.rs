//! Users, avatars (always through their owner) and training photos.

use super::*;

on_both_backends!(
    users_upsert_and_block,
    a_batch_of_people_is_upserted_at_once,
    avatars_are_found_only_through_their_owner,
    avatar_status_changes_follow_the_domain,
    one_main_avatar_per_user,
    photos_count_refuse_duplicates_and_cap_at_twenty,
);

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
    let id = avatar.id;
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
    let id = avatars::create_draft(&conn, owner, &name, Gender::Male)
        .await
        .unwrap()
        .id;
    for next in [
        AvatarStatus::PhotosUploading,
        AvatarStatus::ReadyForTraining,
        AvatarStatus::Training,
        AvatarStatus::Completed,
    ] {
        let avatar = avatars::change_status(&conn, owner, id, next)
            .await
            .expect("legal");
        assert_eq!(avatar.status, next);
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
    avatars::change_status(&conn, owner, a.id, AvatarStatus::Cancelled)
        .await
        .unwrap();
    let b = avatars::create_draft(&conn, owner, &name, Gender::Male)
        .await
        .unwrap();
    let set_main = |id: i64| format!("UPDATE avatars SET is_main = true WHERE id = {id}");
    conn.execute_unprepared(&set_main(a.id.0))
        .await
        .expect("first main");
    assert!(
        conn.execute_unprepared(&set_main(b.id.0)).await.is_err(),
        "second main refused"
    );
    // The draft index: a second open draft for the same user is refused too.
    assert!(
        avatars::create_draft(&conn, owner, &name, Gender::Female)
            .await
            .is_err()
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
    assert_eq!(synced.status, AvatarStatus::ReadyForTraining);
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
    assert_eq!(back.status, AvatarStatus::PhotosUploading);
    let empty = avatars::sync_draft_status(&conn, &back, 0).await.unwrap();
    assert_eq!(empty.status, AvatarStatus::Draft);
    // Another user's avatar row cannot be had, so neither can its photos.
    assert!(
        avatars::find_owned(&conn, user(&conn, 2).await, avatar.id)
            .await
            .unwrap()
            .is_none()
    );
}

async fn a_batch_of_people_is_upserted_at_once(db: TestDb) {
    let conn = migrated(&db).await;
    let known = users::upsert(&conn, &profile(7)).await.unwrap();
    users::set_blocked(&conn, TelegramUserId(7), true)
        .await
        .unwrap();
    let mut renamed = profile(7);
    renamed.first_name = "Seven".into();
    // The same person twice in a batch (two chats) is one row, the last profile winning.
    let batch = [profile(9), profile(7), renamed, profile(8)];
    let people = users::upsert_many(&conn, &batch).await.unwrap();
    assert_eq!(people.len(), 3);
    let seven = &people[&TelegramUserId(7)];
    assert_eq!(seven.id, known.id, "an existing person keeps their row");
    assert_eq!(seven.first_name, "Seven");
    assert!(
        !seven.is_blocked,
        "a new message means the bot is not blocked"
    );
    assert_eq!(people[&TelegramUserId(9)].telegram_id, TelegramUserId(9));
    assert!(users::upsert_many(&conn, &[]).await.unwrap().is_empty());
}
