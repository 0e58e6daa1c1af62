use sea_orm::entity::prelude::*;

use super::active_enums::InboxState;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "inbox")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub update_id: i64,
    pub lane: i64,
    pub payload: String,
    pub state: InboxState,
    pub attempts: i32,
    pub next_attempt_ms: i64,
    pub lease_until_ms: Option<i64>,
    pub last_error: Option<String>,
    pub received_at: DateTimeUtc,
    pub processed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
