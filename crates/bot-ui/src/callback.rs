//! `callback_data`: a compact, versioned codec. Telegram gives us 64 bytes; every variant fits
//! with the largest ids (tested). Anything that does not decode, including payloads of an
//! older version or of another bot, is `None`, which the caller treats as a stale button.
//! Buttons carry ids, never positions, so a list that changed meanwhile cannot mislead them.

use studio_domain::styles::{CategoryKey, PackKey, StyleKey};
use studio_domain::{AspectRatio, AvatarId, GalleryFilter, Gender, GenerationId, Language};

/// Bumped when the encoding changes; older buttons then decode to `None`.
const VERSION: &str = "1";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Callback {
    Menu(Menu),
    Avatar(AvatarAction),
    Profile(ProfileAction),
    Generate(GenerateAction),
    PhotoPrompt(PhotoPromptAction),
    Gallery(GalleryAction),
    Style(StyleAction),
}

/// The style library, for the avatar its menu was opened for (`None`: the main one). Styles,
/// categories and packs travel as their keys: a button for one removed since is stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StyleAction {
    Menu(Option<AvatarId>),
    Category(CategoryKey, Option<AvatarId>),
    Card(StyleKey, Option<AvatarId>),
    Generate(StyleKey, Option<AvatarId>),
    /// Star the style, or un-star it.
    Star(StyleKey, Option<AvatarId>),
    /// The starred styles ("My styles").
    Mine(Option<AvatarId>),
    Packs(Option<AvatarId>),
    Pack(PackKey, Option<AvatarId>),
    /// Order the pack: one debit, every image queued.
    Order(PackKey, Option<AvatarId>),
}

/// The generation menu and a result's buttons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GenerateAction {
    Menu,
    /// Write a prompt for this avatar (the menu's). `None`: a button from before buttons
    /// carried the avatar, which acts on the main avatar.
    CustomPrompt(Option<AvatarId>),
    /// The ratio for the prompt waiting in the dialog.
    Ratio(AspectRatio),
    /// The same prompt, ratio and avatar again (charged again).
    Again(GenerationId),
    ShowPrompt(GenerationId),
}

/// A prompt made from a reference photo by the vision model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoPromptAction {
    /// Ask for the reference photo, for this avatar; `None` as for `CustomPrompt`.
    Start(Option<AvatarId>),
    /// Generate with the proposed prompt.
    Use,
    /// Write one's own version of the proposed prompt.
    Edit,
    /// Drop the photo's prompt (or stop waiting for it) and go back to the menu.
    Cancel,
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
            Self::Ratio(r) => format!("r:{}", ratio_code(r)),
            Self::Again(g) => format!("again:{g}"),
            Self::ShowPrompt(g) => format!("pr:{g}"),
        }
    }

    fn decode(parts: &[&str]) -> Option<Self> {
        Some(match parts {
            ["menu"] => Self::Menu,
            ["txt"] => Self::CustomPrompt(None),
            ["txt", a] => Self::CustomPrompt(Some(AvatarId(a.parse().ok()?))),
            ["r", r] => Self::Ratio(ratio_from_code(r)?),
            ["again", g] => Self::Again(generation(g)?),
            ["pr", g] => Self::ShowPrompt(generation(g)?),
            _ => return None,
        })
    }
}

// Photo prompts share the generation menu's prefix: their buttons were born there.
impl PhotoPromptAction {
    fn encode(self) -> String {
        match self {
            Self::Start(a) => with_avatar("pho", a),
            Self::Use => "use".into(),
            Self::Edit => "edit".into(),
            Self::Cancel => "x".into(),
        }
    }

    fn decode(parts: &[&str]) -> Option<Self> {
        Some(match parts {
            ["pho"] => Self::Start(None),
            ["pho", a] => Self::Start(Some(AvatarId(a.parse().ok()?))),
            ["use"] => Self::Use,
            ["edit"] => Self::Edit,
            ["x"] => Self::Cancel,
            _ => return None,
        })
    }
}

impl StyleAction {
    fn encode(self) -> String {
        match self {
            Self::Menu(a) => with_avatar("m", a),
            Self::Category(c, a) => with_avatar(&format!("c:{c}"), a),
            Self::Card(s, a) => with_avatar(&format!("v:{s}"), a),
            Self::Generate(s, a) => with_avatar(&format!("go:{s}"), a),
            Self::Star(s, a) => with_avatar(&format!("fav:{s}"), a),
            Self::Mine(a) => with_avatar("my", a),
            Self::Packs(a) => with_avatar("pk", a),
            Self::Pack(p, a) => with_avatar(&format!("p:{p}"), a),
            Self::Order(p, a) => with_avatar(&format!("buy:{p}"), a),
        }
    }

    fn decode(parts: &[&str]) -> Option<Self> {
        let (head, avatar) = match parts {
            [code, key, a] => ([*code, *key], Some(AvatarId(a.parse().ok()?))),
            [code, key] if StyleAction::takes_key(code) => ([*code, *key], None),
            [code, a] => ([*code, ""], Some(AvatarId(a.parse().ok()?))),
            [code] => ([*code, ""], None),
            _ => return None,
        };
        let style = || StyleKey::parse(head[1]);
        let pack = || PackKey::parse(head[1]);
        Some(match head {
            ["m", ""] => Self::Menu(avatar),
            ["my", ""] => Self::Mine(avatar),
            ["pk", ""] => Self::Packs(avatar),
            ["c", key] => Self::Category(CategoryKey::parse(key)?, avatar),
            ["v", _] => Self::Card(style()?, avatar),
            ["go", _] => Self::Generate(style()?, avatar),
            ["fav", _] => Self::Star(style()?, avatar),
            ["p", _] => Self::Pack(pack()?, avatar),
            ["buy", _] => Self::Order(pack()?, avatar),
            _ => return None,
        })
    }

    fn takes_key(code: &str) -> bool {
        matches!(code, "c" | "v" | "go" | "fav" | "p" | "buy")
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
    /// A button of an avatar's card.
    Card(AvatarId, CardAction),
    /// A step of a draft's wizard.
    Draft(AvatarId, DraftAction),
}

/// The buttons of an avatar's card ("My avatars").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardAction {
    Show,
    /// Open the generation menu for this avatar (it becomes the main one).
    Generate,
    MakeMain,
    Rename,
    Delete,
    DeleteConfirmed,
    CancelTraining,
    CancelTrainingConfirmed,
}

/// The steps of a draft: uploading, reviewing and starting its training.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DraftAction {
    /// Drop the existing draft and start a new one.
    Discard,
    Continue,
    /// The uploaded photos, one at a time, starting with this photo id (0 = the first).
    Photos(i64),
    DeletePhoto(i64),
    Review,
    Cancel,
    CancelConfirmed,
    StartTraining,
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
        match self {
            Self::Create => "new".into(),
            Self::Gender(g) => format!("g:{}", g.label()),
            Self::Card(a, action) => action.encode(a),
            Self::Draft(a, action) => action.encode(a),
        }
    }

    fn decode(parts: &[&str]) -> Option<Self> {
        match parts {
            ["new"] => Some(Self::Create),
            ["g", g] => Gender::from_label(g).map(Self::Gender),
            [code, a, rest @ ..] => {
                let a = AvatarId(a.parse().ok()?);
                CardAction::decode(code, rest)
                    .map(|action| Self::Card(a, action))
                    .or_else(|| {
                        DraftAction::decode(code, rest).map(|action| Self::Draft(a, action))
                    })
            }
            _ => None,
        }
    }
}

impl CardAction {
    const fn code(self) -> &'static str {
        match self {
            Self::Show => "c",
            Self::Generate => "gen",
            Self::MakeMain => "main",
            Self::Rename => "ren",
            Self::Delete => "del",
            Self::DeleteConfirmed => "delok",
            Self::CancelTraining => "stop",
            Self::CancelTrainingConfirmed => "stopok",
        }
    }

    const ALL: [Self; 8] = [
        Self::Show,
        Self::Generate,
        Self::MakeMain,
        Self::Rename,
        Self::Delete,
        Self::DeleteConfirmed,
        Self::CancelTraining,
        Self::CancelTrainingConfirmed,
    ];

    fn encode(self, avatar: AvatarId) -> String {
        format!("{}:{avatar}", self.code())
    }

    fn decode(code: &str, rest: &[&str]) -> Option<Self> {
        match rest {
            [] => Self::ALL.into_iter().find(|a| a.code() == code),
            _ => None,
        }
    }
}

impl DraftAction {
    fn encode(self, a: AvatarId) -> String {
        match self {
            Self::Discard => format!("disc:{a}"),
            Self::Continue => format!("cont:{a}"),
            Self::Photos(p) => format!("ph:{a}:{p}"),
            Self::DeletePhoto(p) => format!("phdel:{a}:{p}"),
            Self::Review => format!("rev:{a}"),
            Self::Cancel => format!("cnl:{a}"),
            Self::CancelConfirmed => format!("cnlok:{a}"),
            Self::StartTraining => format!("train:{a}"),
        }
    }

    fn decode(code: &str, rest: &[&str]) -> Option<Self> {
        let num = |s: &str| s.parse::<i64>().ok();
        Some(match (code, rest) {
            ("disc", []) => Self::Discard,
            ("cont", []) => Self::Continue,
            ("ph", [p]) => Self::Photos(num(p)?),
            ("phdel", [p]) => Self::DeletePhoto(num(p)?),
            ("rev", []) => Self::Review,
            ("cnl", []) => Self::Cancel,
            ("cnlok", []) => Self::CancelConfirmed,
            ("train", []) => Self::StartTraining,
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
            Self::PhotoPrompt(action) => format!("{VERSION}:g:{}", action.encode()),
            Self::Gallery(action) => format!("{VERSION}:r:{}", action.encode()),
            Self::Style(action) => format!("{VERSION}:s:{}", action.encode()),
        }
    }

    pub fn decode(data: &str) -> Option<Self> {
        let parts: Vec<&str> = data.split(':').collect();
        match parts.as_slice() {
            [VERSION, "m", code] => Menu::from_code(code).map(Self::Menu),
            [VERSION, "a", rest @ ..] => AvatarAction::decode(rest).map(Self::Avatar),
            [VERSION, "p", rest @ ..] => ProfileAction::decode(rest).map(Self::Profile),
            // "Change avatar" was a generation button before it became the menu's.
            [VERSION, "g", "av"] => Some(Self::Menu(Menu::MyAvatars)),
            [VERSION, "g", rest @ ..] => GenerateAction::decode(rest)
                .map(Self::Generate)
                .or_else(|| PhotoPromptAction::decode(rest).map(Self::PhotoPrompt)),
            [VERSION, "r", rest @ ..] => GalleryAction::decode(rest).map(Self::Gallery),
            [VERSION, "s", rest @ ..] => StyleAction::decode(rest).map(Self::Style),
            _ => None,
        }
    }

    /// Every variant with extreme arguments, for the round-trip and size tests.
    #[cfg(test)]
    fn samples() -> Vec<Self> {
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
            ]
            .map(Self::Generate),
        );
        all.extend(
            [
                PhotoPromptAction::Start(None),
                PhotoPromptAction::Start(Some(AvatarId(i64::MAX))),
                PhotoPromptAction::Use,
                PhotoPromptAction::Edit,
                PhotoPromptAction::Cancel,
            ]
            .map(Self::PhotoPrompt),
        );
        all.extend([GalleryAction::Filters, GalleryAction::Stats].map(Self::Gallery));
        // Keys are at most 30 bytes (`styles::Key::MAX`).
        let longest = "x".repeat(30);
        let style = StyleKey::parse(&longest).expect("a key of the longest length");
        let (category, pack) = (
            CategoryKey::parse(&longest).expect("category key"),
            PackKey::parse(&longest).expect("pack key"),
        );
        for a in [None, Some(AvatarId(i64::MIN)), Some(AvatarId(i64::MAX))] {
            all.extend(
                [
                    StyleAction::Menu(a),
                    StyleAction::Category(category, a),
                    StyleAction::Card(style, a),
                    StyleAction::Generate(style, a),
                    StyleAction::Star(style, a),
                    StyleAction::Mine(a),
                    StyleAction::Packs(a),
                    StyleAction::Pack(pack, a),
                    StyleAction::Order(pack, a),
                ]
                .map(Self::Style),
            );
        }
        all.extend(
            [
                AvatarAction::Create,
                AvatarAction::Gender(studio_domain::Gender::Male),
                AvatarAction::Gender(studio_domain::Gender::Female),
            ]
            .map(Self::Avatar),
        );
        for a in [AvatarId(i64::MAX), AvatarId(i64::MIN), AvatarId(0)] {
            for action in CardAction::ALL {
                all.push(Self::Avatar(AvatarAction::Card(a, action)));
            }
            for p in [i64::MAX, i64::MIN, 0] {
                all.extend(
                    [
                        DraftAction::Discard,
                        DraftAction::Continue,
                        DraftAction::Photos(p),
                        DraftAction::DeletePhoto(p),
                        DraftAction::Review,
                        DraftAction::Cancel,
                        DraftAction::CancelConfirmed,
                        DraftAction::StartTraining,
                    ]
                    .map(|action| Self::Avatar(AvatarAction::Draft(a, action))),
                );
            }
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::{AvatarAction, Callback, CardAction, DraftAction, Menu};

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
                AvatarAction::Draft(a, DraftAction::Photos(p)),
                AvatarAction::Draft(a, DraftAction::DeletePhoto(p)),
                AvatarAction::Card(a, CardAction::Show),
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
        assert_eq!(
            Callback::decode("1:g:av"),
            Some(Callback::Menu(Menu::MyAvatars)),
            "an old \"change avatar\" button opens the avatars"
        );
    }
}
