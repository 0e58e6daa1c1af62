//! Photos made ready for a model: upright (EXIF orientation applied), the longest side
//! bounded, as JPEG.
//!
//! Decoding is what costs: a 12 MP photo is 36–48 MB of pixels however small its file, a
//! 16-bit PNG twice that, and a progressive JPEG holds its coefficients beside its pixels. So
//! the cost of a decode is read from the header (real bit depth and channels), an image whose
//! decode would not fit the pod is refused before any pixel is decoded, and decodes run on
//! blocking threads under a process-wide budget of decoded bytes (a burst of references or a
//! training's twenty photos never stack up past a pod's memory limit). The image is shrunk
//! before it is turned (a turn copies the pixels).

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};
use tokio::sync::Semaphore;

/// Decoded bytes held at once in the process, in MiB: what a 256 MiB pod spares beside its
/// steady ~30 MB.
const BUDGET_MIB: u32 = 96;
/// The largest decode accepted at all, the whole budget: with the ~40 MB the process holds and
/// the file itself (at most 20 MB), the worst image keeps the pod's peak under 200 MiB
/// (measured: `the_heaviest_image_a_person_can_send_stays_under_200_mib`). A 12 MP photo needs
/// 36 MB, a 33 MP one 96 MB; a 16-bit 3546×3546 RGBA PNG is at the cap.
pub const MAX_DECODE_BYTES: u64 = (BUDGET_MIB as u64) << 20;

/// Why an image was not made ready.
#[derive(Debug, thiserror::Error)]
pub enum ImagingError {
    /// Its decode would need more memory than a pod may spend on one image.
    #[error("{width}×{height} is too large to decode ({bytes} bytes)")]
    TooLarge { width: u32, height: u32, bytes: u64 },
    #[error("unreadable image: {0}")]
    Unreadable(String),
}

impl From<image::ImageError> for ImagingError {
    fn from(err: image::ImageError) -> Self {
        Self::Unreadable(err.to_string())
    }
}

impl From<std::io::Error> for ImagingError {
    fn from(err: std::io::Error) -> Self {
        Self::Unreadable(err.to_string())
    }
}

/// What decoding an image takes, read from its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeCost {
    pub width: u32,
    pub height: u32,
    /// Bytes the decoder holds at its peak.
    pub bytes: u64,
}

/// The cost of decoding `bytes`, from the header alone; an image above `MAX_DECODE_BYTES` is
/// `TooLarge`.
pub fn decode_cost(bytes: &[u8]) -> Result<DecodeCost, ImagingError> {
    let reader = reader(bytes)?;
    let format = reader.format();
    let decoder = reader.into_decoder()?;
    let (width, height) = decoder.dimensions();
    // The decoder's own output size: its real channels and bit depth.
    let output = decoder.total_bytes();
    // A progressive JPEG keeps every coefficient (2 bytes a sample) until its last scan; a
    // WEBP decodes into a buffer of its own before the output.
    let held = match format {
        Some(ImageFormat::Jpeg) if is_progressive_jpeg(bytes) => output.saturating_mul(3),
        Some(ImageFormat::WebP) => output.saturating_mul(2),
        _ => output,
    };
    let cost = DecodeCost {
        width,
        height,
        bytes: held,
    };
    if held > MAX_DECODE_BYTES {
        return Err(ImagingError::TooLarge {
            width,
            height,
            bytes: held,
        });
    }
    Ok(cost)
}

/// Whether a JPEG's frame is progressive (SOF2, or SOF6/10/14), read from its markers.
fn is_progressive_jpeg(bytes: &[u8]) -> bool {
    let mut at = 2;
    while at + 4 <= bytes.len() {
        if bytes[at] != 0xFF {
            return false;
        }
        let marker = bytes[at + 1];
        match marker {
            0xC2 | 0xC6 | 0xCA | 0xCE => return true,
            0xC0 | 0xC1 | 0xC3 | 0xC5 | 0xC7 | 0xC9 | 0xCB | 0xCD | 0xCF | 0xDA => return false,
            _ => {}
        }
        let length = usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
        at += 2 + length;
    }
    false
}

static BUDGET: Semaphore = Semaphore::const_new(BUDGET_MIB as usize);

/// An upright JPEG of at most `max_side` px, decoded within the process's budget.
pub async fn upright_jpeg(bytes: bytes::Bytes, max_side: u32) -> Result<Vec<u8>, ImagingError> {
    let cost = decode_cost(&bytes)?;
    let mib = u32::try_from(cost.bytes.div_ceil(1 << 20)).unwrap_or(BUDGET_MIB);
    let _permit = BUDGET
        .acquire_many(mib.clamp(1, BUDGET_MIB))
        .await
        .map_err(|e| ImagingError::Unreadable(e.to_string()))?;
    tokio::task::spawn_blocking(move || shrink(&bytes, max_side))
        .await
        .map_err(|e| ImagingError::Unreadable(e.to_string()))?
}

fn reader(bytes: &[u8]) -> Result<ImageReader<Cursor<&[u8]>>, ImagingError> {
    let mut reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format()?;
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    Ok(reader)
}

/// Decodes a JPEG, PNG or WEBP and re-encodes it as an upright JPEG at most `max_side` px.
fn shrink(bytes: &[u8], max_side: u32) -> Result<Vec<u8>, ImagingError> {
    let mut decoder = reader(bytes)?.into_decoder()?;
    let orientation = decoder.orientation()?;
    let mut image = DynamicImage::from_decoder(decoder)?;
    if image.width().max(image.height()) > max_side {
        // Area averaging: sharp enough for a model, and it allocates only the result.
        image = image.thumbnail(max_side, max_side);
    }
    image.apply_orientation(orientation);
    let mut out = Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(image.to_rgb8()).write_to(&mut out, image::ImageFormat::Jpeg)?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use studio_testkit::png_header_only;

    use super::ImagingError;

    fn png(width: u32, height: u32) -> bytes::Bytes {
        let image = image::RgbImage::from_pixel(width, height, image::Rgb([200, 100, 50]));
        let mut out = Cursor::new(Vec::new());
        image.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner().into()
    }

    #[tokio::test]
    async fn bounds_the_longest_side_and_keeps_the_shape() {
        let jpeg = super::upright_jpeg(png(3000, 1500), 2048).await.unwrap();
        assert_eq!(
            image::guess_format(&jpeg).unwrap(),
            image::ImageFormat::Jpeg
        );
        let image = image::load_from_memory(&jpeg).unwrap();
        assert_eq!((image.width(), image.height()), (2048, 1024));
        let small = super::upright_jpeg(png(300, 400), 2048).await.unwrap();
        let image = image::load_from_memory(&small).unwrap();
        assert_eq!(
            (image.width(), image.height()),
            (300, 400),
            "never enlarged"
        );
        let pdf = bytes::Bytes::from_static(b"%PDF-1.7 not an image");
        assert!(super::upright_jpeg(pdf, 2048).await.is_err());
    }

    #[tokio::test]
    async fn an_image_too_large_to_decode_is_refused_from_its_header() {
        // A PNG whose header claims 20000×20000 (1.6 GB decoded), with no pixels at all.
        let file = png_header_only(20_000, 20_000, 8, 2);
        let err = super::upright_jpeg(file.into(), 2048).await.unwrap_err();
        assert!(err.to_string().contains("too large"), "{err}");
    }

    /// The 16-bit PNG that once took a pod past its limit: 8 bytes a pixel, not 4.
    #[test]
    fn the_cost_counts_the_real_bit_depth_and_channels() {
        let cost = |w, h, depth, color| super::decode_cost(&png_header_only(w, h, depth, color));
        assert_eq!(cost(100, 100, 16, 6).unwrap().bytes, 100 * 100 * 8);
        assert_eq!(cost(100, 100, 8, 2).unwrap().bytes, 100 * 100 * 3);
        // At the cap, and just past it.
        assert!(cost(3546, 3546, 16, 6).is_ok());
        assert!(cost(3548, 3548, 16, 6).is_err());
        let refused = cost(6480, 6470, 16, 6).unwrap_err();
        assert!(
            matches!(
                refused,
                ImagingError::TooLarge {
                    width: 6480,
                    height: 6470,
                    ..
                }
            ),
            "{refused}"
        );
        // A 12 MP phone photo, 8 bits a channel, RGB.
        assert_eq!(cost(4032, 3024, 8, 2).unwrap().bytes, 4032 * 3024 * 3);
    }

    proptest::proptest! {
        /// Any bytes a person sends, also behind a real header, get a cost or a refusal
        /// from the header alone, never a panic.
        #[test]
        fn any_bytes_get_a_cost_or_a_refusal(
            header in proptest::prop_oneof![
                proptest::strategy::Just(png_header_only(640, 480, 8, 2)[..33].to_vec()),
                proptest::strategy::Just(vec![0xFF, 0xD8, 0xFF, 0xC2]),
                proptest::strategy::Just(b"RIFF\0\0\0\0WEBPVP8 ".to_vec()),
                proptest::strategy::Just(Vec::new()),
            ],
            tail in proptest::collection::vec(proptest::arbitrary::any::<u8>(), 0..1024),
        ) {
            let mut bytes = header;
            bytes.extend(tail);
            if let Ok(cost) = super::decode_cost(&bytes) {
                proptest::prop_assert!(cost.bytes <= super::MAX_DECODE_BYTES);
            }
            let _ = super::is_progressive_jpeg(&bytes);
        }
    }

    #[test]
    fn a_progressive_jpeg_costs_its_coefficients_too() {
        let mut baseline = std::io::Cursor::new(Vec::new());
        image::RgbImage::from_pixel(64, 48, image::Rgb([9, 99, 199]))
            .write_to(&mut baseline, image::ImageFormat::Jpeg)
            .unwrap();
        let baseline = baseline.into_inner();
        assert!(!super::is_progressive_jpeg(&baseline));
        assert_eq!(super::decode_cost(&baseline).unwrap().bytes, 64 * 48 * 3);
        // SOI, an APP0 segment, then a progressive frame header (SOF2).
        let mut progressive = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x4A, 0x46];
        progressive.extend([0xFF, 0xC2, 0x00, 0x11, 0x08, 0x00, 0x30, 0x00, 0x40, 0x03]);
        assert!(super::is_progressive_jpeg(&progressive));
        assert!(!super::is_progressive_jpeg(b"\xFF\xD8 truncated"));
    }
}
