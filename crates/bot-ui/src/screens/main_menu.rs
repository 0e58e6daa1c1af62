use crate::i18n::fill;
use crate::keyboard::{Button, InlineKeyboard};
use crate::{Callback, Menu, Screen, Texts};

/// `/start`: the greeting with the menu.
pub fn greeting(t: &Texts, first_name: &str) -> Screen {
    Screen::text(fill(&t.greeting, &[("name", first_name)]), keyboard(t))
}

pub fn main_menu(t: &Texts) -> Screen {
    Screen::text(t.menu_title.clone(), keyboard(t))
}

fn keyboard(t: &Texts) -> InlineKeyboard {
    let button = |text: &String, menu| Button::new(text, Callback::Menu(menu));
    InlineKeyboard::default()
        .row([button(&t.button_create_image, Menu::CreateImage)])
        .row([
            button(&t.button_my_avatars, Menu::MyAvatars),
            button(&t.button_my_gallery, Menu::MyGallery),
        ])
        .row([
            button(&t.button_profile, Menu::Profile),
            button(&t.button_help, Menu::Help),
        ])
}

#[cfg(test)]
mod tests {
    use studio_domain::Language;

    use crate::texts;

    #[test]
    fn greeting_escapes_the_name_and_offers_five_destinations() {
        let screen = super::greeting(texts(Language::En), "<TOK>");
        assert!(screen.html.contains("&lt;TOK&gt;"));
        let buttons: usize = screen
            .keyboard
            .unwrap()
            .inline_keyboard
            .iter()
            .map(Vec::len)
            .sum();
        assert_eq!(buttons, 5);
    }
}
