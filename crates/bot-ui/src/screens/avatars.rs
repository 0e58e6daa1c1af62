//! "My avatars": one card at a time, its buttons decided by the avatar's status.

use studio_domain::{AvatarId, AvatarStatus, Gender};

use crate::callback::{AvatarAction, Callback, CardAction, DraftAction, Menu};
use crate::i18n::fill;
use crate::keyboard::{Button, InlineKeyboard};
use crate::{Screen, Texts};

/// What a card shows of an avatar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvatarView {
    pub id: AvatarId,
    pub name: String,
    pub is_main: bool,
    pub gender: Gender,
    pub status: AvatarStatus,
    pub photos: usize,
    /// Creation date as the person reads it (`2026-11-25`).
    pub created: String,
    /// A photo to show on the card.
    pub preview: Option<crate::Photo>,
    /// Minutes since the training started, while it runs.
    pub training_minutes: Option<i64>,
}

/// Where a card sits in the list, and its neighbours' ids (the list wraps around).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub index: usize,
    pub total: usize,
    pub prev: AvatarId,
    pub next: AvatarId,
}

pub fn status_text(t: &Texts, status: AvatarStatus) -> &str {
    match status {
        AvatarStatus::Draft => &t.status_draft,
        AvatarStatus::PhotosUploading => &t.status_photos_uploading,
        AvatarStatus::ReadyForTraining => &t.status_ready_for_training,
        AvatarStatus::Training => &t.status_training,
        AvatarStatus::Completed => &t.status_completed,
        AvatarStatus::Error => &t.status_error,
        AvatarStatus::Cancelled => &t.status_cancelled,
    }
}

pub fn gender_text(t: &Texts, gender: Gender) -> &str {
    match gender {
        Gender::Male => &t.gender_male,
        Gender::Female => &t.gender_female,
    }
}

pub(crate) fn avatar_button(text: &str, action: AvatarAction) -> Button {
    Button::new(text, Callback::Avatar(action))
}

pub fn empty(t: &Texts) -> Screen {
    let keyboard = InlineKeyboard::default()
        .row([avatar_button(&t.button_create_avatar, AvatarAction::Create)])
        .row(super::back_row(t));
    Screen::text(t.avatars_empty.clone(), keyboard)
}

pub fn card(t: &Texts, avatar: &AvatarView, position: Position) -> Screen {
    let photos = avatar.photos.to_string();
    let html = fill(
        &t.card,
        &[
            ("name", &avatar.name),
            ("gender", gender_text(t, avatar.gender)),
            ("status", status_text(t, avatar.status)),
            ("photos", &photos),
            ("date", &avatar.created),
        ],
    )
    .replace("{main}", if avatar.is_main { &t.main_badge } else { "" });
    let html = match avatar.training_minutes {
        Some(minutes) => {
            let line = fill(&t.training_elapsed, &[("minutes", &minutes.to_string())]);
            format!("{html}\n{line}")
        }
        None => html,
    };
    let mut keyboard = actions(t, avatar);
    if position.total > 1 {
        keyboard = keyboard.row([
            avatar_button("◀", AvatarAction::Card(position.prev, CardAction::Show)),
            avatar_button(
                &format!("{}/{}", position.index, position.total),
                AvatarAction::Card(avatar.id, CardAction::Show),
            ),
            avatar_button("▶", AvatarAction::Card(position.next, CardAction::Show)),
        ]);
    }
    let keyboard = keyboard
        .row([avatar_button(&t.button_create_avatar, AvatarAction::Create)])
        .row(super::back_row(t));
    Screen {
        html,
        keyboard: Some(keyboard),
        photo: avatar.preview.clone(),
    }
}

/// The buttons an avatar's status allows; every status is decided here.
fn actions(t: &Texts, avatar: &AvatarView) -> InlineKeyboard {
    let id = avatar.id;
    let manage = [
        avatar_button(&t.button_rename, AvatarAction::Card(id, CardAction::Rename)),
        avatar_button(&t.button_delete, AvatarAction::Card(id, CardAction::Delete)),
    ];
    let keyboard = InlineKeyboard::default();
    let keyboard = match avatar.status {
        AvatarStatus::Draft | AvatarStatus::PhotosUploading => keyboard.row([avatar_button(
            &t.button_continue,
            AvatarAction::Draft(id, DraftAction::Continue),
        )]),
        AvatarStatus::ReadyForTraining => keyboard.row([
            avatar_button(
                &t.button_continue,
                AvatarAction::Draft(id, DraftAction::Continue),
            ),
            avatar_button(
                &t.button_review,
                AvatarAction::Draft(id, DraftAction::Review),
            ),
        ]),
        AvatarStatus::Completed => {
            let generate = avatar_button(
                &t.button_generate,
                AvatarAction::Card(id, CardAction::Generate),
            );
            if avatar.is_main {
                keyboard.row([generate])
            } else {
                keyboard.row([
                    generate,
                    avatar_button(
                        &t.button_make_main,
                        AvatarAction::Card(id, CardAction::MakeMain),
                    ),
                ])
            }
        }
        AvatarStatus::Training => keyboard.row([
            avatar_button(&t.button_refresh, AvatarAction::Card(id, CardAction::Show)),
            avatar_button(
                &t.button_cancel_training,
                AvatarAction::Card(id, CardAction::CancelTraining),
            ),
        ]),
        AvatarStatus::Error | AvatarStatus::Cancelled => keyboard,
    };
    keyboard.row(manage)
}

/// Training started: what happens next, with the way to follow or stop it.
pub fn training_started(t: &Texts, id: AvatarId, name: &str) -> Screen {
    let keyboard = InlineKeyboard::default()
        .row([
            avatar_button(&t.button_refresh, AvatarAction::Card(id, CardAction::Show)),
            avatar_button(
                &t.button_cancel_training,
                AvatarAction::Card(id, CardAction::CancelTraining),
            ),
        ])
        .row(super::back_row(t));
    Screen::text(fill(&t.training_started, &[("name", name)]), keyboard)
}

pub fn cancel_training_confirm(t: &Texts, id: AvatarId, name: &str, refund: &str) -> Screen {
    let keyboard = InlineKeyboard::default().row([
        avatar_button(
            &t.button_yes_cancel_training,
            AvatarAction::Card(id, CardAction::CancelTrainingConfirmed),
        ),
        avatar_button(&t.button_no, AvatarAction::Card(id, CardAction::Show)),
    ]);
    let html = fill(
        &t.cancel_training_confirm,
        &[("name", name), ("cost", refund)],
    );
    Screen::text(html, keyboard)
}

/// The training finished: the avatar is ready to generate with.
pub fn training_ready(t: &Texts, id: AvatarId, name: &str) -> Screen {
    let keyboard = InlineKeyboard::default()
        .row([avatar_button(
            &t.button_generate,
            AvatarAction::Card(id, CardAction::Generate),
        )])
        .row(super::back_row(t));
    Screen::text(fill(&t.training_ready, &[("name", name)]), keyboard)
}

/// The training failed (or took too long) and was refunded.
pub fn training_failed(t: &Texts, name: &str, timed_out: bool, refund: &str) -> Screen {
    let template = if timed_out {
        &t.training_failed_timeout
    } else {
        &t.training_failed
    };
    let keyboard = InlineKeyboard::default()
        .row([avatar_button(&t.button_create_avatar, AvatarAction::Create)])
        .row(super::back_row(t));
    Screen::text(
        fill(template, &[("name", name), ("cost", refund)]),
        keyboard,
    )
}

pub fn gender_picker(t: &Texts) -> Screen {
    let keyboard = InlineKeyboard::default()
        .row([
            avatar_button(&t.gender_male, AvatarAction::Gender(Gender::Male)),
            avatar_button(&t.gender_female, AvatarAction::Gender(Gender::Female)),
        ])
        .row([Button::new(
            &t.button_my_avatars_back,
            Callback::Menu(Menu::MyAvatars),
        )]);
    Screen::text(t.ask_gender.clone(), keyboard)
}

pub fn draft_exists(t: &Texts, draft: &AvatarView) -> Screen {
    let photos = draft.photos.to_string();
    let html = fill(
        &t.draft_exists,
        &[("name", &draft.name), ("photos", &photos)],
    );
    let keyboard = InlineKeyboard::default()
        .row([
            avatar_button(
                &t.button_continue,
                AvatarAction::Draft(draft.id, DraftAction::Continue),
            ),
            avatar_button(
                &t.button_start_over,
                AvatarAction::Draft(draft.id, DraftAction::Discard),
            ),
        ])
        .row([Button::new(
            &t.button_my_avatars_back,
            Callback::Menu(Menu::MyAvatars),
        )]);
    Screen::text(html, keyboard)
}

pub fn delete_confirm(t: &Texts, avatar: &AvatarView, images: u64) -> Screen {
    let (photos, images) = (avatar.photos.to_string(), images.to_string());
    let html = fill(
        &t.delete_confirm,
        &[
            ("name", &avatar.name),
            ("photos", &photos),
            ("images", &images),
        ],
    );
    let keyboard = InlineKeyboard::default().row([
        avatar_button(
            &t.button_yes_delete,
            AvatarAction::Card(avatar.id, CardAction::DeleteConfirmed),
        ),
        avatar_button(
            &t.button_no,
            AvatarAction::Card(avatar.id, CardAction::Show),
        ),
    ]);
    Screen::text(html, keyboard)
}

/// A short notice with the way back to the avatar list.
pub fn notice(t: &Texts, html: String) -> Screen {
    let keyboard = InlineKeyboard::default()
        .row([Button::new(
            &t.button_my_avatars_back,
            Callback::Menu(Menu::MyAvatars),
        )])
        .row(super::back_row(t));
    Screen::text(html, keyboard)
}

pub fn not_found(t: &Texts) -> Screen {
    notice(t, t.avatar_not_found.clone())
}

pub fn ask_rename(t: &Texts, name: &str) -> Screen {
    let keyboard = InlineKeyboard::default().row([Button::new(
        &t.button_my_avatars_back,
        Callback::Menu(Menu::MyAvatars),
    )]);
    Screen::text(fill(&t.ask_rename, &[("name", name)]), keyboard)
}

#[cfg(test)]
mod tests {
    use studio_domain::{AvatarId, AvatarStatus, Gender, Language};

    use super::{AvatarView, Position, card};
    use crate::texts;

    fn view(status: AvatarStatus) -> AvatarView {
        AvatarView {
            id: AvatarId(4),
            name: "<Me>".into(),
            is_main: false,
            gender: Gender::Female,
            status,
            photos: 12,
            created: "2026-11-25".into(),
            preview: Some(crate::Photo::Telegram("file".into())),
            training_minutes: None,
        }
    }

    fn buttons(status: AvatarStatus) -> Vec<String> {
        let position = Position {
            index: 1,
            total: 1,
            prev: AvatarId(4),
            next: AvatarId(4),
        };
        let screen = card(texts(Language::En), &view(status), position);
        screen
            .keyboard
            .unwrap()
            .inline_keyboard
            .concat()
            .into_iter()
            .map(|b| b.text)
            .collect()
    }

    #[test]
    fn actions_follow_the_status() {
        assert!(buttons(AvatarStatus::PhotosUploading).contains(&"▶️ Continue".to_owned()));
        assert!(!buttons(AvatarStatus::PhotosUploading).contains(&"⭐ Make main".to_owned()));
        assert!(buttons(AvatarStatus::Completed).contains(&"⭐ Make main".to_owned()));
        assert!(buttons(AvatarStatus::Completed).contains(&"🎨 Generate".to_owned()));
        assert!(!buttons(AvatarStatus::Error).contains(&"🎨 Generate".to_owned()));
        assert!(!buttons(AvatarStatus::Training).contains(&"▶️ Continue".to_owned()));
        for status in AvatarStatus::ALL {
            assert!(buttons(status).contains(&"🗑 Delete".to_owned()), "{status}");
        }
    }

    #[test]
    fn card_escapes_the_name_and_shows_the_preview() {
        let position = Position {
            index: 2,
            total: 3,
            prev: AvatarId(1),
            next: AvatarId(9),
        };
        let screen = card(
            texts(Language::En),
            &view(AvatarStatus::Completed),
            position,
        );
        assert!(screen.html.contains("&lt;Me&gt;"));
        assert_eq!(screen.photo, Some(crate::Photo::Telegram("file".into())));
        let nav = &screen.keyboard.unwrap().inline_keyboard[2];
        assert_eq!(nav[1].text, "2/3");
        assert_eq!(nav[0].callback_data, "1:a:c:1");
    }
}
