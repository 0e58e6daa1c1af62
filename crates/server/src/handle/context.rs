use studio_bot_ui::update::{CallbackQuery, User};
use studio_bot_ui::{Dialog, Outgoing, Screen, Texts, Update, texts};
use studio_domain::{ChatId, Language, TelegramUserId, UserId};
use studio_persistence::DatabaseTransaction;
use studio_persistence::RepoError;
use studio_persistence::repos::workers::Holder;
use studio_persistence::repos::{chat_state, outbox, prompt_jobs, sent_messages, users};

use super::{AfterCommit, HandleError};

/// What a use case knows about the update it handles, and what it decides to send.
pub struct Context {
    pub chat: i64,
    pub is_private: bool,
    pub user: Option<users::User>,
    pub first_name: String,
    pub language: Language,
    pub callback: Option<CallbackQuery>,
    /// The words the pressed button's answer shows, if a use case chose any. The answer itself
    /// is not a use case's to send: `save` sends exactly one for every button press.
    callback_toast: Option<String>,
    pub dialog: Dialog,
    stored_dialog: Dialog,
    outgoing: Vec<Outgoing>,
    /// Tags whose remembered message is dropped, so the next tagged message is a new one.
    forget_tags: Vec<&'static str>,
    pub after_commit: AfterCommit,
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
        let stored = chat_state::load(txn, ChatId(chat)).await?;
        Ok(Some(Self::of(
            update,
            (chat, from),
            user,
            stored.as_deref(),
        )))
    }

    /// The contexts of a batch of updates (each from its own chat), loaded together: their
    /// senders registered or refreshed in one statement and their dialogs read in one.
    pub async fn load_many(
        txn: &DatabaseTransaction,
        updates: &[Option<&Update>],
    ) -> Result<Vec<Option<Self>>, RepoError> {
        let concerned = |update: &Update| update.chat_id().is_some() && update.sender().is_some();
        let present: Vec<&Update> = updates
            .iter()
            .flatten()
            .copied()
            .filter(|u| concerned(u))
            .collect();
        let profiles: Vec<users::TelegramProfile> = present
            .iter()
            .filter_map(|u| u.sender())
            .filter(|from| !from.is_bot)
            .map(profile)
            .collect();
        let chats: Vec<ChatId> = present
            .iter()
            .filter_map(|u| u.chat_id())
            .map(ChatId)
            .collect();
        let people = users::upsert_many(txn, &profiles).await?;
        let dialogs = chat_state::load_many(txn, &chats).await?;
        Ok(updates
            .iter()
            .map(|update| {
                let update = update.filter(|u| concerned(u))?;
                let (chat, from) = (update.chat_id()?, update.sender()?);
                let user = (!from.is_bot)
                    .then(|| people.get(&TelegramUserId(from.id)).cloned())
                    .flatten();
                let stored = dialogs.get(&ChatId(chat)).map(String::as_str);
                Some(Self::of(update, (chat, from), user, stored))
            })
            .collect())
    }

    /// The context of an update from a chat and a sender, with the sender's row and the
    /// chat's stored dialog.
    fn of(
        update: &Update,
        (chat, from): (i64, &User),
        user: Option<users::User>,
        stored: Option<&str>,
    ) -> Self {
        let is_private = update
            .message
            .as_ref()
            .or(update.edited_message.as_ref())
            .or(update
                .callback_query
                .as_ref()
                .and_then(|q| q.message.as_ref()))
            .map_or(chat == from.id, |m| m.chat.is_private());
        let dialog = Dialog::from_stored(stored);
        // The language chosen in settings wins over Telegram's.
        let language = user
            .as_ref()
            .and_then(|u| u.ui_language)
            .unwrap_or_else(|| Language::from_telegram(from.language_code.as_deref()));
        Self {
            chat,
            is_private,
            user,
            first_name: from.first_name.clone(),
            language,
            callback: update.callback_query.clone(),
            callback_toast: None,
            stored_dialog: dialog.clone(),
            dialog,
            outgoing: Vec::new(),
            forget_tags: Vec::new(),
            after_commit: AfterCommit::default(),
        }
    }

    /// The context work outside an update answers in (a worker with a model's answer): the
    /// person's private chat. `user` is their row, locked by the caller as their updates lock
    /// it, so both apply in turn. `None` if they blocked us: there is no one to tell.
    pub async fn for_person(
        txn: &DatabaseTransaction,
        user: users::User,
        chat: ChatId,
    ) -> Result<Option<Self>, RepoError> {
        if user.is_blocked {
            return Ok(None);
        }
        let dialog = Dialog::from_stored(chat_state::load(txn, chat).await?.as_deref());
        Ok(Some(Self {
            chat: chat.0,
            is_private: true,
            first_name: user.first_name.clone(),
            language: user.language(),
            user: Some(user),
            callback: None,
            callback_toast: None,
            stored_dialog: dialog.clone(),
            dialog,
            outgoing: Vec::new(),
            forget_tags: Vec::new(),
            after_commit: AfterCommit::default(),
        }))
    }

    pub fn texts(&self) -> &'static Texts {
        texts(self.language)
    }

    /// Any other call (an invoice, a pre-checkout answer).
    pub fn push(&mut self, call: Outgoing) {
        self.outgoing.push(call);
    }

    pub fn send(&mut self, screen: Screen) {
        self.outgoing.push(Outgoing::Send {
            chat: self.chat,
            screen,
        });
    }

    /// A text message edited in place by later calls with the same tag.
    pub fn send_tagged(&mut self, tag: &str, screen: Screen) {
        self.outgoing.push(Outgoing::SendTagged {
            chat: self.chat,
            tag: tag.to_owned(),
            screen,
        });
    }

    /// The next message with `tag` starts afresh instead of editing the last one.
    pub fn forget_tag(&mut self, tag: &'static str) {
        self.forget_tags.push(tag);
    }

    /// Shows `screen` in place of the message whose button was pressed. Telegram edits text
    /// into text and photo into photo; otherwise (or when the message is too old to see:
    /// `date: 0`) the old message is deleted and the screen sent anew.
    pub fn show(&mut self, screen: Screen) {
        let source = self.callback.as_ref().and_then(|q| q.message.as_ref());
        match source {
            Some(m) if m.date != 0 && m.photo.is_some() == screen.photo.is_some() => {
                let message_id = m.message_id;
                self.outgoing.push(Outgoing::Edit {
                    chat: self.chat,
                    message_id,
                    screen,
                });
            }
            Some(m) if m.date != 0 => {
                let message_id = m.message_id;
                self.outgoing.push(Outgoing::Delete {
                    chat: self.chat,
                    message_id,
                });
                self.send(screen);
            }
            Some(_) | None => self.send(screen),
        }
    }

    /// Chooses the words the pressed button's answer shows (`None`: just stop the spinner).
    /// Telegram takes one answer per press, so the answer is not sent here: `save` sends
    /// exactly one, with the last words chosen, whether or not a use case called this.
    pub fn answer_callback(&mut self, toast: Option<&str>) {
        if let Some(toast) = toast {
            self.callback_toast = Some(toast.to_owned());
        }
    }

    /// Our user id, for updates from a person (not a bot).
    pub fn user_id(&self) -> Option<UserId> {
        self.user.as_ref().map(|u| u.id)
    }

    pub fn telegram_user(&self) -> Option<TelegramUserId> {
        self.user.as_ref().map(|u| u.telegram_id)
    }

    /// Writes the decided calls to the outbox and the dialog, if it changed; hands back what
    /// must wait for the commit.
    pub async fn save(self, txn: &DatabaseTransaction) -> Result<AfterCommit, HandleError> {
        let mut writes = Writes::default();
        let mut after = self.save_into(txn, &mut writes).await?;
        writes.flush(txn, &mut after).await?;
        Ok(after)
    }

    /// As `save`, but the plain calls and the dialog are left in `writes`, so a batch's are
    /// written together; what cannot wait (answers, edits that drop earlier ones) is written
    /// now, after the calls queued before it.
    pub async fn save_into(
        mut self,
        txn: &DatabaseTransaction,
        writes: &mut Writes,
    ) -> Result<AfterCommit, HandleError> {
        for tag in &self.forget_tags {
            sent_messages::forget(txn, ChatId(self.chat), tag).await?;
        }
        // The press's one answer first: sent after the commit, before anything the chat waits for.
        let answer = self.callback.take().map(|query| Outgoing::AnswerCallback {
            chat: self.chat,
            query_id: query.id,
            text: self.callback_toast.take(),
        });
        for call in answer.iter().chain(&self.outgoing) {
            let payload = call.payload().to_string();
            let chat = ChatId(call.chat());
            if call.answers_a_query() {
                let claimed =
                    outbox::enqueue_claimed(txn, chat, call.method(), &payload, ANSWER_LEASE)
                        .await?;
                self.after_commit.answers.push(claimed);
                continue;
            }
            if let Some(message_id) = call.edited_message() {
                self.after_commit.queued = true;
                writes.flush_calls(txn).await?;
                let dropped =
                    outbox::enqueue_edit(txn, chat, call.method(), &payload, message_id).await?;
                if dropped > 0 {
                    tracing::debug!(dropped, message_id, "earlier edits of the message dropped");
                }
                continue;
            }
            writes.calls.push(outbox::NewCall {
                chat,
                method: call.method(),
                payload,
                tag: call.tag().map(str::to_owned),
            });
        }
        if self.dialog != self.stored_dialog {
            // A model request nobody waits for any more stops costing calls and holding
            // the chat's next one.
            if let Dialog::AwaitingModel { job, .. } = self.stored_dialog
                && prompt_jobs::abandon(txn, job).await?
            {
                tracing::info!(prompt_job_id = %job, "model request abandoned");
            }
            writes
                .dialogs
                .push((ChatId(self.chat), self.dialog.to_stored()));
        }
        Ok(self.after_commit)
    }
}

/// Outgoing calls and dialogs decided by one or more contexts, written in one statement each.
#[derive(Default)]
pub struct Writes {
    calls: Vec<outbox::NewCall>,
    dialogs: Vec<(ChatId, String)>,
    /// Claim the calls that lead their chat for this holder, to send after the commit.
    claim: Option<(std::time::Duration, Holder)>,
}

impl Writes {
    /// Writes whose leading calls are claimed for `holder` as they are written.
    pub fn claiming(lease: std::time::Duration, holder: Holder) -> Self {
        Self {
            claim: Some((lease, holder)),
            ..Self::default()
        }
    }

    /// Writes the calls queued so far (a chat's calls keep their order: ids follow it).
    async fn flush_calls(&mut self, txn: &DatabaseTransaction) -> Result<(), RepoError> {
        outbox::enqueue_many(txn, std::mem::take(&mut self.calls)).await
    }

    /// Writes everything; hands `after` the calls claimed to send once the transaction
    /// commits, and whether others were left for the senders.
    pub async fn flush(
        mut self,
        txn: &DatabaseTransaction,
        after: &mut AfterCommit,
    ) -> Result<(), RepoError> {
        let written = self.calls.len();
        let sends = match self.claim.take() {
            Some((lease, holder)) => {
                let calls = std::mem::take(&mut self.calls);
                outbox::enqueue_and_claim_heads(txn, calls, lease, &holder).await?
            }
            None => {
                self.flush_calls(txn).await?;
                Vec::new()
            }
        };
        after.queued |= sends.len() < written;
        after.sends.extend(sends);
        chat_state::save_many(txn, &self.dialogs).await?;
        Ok(())
    }
}

/// How long an answer sent after the commit is this process's alone: after a crash, the
/// senders answer in time for a payment's 10 s.
const ANSWER_LEASE: std::time::Duration = std::time::Duration::from_secs(5);

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
