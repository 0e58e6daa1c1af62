//! The style library: categories, a style's card, "My styles", packs and their progress.
//! Every button carries the avatar the library was opened for.

use studio_domain::styles::{CategoryKey, PackKey, StyleKey};
use studio_domain::{AspectRatio, AvatarId, Credits};

use crate::callback::{Callback, GenerateAction, ProfileAction, StyleAction};
use crate::i18n::fill;
use crate::keyboard::{Button, InlineKeyboard};
use crate::{Menu, Screen, Texts, escape};

fn button(text: &str, action: StyleAction) -> Button {
    Button::new(text, Callback::Style(action))
}

fn back_to_library(t: &Texts, avatar: AvatarId) -> [Button; 2] {
    [
        button(&t.button_styles_back, StyleAction::Menu(Some(avatar))),
        Button::new(&t.button_main_menu, Callback::Menu(Menu::Main)),
    ]
}

/// A name as a list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named<K> {
    pub key: K,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibraryView {
    pub avatar_id: AvatarId,
    pub avatar: String,
    pub cost: Credits,
    pub balance: Credits,
    /// Category names with their emoji, in menu order.
    pub categories: Vec<Named<CategoryKey>>,
}

pub fn library(t: &Texts, view: &LibraryView) -> Screen {
    let html = fill(
        &t.styles_menu,
        &[
            ("avatar", &view.avatar),
            ("cost", &view.cost.to_string()),
            ("balance", &view.balance.to_string()),
        ],
    );
    let a = Some(view.avatar_id);
    let mut keyboard = InlineKeyboard::default();
    for pair in view.categories.chunks(2) {
        keyboard = keyboard.row(
            pair.iter()
                .map(|c| button(&c.name, StyleAction::Category(c.key, a))),
        );
    }
    let keyboard = keyboard
        .row([
            button(&t.button_my_styles, StyleAction::Mine(a)),
            button(&t.button_packs, StyleAction::Packs(a)),
        ])
        .row([
            Button::new(
                &t.button_back_to_generation,
                Callback::Generate(GenerateAction::Menu),
            ),
            Button::new(&t.button_main_menu, Callback::Menu(Menu::Main)),
        ]);
    Screen::text(html, keyboard)
}

/// A list of styles, one per row (a category's, or the starred ones).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListView {
    pub avatar: AvatarId,
    /// The category's name with its emoji; `None` for "My styles".
    pub category: Option<(String, String)>,
    pub styles: Vec<Named<StyleKey>>,
}

pub fn list(t: &Texts, view: &ListView) -> Screen {
    let html = match (&view.category, view.styles.is_empty()) {
        (Some((emoji, name)), _) => {
            fill(&t.styles_category, &[("emoji", emoji), ("category", name)])
        }
        (None, false) => t.styles_mine.clone(),
        (None, true) => t.styles_mine_empty.clone(),
    };
    let a = Some(view.avatar);
    let mut keyboard = InlineKeyboard::default();
    for style in &view.styles {
        keyboard = keyboard.row([button(&style.name, StyleAction::Card(style.key, a))]);
    }
    Screen::text(html, keyboard.row(back_to_library(t, view.avatar)))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardView {
    pub avatar_id: AvatarId,
    pub avatar: String,
    pub key: StyleKey,
    pub name: String,
    pub category: Named<CategoryKey>,
    pub ratio: AspectRatio,
    pub cost: Credits,
    pub balance: Credits,
    pub starred: bool,
}

pub fn card(t: &Texts, view: &CardView) -> Screen {
    let cost = view.cost.to_string();
    let html = fill(
        &t.style_card,
        &[
            ("style", &view.name),
            ("category", &view.category.name),
            ("ratio", view.ratio.label()),
            ("avatar", &view.avatar),
            ("cost", &cost),
            ("balance", &view.balance.to_string()),
        ],
    );
    let (a, key) = (Some(view.avatar_id), view.key);
    let first = if view.balance.debit(view.cost).is_ok() {
        let label = fill(&t.button_style_generate, &[("cost", &cost)]);
        button(&label, StyleAction::Generate(key, a))
    } else {
        Button::new(&t.button_top_up, Callback::Profile(ProfileAction::TopUp))
    };
    let star = if view.starred {
        &t.button_unstar
    } else {
        &t.button_star
    };
    let keyboard = InlineKeyboard::default()
        .row([first])
        .row([button(star, StyleAction::Star(key, a))])
        .row([
            button(
                &view.category.name,
                StyleAction::Category(view.category.key, a),
            ),
            button(&t.button_styles_back, StyleAction::Menu(a)),
        ]);
    Screen::text(html, keyboard)
}

/// A pack as its button and its card show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackView {
    pub key: PackKey,
    pub name: String,
    pub price: Credits,
    /// Its styles' names, in order.
    pub styles: Vec<String>,
}

pub fn packs(t: &Texts, avatar: AvatarId, packs: &[PackView]) -> Screen {
    let mut keyboard = InlineKeyboard::default();
    for pack in packs {
        let label = fill(
            &t.pack_button,
            &[
                ("pack", &pack.name),
                ("images", &pack.styles.len().to_string()),
                ("price", &pack.price.to_string()),
            ],
        );
        keyboard = keyboard.row([button(&label, StyleAction::Pack(pack.key, Some(avatar)))]);
    }
    Screen::text(
        t.packs_title.clone(),
        keyboard.row(back_to_library(t, avatar)),
    )
}

/// A pack's confirmation: its styles, its one price, the order button.
pub fn pack(
    t: &Texts,
    avatar: (AvatarId, &str),
    pack: &PackView,
    cost: Credits,
    balance: Credits,
) -> Screen {
    let styles: Vec<String> = pack
        .styles
        .iter()
        .map(|name| format!("• {}", escape(name)))
        .collect();
    let price = pack.price.to_string();
    // The list is built from escaped names: inserted as trusted HTML, not escaped again.
    let html = fill(
        &t.pack_card,
        &[
            ("pack", &pack.name),
            ("images", &pack.styles.len().to_string()),
            ("avatar", avatar.1),
            ("price", &price),
            ("cost", &cost.to_string()),
            ("balance", &balance.to_string()),
        ],
    )
    .replace("{styles}", &styles.join("\n"));
    let a = Some(avatar.0);
    let first = if balance.debit(pack.price).is_ok() {
        let label = fill(&t.button_order_pack, &[("price", &price)]);
        button(&label, StyleAction::Order(pack.key, a))
    } else {
        Button::new(&t.button_top_up, Callback::Profile(ProfileAction::TopUp))
    };
    let keyboard = InlineKeyboard::default().row([first]).row([
        button(&t.button_packs, StyleAction::Packs(a)),
        button(&t.button_styles_back, StyleAction::Menu(a)),
    ]);
    Screen::text(html, keyboard)
}

pub fn pack_not_enough_credits(t: &Texts, price: Credits, balance: Credits) -> Screen {
    let html = fill(
        &t.pack_not_enough_credits,
        &[
            ("price", &price.to_string()),
            ("balance", &balance.to_string()),
        ],
    );
    super::generation::top_up_needed(t, html)
}

pub fn pack_ordered(t: &Texts, name: &str, images: usize, price: Credits) -> Screen {
    let html = fill(
        &t.pack_ordered,
        &[
            ("pack", name),
            ("images", &images.to_string()),
            ("price", &price.to_string()),
        ],
    );
    Screen {
        html,
        keyboard: None,
        photo: None,
    }
}

/// Where a pack stands: one message, edited as images finish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgressView {
    pub name: String,
    pub images: usize,
    pub completed: usize,
    pub failed: usize,
    pub refunded: Credits,
    pub finished: bool,
}

pub fn pack_progress(t: &Texts, view: &ProgressView) -> Screen {
    let counts = [
        ("pack", view.name.as_str()),
        ("images", &view.images.to_string()),
        ("completed", &view.completed.to_string()),
    ];
    let mut html = if view.finished {
        fill(&t.pack_done, &counts)
    } else {
        fill(&t.pack_progress, &counts)
    };
    if view.failed > 0 {
        html.push_str(&fill(
            &t.pack_progress_failed,
            &[
                ("failed", &view.failed.to_string()),
                ("refunded", &view.refunded.to_string()),
            ],
        ));
    }
    let keyboard = InlineKeyboard::default().row([
        Button::new(&t.button_gallery, Callback::Menu(Menu::MyGallery)),
        Button::new(&t.button_main_menu, Callback::Menu(Menu::Main)),
    ]);
    Screen::text(html, keyboard)
}

/// The caption under an album's first image.
pub fn album_caption(t: &Texts, name: &str, count: usize, images: usize) -> String {
    fill(
        &t.pack_album_caption,
        &[
            ("pack", name),
            ("count", &count.to_string()),
            ("images", &images.to_string()),
        ],
    )
}

#[cfg(test)]
mod tests {
    use studio_domain::styles::{PackKey, StyleKey};
    use studio_domain::{AvatarId, Credits, Language};

    use super::{PackView, ProgressView};
    use crate::texts;

    fn pack() -> PackView {
        PackView {
            key: PackKey::parse("business").unwrap(),
            name: "Business <headshots>".into(),
            price: Credits::new(20),
            styles: vec!["A & B".into(); 6],
        }
    }

    #[test]
    fn a_pack_states_its_one_price_and_escapes_names() {
        let t = texts(Language::En);
        let screen = super::pack(
            t,
            (AvatarId(1), "Me"),
            &pack(),
            Credits::new(5),
            Credits::new(50),
        );
        assert!(screen.html.contains("Business &lt;headshots&gt;"));
        assert!(screen.html.contains("• A &amp; B"));
        let keyboard = serde_json::to_value(screen.keyboard.unwrap()).unwrap();
        assert_eq!(keyboard["inline_keyboard"][0][0]["text"], "✅ Order for 20");
        let poor = super::pack(
            t,
            (AvatarId(1), "Me"),
            &pack(),
            Credits::new(5),
            Credits::new(3),
        );
        let keyboard = serde_json::to_value(poor.keyboard.unwrap()).unwrap();
        assert_eq!(
            keyboard["inline_keyboard"][0][0]["callback_data"],
            "1:p:top"
        );
    }

    #[test]
    fn progress_tells_failures_and_refunds() {
        let view = ProgressView {
            name: "Travel".into(),
            images: 5,
            completed: 3,
            failed: 1,
            refunded: Credits::new(4),
            finished: false,
        };
        let html = super::pack_progress(texts(Language::En), &view).html;
        assert!(
            html.contains("3 of 5") && html.contains("4 credits refunded"),
            "{html}"
        );
        let style = StyleKey::parse("travel.desert").unwrap();
        assert_eq!(style.as_str(), "travel.desert");
    }
}
