use sea_orm::entity::prelude::*;

use super::active_enums::{DbAvatarStatus, DbGender};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "avatars")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub gender: DbGender,
    pub status: DbAvatarStatus,
    pub is_main: bool,
    pub trigger_phrase: Option<String>,
    pub lora_url: Option<String>,
    pub preview_key: Option<String>,
    pub training_request_id: Option<String>,
    pub error_reason: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub training_started_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
    pub training_attempts: i32,
    pub training_lease_until_ms: Option<i64>,
    pub training_next_ms: Option<i64>,
    pub training_deadline_ms: Option<i64>,
    pub training_status_url: Option<String>,
    pub training_response_url: Option<String>,
    pub training_cancel_url: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
