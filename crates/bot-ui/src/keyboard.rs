use serde::Serialize;

use crate::Callback;

/// `reply_markup` of type `InlineKeyboardMarkup`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct InlineKeyboard {
    pub inline_keyboard: Vec<Vec<Button>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Button {
    pub text: String,
    pub callback_data: String,
}

impl Button {
    pub fn new(text: &str, callback: Callback) -> Self {
        Self {
            text: text.to_owned(),
            callback_data: callback.encode(),
        }
    }
}

impl InlineKeyboard {
    pub fn row(mut self, buttons: impl IntoIterator<Item = Button>) -> Self {
        self.inline_keyboard.push(buttons.into_iter().collect());
        self
    }
}
