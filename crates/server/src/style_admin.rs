//! `avatar-studio styles list|disable KEY|enable KEY`: what the library offers and how much
//! each style was used this week; switching a style off hides it at once (and every pack
//! holding it), without a release.

use anyhow::Context as _;
use studio_domain::styles::{Library, StyleKey};
use studio_persistence::DatabaseConnection;
use studio_persistence::repos::styles;

#[derive(Debug, clap::Subcommand)]
pub enum StylesCommand {
    /// Every style with its state, ratio and uses in the last 7 days; then the packs.
    List,
    /// Stop offering a style (`business.headshot`): not listed, not generated, its packs hidden.
    Disable { key: String },
    /// Offer a switched-off style again.
    Enable { key: String },
}

pub async fn run(
    db: &DatabaseConnection,
    library: &Library,
    command: StylesCommand,
) -> anyhow::Result<()> {
    match command {
        StylesCommand::List => list(db, library).await,
        StylesCommand::Disable { key } => switch(db, library, &key, true).await,
        StylesCommand::Enable { key } => switch(db, library, &key, false).await,
    }
}

async fn list(db: &DatabaseConnection, library: &Library) -> anyhow::Result<()> {
    let disabled = styles::disabled(db).await?;
    let week = chrono::Utc::now() - chrono::Duration::days(7);
    let uses = styles::uses_since(db, week).await?;
    println!(
        "{:<28} {:<8} {:<5} {:>6}  name",
        "style", "state", "ratio", "7 days"
    );
    for style in library.styles() {
        let state = if disabled.contains(&style.key) {
            "disabled"
        } else {
            "on"
        };
        let used = uses.get(&style.key).copied().unwrap_or(0);
        println!(
            "{:<28} {:<8} {:<5} {:>6}  {} / {}",
            style.key.as_str(),
            state,
            style.ratio.label(),
            used,
            style.name.en,
            style.name.ru
        );
    }
    println!();
    for pack in library.packs() {
        let off = pack.styles.iter().filter(|s| disabled.contains(s)).count();
        let state = if off == 0 { "on" } else { "hidden" };
        println!(
            "pack {:<16} {:<6} {} styles  {} / {}",
            pack.key.as_str(),
            state,
            pack.styles.len(),
            pack.name.en,
            pack.name.ru
        );
    }
    Ok(())
}

async fn switch(
    db: &DatabaseConnection,
    library: &Library,
    key: &str,
    off: bool,
) -> anyhow::Result<()> {
    let style = StyleKey::parse(key)
        .filter(|k| library.style(*k).is_some())
        .with_context(|| format!("no style {key:?} (see `avatar-studio styles list`)"))?;
    let changed = styles::set_disabled(db, style, off).await?;
    let state = if off { "disabled" } else { "enabled" };
    match changed {
        true => println!("{style} {state}"),
        false if off => println!("{style} was already disabled"),
        false => println!("{style} was not disabled"),
    }
    Ok(())
}
