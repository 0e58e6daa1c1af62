//! Bot API calls the bot decides to make, as data. The server stores them in the outbox and
//! one sender makes them; this is the only place their JSON shape is written.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use studio_domain::GenerationId;

use crate::keyboard::InlineKeyboard;

/// A message to show: HTML text and an optional inline keyboard; with `photo` it is a photo
/// whose caption is the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Screen {
    pub html: String,
    pub keyboard: Option<InlineKeyboard>,
    pub photo: Option<Photo>,
}

/// Where a photo comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Photo {
    /// A file Telegram already has: sent by its `file_id`, nothing uploaded.
    Telegram(String),
    /// A file in our storage, uploaded by the sender; the sent photo's `file_id` is recorded
    /// where `remember` says, so the next time is a `Telegram` one.
    Stored { key: String, remember: Remember },
}

/// Whose photo an upload shows: the row that keeps the `file_id` Telegram gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Remember {
    Generation(GenerationId),
    /// A training photo (its `avatar_photos` id); one sent as a file has no photo id before.
    AvatarPhoto(i64),
}

/// The field of an outgoing call's payload that asks the sender to upload a stored file (as
/// the multipart part `photo`) instead of posting JSON. Only `outgoing` writes it and only the
/// sender reads it.
pub const UPLOAD_FIELD: &str = "upload";

/// The field of a `sendMediaGroup` payload listing the stored files to upload, in the order
/// of `media` (whose items name them `attach://p0`, `attach://p1`, …).
pub const ALBUM_FIELD: &str = "album";

/// An image of an album: a stored file, whose `file_id` is kept on its generation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlbumPhoto {
    pub key: String,
    pub generation: GenerationId,
}

/// What `UPLOAD_FIELD` holds: where the file is, and which row keeps the id Telegram gives it
/// (at most one is set; flat, so calls queued by an earlier release still read).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upload {
    pub key: String,
    #[serde(default)]
    pub generation: Option<GenerationId>,
    #[serde(default)]
    pub avatar_photo: Option<i64>,
}

impl Upload {
    /// The row that keeps the uploaded photo's id.
    pub fn remember(&self) -> Option<Remember> {
        match (self.generation, self.avatar_photo) {
            (Some(generation), _) => Some(Remember::Generation(generation)),
            (None, Some(photo)) => Some(Remember::AvatarPhoto(photo)),
            (None, None) => None,
        }
    }
}

impl Photo {
    /// The value of `photo` / `media`, and the upload the sender must attach, if any.
    fn reference(&self) -> (String, Option<Upload>) {
        match self {
            Self::Telegram(file_id) => (file_id.clone(), None),
            Self::Stored { key, remember } => {
                let (generation, avatar_photo) = match *remember {
                    Remember::Generation(id) => (Some(id), None),
                    Remember::AvatarPhoto(id) => (None, Some(id)),
                };
                let upload = Upload {
                    key: key.clone(),
                    generation,
                    avatar_photo,
                };
                ("attach://photo".into(), Some(upload))
            }
        }
    }
}

impl Screen {
    pub fn text(html: String, keyboard: InlineKeyboard) -> Self {
        Self {
            html,
            keyboard: Some(keyboard),
            photo: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing {
    Send {
        chat: i64,
        screen: Screen,
    },
    /// A text message the sender edits in place on the next call with the same tag.
    SendTagged {
        chat: i64,
        tag: String,
        screen: Screen,
    },
    /// 2–10 stored photos as one album (`sendMediaGroup`); the caption shows under the first.
    Album {
        chat: i64,
        caption: String,
        photos: Vec<AlbumPhoto>,
    },
    /// Replaces a message the bot sent before (navigation edits in place). A photo screen
    /// replaces a photo message's media and caption.
    Edit {
        chat: i64,
        message_id: i64,
        screen: Screen,
    },
    Delete {
        chat: i64,
        message_id: i64,
    },
    /// Stops the button's spinner; `text` shows as a small toast.
    AnswerCallback {
        chat: i64,
        query_id: String,
        text: Option<String>,
    },
    /// A Telegram Stars invoice (`XTR`, empty provider token).
    Invoice {
        chat: i64,
        title: String,
        description: String,
        payload: String,
        label: String,
        stars: u32,
    },
    /// Lets a payment through, or declines it with a reason the payer sees.
    AnswerPreCheckout {
        chat: i64,
        query_id: String,
        error: Option<String>,
    },
}

impl Outgoing {
    pub fn chat(&self) -> i64 {
        match self {
            Self::Send { chat, .. }
            | Self::SendTagged { chat, .. }
            | Self::Album { chat, .. }
            | Self::Edit { chat, .. }
            | Self::Delete { chat, .. }
            | Self::AnswerCallback { chat, .. }
            | Self::Invoice { chat, .. }
            | Self::AnswerPreCheckout { chat, .. } => *chat,
        }
    }

    pub fn tag(&self) -> Option<&str> {
        match self {
            Self::SendTagged { tag, .. } => Some(tag),
            Self::Send { .. }
            | Self::Album { .. }
            | Self::Edit { .. }
            | Self::Delete { .. }
            | Self::AnswerCallback { .. }
            | Self::Invoice { .. }
            | Self::AnswerPreCheckout { .. } => None,
        }
    }

    /// Answers to a query that Telegram stops waiting for (a button press after about 15 s,
    /// a pre-checkout query after 10 s): they are sent the moment they are decided, not
    /// queued behind messages.
    pub fn answers_a_query(&self) -> bool {
        match self {
            Self::AnswerCallback { .. } | Self::AnswerPreCheckout { .. } => true,
            Self::Send { .. }
            | Self::SendTagged { .. }
            | Self::Album { .. }
            | Self::Edit { .. }
            | Self::Delete { .. }
            | Self::Invoice { .. } => false,
        }
    }

    /// The message an edit replaces whole, if this is one: a later edit of the same message
    /// makes an earlier one that was not sent yet pointless.
    pub fn edited_message(&self) -> Option<i64> {
        match self {
            Self::Edit { message_id, .. } => Some(*message_id),
            Self::Send { .. }
            | Self::SendTagged { .. }
            | Self::Album { .. }
            | Self::Delete { .. }
            | Self::AnswerCallback { .. }
            | Self::Invoice { .. }
            | Self::AnswerPreCheckout { .. } => None,
        }
    }

    pub fn method(&self) -> &'static str {
        match self {
            Self::Send { screen, .. } if screen.photo.is_some() => "sendPhoto",
            Self::Send { .. } | Self::SendTagged { .. } => "sendMessage",
            Self::Album { .. } => "sendMediaGroup",
            Self::Edit { screen, .. } if screen.photo.is_some() => "editMessageMedia",
            Self::Edit { .. } => "editMessageText",
            Self::Delete { .. } => "deleteMessage",
            Self::AnswerCallback { .. } => "answerCallbackQuery",
            Self::Invoice { .. } => "sendInvoice",
            Self::AnswerPreCheckout { .. } => "answerPreCheckoutQuery",
        }
    }

    pub fn payload(&self) -> Value {
        match self {
            Self::Send { chat, screen } | Self::SendTagged { chat, screen, .. } => {
                let body = match screen.photo.as_ref().map(Photo::reference) {
                    Some((photo, upload)) => {
                        let mut body =
                            json!({"chat_id": chat, "caption": screen.html, "parse_mode": "HTML"});
                        match upload {
                            // The multipart part named `photo` is the file itself.
                            Some(upload) => body[UPLOAD_FIELD] = json!(upload),
                            None => body["photo"] = json!(photo),
                        }
                        body
                    }
                    None => json!({"chat_id": chat, "text": screen.html, "parse_mode": "HTML"}),
                };
                with_keyboard(body, screen)
            }
            Self::Edit {
                chat,
                message_id,
                screen,
            } => {
                let body = match screen.photo.as_ref().map(Photo::reference) {
                    Some((media, upload)) => {
                        let mut body = json!({"chat_id": chat, "message_id": message_id, "media": {
                            "type": "photo", "media": media, "caption": screen.html, "parse_mode": "HTML"}});
                        if let Some(upload) = upload {
                            body[UPLOAD_FIELD] = json!(upload);
                        }
                        body
                    }
                    None => {
                        json!({"chat_id": chat, "message_id": message_id, "text": screen.html, "parse_mode": "HTML"})
                    }
                };
                with_keyboard(body, screen)
            }
            Self::Album {
                chat,
                caption,
                photos,
            } => album_payload(*chat, caption, photos),
            Self::Delete { chat, message_id } => json!({"chat_id": chat, "message_id": message_id}),
            Self::AnswerCallback { query_id, text, .. } => match text {
                Some(text) => json!({"callback_query_id": query_id, "text": text}),
                None => json!({"callback_query_id": query_id}),
            },
            Self::Invoice {
                chat,
                title,
                description,
                payload,
                label,
                stars,
            } => json!({
                "chat_id": chat, "title": title, "description": description, "payload": payload,
                "provider_token": "", "currency": "XTR", "prices": [{"label": label, "amount": stars}],
            }),
            Self::AnswerPreCheckout {
                query_id, error, ..
            } => match error {
                None => json!({"pre_checkout_query_id": query_id, "ok": true}),
                Some(error) => {
                    json!({"pre_checkout_query_id": query_id, "ok": false, "error_message": error})
                }
            },
        }
    }
}

/// The call that shows an edit's screen as a new message, for a message Telegram can no longer
/// edit (the person deleted it, or it is too old): `None` for calls that edit nothing. An
/// upload stays an upload: the file is the multipart part `photo`.
pub fn as_new_message(method: &str, payload: &Value) -> Option<(&'static str, Value)> {
    let mut new = payload.clone();
    let object = new.as_object_mut()?;
    object.remove("message_id");
    match method {
        "editMessageText" => Some(("sendMessage", new)),
        "editMessageMedia" => {
            let media = object.remove("media")?;
            for field in ["caption", "parse_mode"] {
                if let Some(value) = media.get(field) {
                    object.insert(field.into(), value.clone());
                }
            }
            let photo = media.get("media").and_then(Value::as_str)?;
            if !photo.starts_with("attach://") {
                object.insert("photo".into(), json!(photo));
            }
            Some(("sendPhoto", new))
        }
        _ => None,
    }
}

fn album_payload(chat: i64, caption: &str, photos: &[AlbumPhoto]) -> Value {
    let media: Vec<Value> = photos
        .iter()
        .enumerate()
        .map(|(i, _)| match i {
            0 => json!({"type": "photo", "media": "attach://p0", "caption": caption,
                "parse_mode": "HTML"}),
            _ => json!({"type": "photo", "media": format!("attach://p{i}")}),
        })
        .collect();
    let uploads: Vec<Upload> = photos
        .iter()
        .map(|photo| Upload {
            key: photo.key.clone(),
            generation: Some(photo.generation),
            avatar_photo: None,
        })
        .collect();
    json!({"chat_id": chat, "media": media, ALBUM_FIELD: uploads})
}

fn with_keyboard(mut payload: Value, screen: &Screen) -> Value {
    if let (Some(keyboard), Some(object)) = (&screen.keyboard, payload.as_object_mut()) {
        object.insert("reply_markup".into(), json!(keyboard));
    }
    payload
}

#[cfg(test)]
mod tests {
    use super::{Outgoing, Screen};
    use crate::{Button, Callback, InlineKeyboard, Menu};

    fn keyboard() -> InlineKeyboard {
        InlineKeyboard::default().row([Button::new("Help", Callback::Menu(Menu::Help))])
    }

    #[test]
    fn send_payload_has_html_and_keyboard() {
        let call = Outgoing::Send {
            chat: 5,
            screen: Screen::text("<b>x</b>".into(), keyboard()),
        };
        assert_eq!(call.method(), "sendMessage");
        let payload = call.payload();
        assert_eq!(payload["parse_mode"], "HTML");
        assert_eq!(
            payload["reply_markup"]["inline_keyboard"][0][0]["callback_data"],
            "1:m:help"
        );
    }

    #[test]
    fn photo_screens_become_photo_calls() {
        let screen = Screen {
            photo: Some(super::Photo::Telegram("file-1".into())),
            ..Screen::text("card".into(), keyboard())
        };
        let send = Outgoing::Send {
            chat: 5,
            screen: screen.clone(),
        };
        assert_eq!(
            (send.method(), send.payload()["photo"].as_str()),
            ("sendPhoto", Some("file-1"))
        );
        let edit = Outgoing::Edit {
            chat: 5,
            message_id: 9,
            screen,
        };
        assert_eq!(edit.method(), "editMessageMedia");
        assert_eq!(edit.payload()["media"]["caption"], "card");
    }

    #[test]
    fn an_edit_becomes_a_new_message_of_the_same_screen() {
        let screen = Screen {
            photo: Some(super::Photo::Telegram("file-1".into())),
            ..Screen::text("card".into(), keyboard())
        };
        let edit = Outgoing::Edit {
            chat: 5,
            message_id: 9,
            screen,
        };
        let (method, send) = super::as_new_message(edit.method(), &edit.payload()).unwrap();
        assert_eq!(method, "sendPhoto");
        assert_eq!(send["photo"], "file-1");
        assert_eq!(send["caption"], "card");
        assert_eq!(send["chat_id"], 5);
        assert!(send.get("message_id").is_none() && send.get("media").is_none());
        assert!(send["reply_markup"].is_object());
        assert!(super::as_new_message("sendMessage", &send).is_none());
    }

    #[test]
    fn an_album_names_its_uploads_in_order_with_one_caption() {
        let photos = [3, 4, 5].map(|g| super::AlbumPhoto {
            key: format!("generations/{g}.jpg"),
            generation: studio_domain::GenerationId(g),
        });
        let album = Outgoing::Album {
            chat: 5,
            caption: "pack".into(),
            photos: photos.to_vec(),
        };
        let payload = album.payload();
        assert_eq!(album.method(), "sendMediaGroup");
        assert_eq!(payload["media"][0]["caption"], "pack");
        assert_eq!(payload["media"][2]["media"], "attach://p2");
        assert!(payload["media"][1].get("caption").is_none());
        assert_eq!(payload[super::ALBUM_FIELD][1]["generation"], 4);
    }

    #[test]
    fn stored_photos_ask_the_sender_to_upload() {
        let screen = Screen {
            photo: Some(super::Photo::Stored {
                key: "generations/7.jpg".into(),
                remember: super::Remember::Generation(studio_domain::GenerationId(7)),
            }),
            ..Screen::text("result".into(), keyboard())
        };
        let send = Outgoing::Send { chat: 5, screen };
        let payload = send.payload();
        assert_eq!(send.method(), "sendPhoto");
        assert_eq!(payload.get("photo"), None);
        assert_eq!(payload[super::UPLOAD_FIELD]["key"], "generations/7.jpg");
        assert_eq!(payload[super::UPLOAD_FIELD]["generation"], 7);
    }
}
