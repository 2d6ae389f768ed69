//! Exact money: costs are integer picodollars (10⁻¹² USD) in storage and
//! `rust_decimal::Decimal` in arithmetic; never floating point. One record's cost
//! is stored in 64 bits (up to [`Pico::MAX_RECORD`], about 9.2 million USD); sums
//! of records are 128-bit and cannot overflow.
//!
//! Every catalog price is given per million tokens with at most five decimals
//! after modifiers (a unit test checks it), so a token count times a price is a
//! whole number of picodollars: storing picodollars loses nothing.

use std::ops::{Add, AddAssign, Sub};

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Serialize, Serializer};

/// Decimal places kept in storage.
pub const STORAGE_SCALE: u32 = 12;
/// Decimal places of USD figures in responses.
pub const RESPONSE_SCALE: u32 = 6;
/// Decimal places of the Context Vault daily summary (rounded to cents).
pub const CENTS_SCALE: u32 = 2;

/// An exact amount of US dollars, in picodollars: one record's cost, or a sum.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pico(pub i128);

impl Pico {
    pub const ZERO: Pico = Pico(0);
    /// The largest cost one record can have: what its 64-bit column holds
    /// (9,223,372.036854775807 USD).
    pub const MAX_RECORD: Pico = Pico(i64::MAX as i128);

    /// Converts dollars to picodollars, rounding half away from zero beyond 12 decimals.
    /// `None` when one record cannot hold the amount (beyond ±[`Pico::MAX_RECORD`]).
    pub fn from_usd(usd: Decimal) -> Option<Pico> {
        let scaled = usd
            .round_dp_with_strategy(STORAGE_SCALE, RoundingStrategy::MidpointAwayFromZero)
            .checked_mul(Decimal::from(1_000_000_000_000_i64))?;
        i64::try_from(scaled.trunc()).ok().map(|p| Pico(p.into()))
    }

    /// Converts dollars to picodollars like [`Pico::from_usd`], for any amount a
    /// 128-bit sum holds (a computed cost, before it is checked against one record's limit).
    pub fn from_usd_wide(usd: Decimal) -> Option<Pico> {
        let scaled = usd
            .round_dp_with_strategy(STORAGE_SCALE, RoundingStrategy::MidpointAwayFromZero)
            .checked_mul(Decimal::from(1_000_000_000_000_i64))?;
        i128::try_from(scaled.trunc()).ok().map(Pico)
    }

    /// The amount as one record stores it; `None` beyond ±[`Pico::MAX_RECORD`].
    pub fn stored(self) -> Option<i64> {
        i64::try_from(self.0).ok()
    }

    /// The exact amount in dollars. Sums in the store stay below 2⁹⁵ picodollars
    /// (about 4 × 10¹⁶ USD), inside what a `Decimal` holds; anything larger saturates.
    pub fn usd(self) -> Decimal {
        Decimal::try_from_i128_with_scale(self.0, STORAGE_SCALE)
            .unwrap_or(if self.0 < 0 {
                Decimal::MIN
            } else {
                Decimal::MAX
            })
            .normalize()
    }
}

impl Add for Pico {
    type Output = Pico;
    fn add(self, rhs: Pico) -> Pico {
        Pico(self.0 + rhs.0)
    }
}

impl AddAssign for Pico {
    fn add_assign(&mut self, rhs: Pico) {
        self.0 += rhs.0;
    }
}

impl Sub for Pico {
    type Output = Pico;
    fn sub(self, rhs: Pico) -> Pico {
        Pico(self.0 - rhs.0)
    }
}

impl std::iter::Sum for Pico {
    fn sum<I: Iterator<Item = Pico>>(iter: I) -> Pico {
        iter.fold(Pico::ZERO, Add::add)
    }
}

/// Serialized as an exact JSON number in dollars (all 12 decimals, trailing zeros trimmed).
impl Serialize for Pico {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_decimal(&self.usd(), serializer)
    }
}

/// Rounds dollars to the response scale (half away from zero).
pub fn round_usd(usd: Decimal) -> Decimal {
    usd.round_dp_with_strategy(RESPONSE_SCALE, RoundingStrategy::MidpointAwayFromZero)
        .normalize()
}

/// Writes a decimal as a JSON number token, exactly as its decimal text.
pub fn serialize_decimal<S: Serializer>(value: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
    serialize_decimal_text(&value.normalize(), serializer)
}

/// Writes a decimal as a JSON number token keeping its scale: `52.30`, `0.00`.
pub fn serialize_decimal_text<S: Serializer>(
    value: &Decimal,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let raw = serde_json::value::RawValue::from_string(value.to_string())
        .map_err(serde::ser::Error::custom)?;
    raw.serialize(serializer)
}

/// Rounds `amounts` (picodollars) to the response scale so that the rounded
/// parts add up exactly to the rounded total (largest-remainder method).
///
/// This is what lets a breakdown or a list of buckets "sum exactly to the total".
pub fn apportion(amounts: &[Pico]) -> (Decimal, Vec<Decimal>) {
    let (total, parts) = apportion_at(amounts, RESPONSE_SCALE);
    (
        total.normalize(),
        parts.iter().map(Decimal::normalize).collect(),
    )
}

/// Like [`apportion`], at `scale` decimal places (at most 12), each figure keeping
/// exactly that scale: at [`CENTS_SCALE`] the parts print as `48.50`, `3.00`.
pub fn apportion_at(amounts: &[Pico], scale: u32) -> (Decimal, Vec<Decimal>) {
    let scale = scale.min(STORAGE_SCALE);
    let unit: i128 = 10_i128.pow(STORAGE_SCALE - scale); // picodollars per unit of the scale
    let total: i128 = amounts.iter().map(|a| a.0).sum();
    let rounded_total = round_half_away(total, unit);
    let mut parts: Vec<i128> = amounts.iter().map(|a| a.0.div_euclid(unit)).collect();
    distribute(amounts, unit, rounded_total, &mut parts);
    let to_usd = |units: i128| Decimal::from_i128_with_scale(units, scale);
    (
        to_usd(rounded_total),
        parts.into_iter().map(to_usd).collect(),
    )
}

/// Rounds `amounts` (picodollars) to the response scale so that the parts add up
/// exactly to `total`, a figure already rounded elsewhere (for example one bucket of an
/// [`apportion`]ed list, split again by model). `total` should be within one unit per
/// part of the exact sum; the parts then stay within one unit of their exact amounts.
pub fn apportion_within(amounts: &[Pico], total: Decimal) -> Vec<Decimal> {
    let unit: i128 = 10_i128.pow(STORAGE_SCALE - RESPONSE_SCALE);
    let mut target = total;
    target.rescale(RESPONSE_SCALE);
    let mut parts: Vec<i128> = amounts.iter().map(|a| a.0.div_euclid(unit)).collect();
    distribute(amounts, unit, target.mantissa(), &mut parts);
    parts
        .into_iter()
        .map(|units| Decimal::from_i128_with_scale(units, RESPONSE_SCALE).normalize())
        .collect()
}

/// Moves `parts` (floors of `amounts` in units of `unit` picodollars) towards `target`
/// one unit at a time, largest remainder first (largest-remainder method).
fn distribute(amounts: &[Pico], unit: i128, target: i128, parts: &mut [i128]) {
    let mut residual = target - parts.iter().sum::<i128>();
    let mut order: Vec<usize> = (0..amounts.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(amounts[i].0.rem_euclid(unit)));
    for &i in order.iter().cycle().take(amounts.len().max(1) * 2) {
        if residual == 0 || amounts.is_empty() {
            break;
        }
        let step = residual.signum();
        parts[i] += step;
        residual -= step;
    }
}

fn round_half_away(value: i128, unit: i128) -> i128 {
    let half = unit / 2;
    if value >= 0 {
        (value + half) / unit
    } else {
        -((-value + half) / unit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn picodollars_round_trip_exactly() {
        let p = Pico::from_usd(d("0.000000000125")).unwrap();
        assert_eq!(p, Pico(125));
        assert_eq!(p.usd(), d("0.000000000125"));
        assert_eq!(Pico::from_usd(d("48.5")).unwrap().usd(), d("48.5"));
        assert_eq!(Pico::from_usd(d("1e7")), None);
    }

    #[test]
    fn serializes_as_exact_json_number() {
        let json = serde_json::to_string(&Pico(1_234_567_890_123)).unwrap();
        assert_eq!(json, "1.234567890123");
        assert_eq!(serde_json::to_string(&Pico(0)).unwrap(), "0");
    }

    #[test]
    fn apportioned_parts_sum_to_rounded_total() {
        // Three parts of 0.0000004 USD each: each rounds to 0, the total to 0.000001.
        let parts = vec![Pico(400_000); 3];
        let (total, rounded) = apportion(&parts);
        assert_eq!(total, d("0.000001"));
        assert_eq!(rounded.iter().copied().sum::<Decimal>(), total);
        let many: Vec<Pico> = (0..97).map(|i| Pico(1_234_567 * i + 499_999)).collect();
        let (total, rounded) = apportion(&many);
        assert_eq!(rounded.iter().copied().sum::<Decimal>(), total);
        for (part, exact) in rounded.iter().zip(&many) {
            assert!((*part - exact.usd()).abs() < d("0.000001"));
        }
    }

    #[test]
    fn parts_within_a_rounded_total_sum_to_it() {
        // A bucket of 0.0000012 rounded up to 0.000002 by its list, split in three parts.
        let parts = [Pico(400_000), Pico(400_000), Pico(400_000)];
        let rounded = apportion_within(&parts, d("0.000002"));
        assert_eq!(rounded.iter().copied().sum::<Decimal>(), d("0.000002"));
        let rounded = apportion_within(&parts, d("0.000001"));
        assert_eq!(rounded, [d("0.000001"), d("0"), d("0")]);
        let parts = [usd_pico("48.5000004"), usd_pico("3.0000006")];
        assert_eq!(
            apportion_within(&parts, d("51.500001")),
            [d("48.5"), d("3.000001")]
        );
        assert!(apportion_within(&[], d("0")).is_empty());
    }

    fn usd_pico(s: &str) -> Pico {
        Pico::from_usd(d(s)).unwrap()
    }

    #[test]
    fn cents_keep_two_decimals_and_sum_to_the_total() {
        let usd = |s: &str| Pico::from_usd(d(s)).unwrap();
        let printed =
            |parts: Vec<Decimal>| parts.iter().map(Decimal::to_string).collect::<Vec<_>>();
        // 1.004 × 3 = 3.012 → 3.01, where rounding each part alone gives 3.00.
        let (total, parts) = apportion_at(&[usd("1.004"); 3], CENTS_SCALE);
        assert_eq!(total.to_string(), "3.01");
        assert_eq!(printed(parts), ["1.01", "1.00", "1.00"]);
        // 0.005 × 3 = 0.015 → 0.02, where rounding each part alone gives 0.03.
        let (total, parts) = apportion_at(&[usd("0.005"); 3], CENTS_SCALE);
        assert_eq!(total.to_string(), "0.02");
        assert_eq!(parts.iter().copied().sum::<Decimal>(), total);
        let (total, parts) = apportion_at(&[usd("48.5"), usd("3")], CENTS_SCALE);
        assert_eq!(
            (total.to_string(), printed(parts)),
            ("51.50".into(), vec!["48.50".into(), "3.00".into()])
        );
        let (total, parts) = apportion_at(&[], CENTS_SCALE);
        assert_eq!((total.to_string(), parts.len()), ("0.00".to_string(), 0));
        #[derive(Serialize)]
        struct Cost(#[serde(serialize_with = "serialize_decimal_text")] Decimal);
        assert_eq!(serde_json::to_string(&Cost(total)).unwrap(), "0.00");
    }
}
