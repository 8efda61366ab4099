//! Sums of spreadsheet numbers as a person expects them: [`DecimalSum`]
//! adds numbers as the decimals they are written as, so 0.1 + 0.2 is 0.3;
//! [`display`] prints a number for people.
//!
//! A cell holds a binary float, and 0.1 is really 0.1000000000000000055...;
//! adding the floats in order gives 0.30000000000000004. Instead each number
//! is taken as its shortest decimal form (the digits Rust, Python and Excel
//! print for it, which is what was typed into the cell) and the decimals are
//! added exactly, as a 128-bit integer times a power of ten. The float
//! nearest that exact sum is [`DecimalSum::value`]. If the digits ever
//! outgrow 128 bits (numbers of wildly different magnitudes, say 1e30 and
//! 1e-30), the sum falls back to compensated (Neumaier) float summation,
//! which is off by about one unit in the last place at most.
//!
//! For people, a number is shown rounded to 15 significant digits (as Excel
//! shows numbers) but never to fewer digits than its whole part, and without
//! an exponent unless it is very large (1e21 and up) or small (under 1e-6).
//!
//! This module knows nothing of files or spreadsheets.

/// Significant digits shown by [`display`] and [`DecimalSum::display`].
pub(crate) const SIGNIFICANT_DIGITS: u32 = 15;

/// An exact running sum of decimal numbers (see the module docs).
#[derive(Debug, Clone)]
pub(crate) struct DecimalSum {
    /// The exact sum, until it no longer fits.
    exact: Option<Decimal>,
    /// The compensated float sum, always kept.
    float: Neumaier,
}

impl Default for DecimalSum {
    fn default() -> Self {
        DecimalSum {
            exact: Some(Decimal::ZERO),
            float: Neumaier::default(),
        }
    }
}

impl DecimalSum {
    /// An empty sum (zero).
    pub(crate) fn new() -> Self {
        DecimalSum::default()
    }

    /// Adds `x`, taken as its shortest decimal form.
    pub(crate) fn add(&mut self, x: f64) {
        self.float.add(x);
        self.add_exact(Decimal::of_f64(x));
    }

    /// Adds a whole number exactly.
    pub(crate) fn add_int(&mut self, n: i64) {
        self.float.add(n as f64);
        self.add_exact(Some(
            Decimal {
                mantissa: n.into(),
                exponent: 0,
            }
            .normalized(),
        ));
    }

    fn add_exact(&mut self, x: Option<Decimal>) {
        self.exact = match (self.exact, x) {
            (Some(sum), Some(x)) => sum.checked_add(x),
            _ => None,
        };
    }

    /// True while the sum is exact (no fallback to float summation).
    pub(crate) fn is_exact(&self) -> bool {
        self.exact.is_some()
    }

    /// The float nearest the sum.
    pub(crate) fn value(&self) -> f64 {
        match self.exact {
            Some(d) => d.to_f64(),
            None => self.float.value(),
        }
    }

    /// The sum, every digit of it: the exact decimal while the sum is
    /// exact, else the shortest digits of [`value`](Self::value). Plain
    /// digits, or `1.5e30` style when very large or small (see
    /// [`display`]).
    pub(crate) fn exact(&self) -> String {
        match self.exact {
            Some(d) => d.to_string(),
            None => Decimal::of_f64(self.float.value())
                .map_or_else(|| self.float.value().to_string(), |d| d.to_string()),
        }
    }

    /// The sum for people: rounded to 15 significant digits, `0.3` rather
    /// than `0.30000000000000004`, but never to fewer digits than its whole
    /// part has (a 21-digit whole number shows all 21).
    pub(crate) fn display(&self) -> String {
        match self.exact {
            Some(d) => d.rounded(SIGNIFICANT_DIGITS).to_string(),
            None => display(self.float.value()),
        }
    }
}

impl FromIterator<f64> for DecimalSum {
    fn from_iter<I: IntoIterator<Item = f64>>(iter: I) -> Self {
        let mut sum = DecimalSum::new();
        iter.into_iter().for_each(|x| sum.add(x));
        sum
    }
}

/// `x` for people: its shortest decimal form rounded to 15 significant
/// digits, never dropping whole digits (`0.30000000000000004` shows as
/// `0.3`, `4873.0` as `4873`).
pub(crate) fn display(x: f64) -> String {
    match Decimal::of_f64(x) {
        Some(d) => d.rounded(SIGNIFICANT_DIGITS).to_string(),
        None => x.to_string(),
    }
}

/// `mantissa × 10^exponent`, exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Decimal {
    mantissa: i128,
    exponent: i32,
}

impl Decimal {
    const ZERO: Decimal = Decimal {
        mantissa: 0,
        exponent: 0,
    };

    /// The shortest decimal that reads back as `x`; `None` for NaN and infinities.
    fn of_f64(x: f64) -> Option<Decimal> {
        if !x.is_finite() {
            return None;
        }
        // `{:e}` prints the shortest round-trip digits: "-1.2345e2".
        let text = format!("{x:e}");
        let (digits, exp) = text.split_once('e')?;
        let exp: i32 = exp.parse().ok()?;
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        let mantissa: i128 = format!("{int}{frac}").parse().ok()?;
        Some(
            Decimal {
                mantissa,
                exponent: exp - frac.len() as i32,
            }
            .normalized(),
        )
    }

    /// Strips trailing zeros from the mantissa (zero has exponent 0).
    fn normalized(mut self) -> Decimal {
        if self.mantissa == 0 {
            return Decimal::ZERO;
        }
        while self.mantissa % 10 == 0 {
            self.mantissa /= 10;
            self.exponent += 1;
        }
        self
    }

    /// The exact sum, or `None` when it does not fit.
    fn checked_add(self, other: Decimal) -> Option<Decimal> {
        if other.mantissa == 0 {
            return Some(self);
        }
        if self.mantissa == 0 {
            return Some(other);
        }
        let (high, low) = if self.exponent >= other.exponent {
            (self, other)
        } else {
            (other, self)
        };
        let shift = u32::try_from(high.exponent - low.exponent).ok()?;
        let scaled = high.mantissa.checked_mul(10i128.checked_pow(shift)?)?;
        Some(
            Decimal {
                mantissa: scaled.checked_add(low.mantissa)?,
                exponent: low.exponent,
            }
            .normalized(),
        )
    }

    /// The nearest float (Rust's parser rounds correctly).
    fn to_f64(self) -> f64 {
        format!("{}e{}", self.mantissa, self.exponent)
            .parse()
            .unwrap_or(f64::NAN)
    }

    /// Rounded to `digits` significant digits, half away from zero, but
    /// never to fewer digits than its whole part has.
    fn rounded(self, digits: u32) -> Decimal {
        let len = self.mantissa.unsigned_abs().checked_ilog10().unwrap_or(0) + 1;
        let whole = (len as i64 + i64::from(self.exponent)).max(0) as u32;
        let digits = digits.max(whole);
        if len <= digits {
            return self;
        }
        let drop = len - digits;
        let unit = 10i128.pow(drop);
        let mut mantissa = self.mantissa / unit;
        if (self.mantissa % unit).unsigned_abs() * 2 >= unit.unsigned_abs() {
            mantissa += self.mantissa.signum();
        }
        Decimal {
            mantissa,
            exponent: self.exponent + drop as i32,
        }
        .normalized()
    }
}

impl std::fmt::Display for Decimal {
    /// Plain digits (`1234.5`, `0.001`), or `1.5e30` style when the decimal
    /// point would sit more than 21 digits left or 6 zeros right of them.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = if self.mantissa < 0 { "-" } else { "" };
        let digits = self.mantissa.unsigned_abs().to_string();
        // Where the decimal point goes, counted from the left of `digits`.
        let point = digits.len() as i64 + i64::from(self.exponent);
        if !(-5..=21).contains(&point) {
            let (first, rest) = digits.split_at(1);
            let dot = if rest.is_empty() { "" } else { "." };
            write!(f, "{sign}{first}{dot}{rest}e{}", point - 1)
        } else if self.exponent >= 0 {
            write!(f, "{sign}{digits}{}", "0".repeat(self.exponent as usize))
        } else if point > 0 {
            let (int, frac) = digits.split_at(point as usize);
            write!(f, "{sign}{int}.{frac}")
        } else {
            write!(f, "{sign}0.{}{digits}", "0".repeat((-point) as usize))
        }
    }
}

/// Neumaier's compensated sum: the float sum plus the rounding error lost
/// at each step.
#[derive(Debug, Clone, Copy, Default)]
struct Neumaier {
    sum: f64,
    compensation: f64,
}

impl Neumaier {
    fn add(&mut self, x: f64) {
        let t = self.sum + x;
        if self.sum.abs() >= x.abs() {
            self.compensation += (self.sum - t) + x;
        } else {
            self.compensation += (x - t) + self.sum;
        }
        self.sum = t;
    }

    fn value(&self) -> f64 {
        self.sum + self.compensation
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sum(xs: &[f64]) -> DecimalSum {
        xs.iter().copied().collect()
    }

    #[test]
    fn adds_the_decimals_people_typed() {
        assert_eq!(sum(&[0.1, 0.2]).value(), 0.3);
        assert_eq!(sum(&[0.1, 0.2]).display(), "0.3");
        assert_eq!(sum(&[100.1, -100.0]).display(), "0.1");
        assert_eq!(sum(&[0.01; 100]).display(), "1");
        assert_eq!(sum(&[1.5, 2.25, -0.75]).value(), 3.0);
        assert_eq!(sum(&[]).display(), "0");
        assert!(sum(&[1e300, 1e-300]).value() == 1e300);
        assert!(!sum(&[1e300, 1e-300]).is_exact());
    }

    #[test]
    fn exact_keeps_every_digit() {
        assert_eq!(sum(&[0.1, 0.2]).exact(), "0.3");
        let third = sum(&[1.0 / 3.0, 1.0]);
        assert_eq!(third.exact(), "1.3333333333333333");
        assert_eq!(third.display(), "1.33333333333333");
        let mut big = DecimalSum::new();
        big.add_int(i64::MAX);
        big.add_int(i64::MAX);
        big.add_int(i64::MAX);
        big.add(0.25);
        assert_eq!(big.exact(), "27670116110564327421.25");
        assert_eq!(big.display(), "27670116110564327421");
        assert_eq!(sum(&[1e300, 1e-300]).exact(), "1e300");
    }

    #[test]
    fn whole_numbers_stay_exact_past_two_to_the_53() {
        let mut s = DecimalSum::new();
        s.add_int(9_007_199_254_740_993);
        s.add_int(1);
        assert_eq!(s.display(), "9007199254740994");
    }

    #[test]
    fn display_rounds_to_15_significant_digits() {
        assert_eq!(display(0.1 + 0.2), "0.3");
        assert_eq!(display(4873.0), "4873");
        assert_eq!(display(-2.5), "-2.5");
        assert_eq!(display(-0.0), "0");
        assert_eq!(display(1.0 / 3.0), "0.333333333333333");
        assert_eq!(display(2.0 / 3.0), "0.666666666666667");
        assert_eq!(display(0.9999999999999999), "1");
        assert_eq!(display(123456.78), "123456.78");
        assert_eq!(display(0.000001), "0.000001");
        assert_eq!(display(1.5e-7), "1.5e-7");
        assert_eq!(display(1e20), "100000000000000000000");
        assert_eq!(display(1e21), "1e21");
        assert_eq!(display(1.25e22), "1.25e22");
        assert_eq!(display(12345678901234567.0), "12345678901234568");
        assert_eq!(display(1234567890123.4567), "1234567890123.46");
        assert_eq!(display(f64::INFINITY), "inf");
    }
}
