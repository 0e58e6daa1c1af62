//! `/start`, `/help`, the main menu and the polite answers to input we did not expect.

use studio_bot_ui::{Callback, Dialog, Menu, screens};

use super::context::Context;

pub fn start(cx: &mut Context) {
    cx.dialog = Dialog::Idle;
    let screen = screens::greeting(cx.texts(), &cx.first_name);
    cx.send(screen);
}

pub fn help(cx: &mut Context) {
    let screen = screens::help(cx.texts());
    cx.send(screen);
}

pub fn tap(cx: &mut Context, callback: Callback) {
    cx.answer_callback(None);
    let t = cx.texts();
    let screen = match callback {
        Callback::Menu(Menu::Main) => {
            cx.dialog = Dialog::Idle;
            screens::main_menu(t)
        }
        Callback::Menu(Menu::Help) => screens::help(t),
        // Their own issues open these; until then the person gets the menu back.
        Callback::Menu(Menu::CreateImage | Menu::MyAvatars | Menu::MyGallery | Menu::Profile) => {
            screens::coming_soon(t)
        }
    };
    cx.show(screen);
}

/// A button we no longer know: stop the spinner, say so, and show a fresh menu as a new
/// message (the old one may be far up the chat). Buttons outside private chats only get the
/// answer: the bot talks to people one to one.
pub fn stale(cx: &mut Context) {
    let t = cx.texts();
    cx.answer_callback(Some(&t.stale_button_short));
    if cx.is_private {
        cx.send(studio_bot_ui::Screen {
            html: t.stale_button.clone(),
            ..screens::main_menu(t)
        });
    }
}

pub fn unrecognised(cx: &mut Context) {
    let screen = screens::unknown_input(cx.texts());
    cx.send(screen);
}
