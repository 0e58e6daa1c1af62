//! Images for tests of decoding limits: a PNG that is all header, claiming any size and bit
//! depth, costs nothing to build or send but what its header makes a decoder reserve.

/// A valid PNG of `width`×`height` with `bit_depth` (8 or 16) and PNG `color_type` (2: RGB,
/// 6: RGBA) whose image data is empty: readers see its size from the header alone.
pub fn png_header_only(width: u32, height: u32, bit_depth: u8, color_type: u8) -> Vec<u8> {
    let mut header = width.to_be_bytes().to_vec();
    header.extend(height.to_be_bytes());
    header.extend([bit_depth, color_type, 0, 0, 0]);
    let mut file = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, data) in [(b"IHDR", header.as_slice()), (b"IDAT", &[]), (b"IEND", &[])] {
        let mut chunk = kind.to_vec();
        chunk.extend(data);
        file.extend(u32::try_from(data.len()).unwrap_or(0).to_be_bytes());
        file.extend(&chunk);
        file.extend(crc32(&chunk).to_be_bytes());
    }
    file
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
