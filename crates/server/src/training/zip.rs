//! The training archive: every photo upright, its longest side at most 1024 px, as JPEG, in
//! one zip. CPU work: run it on a blocking thread.

use std::io::{Cursor, Write};

use zip::write::SimpleFileOptions;

/// Longest side FAL's trainer needs; larger photos only cost upload time.
const MAX_SIDE: u32 = 1024;

pub fn archive(photos: &[bytes::Bytes]) -> anyhow::Result<Vec<u8>> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    // JPEGs do not compress further.
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (i, bytes) in photos.iter().enumerate() {
        let jpeg = crate::imaging::upright_jpeg(bytes, MAX_SIDE)?;
        zip.start_file(format!("photo_{:02}.jpg", i + 1), options)?;
        zip.write_all(&jpeg)?;
    }
    Ok(zip.finish()?.into_inner())
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

    #[test]
    fn photos_become_bounded_jpegs_in_one_zip() {
        let zipped = super::archive(&[png(2048, 1024), png(300, 400)]).unwrap();
        let mut archive = zip::ZipArchive::new(Cursor::new(zipped)).unwrap();
        assert_eq!(archive.len(), 2);
        let mut first = Vec::new();
        std::io::Read::read_to_end(&mut archive.by_index(0).unwrap(), &mut first).unwrap();
        let image = image::load_from_memory(&first).unwrap();
        assert_eq!((image.width(), image.height()), (1024, 512));
        assert_eq!(
            image::guess_format(&first).unwrap(),
            image::ImageFormat::Jpeg
        );
    }
}
