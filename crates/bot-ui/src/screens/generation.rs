//! The generation menu, the prompt and ratio steps, the queue notice, and a result's message.

use studio_domain::{AspectRatio, AvatarId, Credits, GenerationFailure, GenerationId, NotReady};

use crate::callback::{
    AvatarAction, Callback, CardAction, DraftAction, GalleryAction, GenerateAction, Menu,
    PhotoPromptAction, ProfileAction, StyleAction,
};
use crate::i18n::fill;
use crate::keyboard::{Button, InlineKeyboard};
use crate::{Photo, Screen, Texts, escape};

/// The part of a caption (Telegram's limit: 1024 UTF-16 units) a prompt may take.
pub const CAPTION_PROMPT_CHARS: usize = 700;
/// Telegram's limit for a message, in UTF-16 units after entity parsing.
pub const MESSAGE_CHARS: usize = 4096;

fn button(text: &str, action: GenerateAction) -> Button {
    Button::new(text, Callback::Generate(action))
}

/// The main avatar as the generation menu shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MenuView {
    /// The avatar the menu generates with: its buttons carry it.
    pub avatar_id: AvatarId,
    pub avatar: String,
    pub balance: Credits,
    pub cost: Credits,
}

pub fn menu(t: &Texts, view: &MenuView) -> Screen {
    let mut html = fill(
        &t.gen_menu,
        &[
            ("avatar", &view.avatar),
            ("balance", &view.balance.to_string()),
            ("cost", &view.cost.to_string()),
        ],
    );
    let mut keyboard = InlineKeyboard::default();
    if view.balance.debit(view.cost).is_ok() {
        keyboard = keyboard.row([
            button(
                &t.button_custom_prompt,
                GenerateAction::CustomPrompt(Some(view.avatar_id)),
            ),
            Button::new(
                &t.button_prompt_from_photo,
                Callback::PhotoPrompt(PhotoPromptAction::Start(Some(view.avatar_id))),
            ),
        ]);
    } else {
        html.push_str("\n\n");
        html.push_str(&t.gen_low_balance);
        keyboard = keyboard.row([Button::new(
            &t.button_top_up,
            Callback::Profile(ProfileAction::TopUp),
        )]);
    }
    let keyboard = keyboard
        .row([Button::new(
            &t.button_styles,
            Callback::Style(StyleAction::Menu(Some(view.avatar_id))),
        )])
        .row([
            Button::new(&t.button_change_avatar, Callback::Menu(Menu::MyAvatars)),
            Button::new(&t.button_gallery, Callback::Menu(Menu::MyGallery)),
        ])
        .row(super::back_row(t));
    Screen::text(html, keyboard)
}

/// No avatar to generate with: the way to create one.
pub fn no_avatar(t: &Texts) -> Screen {
    let keyboard = InlineKeyboard::default()
        .row([Button::new(
            &t.button_create_avatar,
            Callback::Avatar(AvatarAction::Create),
        )])
        .row(super::back_row(t));
    Screen::text(t.gen_no_avatar.clone(), keyboard)
}

/// The main avatar cannot generate yet: why, and a button to the next step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotReadyView {
    pub avatar: AvatarId,
    pub name: String,
    pub missing_photos: usize,
    pub minutes_left: i64,
}

pub fn not_ready(t: &Texts, reason: NotReady, view: &NotReadyView) -> Screen {
    let name = ("avatar", view.name.as_str());
    let (html, next) = match reason {
        NotReady::Untrained => (
            fill(&t.gen_not_ready_draft, &[name]),
            (
                &t.button_continue,
                AvatarAction::Draft(view.avatar, DraftAction::Continue),
            ),
        ),
        NotReady::NeedPhotos => (
            fill(
                &t.gen_not_ready_uploading,
                &[name, ("missing", &view.missing_photos.to_string())],
            ),
            (
                &t.button_continue,
                AvatarAction::Draft(view.avatar, DraftAction::Continue),
            ),
        ),
        NotReady::StartTraining => (
            fill(&t.gen_not_ready_ready, &[name]),
            (
                &t.button_start_training,
                AvatarAction::Draft(view.avatar, DraftAction::Review),
            ),
        ),
        NotReady::InProgress => (
            fill(
                &t.gen_not_ready_training,
                &[name, ("minutes", &view.minutes_left.to_string())],
            ),
            (
                &t.button_my_avatars,
                AvatarAction::Card(view.avatar, CardAction::Show),
            ),
        ),
        NotReady::Failed => (
            fill(&t.gen_not_ready_error, &[name]),
            (&t.button_create_avatar, AvatarAction::Create),
        ),
        NotReady::Cancelled => (
            fill(&t.gen_not_ready_cancelled, &[name]),
            (&t.button_create_avatar, AvatarAction::Create),
        ),
    };
    let keyboard = InlineKeyboard::default()
        .row([Button::new(next.0, Callback::Avatar(next.1))])
        .row([Button::new(
            &t.button_change_avatar,
            Callback::Menu(Menu::MyAvatars),
        )])
        .row(super::back_row(t));
    Screen::text(html, keyboard)
}

fn back_to_menu(t: &Texts) -> InlineKeyboard {
    InlineKeyboard::default().row([Button::new(&t.button_main_menu, Callback::Menu(Menu::Main))])
}

pub fn ask_prompt(t: &Texts) -> Screen {
    Screen::text(t.ask_prompt.clone(), back_to_menu(t))
}

pub fn line(t: &Texts, html: String) -> Screen {
    Screen::text(html, back_to_menu(t))
}

pub fn ratio_name(t: &Texts, ratio: AspectRatio) -> &str {
    match ratio {
        AspectRatio::Square => &t.ratio_square,
        AspectRatio::Portrait => &t.ratio_portrait,
        AspectRatio::Landscape => &t.ratio_landscape,
        AspectRatio::Stories => &t.ratio_stories,
        AspectRatio::Cinema => &t.ratio_cinema,
    }
}

/// All five ratios, two per row, under the prompt (and its English, when translated).
pub fn ratio_picker(t: &Texts, prompt: &str, english: Option<&str>) -> Screen {
    let shown = crate::text::shorten(prompt, 300);
    let html = match english {
        Some(english) => fill(
            &t.choose_ratio_translated,
            &[
                ("prompt", &shown),
                ("english", &crate::text::shorten(english, 300)),
            ],
        ),
        None => fill(&t.choose_ratio, &[("prompt", &shown)]),
    };
    let mut keyboard = InlineKeyboard::default();
    for pair in AspectRatio::ALL.chunks(2) {
        keyboard = keyboard.row(
            pair.iter()
                .map(|r| button(ratio_name(t, *r), GenerateAction::Ratio(*r))),
        );
    }
    Screen::text(html, keyboard.row(super::back_row(t)))
}

pub fn queued(t: &Texts, position: u64) -> Screen {
    line(t, fill(&t.queued, &[("position", &position.to_string())]))
}

pub fn not_enough_credits(t: &Texts, cost: Credits, balance: Credits) -> Screen {
    let html = fill(
        &t.not_enough_credits,
        &[
            ("cost", &cost.to_string()),
            ("balance", &balance.to_string()),
        ],
    );
    top_up_needed(t, html)
}

/// What is missing, in `html`, with the way to top up.
pub fn top_up_needed(t: &Texts, html: String) -> Screen {
    let keyboard = InlineKeyboard::default()
        .row([Button::new(
            &t.button_top_up,
            Callback::Profile(ProfileAction::TopUp),
        )])
        .row(super::back_row(t));
    Screen::text(html, keyboard)
}

/// A delivered image, as the sender uploads it from our storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultView {
    pub generation: GenerationId,
    pub key: String,
    pub avatar: String,
    pub ratio: AspectRatio,
    pub seconds: i64,
    pub prompt: String,
    /// The library style's name, shown instead of the prompt.
    pub style: Option<String>,
}

pub fn result(t: &Texts, view: &ResultView) -> Screen {
    let seconds = view.seconds.to_string();
    let html = match &view.style {
        Some(style) => fill(
            &t.style_caption,
            &[
                ("style", style),
                ("avatar", &view.avatar),
                ("ratio", view.ratio.label()),
                ("seconds", &seconds),
            ],
        ),
        None => fill(
            &t.result_caption,
            &[
                ("avatar", &view.avatar),
                ("ratio", view.ratio.label()),
                ("seconds", &seconds),
                (
                    "prompt",
                    &crate::text::shorten(&view.prompt, CAPTION_PROMPT_CHARS),
                ),
            ],
        ),
    };
    let again = button(&t.button_again, GenerateAction::Again(view.generation));
    // A style's prompt is the library's, not the person's: its name says it all.
    let first = match view.style {
        Some(_) => vec![again],
        None => vec![
            again,
            button(
                &t.button_show_prompt,
                GenerateAction::ShowPrompt(view.generation),
            ),
        ],
    };
    let keyboard = InlineKeyboard::default().row(first).row([
        Button::new(
            &t.button_gallery,
            Callback::Gallery(GalleryAction::Card(view.generation, Default::default())),
        ),
        Button::new(&t.button_main_menu, Callback::Menu(Menu::Main)),
    ]);
    Screen {
        photo: Some(Photo::Stored {
            key: view.key.clone(),
            remember: crate::outgoing::Remember::Generation(view.generation),
        }),
        ..Screen::text(html, keyboard)
    }
}

/// A failed job, in plain words, with the refund; "try again" writes a prompt for its avatar.
pub fn failed(
    t: &Texts,
    failure: GenerationFailure,
    refunded: Credits,
    avatar: AvatarId,
) -> Screen {
    let template = match failure {
        GenerationFailure::Provider => &t.failed_provider,
        GenerationFailure::Rejected => &t.failed_rejected,
        GenerationFailure::Nsfw => &t.failed_nsfw,
        GenerationFailure::Timeout => &t.failed_timeout,
        GenerationFailure::AvatarUnavailable => &t.failed_avatar,
    };
    let html = fill(template, &[("cost", &refunded.to_string())]);
    let keyboard = InlineKeyboard::default()
        .row([button(
            &t.button_custom_prompt,
            GenerateAction::CustomPrompt(Some(avatar)),
        )])
        .row(super::back_row(t));
    Screen::text(html, keyboard)
}

/// The full prompt (and the English one the model got, when it differs), as messages of at
/// most 4096 characters each.
pub fn full_prompt(t: &Texts, original: &str, english: &str) -> Vec<Screen> {
    // Room for the template around the text.
    const TEXT_CHARS: usize = MESSAGE_CHARS - 200;
    let mut htmls = Vec::new();
    let mut sections = vec![(&t.prompt_full, "{original}", original)];
    if english.trim() != original.trim() {
        sections.push((&t.prompt_sent_as, "{english}", english));
    }
    for (template, slot, text) in sections {
        for (i, piece) in split_escaped(text, TEXT_CHARS).into_iter().enumerate() {
            htmls.push(if i == 0 {
                template.replace(slot, &piece)
            } else {
                piece
            });
        }
    }
    let last = htmls.len().saturating_sub(1);
    htmls
        .into_iter()
        .enumerate()
        .map(|(i, html)| Screen {
            html,
            keyboard: (i == last).then(|| back_to_menu(t)),
            photo: None,
        })
        .collect()
}

/// Splits plain text into escaped pieces of at most `max` of Telegram's length units each
/// (UTF-16 code units of the text as shown, so an entity counts once), so no entity is ever
/// cut in two.
pub fn split_escaped(text: &str, max: usize) -> Vec<String> {
    let mut pieces = Vec::new();
    let (mut current, mut length) = (String::new(), 0);
    let mut buffer = [0; 4];
    for c in text.chars() {
        let escaped = escape(c.encode_utf8(&mut buffer));
        let width = c.len_utf16();
        if length + width > max && !current.is_empty() {
            pieces.push(std::mem::take(&mut current));
            length = 0;
        }
        current.push_str(&escaped);
        length += width;
    }
    if !current.is_empty() || pieces.is_empty() {
        pieces.push(current);
    }
    pieces
}

#[cfg(test)]
mod tests {
    use studio_domain::{AvatarId, Credits, Language, NotReady};

    use super::{MenuView, NotReadyView, menu, not_ready, ratio_picker, split_escaped};
    use crate::texts;

    #[test]
    fn low_balance_offers_top_up_instead_of_generating() {
        let t = texts(Language::En);
        let rich = menu(
            t,
            &MenuView {
                avatar_id: AvatarId(7),
                avatar: "Ann".into(),
                balance: Credits::new(5),
                cost: Credits::new(5),
            },
        );
        let poor = menu(
            t,
            &MenuView {
                avatar_id: AvatarId(7),
                avatar: "Ann".into(),
                balance: Credits::new(4),
                cost: Credits::new(5),
            },
        );
        let first = |s: &crate::Screen| s.keyboard.clone().unwrap().inline_keyboard[0].clone();
        // The menu's buttons name the avatar it was opened for.
        assert_eq!(first(&rich)[0].callback_data, "1:g:txt:7");
        assert_eq!(first(&poor)[0].callback_data, "1:p:top");
        assert!(poor.html.contains("top up"));
    }

    #[test]
    fn every_not_ready_reason_has_its_own_text_and_next_step() {
        let t = texts(Language::En);
        let view = NotReadyView {
            avatar: AvatarId(3),
            name: "Ann".into(),
            missing_photos: 4,
            minutes_left: 12,
        };
        let reasons = [
            NotReady::Untrained,
            NotReady::NeedPhotos,
            NotReady::StartTraining,
            NotReady::InProgress,
            NotReady::Failed,
            NotReady::Cancelled,
        ];
        let htmls: std::collections::HashSet<String> = reasons
            .iter()
            .map(|r| not_ready(t, *r, &view).html)
            .collect();
        assert_eq!(htmls.len(), reasons.len());
        assert!(not_ready(t, NotReady::NeedPhotos, &view).html.contains('4'));
        assert!(
            not_ready(t, NotReady::InProgress, &view)
                .html
                .contains("12 min")
        );
    }

    #[test]
    fn the_picker_has_all_five_ratios() {
        let screen = ratio_picker(texts(Language::Ru), "<кот>", None);
        assert!(screen.html.contains("&lt;кот&gt;"));
        let data: Vec<String> = screen
            .keyboard
            .unwrap()
            .inline_keyboard
            .concat()
            .into_iter()
            .map(|b| b.callback_data)
            .filter(|d| d.starts_with("1:g:r:"))
            .collect();
        assert_eq!(
            data,
            ["1:g:r:0", "1:g:r:1", "1:g:r:2", "1:g:r:3", "1:g:r:4"]
        );
    }

    #[test]
    fn long_prompts_split_within_the_limit_without_breaking_entities() {
        let t = texts(Language::En);
        let original = format!(
            "{}{}{}",
            "a&b ".repeat(700),
            "я".repeat(5000),
            "😀".repeat(3000)
        );
        let screens = super::full_prompt(t, &original, "a knight");
        assert!(screens.len() >= 4);
        for screen in &screens {
            assert!(telegram_length(&screen.html) <= super::MESSAGE_CHARS);
            assert_eq!(
                screen.html.matches('&').count(),
                screen.html.matches("&amp;").count()
            );
        }
        assert!(screens.last().unwrap().html.contains("a knight"));
        assert!(screens.last().unwrap().keyboard.is_some());
        assert_eq!(split_escaped("x&y", 2), ["x&amp;", "y"]);
        assert_eq!(split_escaped("😀😀", 3), ["😀", "😀"]);
    }

    /// A text's length as Telegram counts it: UTF-16 code units after entity parsing (tags
    /// take none, an entity one).
    fn telegram_length(html: &str) -> usize {
        let (mut length, mut in_tag, mut in_entity) = (0, false, false);
        for c in html.chars() {
            match c {
                '<' => in_tag = true,
                '>' if in_tag => in_tag = false,
                '&' if !in_tag => {
                    in_entity = true;
                    length += 1;
                }
                ';' if in_entity => in_entity = false,
                _ if in_tag || in_entity => {}
                c => length += c.len_utf16(),
            }
        }
        length
    }
}
