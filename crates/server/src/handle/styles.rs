//! The style library: browsing categories, a style's card, starring, "My styles", packs.
//! A style generates through the same queue and checks as a typed prompt; a pack debits its
//! one price and queues every image, each with its share of the price.

use std::collections::HashSet;

use studio_bot_ui::StyleAction;
use studio_bot_ui::screens::styles::{
    self as screen, CardView, LibraryView, ListView, Named, PackView,
};
use studio_domain::UserId;
use studio_domain::styles::{CategoryKey, Library, Pack, PackKey, StyleKey, popular_first, shares};
use studio_persistence::repos::avatars::Avatar;
use studio_persistence::repos::packs::{self, NewPack, Ordered, PackItem};
use studio_persistence::repos::{ledger, limits, styles};
use studio_persistence::{DatabaseTransaction, RepoError};

use super::Services;
use super::context::Context;
use super::steps::{self, Job};
use super::views;

/// Popularity counts use over this window.
const POPULAR_WINDOW: chrono::Duration = chrono::Duration::days(7);

pub async fn act(
    txn: &DatabaseTransaction,
    services: &Services,
    cx: &mut Context,
    action: StyleAction,
) -> Result<(), RepoError> {
    let Some(owner) = cx.user_id() else {
        return Ok(());
    };
    cx.answer_callback(None);
    let named = match action {
        StyleAction::Menu(a)
        | StyleAction::Category(_, a)
        | StyleAction::Card(_, a)
        | StyleAction::Generate(_, a)
        | StyleAction::Star(_, a)
        | StyleAction::Mine(a)
        | StyleAction::Packs(a)
        | StyleAction::Pack(_, a)
        | StyleAction::Order(_, a) => a,
    };
    let avatar = steps::menu_avatar(txn, owner, named).await?;
    let avatar = match views::ready_avatar(txn, cx, avatar).await? {
        Ok(avatar) => avatar,
        Err(screen) => {
            cx.show(screen);
            return Ok(());
        }
    };
    let shelf = Shelf {
        library: services.styles,
        disabled: styles::disabled(txn).await?,
    };
    let at = Visit {
        services,
        shelf: &shelf,
        owner,
        avatar: &avatar,
    };
    match action {
        StyleAction::Menu(_) => library(txn, cx, at).await,
        StyleAction::Category(category, _) => category_list(txn, cx, at, category).await,
        StyleAction::Mine(_) => {
            let starred = styles::favourites(txn, owner).await?;
            show_list(txn, cx, at, None, &starred).await
        }
        StyleAction::Card(style, _) => card(txn, cx, at, style).await,
        StyleAction::Star(style, _) => star(txn, cx, at, style).await,
        StyleAction::Generate(style, _) => generate(txn, cx, at, style).await,
        StyleAction::Packs(_) => {
            let views: Vec<PackView> = shelf
                .packs()
                .map(|pack| pack_view(services, cx, pack))
                .collect();
            cx.show(screen::packs(cx.texts(), avatar.id, &views));
            Ok(())
        }
        StyleAction::Pack(key, _) => pack(txn, cx, at, key).await,
        StyleAction::Order(key, _) => order(txn, cx, at, key).await,
    }
}

async fn category_list(
    txn: &DatabaseTransaction,
    cx: &mut Context,
    at: Visit<'_>,
    key: CategoryKey,
) -> Result<(), RepoError> {
    let Some(category) = at.shelf.library.category(key) else {
        views::stale(cx);
        return Ok(());
    };
    let title = (
        category.emoji.clone(),
        category.name.get(cx.language).to_owned(),
    );
    show_list(txn, cx, at, Some(title), &category.styles).await
}

async fn star(
    txn: &DatabaseTransaction,
    cx: &mut Context,
    at: Visit<'_>,
    style: StyleKey,
) -> Result<(), RepoError> {
    if at.shelf.usable(style).is_none() {
        views::stale(cx);
        return Ok(());
    }
    let starred = styles::toggle_favourite(txn, at.owner, style).await?;
    let t = cx.texts();
    cx.answer_callback(Some(if starred {
        &t.style_starred
    } else {
        &t.style_unstarred
    }));
    card(txn, cx, at, style).await
}

async fn pack(
    txn: &DatabaseTransaction,
    cx: &mut Context,
    at: Visit<'_>,
    key: PackKey,
) -> Result<(), RepoError> {
    let Some(pack) = at.shelf.pack(key) else {
        views::stale(cx);
        return Ok(());
    };
    let view = pack_view(at.services, cx, pack);
    let balance = ledger::balance(txn, at.owner).await?;
    let avatar = (at.avatar.id, at.avatar.name.as_str());
    let cost = at.services.generation_cost;
    cx.show(screen::pack(cx.texts(), avatar, &view, cost, balance));
    Ok(())
}

/// The library as it is on sale now: the shipped styles minus those operators switched off.
struct Shelf<'a> {
    library: &'a Library,
    disabled: HashSet<StyleKey>,
}

impl Shelf<'_> {
    fn usable(&self, key: StyleKey) -> Option<&studio_domain::styles::Style> {
        self.library
            .style(key)
            .filter(|_| !self.disabled.contains(&key))
    }

    fn enabled(&self, keys: &[StyleKey]) -> Vec<StyleKey> {
        keys.iter()
            .copied()
            .filter(|key| self.usable(*key).is_some())
            .collect()
    }

    /// Packs whose every style is on sale.
    fn packs(&self) -> impl Iterator<Item = &Pack> {
        self.library
            .packs()
            .iter()
            .filter(|pack| pack.styles.iter().all(|s| self.usable(*s).is_some()))
    }

    fn pack(&self, key: PackKey) -> Option<&Pack> {
        self.packs().find(|pack| pack.key == key)
    }
}

/// A visit to the library: whose it is, for which of their avatars, and what is on sale.
#[derive(Clone, Copy)]
struct Visit<'a> {
    services: &'a Services,
    shelf: &'a Shelf<'a>,
    owner: UserId,
    avatar: &'a Avatar,
}

async fn popular(
    txn: &DatabaseTransaction,
) -> Result<std::collections::HashMap<StyleKey, u64>, RepoError> {
    styles::uses_since(txn, chrono::Utc::now() - POPULAR_WINDOW).await
}

async fn library(
    txn: &DatabaseTransaction,
    cx: &mut Context,
    at: Visit<'_>,
) -> Result<(), RepoError> {
    let language = cx.language;
    let categories = at
        .shelf
        .library
        .categories()
        .iter()
        .filter(|c| !at.shelf.enabled(&c.styles).is_empty())
        .map(|c| Named {
            key: c.key,
            name: format!("{} {}", c.emoji, c.name.get(language)),
        })
        .collect();
    let view = LibraryView {
        avatar_id: at.avatar.id,
        avatar: at.avatar.name.clone(),
        cost: at.services.generation_cost,
        balance: ledger::balance(txn, at.owner).await?,
        categories,
    };
    cx.show(screen::library(cx.texts(), &view));
    Ok(())
}

/// Styles on sale among `keys`, the most used this week first.
async fn show_list(
    txn: &DatabaseTransaction,
    cx: &mut Context,
    at: Visit<'_>,
    category: Option<(String, String)>,
    keys: &[StyleKey],
) -> Result<(), RepoError> {
    let mut keys = at.shelf.enabled(keys);
    popular_first(&mut keys, &popular(txn).await?);
    let language = cx.language;
    let styles = keys
        .into_iter()
        .filter_map(|key| at.shelf.usable(key))
        .map(|style| Named {
            key: style.key,
            name: style.name.get(language).to_owned(),
        })
        .collect();
    let view = ListView {
        avatar: at.avatar.id,
        category,
        styles,
    };
    cx.show(screen::list(cx.texts(), &view));
    Ok(())
}

async fn card(
    txn: &DatabaseTransaction,
    cx: &mut Context,
    at: Visit<'_>,
    key: StyleKey,
) -> Result<(), RepoError> {
    let (Some(style), language) = (at.shelf.usable(key), cx.language) else {
        views::stale(cx);
        return Ok(());
    };
    let category = at.shelf.library.category(style.category).map_or_else(
        || Named {
            key: style.category,
            name: style.category.to_string(),
        },
        |c| Named {
            key: c.key,
            name: format!("{} {}", c.emoji, c.name.get(language)),
        },
    );
    let view = CardView {
        avatar_id: at.avatar.id,
        avatar: at.avatar.name.clone(),
        key,
        name: style.name.get(language).to_owned(),
        category,
        ratio: style.ratio,
        cost: at.services.generation_cost,
        balance: ledger::balance(txn, at.owner).await?,
        starred: styles::is_favourite(txn, at.owner, key).await?,
    };
    cx.show(screen::card(cx.texts(), &view));
    Ok(())
}

async fn generate(
    txn: &DatabaseTransaction,
    cx: &mut Context,
    at: Visit<'_>,
    key: StyleKey,
) -> Result<(), RepoError> {
    let (Some(style), Ok(trained)) = (at.shelf.usable(key), at.avatar.trained()) else {
        views::stale(cx);
        return Ok(());
    };
    let prompt = style.prompt(&trained.trigger_phrase, at.avatar.gender);
    let job = Job {
        original: &prompt,
        english: &prompt,
        ratio: style.ratio,
        style: Some(key),
    };
    tracing::info!(style = %key, "style chosen");
    steps::queue(txn, at.services, cx, at.owner, Some(at.avatar.clone()), job).await
}

fn pack_view(services: &Services, cx: &Context, pack: &Pack) -> PackView {
    let language = cx.language;
    PackView {
        key: pack.key,
        name: pack.name.get(language).to_owned(),
        price: services.pack_prices.price(pack, services.generation_cost),
        styles: pack
            .styles
            .iter()
            .filter_map(|key| services.styles.style(*key))
            .map(|style| style.name.get(language).to_owned())
            .collect(),
    }
}

/// Debits the pack's price once and queues its images; the confirmation becomes the order's
/// receipt and a progress message follows, edited as images finish. The pressed message keys
/// the debit, so a second press of the same button orders nothing.
async fn order(
    txn: &DatabaseTransaction,
    cx: &mut Context,
    at: Visit<'_>,
    key: PackKey,
) -> Result<(), RepoError> {
    let (Some(pack), Ok(trained)) = (at.shelf.pack(key), at.avatar.trained()) else {
        views::stale(cx);
        return Ok(());
    };
    let limit = at.services.limits.blocked_images_per_day;
    let blocked = limits::blocked_images_since(txn, at.owner, steps::day_ago()).await?;
    if blocked >= u64::from(limit) {
        views::refuse_over_limit(cx, &cx.texts().blocked_limit_reached, limit);
        return Ok(());
    }
    let price = at
        .services
        .pack_prices
        .price(pack, at.services.generation_cost);
    let items: Vec<PackItem> = pack
        .styles
        .iter()
        .filter_map(|key| at.shelf.usable(*key))
        .zip(shares(price, pack.styles.len()))
        .map(|(style, share)| PackItem {
            style: style.key,
            prompt: style.prompt(&trained.trigger_phrase, at.avatar.gender),
            ratio: style.ratio,
            share,
        })
        .collect();
    let new = NewPack {
        user: at.owner,
        avatar: at.avatar.id,
        pack: key,
        price,
        items: &items,
        deadline: at.services.generation_deadline,
        order_key: order_key(cx, at.owner),
    };
    match packs::order(txn, new).await? {
        Ordered::Queued(id) => {
            tracing::info!(pack_order_id = %id, pack = %key, %price, "style pack ordered");
            cx.after_commit.jobs_queued = true;
            let name = pack.name.get(cx.language).to_owned();
            let t = cx.texts();
            cx.show(screen::pack_ordered(t, &name, items.len(), price));
            let progress = crate::packs::progress_view(&name, items.len());
            cx.send_tagged(
                &crate::packs::progress_tag(id),
                screen::pack_progress(t, &progress),
            );
        }
        Ordered::AlreadyOrdered => {
            tracing::info!(pack = %key, "pack button pressed again; ordered once");
        }
        Ordered::Missing(_) => {
            let balance = ledger::balance(txn, at.owner).await?;
            cx.send(screen::pack_not_enough_credits(cx.texts(), price, balance));
        }
    }
    Ok(())
}

/// The pressed confirmation (or, for a message Telegram no longer shows us, the press).
fn order_key(cx: &Context, owner: UserId) -> String {
    let callback = cx.callback.as_ref();
    match callback.and_then(|q| q.message.as_ref()) {
        Some(message) => format!("pack-order:{owner}:{}:{}", cx.chat, message.message_id),
        None => format!(
            "pack-order:query:{}",
            callback.map(|q| q.id.as_str()).unwrap_or_default()
        ),
    }
}
