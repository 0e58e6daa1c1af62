//! A person's generation settings: default aspect ratio and quick mode.

use chrono::Utc;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};
use studio_domain::{AspectRatio, UserId};

use crate::RepoError;
use crate::entities::user_settings::{self, Entity as UserSettings};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Settings {
    pub default_ratio: AspectRatio,
    /// Skip the ratio picker and use `default_ratio`.
    pub quick_mode: bool,
}

/// The person's settings; the defaults until they change one.
pub async fn get(db: &impl ConnectionTrait, user: UserId) -> Result<Settings, RepoError> {
    let row = UserSettings::find_by_id(user.0).one(db).await?;
    Ok(row.map_or_else(Settings::default, |row| Settings {
        default_ratio: row.default_ratio.into(),
        quick_mode: row.quick_mode,
    }))
}

pub async fn save(
    db: &impl ConnectionTrait,
    user: UserId,
    settings: Settings,
) -> Result<(), RepoError> {
    let row = user_settings::ActiveModel {
        user_id: Set(user.0),
        default_ratio: Set(settings.default_ratio.into()),
        quick_mode: Set(settings.quick_mode),
        updated_at: Set(Utc::now()),
    };
    UserSettings::insert(row)
        .on_conflict(
            OnConflict::column(user_settings::Column::UserId)
                .update_columns([
                    user_settings::Column::DefaultRatio,
                    user_settings::Column::QuickMode,
                    user_settings::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}
