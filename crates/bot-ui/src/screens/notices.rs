use crate::Screen;
use crate::Texts;
use crate::screens::{back_only, main_menu};

pub fn help(t: &Texts) -> Screen {
    Screen::text(t.help.clone(), back_only(t))
}

pub fn unknown_input(t: &Texts) -> Screen {
    Screen {
        html: t.unknown_input.clone(),
        ..main_menu(t)
    }
}
