//! Bot API calls the bot decides to make, as data. The server stores them in the outbox and
//! one sender makes them; this is the only place their JSON shape is written.

use serde_json::{Value, json};

use crate::keyboard::InlineKeyboard;

/// A message to show: HTML text and an optional inline keyboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Screen {
    pub html: String,
    pub keyboard: Option<InlineKeyboard>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing {
    Send {
        chat: i64,
        screen: Screen,
    },
    /// Replaces a message the bot sent before (navigation edits in place).
    Edit {
        chat: i64,
        message_id: i64,
        screen: Screen,
    },
    /// Stops the button's spinner; `text` shows as a small toast.
    AnswerCallback {
        chat: i64,
        query_id: String,
        text: Option<String>,
    },
}

impl Outgoing {
    pub fn chat(&self) -> i64 {
        match self {
            Self::Send { chat, .. }
            | Self::Edit { chat, .. }
            | Self::AnswerCallback { chat, .. } => *chat,
        }
    }

    pub fn method(&self) -> &'static str {
        match self {
            Self::Send { .. } => "sendMessage",
            Self::Edit { .. } => "editMessageText",
            Self::AnswerCallback { .. } => "answerCallbackQuery",
        }
    }

    pub fn payload(&self) -> Value {
        match self {
            Self::Send { chat, screen } => with_keyboard(
                json!({"chat_id": chat, "text": screen.html, "parse_mode": "HTML"}),
                screen,
            ),
            Self::Edit {
                chat,
                message_id,
                screen,
            } => with_keyboard(
                json!({"chat_id": chat, "message_id": message_id, "text": screen.html, "parse_mode": "HTML"}),
                screen,
            ),
            Self::AnswerCallback { query_id, text, .. } => match text {
                Some(text) => json!({"callback_query_id": query_id, "text": text}),
                None => json!({"callback_query_id": query_id}),
            },
        }
    }
}

fn with_keyboard(mut payload: Value, screen: &Screen) -> Value {
    if let (Some(keyboard), Some(object)) = (&screen.keyboard, payload.as_object_mut()) {
        object.insert("reply_markup".into(), json!(keyboard));
    }
    payload
}

#[cfg(test)]
mod tests {
    use super::{Outgoing, Screen};
    use crate::{Button, Callback, InlineKeyboard, Menu};

    #[test]
    fn send_payload_has_html_and_keyboard() {
        let keyboard =
            InlineKeyboard::default().row([Button::new("Help", Callback::Menu(Menu::Help))]);
        let call = Outgoing::Send {
            chat: 5,
            screen: Screen {
                html: "<b>x</b>".into(),
                keyboard: Some(keyboard),
            },
        };
        assert_eq!(call.method(), "sendMessage");
        let payload = call.payload();
        assert_eq!(payload["parse_mode"], "HTML");
        assert_eq!(
            payload["reply_markup"]["inline_keyboard"][0][0]["callback_data"],
            "1:m:help"
        );
    }
}
