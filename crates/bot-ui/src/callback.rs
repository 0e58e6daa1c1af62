//! `callback_data`: a compact, versioned codec. Telegram gives us 64 bytes; every variant fits
//! with the largest ids (tested). Anything that does not decode, including payloads of an
//! older version or of another bot, is `None`, which the caller treats as a stale button.
//! Buttons carry ids, never positions, so a list that changed meanwhile cannot mislead them.

use studio_domain::{AspectRatio, AvatarId, GalleryFilter, Gender, GenerationId, Language};

/// Bumped when the encoding changes; older buttons then decode to `None`.
const VERSION: &str = "1";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Callback {
    Menu(Menu),
    Avatar(AvatarAction),
    Profile(ProfileAction),
    Generate(GenerateAction),
    Gallery(GalleryAction),
}

/// The generation menu and a result's buttons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GenerateAction {
    Menu,
    /// Write a prompt for this avatar (the menu's). `None`: a button from before buttons
    /// carried the avatar, which acts on the main avatar.
    CustomPrompt(Option<AvatarId>),
    /// Make a prompt from a photo, for this avatar; `None` as for `CustomPrompt`.
    PromptFromPhoto(Option<AvatarId>),
    ChangeAvatar,
    /// The ratio for the prompt waiting in the dialog.
    Ratio(AspectRatio),
    /// The same prompt, ratio and avatar again (charged again).
    Again(GenerationId),
    ShowPrompt(GenerationId),
    /// Generate with the prompt proposed from a photo.
    UseProposed,
    /// Write one's own version of the proposed prompt.
    EditProposed,
    /// Drop the photo's prompt (or stop waiting for it) and go back to the menu.
    CancelProposed,
}

/// The results gallery. Positions are ids, and the filter travels with them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GalleryAction {
    Card(GenerationId, GalleryFilter),
    Favourite(GenerationId, GalleryFilter),
    Delete(GenerationId, GalleryFilter),
    DeleteConfirmed(GenerationId, GalleryFilter),
    /// The newest image under this filter.
    Open(GalleryFilter),
    Filters,
    Stats,
}

/// Ratios travel as their position (`1:1` holds the separator).
fn ratio_code(ratio: AspectRatio) -> usize {
    AspectRatio::ALL
        .iter()
        .position(|r| *r == ratio)
        .unwrap_or(0)
}

fn ratio_from_code(code: &str) -> Option<AspectRatio> {
    AspectRatio::ALL.get(code.parse::<usize>().ok()?).copied()
}

fn filter_code(filter: GalleryFilter) -> String {
    match filter {
        GalleryFilter::All => "a".into(),
        GalleryFilter::Favourites => "f".into(),
        GalleryFilter::Avatar(id) => format!("v{id}"),
    }
}

fn filter_from_code(code: &str) -> Option<GalleryFilter> {
    match code {
        "a" => Some(GalleryFilter::All),
        "f" => Some(GalleryFilter::Favourites),
        _ => Some(GalleryFilter::Avatar(AvatarId(
            code.strip_prefix('v')?.parse().ok()?,
        ))),
    }
}

fn generation(code: &str) -> Option<GenerationId> {
    code.parse().ok().map(GenerationId)
}

fn with_avatar(code: &str, avatar: Option<AvatarId>) -> String {
    match avatar {
        Some(avatar) => format!("{code}:{avatar}"),
        None => code.to_owned(),
    }
}

impl GenerateAction {
    fn encode(self) -> String {
        match self {
            Self::Menu => "menu".into(),
            Self::CustomPrompt(a) => with_avatar("txt", a),
            Self::PromptFromPhoto(a) => with_avatar("pho", a),
            Self::ChangeAvatar => "av".into(),
            Self::Ratio(r) => format!("r:{}", ratio_code(r)),
            Self::Again(g) => format!("again:{g}"),
            Self::ShowPrompt(g) => format!("pr:{g}"),
            Self::UseProposed => "use".into(),
            Self::EditProposed => "edit".into(),
            Self::CancelProposed => "x".into(),
        }
    }

    fn decode(parts: &[&str]) -> Option<Self> {
        Some(match parts {
            ["menu"] => Self::Menu,
            ["txt"] => Self::CustomPrompt(None),
            ["txt", a] => Self::CustomPrompt(Some(AvatarId(a.parse().ok()?))),
            ["pho"] => Self::PromptFromPhoto(None),
            ["pho", a] => Self::PromptFromPhoto(Some(AvatarId(a.parse().ok()?))),
            ["av"] => Self::ChangeAvatar,
            ["r", r] => Self::Ratio(ratio_from_code(r)?),
            ["again", g] => Self::Again(generation(g)?),
            ["pr", g] => Self::ShowPrompt(generation(g)?),
            ["use"] => Self::UseProposed,
            ["edit"] => Self::EditProposed,
            ["x"] => Self::CancelProposed,
            _ => return None,
        })
    }
}

impl GalleryAction {
    fn encode(self) -> String {
        match self {
            Self::Card(g, f) => format!("c:{g}:{}", filter_code(f)),
            Self::Favourite(g, f) => format!("fav:{g}:{}", filter_code(f)),
            Self::Delete(g, f) => format!("del:{g}:{}", filter_code(f)),
            Self::DeleteConfirmed(g, f) => format!("delok:{g}:{}", filter_code(f)),
            Self::Open(f) => format!("o:{}", filter_code(f)),
            Self::Filters => "flt".into(),
            Self::Stats => "st".into(),
        }
    }

    fn decode(parts: &[&str]) -> Option<Self> {
        let pair = |g: &str, f: &str| Some((generation(g)?, filter_from_code(f)?));
        Some(match parts {
            ["c", g, f] => pair(g, f).map(|(g, f)| Self::Card(g, f))?,
            ["fav", g, f] => pair(g, f).map(|(g, f)| Self::Favourite(g, f))?,
            ["del", g, f] => pair(g, f).map(|(g, f)| Self::Delete(g, f))?,
            ["delok", g, f] => pair(g, f).map(|(g, f)| Self::DeleteConfirmed(g, f))?,
            ["o", f] => Self::Open(filter_from_code(f)?),
            ["flt"] => Self::Filters,
            ["st"] => Self::Stats,
            _ => return None,
        })
    }
}

/// The profile's screens and actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileAction {
    /// Ledger entries older than this id (0: the newest).
    History(i64),
    TopUp,
    /// Buy the package at this position of the configured list.
    Buy(u8),
    Promo,
    Settings,
    Language(Language),
    DefaultRatio(AspectRatio),
    QuickMode(bool),
}

impl ProfileAction {
    fn encode(self) -> String {
        match self {
            Self::History(before) => format!("h:{before}"),
            Self::TopUp => "top".into(),
            Self::Buy(i) => format!("buy:{i}"),
            Self::Promo => "promo".into(),
            Self::Settings => "set".into(),
            Self::Language(l) => format!("lang:{}", l.code()),
            Self::DefaultRatio(r) => format!("ratio:{}", ratio_code(r)),
            Self::QuickMode(on) => format!("quick:{}", u8::from(on)),
        }
    }

    fn decode(parts: &[&str]) -> Option<Self> {
        Some(match parts {
            ["h", before] => Self::History(before.parse().ok()?),
            ["top"] => Self::TopUp,
            ["buy", i] => Self::Buy(i.parse().ok()?),
            ["promo"] => Self::Promo,
            ["set"] => Self::Settings,
            ["lang", code] => Self::Language(Language::from_code(code)?),
            ["ratio", r] => Self::DefaultRatio(ratio_from_code(r)?),
            ["quick", "1"] => Self::QuickMode(true),
            ["quick", "0"] => Self::QuickMode(false),
            _ => return None,
        })
    }
}

/// The main menu's destinations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Menu {
    Main,
    CreateImage,
    MyAvatars,
    MyGallery,
    Profile,
    Help,
}

/// Everything done to avatars and their drafts. Ids are checked against the presser by the
/// use case: a tampered id finds nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AvatarAction {
    /// Start the wizard (or offer the existing draft).
    Create,
    Gender(Gender),
    /// Drop the existing draft and start a new one.
    Discard(AvatarId),
    Card(AvatarId),
    /// Make the avatar main and open the generation menu.
    Generate(AvatarId),
    MakeMain(AvatarId),
    Continue(AvatarId),
    Rename(AvatarId),
    Delete(AvatarId),
    DeleteConfirmed(AvatarId),
    /// The uploaded photos, one at a time, starting with `photo` (0 = the first).
    Photos(AvatarId, i64),
    DeletePhoto(AvatarId, i64),
    Review(AvatarId),
    CancelDraft(AvatarId),
    CancelDraftConfirmed(AvatarId),
    StartTraining(AvatarId),
    CancelTraining(AvatarId),
    CancelTrainingConfirmed(AvatarId),
}

impl Menu {
    pub const ALL: [Self; 6] = [
        Self::Main,
        Self::CreateImage,
        Self::MyAvatars,
        Self::MyGallery,
        Self::Profile,
        Self::Help,
    ];

    const fn code(self) -> &'static str {
        match self {
            Self::Main => "main",
            Self::CreateImage => "gen",
            Self::MyAvatars => "avs",
            Self::MyGallery => "gal",
            Self::Profile => "prof",
            Self::Help => "help",
        }
    }

    fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.code() == code)
    }
}

impl AvatarAction {
    fn encode(self) -> String {
        use AvatarAction::*;
        match self {
            Create => "new".into(),
            Gender(g) => format!("g:{}", g.label()),
            Discard(a) => format!("disc:{a}"),
            Card(a) => format!("c:{a}"),
            Generate(a) => format!("gen:{a}"),
            MakeMain(a) => format!("main:{a}"),
            Continue(a) => format!("cont:{a}"),
            Rename(a) => format!("ren:{a}"),
            Delete(a) => format!("del:{a}"),
            DeleteConfirmed(a) => format!("delok:{a}"),
            Photos(a, p) => format!("ph:{a}:{p}"),
            DeletePhoto(a, p) => format!("phdel:{a}:{p}"),
            Review(a) => format!("rev:{a}"),
            CancelDraft(a) => format!("cnl:{a}"),
            CancelDraftConfirmed(a) => format!("cnlok:{a}"),
            StartTraining(a) => format!("train:{a}"),
            CancelTraining(a) => format!("stop:{a}"),
            CancelTrainingConfirmed(a) => format!("stopok:{a}"),
        }
    }

    fn decode(parts: &[&str]) -> Option<Self> {
        let id = |s: &str| s.parse::<i64>().ok().map(AvatarId);
        let num = |s: &str| s.parse::<i64>().ok();
        Some(match parts {
            ["new"] => Self::Create,
            ["g", g] => Self::Gender(Gender::from_label(g)?),
            ["disc", a] => Self::Discard(id(a)?),
            ["c", a] => Self::Card(id(a)?),
            ["gen", a] => Self::Generate(id(a)?),
            ["main", a] => Self::MakeMain(id(a)?),
            ["cont", a] => Self::Continue(id(a)?),
            ["ren", a] => Self::Rename(id(a)?),
            ["del", a] => Self::Delete(id(a)?),
            ["delok", a] => Self::DeleteConfirmed(id(a)?),
            ["ph", a, p] => Self::Photos(id(a)?, num(p)?),
            ["phdel", a, p] => Self::DeletePhoto(id(a)?, num(p)?),
            ["rev", a] => Self::Review(id(a)?),
            ["cnl", a] => Self::CancelDraft(id(a)?),
            ["cnlok", a] => Self::CancelDraftConfirmed(id(a)?),
            ["train", a] => Self::StartTraining(id(a)?),
            ["stop", a] => Self::CancelTraining(id(a)?),
            ["stopok", a] => Self::CancelTrainingConfirmed(id(a)?),
            _ => return None,
        })
    }
}

impl Callback {
    pub fn encode(self) -> String {
        match self {
            Self::Menu(menu) => format!("{VERSION}:m:{}", menu.code()),
            Self::Avatar(action) => format!("{VERSION}:a:{}", action.encode()),
            Self::Profile(action) => format!("{VERSION}:p:{}", action.encode()),
            Self::Generate(action) => format!("{VERSION}:g:{}", action.encode()),
            Self::Gallery(action) => format!("{VERSION}:r:{}", action.encode()),
        }
    }

    pub fn decode(data: &str) -> Option<Self> {
        let parts: Vec<&str> = data.split(':').collect();
        match parts.as_slice() {
            [VERSION, "m", code] => Menu::from_code(code).map(Self::Menu),
            [VERSION, "a", rest @ ..] => AvatarAction::decode(rest).map(Self::Avatar),
            [VERSION, "p", rest @ ..] => ProfileAction::decode(rest).map(Self::Profile),
            [VERSION, "g", rest @ ..] => GenerateAction::decode(rest).map(Self::Generate),
            [VERSION, "r", rest @ ..] => GalleryAction::decode(rest).map(Self::Gallery),
            _ => None,
        }
    }

    /// Every variant with extreme arguments, for the round-trip and size tests.
    #[cfg(test)]
    fn samples() -> Vec<Self> {
        use AvatarAction::*;
        let mut all: Vec<Self> = Menu::ALL.into_iter().map(Self::Menu).collect();
        for action in [
            ProfileAction::History(0),
            ProfileAction::History(i64::MAX),
            ProfileAction::TopUp,
            ProfileAction::Buy(u8::MAX),
            ProfileAction::Promo,
            ProfileAction::Settings,
            ProfileAction::Language(studio_domain::Language::Ru),
            ProfileAction::Language(studio_domain::Language::En),
            ProfileAction::QuickMode(true),
            ProfileAction::QuickMode(false),
        ] {
            all.push(Self::Profile(action));
        }
        for ratio in AspectRatio::ALL {
            all.push(Self::Profile(ProfileAction::DefaultRatio(ratio)));
            all.push(Self::Generate(GenerateAction::Ratio(ratio)));
        }
        for g in [
            GenerationId(i64::MAX),
            GenerationId(i64::MIN),
            GenerationId(0),
        ] {
            all.extend(
                [GenerateAction::Again(g), GenerateAction::ShowPrompt(g)].map(Self::Generate),
            );
            for f in [
                GalleryFilter::All,
                GalleryFilter::Favourites,
                GalleryFilter::Avatar(AvatarId(i64::MIN)),
                GalleryFilter::Avatar(AvatarId(i64::MAX)),
            ] {
                all.extend(
                    [
                        GalleryAction::Card(g, f),
                        GalleryAction::Favourite(g, f),
                        GalleryAction::Delete(g, f),
                        GalleryAction::DeleteConfirmed(g, f),
                        GalleryAction::Open(f),
                    ]
                    .map(Self::Gallery),
                );
            }
        }
        all.extend(
            [
                GenerateAction::Menu,
                GenerateAction::CustomPrompt(None),
                GenerateAction::CustomPrompt(Some(AvatarId(i64::MAX))),
                GenerateAction::PromptFromPhoto(None),
                GenerateAction::PromptFromPhoto(Some(AvatarId(i64::MAX))),
                GenerateAction::ChangeAvatar,
                GenerateAction::UseProposed,
                GenerateAction::EditProposed,
                GenerateAction::CancelProposed,
            ]
            .map(Self::Generate),
        );
        all.extend([GalleryAction::Filters, GalleryAction::Stats].map(Self::Gallery));
        for a in [AvatarId(i64::MAX), AvatarId(i64::MIN), AvatarId(0)] {
            for p in [i64::MAX, i64::MIN, 0] {
                all.extend(
                    [
                        Create,
                        Gender(studio_domain::Gender::Male),
                        Gender(studio_domain::Gender::Female),
                        Discard(a),
                        Card(a),
                        Generate(a),
                        MakeMain(a),
                        Continue(a),
                        Rename(a),
                        Delete(a),
                        DeleteConfirmed(a),
                        Photos(a, p),
                        DeletePhoto(a, p),
                        Review(a),
                        CancelDraft(a),
                        CancelDraftConfirmed(a),
                        StartTraining(a),
                        CancelTraining(a),
                        CancelTrainingConfirmed(a),
                    ]
                    .map(Self::Avatar),
                );
            }
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::{AvatarAction, Callback, Menu};

    /// Telegram's limit for `callback_data`.
    const MAX_BYTES: usize = 64;

    #[test]
    fn every_variant_round_trips_within_64_bytes() {
        for callback in Callback::samples() {
            let data = callback.encode();
            assert!(data.len() <= MAX_BYTES, "{data} is {} bytes", data.len());
            assert_eq!(Callback::decode(&data), Some(callback), "{data}");
        }
    }

    #[test]
    fn random_ids_round_trip() {
        let mut rng = fastrand::Rng::with_seed(7);
        for _ in 0..10_000 {
            let (a, p) = (studio_domain::AvatarId(rng.i64(..)), rng.i64(..));
            for action in [
                AvatarAction::Photos(a, p),
                AvatarAction::DeletePhoto(a, p),
                AvatarAction::Card(a),
            ] {
                let data = Callback::Avatar(action).encode();
                assert!(data.len() <= MAX_BYTES);
                assert_eq!(Callback::decode(&data), Some(Callback::Avatar(action)));
            }
        }
    }

    #[test]
    fn foreign_and_tampered_payloads_are_stale() {
        for data in [
            "",
            "test",
            "0:m:main",
            "1:m",
            "1:m:nope",
            "1:m:main:extra",
            "1:x:main",
            "1:a:c:abc",
            "1:a:c",
            "1:a:g:other",
            "1:a:ph:1",
            "1:a:c:99999999999999999999",
        ] {
            assert_eq!(Callback::decode(data), None, "{data:?}");
        }
        assert_eq!(
            Callback::decode("1:m:help"),
            Some(Callback::Menu(Menu::Help))
        );
    }
}
