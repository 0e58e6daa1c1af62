//! A pack's deliveries: after each of its images finishes (or fails, refunded), the images
//! due go out as one album and the pack's progress message is edited, in the transaction
//! that settled the image.

use studio_bot_ui::screens::styles::{self as screen, ProgressView};
use studio_bot_ui::{AlbumPhoto, Outgoing, Photo, Remember, Screen, texts};
use studio_domain::styles::Library;
use studio_domain::{Language, PackOrderId, UserId};
use studio_persistence::repos::packs::{self, PackProgress};
use studio_persistence::{ConnectionTrait, RepoError};

/// The tag of a pack's progress message: each pack has its own, edited in place.
pub fn progress_tag(id: PackOrderId) -> String {
    format!("pack:{id}")
}

/// A pack just ordered: nothing finished yet.
pub fn progress_view(name: &str, images: usize) -> ProgressView {
    ProgressView {
        name: name.to_owned(),
        images,
        completed: 0,
        failed: 0,
        refunded: studio_domain::Credits::ZERO,
        finished: false,
    }
}

/// Settles the pack after one of its images finished: its album, if one is due, and its
/// progress. Returns whether anything was queued for the person.
pub async fn image_finished(
    db: &impl ConnectionTrait,
    library: &Library,
    user: UserId,
    pack: PackOrderId,
) -> Result<bool, RepoError> {
    let Some(progress) = packs::settle(db, pack).await? else {
        return Ok(false);
    };
    if progress.finished {
        tracing::info!(
            pack_order_id = %pack,
            completed = progress.completed,
            failed = progress.failed,
            "style pack finished"
        );
    }
    crate::notify::calls(db, user, |language, chat| {
        messages(library, language, chat, &progress)
    })
    .await
}

fn messages(
    library: &Library,
    language: Language,
    chat: i64,
    progress: &PackProgress,
) -> Vec<Outgoing> {
    let t = texts(language);
    let name = progress.pack.and_then(|key| library.pack(key)).map_or_else(
        || progress.pack.map(|k| k.to_string()).unwrap_or_default(),
        |pack| pack.name.get(language).to_owned(),
    );
    let mut calls = Vec::new();
    let caption = screen::album_caption(t, &name, progress.completed, progress.images);
    match progress.album.as_slice() {
        [] => {}
        [one] => calls.push(Outgoing::Send {
            chat,
            screen: Screen {
                html: caption,
                keyboard: None,
                photo: Some(Photo::Stored {
                    key: one.key.clone(),
                    remember: Remember::Generation(one.generation),
                }),
            },
        }),
        many => calls.push(Outgoing::Album {
            chat,
            caption,
            photos: many
                .iter()
                .map(|item| AlbumPhoto {
                    key: item.key.clone(),
                    generation: item.generation,
                })
                .collect(),
        }),
    }
    let view = ProgressView {
        name,
        images: progress.images,
        completed: progress.completed,
        failed: progress.failed,
        refunded: progress.refunded,
        finished: progress.finished,
    };
    calls.push(Outgoing::SendTagged {
        chat,
        tag: progress_tag(progress.id),
        screen: screen::pack_progress(t, &view),
    });
    calls
}
