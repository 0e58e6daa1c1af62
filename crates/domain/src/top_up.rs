use std::fmt;
use std::str::FromStr;

use crate::Credits;

/// A Telegram Stars top-up package: pay `stars`, get `credits`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TopUpPackage {
    pub credits: Credits,
    pub stars: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected credits:stars pairs separated by commas (e.g. 100:50,300:135), got {0:?}")]
pub struct PackagesError(pub String);

/// The packages on sale, as configured (`TOPUP_PACKAGES=100:50,300:135`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopUpPackages(Vec<TopUpPackage>);

impl FromStr for TopUpPackages {
    type Err = PackagesError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parse = |pair: &str| -> Option<TopUpPackage> {
            let (credits, stars) = pair.trim().split_once(':')?;
            let (credits, stars) = (
                credits.trim().parse::<u32>().ok()?,
                stars.trim().parse::<u32>().ok()?,
            );
            (credits > 0 && stars > 0).then_some(TopUpPackage {
                credits: Credits::new(credits),
                stars,
            })
        };
        let packages: Option<Vec<_>> = s
            .split(',')
            .filter(|p| !p.trim().is_empty())
            .map(parse)
            .collect();
        match packages {
            Some(list) if !list.is_empty() => Ok(Self(list)),
            _ => Err(PackagesError(s.to_owned())),
        }
    }
}

impl fmt::Display for TopUpPackages {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pairs: Vec<String> = self
            .0
            .iter()
            .map(|p| format!("{}:{}", p.credits, p.stars))
            .collect();
        f.write_str(&pairs.join(","))
    }
}

impl TopUpPackages {
    pub fn all(&self) -> &[TopUpPackage] {
        &self.0
    }

    pub fn get(&self, index: usize) -> Option<TopUpPackage> {
        self.0.get(index).copied()
    }

    /// Whether this exact package is still on sale (checked again at pre-checkout).
    pub fn offers(&self, package: TopUpPackage) -> bool {
        self.0.contains(&package)
    }
}

impl TopUpPackage {
    /// The invoice payload that names the package; parsed back at pre-checkout and payment.
    pub fn payload(self) -> String {
        format!("topup:{}:{}", self.credits, self.stars)
    }

    pub fn from_payload(payload: &str) -> Option<Self> {
        let rest = payload.strip_prefix("topup:")?;
        let (credits, stars) = rest.split_once(':')?;
        Some(Self {
            credits: Credits::new(credits.parse().ok()?),
            stars: stars.parse().ok()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{TopUpPackage, TopUpPackages};
    use crate::Credits;

    #[test]
    fn parses_configured_packages_and_payloads() {
        let packages: TopUpPackages = "100:50, 300:135".parse().unwrap();
        assert_eq!(packages.all().len(), 2);
        assert_eq!(packages.to_string(), "100:50,300:135");
        let first = packages.get(0).unwrap();
        assert_eq!(TopUpPackage::from_payload(&first.payload()), Some(first));
        assert!(packages.offers(first));
        assert!(!packages.offers(TopUpPackage {
            credits: Credits::new(100),
            stars: 1
        }));
        for bad in ["", "100", "100:0", "x:5", ","] {
            assert!(bad.parse::<TopUpPackages>().is_err(), "{bad}");
        }
        assert_eq!(TopUpPackage::from_payload("other:1:2"), None);
    }
}
