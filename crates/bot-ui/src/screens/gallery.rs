//! "My gallery": one finished image at a time, its actions, filters and figures.

use studio_domain::{AspectRatio, AvatarId, Credits, GalleryFilter, GenerationId};

use crate::callback::{Callback, GalleryAction, GenerateAction, Menu};
use crate::i18n::fill;
use crate::keyboard::{Button, InlineKeyboard};
use crate::{Photo, Screen, Texts};

fn button(text: &str, action: GalleryAction) -> Button {
    Button::new(text, Callback::Gallery(action))
}

/// What a gallery card shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardView {
    pub id: GenerationId,
    pub avatar: String,
    pub ratio: AspectRatio,
    pub date: String,
    pub favourite: bool,
    pub photo: Photo,
    /// The library style's name, shown instead of the prompt.
    pub style: Option<String>,
}

/// The card's place under its filter, and its neighbours (the list wraps around).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    pub index: usize,
    pub total: usize,
    pub prev: GenerationId,
    pub next: GenerationId,
    pub filter: GalleryFilter,
}

pub fn card(t: &Texts, view: &CardView, place: Place) -> Screen {
    let badge = if view.favourite {
        t.favourite_badge.as_str()
    } else {
        ""
    };
    let html = fill(
        &t.gallery_card,
        &[
            ("avatar", &view.avatar),
            ("ratio", view.ratio.label()),
            ("date", &view.date),
        ],
    )
    .replace("{favourite}", badge)
        + &view
            .style
            .as_ref()
            .map(|style| fill(&t.gallery_style, &[("style", style)]))
            .unwrap_or_default();
    let f = place.filter;
    let mut keyboard = InlineKeyboard::default();
    if place.total > 1 {
        keyboard = keyboard.row([
            button("◀", GalleryAction::Card(place.prev, f)),
            button(
                &format!("{}/{}", place.index, place.total),
                GalleryAction::Card(view.id, f),
            ),
            button("▶", GalleryAction::Card(place.next, f)),
        ]);
    }
    let favourite = if view.favourite {
        &t.button_unfavourite
    } else {
        &t.button_favourite
    };
    let favourite = button(favourite, GalleryAction::Favourite(view.id, f));
    let first = match view.style {
        Some(_) => keyboard.row([favourite]),
        None => keyboard.row([
            favourite,
            Button::new(
                &t.button_full_prompt,
                Callback::Generate(GenerateAction::ShowPrompt(view.id)),
            ),
        ]),
    };
    let keyboard = first
        .row([
            Button::new(
                &t.button_regenerate,
                Callback::Generate(GenerateAction::Again(view.id)),
            ),
            button(&t.button_delete, GalleryAction::Delete(view.id, f)),
        ])
        .row([
            button(&t.button_filters, GalleryAction::Filters),
            button(&t.button_stats, GalleryAction::Stats),
        ])
        .row(super::back_row(t));
    Screen {
        photo: Some(view.photo.clone()),
        ..Screen::text(html, keyboard)
    }
}

pub fn empty(t: &Texts) -> Screen {
    let keyboard = InlineKeyboard::default()
        .row([Button::new(
            &t.button_create_image,
            Callback::Menu(Menu::CreateImage),
        )])
        .row(super::back_row(t));
    Screen::text(t.gallery_empty.clone(), keyboard)
}

fn back_to_gallery(t: &Texts) -> InlineKeyboard {
    InlineKeyboard::default()
        .row([button(
            &t.button_back_to_gallery,
            GalleryAction::Open(GalleryFilter::All),
        )])
        .row(super::back_row(t))
}

pub fn not_found(t: &Texts) -> Screen {
    Screen::text(t.generation_not_found.clone(), back_to_gallery(t))
}

pub fn delete_confirm(t: &Texts, id: GenerationId, filter: GalleryFilter) -> Screen {
    let keyboard = InlineKeyboard::default().row([
        button(
            &t.button_yes_delete,
            GalleryAction::DeleteConfirmed(id, filter),
        ),
        button(&t.button_no, GalleryAction::Card(id, filter)),
    ]);
    Screen::text(t.gallery_delete_confirm.clone(), keyboard)
}

pub fn deleted(t: &Texts) -> Screen {
    Screen::text(t.gallery_deleted.clone(), back_to_gallery(t))
}

/// All, favourites, or one avatar's images.
pub fn filters(t: &Texts, avatars: &[(AvatarId, String)]) -> Screen {
    let mut keyboard = InlineKeyboard::default().row([
        button(
            &t.button_filter_all,
            GalleryAction::Open(GalleryFilter::All),
        ),
        button(
            &t.button_filter_favourites,
            GalleryAction::Open(GalleryFilter::Favourites),
        ),
    ]);
    for (id, name) in avatars {
        keyboard = keyboard.row([button(
            name,
            GalleryAction::Open(GalleryFilter::Avatar(*id)),
        )]);
    }
    Screen::text(t.gallery_filters.clone(), keyboard.row(super::back_row(t)))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatsView {
    pub images: u64,
    pub favourites: u64,
    pub avatars_used: u64,
    pub spent: Credits,
}

pub fn stats(t: &Texts, view: StatsView) -> Screen {
    let html = fill(
        &t.gallery_stats,
        &[
            ("images", &view.images.to_string()),
            ("favourites", &view.favourites.to_string()),
            ("avatars", &view.avatars_used.to_string()),
            ("spent", &view.spent.to_string()),
        ],
    );
    Screen::text(html, back_to_gallery(t))
}

#[cfg(test)]
mod tests {
    use studio_domain::{AspectRatio, GalleryFilter, GenerationId, Language};

    use super::{CardView, Place, card};
    use crate::{Photo, texts};

    #[test]
    fn card_navigates_by_ids_and_keeps_the_filter() {
        let view = CardView {
            id: GenerationId(20),
            avatar: "<Ann>".into(),
            ratio: AspectRatio::Stories,
            date: "2026-11-25".into(),
            favourite: true,
            photo: Photo::Telegram("f".into()),
            style: None,
        };
        let place = Place {
            index: 2,
            total: 3,
            prev: GenerationId(30),
            next: GenerationId(10),
            filter: GalleryFilter::Favourites,
        };
        let screen = card(texts(Language::En), &view, place);
        assert!(screen.html.starts_with("❤️ <b>&lt;Ann&gt;</b> · 9:16"));
        let nav = &screen.keyboard.unwrap().inline_keyboard[0];
        assert_eq!(nav[0].callback_data, "1:r:c:30:f");
        assert_eq!(nav[1].text, "2/3");
        assert_eq!(nav[2].callback_data, "1:r:c:10:f");
    }
}
