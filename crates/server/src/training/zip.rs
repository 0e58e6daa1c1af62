//! The training archive: the prepared photos (upright JPEGs of at most `MAX_SIDE` px) in one
//! zip, stored as they are.

use std::io::{Cursor, Write};

use zip::write::SimpleFileOptions;

/// Longest side FAL's trainer needs; larger photos only cost upload time.
pub const MAX_SIDE: u32 = 1024;

pub fn archive(jpegs: &[Vec<u8>]) -> anyhow::Result<Vec<u8>> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    // JPEGs do not compress further.
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (i, jpeg) in jpegs.iter().enumerate() {
        zip.start_file(format!("photo_{:02}.jpg", i + 1), options)?;
        zip.write_all(jpeg)?;
    }
    Ok(zip.finish()?.into_inner())
}

#[cfg(test)]
mod tests {
    use std::io::{Cursor, Read};

    #[test]
    fn every_photo_is_one_stored_file_in_order() {
        let photos = [b"first jpeg".to_vec(), b"second jpeg".to_vec()];
        let zipped = super::archive(&photos).unwrap();
        let mut archive = zip::ZipArchive::new(Cursor::new(zipped)).unwrap();
        assert_eq!(archive.len(), 2);
        for (i, expected) in photos.iter().enumerate() {
            let mut file = archive.by_index(i).unwrap();
            assert_eq!(file.name(), format!("photo_{:02}.jpg", i + 1));
            assert_eq!(file.compression(), zip::CompressionMethod::Stored);
            let mut content = Vec::new();
            file.read_to_end(&mut content).unwrap();
            assert_eq!(&content, expected);
        }
    }
}
