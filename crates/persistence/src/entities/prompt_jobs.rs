use sea_orm::entity::prelude::*;

use super::active_enums::{PromptJobKind, PromptJobState};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "prompt_jobs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub chat_id: i64,
    pub user_id: i64,
    pub avatar_id: i64,
    pub kind: PromptJobKind,
    pub input: String,
    pub state: PromptJobState,
    pub attempts: i32,
    pub next_attempt_ms: i64,
    pub lease_until_ms: Option<i64>,
    pub deadline_ms: i64,
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
