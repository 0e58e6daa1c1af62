//! What a training photo must be, decided from its bytes alone: the real format by magic
//! bytes (never the file name or the MIME type the client claims), the dimensions from the
//! header, and a SHA-256 to refuse exact duplicates.

use std::fmt::Write;

use sha2::{Digest, Sha256};

/// Telegram's `getFile` download limit.
pub const MAX_PHOTO_BYTES: u64 = 20 * 1024 * 1024;
/// The shorter side a training photo needs.
pub const MIN_SHORT_SIDE: u32 = 512;
/// Photos a draft needs before training, and the most it may hold.
pub const MIN_PHOTOS: usize = 10;
pub const MAX_PHOTOS: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoFormat {
    Jpeg,
    Png,
    Webp,
}

impl PhotoFormat {
    pub const fn content_type(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Webp => "image/webp",
        }
    }

    pub const fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Png => "png",
            Self::Webp => "webp",
        }
    }
}

/// A photo that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InspectedPhoto {
    pub format: PhotoFormat,
    pub width: u32,
    pub height: u32,
    pub sha256: String,
}

/// Why a photo was refused; each has its own one-line answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoRejection {
    TooLarge,
    /// HEIC/HEIF (iPhone): readable here but not by the trainer; ask for JPEG.
    Heic,
    /// A real image in a format we do not take (GIF, BMP, TIFF…).
    UnsupportedFormat,
    /// Not an image at all (a PDF, a text file renamed `.jpg`…).
    NotAnImage,
    TooSmall {
        width: u32,
        height: u32,
    },
    /// More pixels (times bit depth) than a decode may take in memory.
    TooManyPixels {
        width: u32,
        height: u32,
    },
    Duplicate,
    LimitReached,
}

pub fn inspect(bytes: &[u8]) -> Result<InspectedPhoto, PhotoRejection> {
    if bytes.len() as u64 > MAX_PHOTO_BYTES {
        return Err(PhotoRejection::TooLarge);
    }
    let format = format_of(bytes)?;
    let size = imagesize::blob_size(bytes).map_err(|_| PhotoRejection::NotAnImage)?;
    let (width, height) = (
        u32::try_from(size.width).unwrap_or(u32::MAX),
        u32::try_from(size.height).unwrap_or(u32::MAX),
    );
    if width.min(height) < MIN_SHORT_SIDE {
        return Err(PhotoRejection::TooSmall { width, height });
    }
    Ok(InspectedPhoto {
        format,
        width,
        height,
        sha256: sha256_hex(bytes),
    })
}

#[allow(clippy::wildcard_enum_match_arm)] // imagesize knows dozens of formats; we take three
fn format_of(bytes: &[u8]) -> Result<PhotoFormat, PhotoRejection> {
    match imagesize::image_type(bytes) {
        Ok(imagesize::ImageType::Jpeg) => Ok(PhotoFormat::Jpeg),
        Ok(imagesize::ImageType::Png) => Ok(PhotoFormat::Png),
        Ok(imagesize::ImageType::Webp) => Ok(PhotoFormat::Webp),
        Ok(imagesize::ImageType::Heif(_)) => Err(PhotoRejection::Heic),
        Ok(_) => Err(PhotoRejection::UnsupportedFormat),
        Err(_) => Err(PhotoRejection::NotAnImage),
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .fold(String::with_capacity(64), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

#[cfg(test)]
mod tests {
    use super::{PhotoFormat, PhotoRejection, inspect};

    /// A PNG header claiming `w`×`h`: enough for the header checks.
    fn png(w: u32, h: u32) -> Vec<u8> {
        let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        bytes.extend_from_slice(&w.to_be_bytes());
        bytes.extend_from_slice(&h.to_be_bytes());
        bytes.extend_from_slice(&[8, 2, 0, 0, 0]);
        bytes
    }

    #[test]
    fn accepts_large_enough_images_by_their_bytes() {
        let photo = inspect(&png(1024, 768)).unwrap();
        assert_eq!(
            (photo.format, photo.width, photo.height),
            (PhotoFormat::Png, 1024, 768)
        );
        assert_eq!(photo.sha256.len(), 64);
    }

    #[test]
    fn refuses_small_fake_and_foreign_files() {
        assert_eq!(
            inspect(&png(300, 300)),
            Err(PhotoRejection::TooSmall {
                width: 300,
                height: 300
            })
        );
        assert_eq!(
            inspect(b"%PDF-1.7 not an image"),
            Err(PhotoRejection::NotAnImage)
        );
        assert_eq!(
            inspect(b"hello, I am a .jpg"),
            Err(PhotoRejection::NotAnImage)
        );
        let mut gif = b"GIF89a\x10\x00\x10\x00".to_vec();
        gif.resize(64, 0);
        assert_eq!(inspect(&gif), Err(PhotoRejection::UnsupportedFormat));
        let heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic";
        assert_eq!(inspect(heic), Err(PhotoRejection::Heic));
    }
}
