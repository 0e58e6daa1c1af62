use crate::Screen;
use crate::Texts;
use crate::screens::{back_only, main_menu};

pub fn help(t: &Texts) -> Screen {
    Screen::text(t.help.clone(), back_only(t))
}

/// A destination that a later release opens; shows the menu so the person is never stuck.
pub fn coming_soon(t: &Texts) -> Screen {
    Screen {
        html: t.coming_soon.clone(),
        ..main_menu(t)
    }
}

pub fn unknown_input(t: &Texts) -> Screen {
    Screen {
        html: t.unknown_input.clone(),
        ..main_menu(t)
    }
}
