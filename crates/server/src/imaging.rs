//! Photos made ready for a model: upright (EXIF orientation applied), the longest side
//! bounded, as JPEG.
//!
//! Decoding is what costs: a 12 MP photo is 36–48 MB of pixels however small its file. So
//! decodes run on blocking threads under a process-wide budget of decoded bytes (a burst of
//! references or a training's twenty photos never stack up past a pod's memory limit), the
//! image is shrunk before it is turned (a turn copies the pixels), and an image too large to
//! decode within the hard cap is refused from its header alone.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageReader, Limits};
use tokio::sync::Semaphore;

/// Decoded pixels held at once in the process, in MiB: what a 256 MiB pod spares beside its
/// steady ~30 MB. An image that needs more runs alone.
const BUDGET_MIB: u32 = 96;
/// The largest decode accepted at all (a 40 MP RGBA image); larger ones are refused.
const MAX_DECODED_BYTES: u64 = 160 << 20;
/// Decoders produce at most RGBA, 4 bytes a pixel.
const BYTES_PER_PIXEL: u64 = 4;

static BUDGET: Semaphore = Semaphore::const_new(BUDGET_MIB as usize);

/// An upright JPEG of at most `max_side` px, decoded within the process's budget.
pub async fn upright_jpeg(bytes: bytes::Bytes, max_side: u32) -> anyhow::Result<Vec<u8>> {
    let (width, height) = reader(&bytes)?.into_dimensions()?;
    let decoded = u64::from(width) * u64::from(height) * BYTES_PER_PIXEL;
    anyhow::ensure!(
        decoded <= MAX_DECODED_BYTES,
        "{width}×{height} is too large to decode"
    );
    let mib = u32::try_from(decoded.div_ceil(1 << 20)).unwrap_or(BUDGET_MIB);
    let _permit = BUDGET.acquire_many(mib.clamp(1, BUDGET_MIB)).await?;
    tokio::task::spawn_blocking(move || shrink(&bytes, max_side)).await?
}

fn reader(bytes: &[u8]) -> anyhow::Result<ImageReader<Cursor<&[u8]>>> {
    let mut reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format()?;
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_DECODED_BYTES);
    reader.limits(limits);
    Ok(reader)
}

/// Decodes a JPEG, PNG or WEBP and re-encodes it as an upright JPEG at most `max_side` px.
fn shrink(bytes: &[u8], max_side: u32) -> anyhow::Result<Vec<u8>> {
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
        let mut header = 20_000u32.to_be_bytes().to_vec();
        header.extend(20_000u32.to_be_bytes());
        header.extend([8, 2, 0, 0, 0]);
        let mut file = b"\x89PNG\r\n\x1a\n".to_vec();
        for (kind, data) in [(b"IHDR", header.as_slice()), (b"IDAT", &[]), (b"IEND", &[])] {
            let mut chunk = kind.to_vec();
            chunk.extend(data);
            file.extend(u32::try_from(data.len()).unwrap().to_be_bytes());
            file.extend(&chunk);
            file.extend(crc32(&chunk).to_be_bytes());
        }
        let err = super::upright_jpeg(file.into(), 2048).await.unwrap_err();
        assert!(err.to_string().contains("too large"), "{err}");
    }

    /// PNG's chunk checksum (CRC-32, IEEE).
    fn crc32(data: &[u8]) -> u32 {
        let mut crc = u32::MAX;
        for byte in data {
            crc ^= u32::from(*byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
}
