//! Screens: what a person sees, one function per screen, in their language.

pub mod avatars;
pub mod gallery;
pub mod generation;
mod main_menu;
mod notices;
pub mod photo_prompt;
pub mod profile;
pub mod styles;
pub mod wizard;

pub use main_menu::{greeting, main_menu};
pub use notices::{help, unknown_input};

use crate::keyboard::{Button, InlineKeyboard};
use crate::{Callback, Menu, Texts};

/// The row every secondary screen ends with.
pub(crate) fn back_row(t: &Texts) -> [Button; 1] {
    [Button::new(&t.button_main_menu, Callback::Menu(Menu::Main))]
}

pub(crate) fn back_only(t: &Texts) -> InlineKeyboard {
    InlineKeyboard::default().row(back_row(t))
}
