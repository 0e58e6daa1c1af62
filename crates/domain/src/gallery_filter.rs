use crate::AvatarId;

/// Which of a person's images the results gallery walks through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum GalleryFilter {
    #[default]
    All,
    Favourites,
    Avatar(AvatarId),
}
