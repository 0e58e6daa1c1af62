//! What each pack costs, from configuration (`STYLE_PACK_PRICES=business:24,travel:20`).

use std::collections::HashMap;
use std::str::FromStr;

use super::{Library, Pack, PackKey};
use crate::Credits;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PackPrices(HashMap<PackKey, Credits>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PricesError {
    #[error("{0:?} is not a list of pack:credits pairs")]
    Malformed(String),
    #[error("there is no pack {0:?} in the style library")]
    UnknownPack(String),
}

impl FromStr for PackPrices {
    type Err = PricesError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parse = |pair: &str| -> Option<(PackKey, Credits)> {
            let (key, credits) = pair.trim().split_once(':')?;
            Some((
                PackKey::parse(key.trim())?,
                Credits::new(credits.trim().parse().ok()?),
            ))
        };
        s.split(',')
            .filter(|pair| !pair.trim().is_empty())
            .map(|pair| parse(pair).ok_or_else(|| PricesError::Malformed(pair.trim().to_owned())))
            .collect::<Result<HashMap<_, _>, _>>()
            .map(Self)
    }
}

impl PackPrices {
    /// Every priced pack must exist: a typo would otherwise sell a pack at the default price.
    pub fn check(&self, library: &Library) -> Result<(), PricesError> {
        match self.0.keys().find(|key| library.pack(**key).is_none()) {
            Some(unknown) => Err(PricesError::UnknownPack(unknown.to_string())),
            None => Ok(()),
        }
    }

    /// The configured price, or the images at the single price less a fifth (a pack is a
    /// bundle, so it never costs more than its images bought one by one).
    pub fn price(&self, pack: &Pack, image_cost: Credits) -> Credits {
        if let Some(price) = self.0.get(&pack.key) {
            return *price;
        }
        let images = u32::try_from(pack.styles.len()).unwrap_or(u32::MAX);
        Credits::new(image_cost.get().saturating_mul(images) * 4 / 5)
    }
}

#[cfg(test)]
mod tests {
    use super::{PackPrices, PricesError};
    use crate::Credits;
    use crate::styles::Library;

    #[test]
    fn configured_prices_win_and_others_are_a_fifth_off() {
        let library = Library::builtin().unwrap();
        let prices: PackPrices = "business:7".parse().unwrap();
        prices.check(library).unwrap();
        let business = library
            .packs()
            .iter()
            .find(|p| p.key.as_str() == "business")
            .unwrap();
        assert_eq!(prices.price(business, Credits::new(5)), Credits::new(7));
        let travel = library
            .packs()
            .iter()
            .find(|p| p.key.as_str() == "travel")
            .unwrap();
        let full = 5 * u32::try_from(travel.styles.len()).unwrap();
        assert_eq!(
            prices.price(travel, Credits::new(5)),
            Credits::new(full * 4 / 5)
        );
    }

    #[test]
    fn unknown_packs_and_malformed_pairs_are_refused() {
        let library = Library::builtin().unwrap();
        let typo: PackPrices = "bussiness:7".parse().unwrap();
        assert!(matches!(
            typo.check(library),
            Err(PricesError::UnknownPack(_))
        ));
        assert!("business=7".parse::<PackPrices>().is_err());
        assert!("business:-1".parse::<PackPrices>().is_err());
        assert_eq!("".parse::<PackPrices>(), Ok(PackPrices::default()));
    }
}
