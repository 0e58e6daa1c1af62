use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "avatar_photos")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub avatar_id: i64,
    pub storage_key: String,
    pub sha256: String,
    pub telegram_file_id: String,
    /// The id Telegram shows this photo by, once known (see the migration).
    pub photo_file_id: Option<String>,
    pub content_type: String,
    pub width: i32,
    pub height: i32,
    pub size_bytes: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
