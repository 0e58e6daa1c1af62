//! The avatar wizard after the gender: name, photo upload with progress, the uploaded photos
//! one by one, the review, and the draft's cancellation.

use studio_domain::photo::{MAX_PHOTOS, MIN_PHOTOS, MIN_SHORT_SIDE, PhotoRejection};
use studio_domain::{AvatarId, Credits, NameError};

use crate::callback::{AvatarAction, Callback, DraftAction, Menu};
use crate::i18n::fill;
use crate::keyboard::{Button, InlineKeyboard};
use crate::screens::avatars::{AvatarView, avatar_button, gender_text};
use crate::{Screen, Texts};

pub fn ask_name(t: &Texts) -> Screen {
    let keyboard = InlineKeyboard::default().row([Button::new(
        &t.button_my_avatars_back,
        Callback::Menu(Menu::MyAvatars),
    )]);
    Screen::text(t.ask_name.clone(), keyboard)
}

pub fn name_error(t: &Texts, error: NameError) -> Screen {
    let line = match error {
        NameError::TooShort => &t.name_too_short,
        NameError::TooLong => &t.name_too_long,
    };
    Screen {
        html: format!("{line}\n\n{}", t.ask_name),
        ..ask_name(t)
    }
}

pub fn name_not_text(t: &Texts) -> Screen {
    Screen {
        html: t.name_not_text.clone(),
        ..ask_name(t)
    }
}

/// The upload's buttons: the photos, the review once there are enough, cancelling the draft.
fn upload_keyboard(t: &Texts, avatar: AvatarId, photos: usize) -> InlineKeyboard {
    let mut first = vec![avatar_button(
        &t.button_photos,
        AvatarAction::Draft(avatar, DraftAction::Photos(0)),
    )];
    if photos >= MIN_PHOTOS {
        first.push(avatar_button(
            &t.button_review,
            AvatarAction::Draft(avatar, DraftAction::Review),
        ));
    }
    InlineKeyboard::default().row(first).row([avatar_button(
        &t.button_cancel_draft,
        AvatarAction::Draft(avatar, DraftAction::Cancel),
    )])
}

pub fn upload_intro(t: &Texts, draft: &AvatarView) -> Screen {
    let html = format!(
        "{}\n\n{}",
        fill(&t.upload_intro, &[("name", &draft.name)]),
        progress_line(t, draft.photos)
    );
    Screen::text(html, upload_keyboard(t, draft.id, draft.photos))
}

fn progress_line(t: &Texts, photos: usize) -> String {
    let (count, max) = (photos.to_string(), MAX_PHOTOS.to_string());
    let head = fill(&t.progress, &[("count", &count), ("max", &max)]);
    let tail = if photos >= MIN_PHOTOS {
        fill(&t.progress_ready, &[("max", &max)])
    } else {
        fill(
            &t.progress_need,
            &[("n", &(MIN_PHOTOS - photos).to_string())],
        )
    };
    format!("{head} {tail}")
}

/// The progress message, edited in place as photos arrive.
pub fn progress(t: &Texts, avatar: AvatarId, photos: usize) -> Screen {
    Screen::text(progress_line(t, photos), upload_keyboard(t, avatar, photos))
}

/// One line saying why a photo was refused.
pub fn rejection(t: &Texts, why: PhotoRejection) -> String {
    match why {
        PhotoRejection::TooLarge => t.photo_too_large.clone(),
        PhotoRejection::Heic => t.photo_heic.clone(),
        PhotoRejection::UnsupportedFormat => t.photo_unsupported.clone(),
        PhotoRejection::NotAnImage => t.photo_not_image.clone(),
        PhotoRejection::TooSmall { width, height } => fill(
            &t.photo_too_small,
            &[
                ("width", &width.to_string()),
                ("height", &height.to_string()),
                ("min", &MIN_SHORT_SIDE.to_string()),
            ],
        ),
        PhotoRejection::TooManyPixels { width, height } => fill(
            &t.photo_too_many_pixels,
            &[
                ("width", &width.to_string()),
                ("height", &height.to_string()),
            ],
        ),
        PhotoRejection::Duplicate => t.photo_duplicate.clone(),
        PhotoRejection::LimitReached => fill(&t.photo_limit, &[("max", &MAX_PHOTOS.to_string())]),
    }
}

pub fn need_photo(t: &Texts, avatar: AvatarId, photos: usize) -> Screen {
    Screen::text(t.need_photo.clone(), upload_keyboard(t, avatar, photos))
}

/// An uploaded photo, with its neighbours' ids for ◀ ▶ (the list wraps around).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotoPage {
    pub photo_id: i64,
    pub photo: crate::Photo,
    pub index: usize,
    pub total: usize,
    pub prev: i64,
    pub next: i64,
}

pub fn photo(t: &Texts, draft: &AvatarView, page: &PhotoPage) -> Screen {
    let (i, n) = (page.index.to_string(), page.total.to_string());
    let html = fill(
        &t.photo_view,
        &[("i", &i), ("n", &n), ("name", &draft.name)],
    );
    let mut keyboard = InlineKeyboard::default();
    if page.total > 1 {
        keyboard = keyboard.row([
            avatar_button(
                "◀",
                AvatarAction::Draft(draft.id, DraftAction::Photos(page.prev)),
            ),
            avatar_button(
                &format!("{i}/{n}"),
                AvatarAction::Draft(draft.id, DraftAction::Photos(page.photo_id)),
            ),
            avatar_button(
                "▶",
                AvatarAction::Draft(draft.id, DraftAction::Photos(page.next)),
            ),
        ]);
    }
    let keyboard = keyboard
        .row([avatar_button(
            &t.button_delete_photo,
            AvatarAction::Draft(draft.id, DraftAction::DeletePhoto(page.photo_id)),
        )])
        .row([avatar_button(
            &t.button_back_to_upload,
            AvatarAction::Draft(draft.id, DraftAction::Continue),
        )]);
    Screen {
        html,
        keyboard: Some(keyboard),
        photo: Some(page.photo.clone()),
    }
}

pub fn no_photos(t: &Texts, draft: &AvatarView) -> Screen {
    let keyboard = InlineKeyboard::default().row([avatar_button(
        &t.button_back_to_upload,
        AvatarAction::Draft(draft.id, DraftAction::Continue),
    )]);
    Screen::text(t.photos_empty.clone(), keyboard)
}

pub fn review(t: &Texts, draft: &AvatarView, cost: Credits, balance: Credits) -> Screen {
    let (photos, cost_s, balance_s) = (
        draft.photos.to_string(),
        cost.to_string(),
        balance.to_string(),
    );
    let mut html = fill(
        &t.review,
        &[
            ("name", &draft.name),
            ("gender", gender_text(t, draft.gender)),
            ("photos", &photos),
            ("cost", &cost_s),
            ("balance", &balance_s),
        ],
    );
    let verdict = if draft.photos < MIN_PHOTOS {
        fill(
            &t.review_need_photos,
            &[("n", &(MIN_PHOTOS - draft.photos).to_string())],
        )
    } else {
        match balance.debit(cost) {
            Ok(_) => t.review_ready.clone(),
            Err(missing) => fill(
                &t.review_need_credits,
                &[("missing", &missing.0.to_string())],
            ),
        }
    };
    html.push_str("\n\n");
    html.push_str(&verdict);
    let mut keyboard = InlineKeyboard::default();
    if draft.photos >= MIN_PHOTOS && balance.debit(cost).is_ok() {
        keyboard = keyboard.row([avatar_button(
            &t.button_start_training,
            AvatarAction::Draft(draft.id, DraftAction::StartTraining),
        )]);
    }
    let keyboard = keyboard
        .row([
            avatar_button(
                &t.button_photos,
                AvatarAction::Draft(draft.id, DraftAction::Photos(0)),
            ),
            avatar_button(
                &t.button_back_to_upload,
                AvatarAction::Draft(draft.id, DraftAction::Continue),
            ),
        ])
        .row([avatar_button(
            &t.button_cancel_draft,
            AvatarAction::Draft(draft.id, DraftAction::Cancel),
        )]);
    Screen::text(html, keyboard)
}

pub fn cancel_confirm(t: &Texts, draft: &AvatarView) -> Screen {
    let photos = draft.photos.to_string();
    let html = fill(
        &t.cancel_draft_confirm,
        &[("name", &draft.name), ("photos", &photos)],
    );
    let keyboard = InlineKeyboard::default().row([
        avatar_button(
            &t.button_yes_cancel_draft,
            AvatarAction::Draft(draft.id, DraftAction::CancelConfirmed),
        ),
        avatar_button(
            &t.button_no,
            AvatarAction::Draft(draft.id, DraftAction::Continue),
        ),
    ]);
    Screen::text(html, keyboard)
}

#[cfg(test)]
mod tests {
    use studio_domain::photo::PhotoRejection;
    use studio_domain::{AvatarId, AvatarStatus, Credits, Gender, Language};

    use crate::screens::avatars::AvatarView;
    use crate::texts;

    fn draft(photos: usize) -> AvatarView {
        AvatarView {
            id: AvatarId(1),
            name: "Me".into(),
            is_main: false,
            gender: Gender::Male,
            status: AvatarStatus::PhotosUploading,
            photos,
            created: "2026-11-25".into(),
            preview: None,
            training_minutes: None,
        }
    }

    #[test]
    fn progress_says_how_many_are_missing() {
        let t = texts(Language::En);
        assert!(
            super::progress(t, AvatarId(1), 3)
                .html
                .contains("3/20 uploaded. 7 more needed")
        );
        let ready = super::progress(t, AvatarId(1), 12);
        assert!(ready.html.contains("12/20"));
        assert!(
            ready.keyboard.unwrap().inline_keyboard[0].len() == 2,
            "review offered"
        );
    }

    #[test]
    fn review_names_missing_credits_and_offers_training_only_when_possible() {
        let t = texts(Language::En);
        let short = super::review(t, &draft(10), Credits::new(150), Credits::new(100));
        assert!(short.html.contains("50 credits missing"));
        assert!(
            !short
                .keyboard
                .unwrap()
                .inline_keyboard
                .concat()
                .iter()
                .any(|b| b.callback_data.starts_with("1:a:train"))
        );
        let ready = super::review(t, &draft(10), Credits::new(150), Credits::new(150));
        assert!(
            ready.keyboard.unwrap().inline_keyboard[0][0]
                .callback_data
                .starts_with("1:a:train")
        );
    }

    #[test]
    fn every_rejection_is_one_line() {
        let t = texts(Language::Ru);
        for why in [
            PhotoRejection::TooLarge,
            PhotoRejection::Heic,
            PhotoRejection::UnsupportedFormat,
            PhotoRejection::NotAnImage,
            PhotoRejection::TooSmall {
                width: 300,
                height: 300,
            },
            PhotoRejection::Duplicate,
            PhotoRejection::LimitReached,
        ] {
            let line = super::rejection(t, why);
            assert!(
                !line.is_empty() && !line.contains('\n') && !line.contains('{'),
                "{line}"
            );
        }
    }
}
