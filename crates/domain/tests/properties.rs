//! Photo inspection takes any bytes a person sends: it answers, never panics. `scripts/fuzz.sh`
//! runs this with many more cases.

use proptest::prelude::*;
use studio_domain::photo::inspect;

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR";
const JPEG: &[u8] = b"\xff\xd8\xff\xe0";
const WEBP: &[u8] = b"RIFF\x00\x00\x00\x00WEBPVP8 ";

proptest! {
    #[test]
    fn any_bytes_are_inspected_without_panicking(raw in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = inspect(&raw);
    }

    #[test]
    fn any_tail_behind_a_real_header_is_inspected(
        header in prop_oneof![Just(PNG), Just(JPEG), Just(WEBP)],
        tail in proptest::collection::vec(any::<u8>(), 0..2048),
    ) {
        let mut bytes = header.to_vec();
        bytes.extend(tail);
        if let Ok(photo) = inspect(&bytes) {
            prop_assert!(photo.width.min(photo.height) >= studio_domain::photo::MIN_SHORT_SIDE);
        }
    }
}
