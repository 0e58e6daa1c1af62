use sea_orm::entity::prelude::*;

use super::active_enums::OutboxState;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub chat_id: i64,
    pub method: String,
    pub payload: String,
    pub tag: Option<String>,
    pub state: OutboxState,
    pub attempts: i32,
    pub next_attempt_ms: i64,
    pub lease_until_ms: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
    /// The chat's next call waits until then (unix ms): Telegram's per-chat pace.
    pub paced_until_ms: Option<i64>,
    /// Real failures so far (5xx, network); 429s are not failures.
    pub failures: i32,
    /// The message an edit replaces (edits of one message coalesce).
    pub edits_message: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
