use sea_orm::DatabaseTransaction;
use studio_bot_ui::update::{CallbackQuery, User};
use studio_bot_ui::{Dialog, Outgoing, Screen, Texts, Update, texts};
use studio_domain::{ChatId, Language, TelegramUserId};
use studio_persistence::RepoError;
use studio_persistence::repos::{chat_state, outbox, users};

/// What a use case knows about the update it handles, and what it decides to send.
pub struct Context {
    pub chat: i64,
    pub is_private: bool,
    pub user: Option<users::User>,
    pub first_name: String,
    pub language: Language,
    pub callback: Option<CallbackQuery>,
    pub dialog: Dialog,
    stored_dialog: Dialog,
    outgoing: Vec<Outgoing>,
}

impl Context {
    /// Registers or refreshes the sender and reads the chat's dialog. `None` for updates that
    /// concern no person in a chat.
    pub async fn load(
        txn: &DatabaseTransaction,
        update: &Update,
    ) -> Result<Option<Self>, RepoError> {
        let (Some(chat), Some(from)) = (update.chat_id(), update.sender()) else {
            return Ok(None);
        };
        let user = if from.is_bot {
            None
        } else {
            Some(users::upsert(txn, &profile(from)).await?)
        };
        let is_private = update
            .message
            .as_ref()
            .or(update.edited_message.as_ref())
            .or(update
                .callback_query
                .as_ref()
                .and_then(|q| q.message.as_ref()))
            .map_or(chat == from.id, |m| m.chat.is_private());
        let dialog = Dialog::from_stored(chat_state::load(txn, ChatId(chat)).await?.as_deref());
        Ok(Some(Self {
            chat,
            is_private,
            user,
            first_name: from.first_name.clone(),
            language: Language::from_telegram(from.language_code.as_deref()),
            callback: update.callback_query.clone(),
            stored_dialog: dialog.clone(),
            dialog,
            outgoing: Vec::new(),
        }))
    }

    pub fn texts(&self) -> &'static Texts {
        texts(self.language)
    }

    pub fn send(&mut self, screen: Screen) {
        self.outgoing.push(Outgoing::Send {
            chat: self.chat,
            screen,
        });
    }

    /// Shows `screen` in place of the message whose button was pressed, or as a new message
    /// when that message is no longer accessible (Telegram sends `date: 0` for those).
    pub fn show(&mut self, screen: Screen) {
        let editable = self
            .callback
            .as_ref()
            .and_then(|q| q.message.as_ref())
            .filter(|m| m.date != 0)
            .map(|m| m.message_id);
        match editable {
            Some(message_id) => {
                self.outgoing.push(Outgoing::Edit {
                    chat: self.chat,
                    message_id,
                    screen,
                });
            }
            None => self.send(screen),
        }
    }

    /// Stops the pressed button's spinner; queued first, so it goes out before the screen.
    pub fn answer_callback(&mut self, toast: Option<&str>) {
        if let Some(query) = &self.callback {
            self.outgoing.push(Outgoing::AnswerCallback {
                chat: self.chat,
                query_id: query.id.clone(),
                text: toast.map(str::to_owned),
            });
        }
    }

    pub fn telegram_user(&self) -> Option<TelegramUserId> {
        self.user.as_ref().map(|u| TelegramUserId(u.telegram_id))
    }

    /// Writes the decided calls to the outbox and the dialog, if it changed.
    pub async fn save(self, txn: &DatabaseTransaction) -> Result<(), RepoError> {
        for call in &self.outgoing {
            outbox::enqueue(
                txn,
                ChatId(call.chat()),
                call.method(),
                &call.payload().to_string(),
            )
            .await?;
        }
        if self.dialog != self.stored_dialog {
            chat_state::save(txn, ChatId(self.chat), &self.dialog.to_stored()).await?;
        }
        Ok(())
    }
}

fn profile(from: &User) -> users::TelegramProfile {
    users::TelegramProfile {
        telegram_id: TelegramUserId(from.id),
        first_name: from.first_name.clone(),
        last_name: from.last_name.clone(),
        username: from.username.clone(),
        language_code: from.language_code.clone(),
        is_premium: from.is_premium,
    }
}
