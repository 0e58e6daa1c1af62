//! What the style library keeps per person and per operator: starred styles, styles switched
//! off, and how often each style was used lately (popular ones are listed first).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, Value};
use studio_domain::UserId;
use studio_domain::styles::StyleKey;

use crate::RepoError;
use crate::sql::statement;

async fn keys(
    db: &impl ConnectionTrait,
    sql: &str,
    values: Vec<Value>,
) -> Result<Vec<StyleKey>, RepoError> {
    let rows = db
        .query_all_raw(statement(db.get_database_backend(), sql, values))
        .await?;
    // A key the library no longer parses is simply not shown.
    Ok(rows
        .iter()
        .filter_map(|row| row.try_get::<String>("", "style_key").ok())
        .filter_map(|key| StyleKey::parse(&key))
        .collect())
}

async fn execute(
    db: &impl ConnectionTrait,
    sql: &str,
    values: Vec<Value>,
) -> Result<u64, RepoError> {
    let done = db
        .execute_raw(statement(db.get_database_backend(), sql, values))
        .await?;
    Ok(done.rows_affected())
}

/// The person's starred styles, first starred first.
pub async fn favourites(
    db: &impl ConnectionTrait,
    owner: UserId,
) -> Result<Vec<StyleKey>, RepoError> {
    let sql =
        "SELECT style_key FROM favourite_styles WHERE user_id = $1 ORDER BY created_at, style_key";
    keys(db, sql, vec![owner.0.into()]).await
}

pub async fn is_favourite(
    db: &impl ConnectionTrait,
    owner: UserId,
    style: StyleKey,
) -> Result<bool, RepoError> {
    let sql = "SELECT style_key FROM favourite_styles WHERE user_id = $1 AND style_key = $2";
    Ok(
        !keys(db, sql, vec![owner.0.into(), style.to_string().into()])
            .await?
            .is_empty(),
    )
}

/// Stars the style, or un-stars it if it was starred; returns whether it is starred now.
pub async fn toggle_favourite(
    db: &impl ConnectionTrait,
    owner: UserId,
    style: StyleKey,
) -> Result<bool, RepoError> {
    let removed = execute(
        db,
        "DELETE FROM favourite_styles WHERE user_id = $1 AND style_key = $2",
        vec![owner.0.into(), style.to_string().into()],
    )
    .await?;
    if removed > 0 {
        return Ok(false);
    }
    let sql = "INSERT INTO favourite_styles (user_id, style_key, created_at) VALUES ($1, $2, $3) \
               ON CONFLICT (user_id, style_key) DO NOTHING";
    execute(
        db,
        sql,
        vec![owner.0.into(), style.to_string().into(), Utc::now().into()],
    )
    .await?;
    Ok(true)
}

/// Styles operators switched off: not listed, not generated, not sold in packs.
pub async fn disabled(db: &impl ConnectionTrait) -> Result<HashSet<StyleKey>, RepoError> {
    let sql = "SELECT style_key FROM disabled_styles";
    Ok(keys(db, sql, Vec::new()).await?.into_iter().collect())
}

/// Switches a style off (`true`) or on again; returns whether anything changed.
pub async fn set_disabled(
    db: &impl ConnectionTrait,
    style: StyleKey,
    off: bool,
) -> Result<bool, RepoError> {
    let key: Value = style.to_string().into();
    let changed = if off {
        let sql = "INSERT INTO disabled_styles (style_key, disabled_at) VALUES ($1, $2) \
                   ON CONFLICT (style_key) DO NOTHING";
        execute(db, sql, vec![key, Utc::now().into()]).await?
    } else {
        let sql = "DELETE FROM disabled_styles WHERE style_key = $1";
        execute(db, sql, vec![key]).await?
    };
    Ok(changed > 0)
}

/// Images made in each style since `since` (queued ones count: a person chose the style).
pub async fn uses_since(
    db: &impl ConnectionTrait,
    since: DateTime<Utc>,
) -> Result<HashMap<StyleKey, u64>, RepoError> {
    let sql = "SELECT style_key, COUNT(*) AS n FROM generations \
               WHERE style_key IS NOT NULL AND created_at >= $1 GROUP BY style_key";
    let rows = db
        .query_all_raw(statement(
            db.get_database_backend(),
            sql,
            vec![since.into()],
        ))
        .await?;
    let mut uses = HashMap::new();
    for row in rows {
        let key: String = row.try_get("", "style_key")?;
        let n: i64 = row.try_get("", "n")?;
        if let Some(key) = StyleKey::parse(&key) {
            uses.insert(key, u64::try_from(n).unwrap_or(0));
        }
    }
    Ok(uses)
}
