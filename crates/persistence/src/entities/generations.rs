use sea_orm::entity::prelude::*;

use super::active_enums::{DbAspectRatio, DbGenerationFailure, DbGenerationStatus};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "generations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    pub avatar_id: i64,
    pub status: DbGenerationStatus,
    pub prompt_original: String,
    pub prompt_english: String,
    pub aspect_ratio: DbAspectRatio,
    pub cost: i32,
    pub fal_request_id: Option<String>,
    pub status_url: Option<String>,
    pub response_url: Option<String>,
    pub cancel_url: Option<String>,
    pub result_key: Option<String>,
    pub telegram_file_id: Option<String>,
    pub seed: Option<i64>,
    pub is_favourite: bool,
    pub error: Option<String>,
    pub attempts: i32,
    pub lease_until_ms: Option<i64>,
    pub deadline_ms: i64,
    pub next_attempt_ms: i64,
    pub failure: Option<DbGenerationFailure>,
    pub created_at: DateTimeUtc,
    pub started_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
    pub style_key: Option<String>,
    pub pack_id: Option<i64>,
    pub album_sent: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
