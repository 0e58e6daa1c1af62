//! Everything Telegram-facing that needs no I/O: incoming update shapes, the mapping of an
//! update plus the chat's dialog to an `Intent`, screens (text and keyboards) in the user's
//! language, the callback-data codec, and the outgoing calls that show a screen.
//!
//! No database, no HTTP: the server feeds updates in and sends what comes out.
#![warn(clippy::wildcard_enum_match_arm)]

mod callback;
mod dialog;
mod i18n;
mod intent;
mod keyboard;
mod outgoing;
pub mod screens;
mod text;
pub mod update;

pub use callback::{
    AvatarAction, Callback, CardAction, DraftAction, GalleryAction, GenerateAction, Menu,
    PhotoPromptAction, ProfileAction, StyleAction,
};
pub use dialog::Dialog;
pub use i18n::{Texts, fill, texts};
pub use intent::{Intent, ReferenceRejection, UploadedFile, intent};
pub use keyboard::{Button, InlineKeyboard};
pub use outgoing::{
    ALBUM_FIELD, AlbumPhoto, Outgoing, Photo, Remember, Screen, UPLOAD_FIELD, Upload,
    as_new_message,
};
pub use text::escape;
pub use update::Update;
