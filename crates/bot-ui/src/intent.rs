//! Update + dialog → what the person wants. Parsing happens once, here; the server matches on
//! `Intent` and calls one use case per arm.

use studio_domain::photo::MAX_PHOTO_BYTES;
use studio_domain::{AvatarId, Gender};

use crate::callback::{Callback, Menu};
use crate::dialog::Dialog;
use crate::update::{Document, Message, Update};

/// A photo, or a file that may be one, sent for an avatar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadedFile {
    pub avatar: AvatarId,
    pub file_id: String,
    /// The size Telegram declares; checked again while downloading.
    pub declared_size: Option<u64>,
    /// Sent as a compressed photo, so `file_id` is a photo's; a file's id is a document's,
    /// which Telegram will not show as a photo.
    pub as_photo: bool,
}

/// Why a reference for a prompt was not taken; each gets its own answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferenceRejection {
    /// Larger than the 20 MB the Bot API lets a bot download.
    TooLarge,
    /// A file that is not a JPEG, PNG or WEBP image (a PDF, an archive).
    NotAnImage,
    Sticker,
    /// Text, a video, a voice note: neither a photo nor a file.
    NotAPhoto,
}

/// The file types a reference may be sent as.
const REFERENCE_TYPES: [&str; 3] = ["image/jpeg", "image/png", "image/webp"];
const REFERENCE_EXTENSIONS: [&str; 4] = ["jpg", "jpeg", "png", "webp"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intent {
    /// `/start`: register or refresh, then the main menu.
    Start,
    /// `/help`.
    Help,
    /// A button we recognise.
    Tap(Callback),
    /// A button we do not (an old version's, another bot's, tampered): answer and refresh.
    Stale,
    /// The person blocked the bot (`my_chat_member` → `kicked`).
    Blocked,
    /// The person unblocked it again.
    Unblocked,
    /// Input the current dialog does not expect: a hint and the main menu.
    Unrecognised,
    /// Text while the wizard waits for a name.
    AvatarName { gender: Gender, text: String },
    /// Text while a rename waits.
    RenameTo { avatar: AvatarId, text: String },
    /// Something else than text while a name is expected.
    NeedNameText,
    /// A photo or a file for the draft being filled.
    Photo(UploadedFile),
    /// Something else than a photo while photos are expected.
    NeedPhoto { avatar: AvatarId },
    /// Text while a promo code is expected.
    PromoCode(String),
    /// Text while a prompt is expected (or a new one while its ratio is being chosen).
    PromptText { avatar: AvatarId, text: String },
    /// Something else than text while a prompt is expected.
    NeedPromptText,
    /// A photo or image file to make a prompt from.
    ReferencePhoto(UploadedFile),
    /// Something sent as a reference that cannot be one.
    ReferenceRejected(ReferenceRejection),
    /// Input while the language model works on this chat's prompt.
    ModelBusy,
    /// Telegram asks whether this payment may go through.
    PreCheckout {
        query_id: String,
        payload: String,
        currency: String,
        amount: u32,
    },
    /// A payment went through.
    Paid {
        charge_id: String,
        payload: String,
        currency: String,
        amount: u32,
    },
    /// Telegram says a Stars payment was refunded: its credits go back, once.
    Refunded { charge_id: String },
    /// Nothing to do: edits, channel posts, other bots, group chatter, unknown update kinds.
    Ignore,
}

pub fn intent(dialog: &Dialog, update: &Update) -> Intent {
    if let Some(query) = &update.callback_query {
        return match query.data.as_deref().and_then(Callback::decode) {
            Some(callback) => Intent::Tap(callback),
            None => Intent::Stale,
        };
    }
    if let Some(query) = &update.pre_checkout_query {
        return Intent::PreCheckout {
            query_id: query.id.clone(),
            payload: query.invoice_payload.clone(),
            currency: query.currency.clone(),
            amount: query.total_amount,
        };
    }
    if let Some(member) = &update.my_chat_member {
        return match member.new_chat_member.status.as_str() {
            "kicked" if member.chat.is_private() => Intent::Blocked,
            "member" if member.chat.is_private() => Intent::Unblocked,
            _ => Intent::Ignore,
        };
    }
    if let Some(message) = &update.message
        && is_from_a_person_in_private(message)
    {
        return message_intent(dialog, message);
    }
    // An edit that turns a message into a command (a fixed typo: /strat → /start) runs the
    // command; other edits change nothing we already acted on.
    match &update.edited_message {
        Some(message) if is_from_a_person_in_private(message) => message
            .text
            .as_deref()
            .and_then(command)
            .map_or(Intent::Ignore, command_intent),
        Some(_) | None => Intent::Ignore,
    }
}

fn is_from_a_person_in_private(message: &Message) -> bool {
    message.chat.is_private() && message.from.as_ref().is_some_and(|u| !u.is_bot)
}

fn message_intent(dialog: &Dialog, message: &Message) -> Intent {
    // A payment is a service message: it counts whatever the dialog.
    if let Some(paid) = &message.successful_payment {
        return Intent::Paid {
            charge_id: paid.telegram_payment_charge_id.clone(),
            payload: paid.invoice_payload.clone(),
            currency: paid.currency.clone(),
            amount: paid.total_amount,
        };
    }
    if let Some(refunded) = &message.refunded_payment {
        return Intent::Refunded {
            charge_id: refunded.telegram_payment_charge_id.clone(),
        };
    }
    if let Some(command) = message.text.as_deref().and_then(command) {
        return command_intent(command);
    }
    let text = message.text.clone();
    match (dialog, text) {
        (Dialog::Idle, _) => Intent::Unrecognised,
        (Dialog::AwaitingName { gender }, Some(text)) => Intent::AvatarName {
            gender: *gender,
            text,
        },
        (Dialog::AwaitingRename { avatar }, Some(text)) => Intent::RenameTo {
            avatar: *avatar,
            text,
        },
        (Dialog::AwaitingName { .. } | Dialog::AwaitingRename { .. }, None) => Intent::NeedNameText,
        (Dialog::UploadingPhotos { avatar }, _) => upload_intent(*avatar, message),
        (Dialog::AwaitingPromo, Some(text)) => Intent::PromoCode(text),
        (Dialog::AwaitingPromo, None) => Intent::Unrecognised,
        (Dialog::AwaitingPrompt { avatar } | Dialog::ChoosingRatio { avatar, .. }, Some(text)) => {
            Intent::PromptText {
                avatar: *avatar,
                text,
            }
        }
        (Dialog::AwaitingPrompt { .. } | Dialog::ChoosingRatio { .. }, None) => {
            Intent::NeedPromptText
        }
        // Typing instead of pressing Edit prompt is an edit too.
        (Dialog::ReviewingPrompt { avatar, .. }, Some(text)) => Intent::PromptText {
            avatar: *avatar,
            text,
        },
        (Dialog::ReviewingPrompt { .. }, None) => Intent::NeedPromptText,
        (Dialog::AwaitingReference { avatar }, _) => reference_intent(*avatar, message),
        (Dialog::AwaitingModel { .. }, _) => Intent::ModelBusy,
    }
}

fn reference_intent(avatar: AvatarId, message: &Message) -> Intent {
    let rejected = Intent::ReferenceRejected;
    if message.sticker.is_some() {
        return rejected(ReferenceRejection::Sticker);
    }
    let (file_id, size, as_photo) =
        if let Some(largest) = message.photo.as_ref().and_then(|s| s.last()) {
            (&largest.file_id, largest.file_size, true)
        } else if let Some(document) = &message.document {
            if !is_image_file(document) {
                return rejected(ReferenceRejection::NotAnImage);
            }
            (&document.file_id, document.file_size, false)
        } else {
            return rejected(ReferenceRejection::NotAPhoto);
        };
    if size.is_some_and(|size| size > MAX_PHOTO_BYTES) {
        return rejected(ReferenceRejection::TooLarge);
    }
    Intent::ReferencePhoto(UploadedFile {
        avatar,
        file_id: file_id.clone(),
        declared_size: size,
        as_photo,
    })
}

/// By its declared type, else its name; the bytes are checked again after the download.
fn is_image_file(document: &Document) -> bool {
    if let Some(mime) = &document.mime_type {
        return REFERENCE_TYPES.contains(&mime.to_ascii_lowercase().as_str());
    }
    let extension = document
        .file_name
        .as_deref()
        .and_then(|name| name.rsplit_once('.'))
        .map(|(_, ext)| ext.to_ascii_lowercase());
    extension.is_some_and(|ext| REFERENCE_EXTENSIONS.contains(&ext.as_str()))
}

fn upload_intent(avatar: AvatarId, message: &Message) -> Intent {
    // The largest size of a compressed photo is the last one.
    if let Some(largest) = message.photo.as_ref().and_then(|sizes| sizes.last()) {
        return Intent::Photo(UploadedFile {
            avatar,
            file_id: largest.file_id.clone(),
            declared_size: largest.file_size,
            as_photo: true,
        });
    }
    match &message.document {
        Some(document) => Intent::Photo(UploadedFile {
            avatar,
            file_id: document.file_id.clone(),
            declared_size: document.file_size,
            as_photo: false,
        }),
        None => Intent::NeedPhoto { avatar },
    }
}

fn command_intent(command: &str) -> Intent {
    match command {
        "start" => Intent::Start,
        "help" => Intent::Help,
        "menu" => Intent::Tap(Callback::Menu(Menu::Main)),
        _ => Intent::Unrecognised,
    }
}

/// `/start`, `/start payload`, `/start@BotName` → `start`.
fn command(text: &str) -> Option<&str> {
    let word = text.strip_prefix('/')?.split_whitespace().next()?;
    Some(word.split('@').next().unwrap_or(word))
}

#[cfg(test)]
mod tests {
    use super::{Intent, intent};
    use crate::{Callback, Dialog, Menu, Update};

    fn message(text: &str, chat_type: &str) -> Update {
        let raw = serde_json::json!({"update_id": 1, "message": {"message_id": 1, "date": 1,
            "chat": {"id": 5, "type": chat_type}, "from": {"id": 5, "is_bot": false, "first_name": "A"},
            "text": text}});
        serde_json::from_value(raw).unwrap()
    }

    #[test]
    fn commands_in_private_chats() {
        let idle = Dialog::Idle;
        assert_eq!(intent(&idle, &message("/start", "private")), Intent::Start);
        assert_eq!(
            intent(&idle, &message("/start@AvatarBot ref1", "private")),
            Intent::Start
        );
        assert_eq!(intent(&idle, &message("/help", "private")), Intent::Help);
        assert_eq!(
            intent(&idle, &message("/menu", "private")),
            Intent::Tap(Callback::Menu(Menu::Main))
        );
        assert_eq!(
            intent(&idle, &message("/nope", "private")),
            Intent::Unrecognised
        );
        assert_eq!(
            intent(&idle, &message("hello", "private")),
            Intent::Unrecognised
        );
        assert_eq!(intent(&idle, &message("/start", "group")), Intent::Ignore);
    }

    #[test]
    fn edits_run_commands_only() {
        let edit = |text: &str| {
            let raw = serde_json::json!({"update_id": 1, "edited_message": {"message_id": 1,
                "date": 1, "edit_date": 2, "chat": {"id": 5, "type": "private"},
                "from": {"id": 5, "is_bot": false, "first_name": "A"}, "text": text}});
            serde_json::from_value::<Update>(raw).unwrap()
        };
        assert_eq!(intent(&Dialog::Idle, &edit("/start")), Intent::Start);
        assert_eq!(
            intent(&Dialog::Idle, &edit("a prompt, edited")),
            Intent::Ignore
        );
    }

    #[test]
    fn the_dialog_decides_what_text_and_photos_mean() {
        use studio_domain::{AvatarId, Gender};
        let naming = Dialog::AwaitingName {
            gender: Gender::Male,
        };
        assert_eq!(
            intent(&naming, &message("  Max ", "private")),
            Intent::AvatarName {
                gender: Gender::Male,
                text: "  Max ".into()
            }
        );
        assert_eq!(
            intent(&naming, &message("/start", "private")),
            Intent::Start,
            "commands win"
        );
        let uploading = Dialog::UploadingPhotos {
            avatar: AvatarId(3),
        };
        assert_eq!(
            intent(&uploading, &message("hi", "private")),
            Intent::NeedPhoto {
                avatar: AvatarId(3)
            }
        );
        let raw = serde_json::json!({"update_id": 1, "message": {"message_id": 1, "date": 1,
            "chat": {"id": 5, "type": "private"}, "from": {"id": 5, "first_name": "A"},
            "photo": [{"file_id": "small", "file_unique_id": "s", "width": 90, "height": 90},
                      {"file_id": "big", "file_unique_id": "b", "width": 1280, "height": 960, "file_size": 99}]}});
        let photo: Update = serde_json::from_value(raw).unwrap();
        let Intent::Photo(file) = intent(&uploading, &photo) else {
            panic!("not a photo intent")
        };
        assert_eq!(
            (file.file_id.as_str(), file.declared_size),
            ("big", Some(99))
        );
        let sticker = serde_json::json!({"update_id": 1, "message": {"message_id": 1, "date": 1,
            "chat": {"id": 5, "type": "private"}, "from": {"id": 5, "first_name": "A"}, "sticker": {"file_id": "x"}}});
        let sticker: Update = serde_json::from_value(sticker).unwrap();
        assert_eq!(intent(&naming, &sticker), Intent::NeedNameText);
    }

    #[test]
    fn references_are_photos_or_image_files_of_at_most_20_mb() {
        use studio_domain::AvatarId;

        use super::ReferenceRejection;
        let waiting = Dialog::AwaitingReference {
            avatar: AvatarId(3),
        };
        let with = |part: serde_json::Value| {
            let mut raw = serde_json::json!({"update_id": 1, "message": {"message_id": 1,
                "date": 1, "chat": {"id": 5, "type": "private"}, "from": {"id": 5, "first_name": "A"}}});
            raw["message"]
                .as_object_mut()
                .unwrap()
                .extend(part.as_object().unwrap().clone());
            intent(&waiting, &serde_json::from_value(raw).unwrap())
        };
        let document = |mime: &str, size: u64| {
            with(
                serde_json::json!({"document": {"file_id": "d", "file_unique_id": "u",
                "file_name": "x", "mime_type": mime, "file_size": size}}),
            )
        };
        let Intent::ReferencePhoto(file) = document("image/png", 1000) else {
            panic!("an image file is a reference")
        };
        assert_eq!((file.avatar, file.file_id.as_str()), (AvatarId(3), "d"));
        assert_eq!(
            document("image/jpeg", 25 * 1024 * 1024),
            Intent::ReferenceRejected(ReferenceRejection::TooLarge)
        );
        assert_eq!(
            document("application/pdf", 1000),
            Intent::ReferenceRejected(ReferenceRejection::NotAnImage)
        );
        assert_eq!(
            with(serde_json::json!({"sticker": {"file_id": "s"}})),
            Intent::ReferenceRejected(ReferenceRejection::Sticker)
        );
        assert_eq!(
            with(serde_json::json!({"text": "a knight"})),
            Intent::ReferenceRejected(ReferenceRejection::NotAPhoto)
        );
        let named = with(
            serde_json::json!({"document": {"file_id": "n", "file_unique_id": "u",
            "file_name": "me.JPG"}}),
        );
        assert!(matches!(named, Intent::ReferencePhoto(_)), "{named:?}");
        let busy = Dialog::AwaitingModel {
            avatar: AvatarId(3),
            job: studio_domain::PromptJobId(1),
        };
        assert_eq!(
            intent(&busy, &message("hello", "private")),
            Intent::ModelBusy
        );
    }

    #[test]
    fn unknown_callback_data_is_stale() {
        let raw = serde_json::json!({"update_id": 1, "callback_query": {"id": "q",
            "from": {"id": 5, "first_name": "A"}, "data": "test"}});
        let update: Update = serde_json::from_value(raw).unwrap();
        assert_eq!(intent(&Dialog::Idle, &update), Intent::Stale);
    }
}
