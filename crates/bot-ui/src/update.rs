//! The parts of a Telegram `Update` the bot reads. Every field is optional and unknown fields
//! are ignored: Telegram adds fields and update kinds, and none of that may break parsing.

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct Update {
    pub update_id: i64,
    pub message: Option<Message>,
    pub edited_message: Option<Message>,
    pub callback_query: Option<CallbackQuery>,
    pub my_chat_member: Option<ChatMemberUpdated>,
    pub pre_checkout_query: Option<PreCheckoutQuery>,
}

/// Telegram asks whether a payment may go through; answer within 10 seconds.
#[derive(Debug, Clone, Deserialize)]
pub struct PreCheckoutQuery {
    pub id: String,
    pub from: User,
    pub currency: String,
    pub total_amount: u32,
    pub invoice_payload: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SuccessfulPayment {
    pub currency: String,
    pub total_amount: u32,
    pub invoice_payload: String,
    pub telegram_payment_charge_id: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct User {
    pub id: i64,
    #[serde(default)]
    pub is_bot: bool,
    #[serde(default)]
    pub first_name: String,
    pub last_name: Option<String>,
    pub username: Option<String>,
    pub language_code: Option<String>,
    #[serde(default)]
    pub is_premium: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Chat {
    pub id: i64,
    #[serde(rename = "type", default)]
    pub kind: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Message {
    pub message_id: i64,
    pub from: Option<User>,
    pub chat: Chat,
    /// 0 for an inaccessible message (a button on a message too old to see).
    #[serde(default)]
    pub date: i64,
    pub text: Option<String>,
    pub caption: Option<String>,
    pub media_group_id: Option<String>,
    pub photo: Option<Vec<PhotoSize>>,
    pub document: Option<Document>,
    pub sticker: Option<serde::de::IgnoredAny>,
    pub successful_payment: Option<SuccessfulPayment>,
    /// A Stars payment refunded (by us, or by Telegram's support): a service message.
    pub refunded_payment: Option<RefundedPayment>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RefundedPayment {
    pub telegram_payment_charge_id: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PhotoSize {
    pub file_id: String,
    pub file_unique_id: String,
    pub width: u32,
    pub height: u32,
    pub file_size: Option<u64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Document {
    pub file_id: String,
    pub file_unique_id: String,
    pub file_name: Option<String>,
    pub mime_type: Option<String>,
    pub file_size: Option<u64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CallbackQuery {
    pub id: String,
    pub from: User,
    pub message: Option<Message>,
    pub data: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ChatMemberUpdated {
    pub chat: Chat,
    pub from: User,
    pub new_chat_member: ChatMember,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ChatMember {
    pub status: String,
}

impl Update {
    /// Whether it moves money (a Stars payment made or refunded): such an update must never be
    /// given up on for a passing fault, since Telegram will not send it again.
    pub fn moves_money(&self) -> bool {
        self.message
            .as_ref()
            .is_some_and(|m| m.successful_payment.is_some() || m.refunded_payment.is_some())
    }

    pub fn parse(raw: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(raw)
    }

    /// The person behind the update, if any.
    pub fn sender(&self) -> Option<&User> {
        if let Some(m) = &self.message {
            return m.from.as_ref();
        }
        if let Some(m) = &self.edited_message {
            return m.from.as_ref();
        }
        if let Some(q) = &self.callback_query {
            return Some(&q.from);
        }
        if let Some(q) = &self.pre_checkout_query {
            return Some(&q.from);
        }
        self.my_chat_member.as_ref().map(|m| &m.from)
    }

    /// The chat to answer in: the message's chat, else the presser's private chat.
    pub fn chat_id(&self) -> Option<i64> {
        if let Some(m) = self.message.as_ref().or(self.edited_message.as_ref()) {
            return Some(m.chat.id);
        }
        if let Some(q) = &self.callback_query {
            return Some(q.message.as_ref().map_or(q.from.id, |m| m.chat.id));
        }
        if let Some(q) = &self.pre_checkout_query {
            return Some(q.from.id);
        }
        self.my_chat_member.as_ref().map(|m| m.chat.id)
    }
}

impl Chat {
    pub fn is_private(&self) -> bool {
        self.kind == "private"
    }
}

/// The ordering lane of a raw update: its chat, else its sender, else 0. Reads only what it
/// needs, so any JSON object with an `update_id` gets a lane.
pub fn lane_of(update: &serde_json::Value) -> i64 {
    const CHAT_PATHS: [&str; 6] = [
        "/message/chat/id",
        "/edited_message/chat/id",
        "/callback_query/message/chat/id",
        "/my_chat_member/chat/id",
        "/channel_post/chat/id",
        "/chat_member/chat/id",
    ];
    let object = update.as_object();
    let from = object
        .and_then(|o| o.iter().find(|(k, _)| k.as_str() != "update_id"))
        .and_then(|(_, v)| v.pointer("/from/id"))
        .and_then(serde_json::Value::as_i64);
    CHAT_PATHS
        .iter()
        .find_map(|p| update.pointer(p).and_then(serde_json::Value::as_i64))
        .or(from)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::{Update, lane_of};

    #[test]
    fn lanes_follow_the_chat_or_the_sender() {
        let msg =
            serde_json::json!({"update_id": 1, "message": {"chat": {"id": 5}, "from": {"id": 6}}});
        assert_eq!(lane_of(&msg), 5);
        let pre = serde_json::json!({"update_id": 2, "pre_checkout_query": {"id": "x", "from": {"id": 9}}});
        assert_eq!(lane_of(&pre), 9);
        assert_eq!(lane_of(&serde_json::json!({"update_id": 3})), 0);
    }

    #[test]
    fn tolerates_missing_and_unknown_fields() {
        let raw = r#"{"update_id":7,"message":{"message_id":1,"chat":{"id":2,"type":"private"},
            "from":{"id":2,"first_name":"A"},"new_field":{"x":1},"text":"/start"}}"#;
        let update = Update::parse(raw).unwrap();
        assert_eq!(update.chat_id(), Some(2));
        assert!(!update.sender().unwrap().is_premium);
    }
}
