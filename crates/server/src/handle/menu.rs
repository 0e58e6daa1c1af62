//! `/start`, `/help`, the main menu and the polite answers to input we did not expect.

use sea_orm::DatabaseTransaction;
use studio_bot_ui::{Dialog, Menu, screens};
use studio_persistence::RepoError;

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

/// A main-menu destination. Leaving a screen for the menu also leaves its dialog.
pub async fn tap(
    txn: &DatabaseTransaction,
    services: &super::Services,
    cx: &mut Context,
    menu: Menu,
) -> Result<(), RepoError> {
    cx.answer_callback(None);
    cx.dialog = Dialog::Idle;
    let t = cx.texts();
    let screen = match menu {
        Menu::Main => screens::main_menu(t),
        Menu::Help => screens::help(t),
        Menu::MyAvatars => return super::avatars::list(txn, cx).await,
        Menu::Profile => return super::profile::show(txn, cx).await,
        Menu::CreateImage => return super::generate::menu(txn, services, cx).await,
        Menu::MyGallery => {
            let Some(owner) = cx.user_id() else {
                return Ok(());
            };
            return super::gallery::open(txn, cx, owner, Default::default()).await;
        }
    };
    cx.show(screen);
    Ok(())
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
