use serde::{Deserialize, Serialize};

/// The five aspect ratios a user can pick; each maps to one FAL `image_size` preset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum AspectRatio {
    #[default]
    #[serde(rename = "1:1")]
    Square,
    #[serde(rename = "3:4")]
    Portrait,
    #[serde(rename = "4:3")]
    Landscape,
    #[serde(rename = "9:16")]
    Stories,
    #[serde(rename = "16:9")]
    Cinema,
}

impl AspectRatio {
    pub const ALL: [Self; 5] = [
        Self::Square,
        Self::Portrait,
        Self::Landscape,
        Self::Stories,
        Self::Cinema,
    ];

    /// The ratio as people write it, also its storage label.
    pub const fn label(self) -> &'static str {
        match self {
            Self::Square => "1:1",
            Self::Portrait => "3:4",
            Self::Landscape => "4:3",
            Self::Stories => "9:16",
            Self::Cinema => "16:9",
        }
    }

    pub fn from_label(label: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.label() == label)
    }

    /// FAL `image_size` preset for `flux-lora`.
    pub const fn fal_image_size(self) -> &'static str {
        match self {
            Self::Square => "square_hd",
            Self::Portrait => "portrait_4_3",
            Self::Landscape => "landscape_4_3",
            Self::Stories => "portrait_16_9",
            Self::Cinema => "landscape_16_9",
        }
    }

    /// Width and height in pixels the preset produces.
    pub const fn pixels(self) -> (u32, u32) {
        match self {
            Self::Square => (1024, 1024),
            Self::Portrait => (768, 1024),
            Self::Landscape => (1024, 768),
            Self::Stories => (576, 1024),
            Self::Cinema => (1024, 576),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::AspectRatio;

    #[test]
    fn pixels_have_the_promised_ratio() {
        for ratio in AspectRatio::ALL {
            let (w, h) = ratio.pixels();
            let (rw, rh) = ratio.label().split_once(':').unwrap();
            let (rw, rh): (u32, u32) = (rw.parse().unwrap(), rh.parse().unwrap());
            // 9:16 at 576x1024 is exact; allow one pixel of rounding in general.
            assert!(
                (w * rh).abs_diff(h * rw) <= rw.max(rh),
                "{ratio:?}: {w}x{h}"
            );
        }
    }

    #[test]
    fn labels_round_trip() {
        for ratio in AspectRatio::ALL {
            assert_eq!(AspectRatio::from_label(ratio.label()), Some(ratio));
        }
        assert_eq!(AspectRatio::from_label("2:1"), None);
    }
}
