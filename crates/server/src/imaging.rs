//! Photos made ready for a model: upright (EXIF orientation applied), the longest side
//! bounded, as JPEG. CPU work: run it on a blocking thread.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageReader};

/// Decodes a JPEG, PNG or WEBP and re-encodes it as an upright JPEG at most `max_side` px.
pub fn upright_jpeg(bytes: &[u8], max_side: u32) -> anyhow::Result<Vec<u8>> {
    let mut decoder = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()?
        .into_decoder()?;
    let orientation = decoder.orientation()?;
    let mut image = DynamicImage::from_decoder(decoder)?;
    image.apply_orientation(orientation);
    if image.width().max(image.height()) > max_side {
        image = image.resize(max_side, max_side, image::imageops::FilterType::Triangle);
    }
    let mut out = Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(image.to_rgb8()).write_to(&mut out, image::ImageFormat::Jpeg)?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    #[test]
    fn bounds_the_longest_side_and_keeps_the_shape() {
        let png = image::RgbImage::from_pixel(3000, 1500, image::Rgb([200, 100, 50]));
        let mut bytes = Cursor::new(Vec::new());
        png.write_to(&mut bytes, image::ImageFormat::Png).unwrap();
        let jpeg = super::upright_jpeg(bytes.get_ref(), 2048).unwrap();
        assert_eq!(
            image::guess_format(&jpeg).unwrap(),
            image::ImageFormat::Jpeg
        );
        let image = image::load_from_memory(&jpeg).unwrap();
        assert_eq!((image.width(), image.height()), (2048, 1024));
        assert!(super::upright_jpeg(b"%PDF-1.7 not an image", 2048).is_err());
    }
}
