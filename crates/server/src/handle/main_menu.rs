//! `/start`, `/help` and the main menu. The menu's other destinations are each feature's own
//! first screen, opened by the dispatcher.

use studio_bot_ui::{Dialog, screens};

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

/// The main menu, over the screen whose button opened it.
pub fn show(cx: &mut Context) {
    let screen = screens::main_menu(cx.texts());
    cx.show(screen);
}

/// Help, over the screen whose button opened it.
pub fn show_help(cx: &mut Context) {
    let screen = screens::help(cx.texts());
    cx.show(screen);
}
