//! Byte sizes and byte rates written with units (`2GiB`, `512 MiB`, `50GB`, `1e9`, `1GB/s`):
//! the one parser of the `retrace` command line and of `sampler` configuration files.
//! Units: B, kB, MB, GB, TB, PB, EB (powers of 1000) and KiB, MiB, GiB, TiB, PiB, EiB (powers
//! of 1024), case-insensitive except the final `B`: a lower-case `b` means bits and is refused
//! (`1Gb/s` is not `1GB/s`).

/// Unit suffixes (lower case) and their multipliers, longest first where one ends another.
const UNITS: [(&str, u64); 13] = [
    ("eib", 1 << 60),
    ("pib", 1 << 50),
    ("tib", 1 << 40),
    ("gib", 1 << 30),
    ("mib", 1 << 20),
    ("kib", 1 << 10),
    ("eb", 1_000_000_000_000_000_000),
    ("pb", 1_000_000_000_000_000),
    ("tb", 1_000_000_000_000),
    ("gb", 1_000_000_000),
    ("mb", 1_000_000),
    ("kb", 1_000),
    ("b", 1),
];

/// Why a size or rate does not parse (each names the text).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UnitError {
    /// The text ends in letters that are not a unit.
    #[error(
        "bad unit `{unit}` in `{text}`: use B, kB, MB, GB, TB, PB, EB, KiB, MiB, GiB, TiB, PiB or EiB"
    )]
    Unit {
        /// The text.
        text: String,
        /// The letters that are not a unit.
        unit: String,
    },
    /// The number part is not a finite number >= 0.
    #[error("bad {what} `{text}`: expected a number >= 0")]
    Number {
        /// `size` or `bandwidth`.
        what: &'static str,
        /// The text.
        text: String,
    },
    /// The size is 2^64 bytes or more.
    #[error("size `{text}` is out of range: at most 2^64 - 1 bytes (just under 16 EiB)")]
    TooBig {
        /// The text.
        text: String,
    },
    /// A unit in bits (a lower-case `b`: `Gb`, `8Mb`), never read as bytes.
    #[error(
        "bad unit `{unit}` in `{text}`: a lower-case b means bits; write bytes with B (8 bits = 1 B: 1Gb = 125MB)"
    )]
    Bits {
        /// The text.
        text: String,
        /// The unit in bits.
        unit: String,
    },
    /// A rate below 1 byte per second (0 included).
    #[error("bad bandwidth `{text}`: must be at least 1 B/s")]
    ZeroRate {
        /// The text.
        text: String,
    },
}

/// Split `text` into its number and the multiplier of its unit (1 without a unit). Trailing
/// letters that are not a unit are blamed (`8XiB`: unit `XiB`) when what precedes them is a
/// number; otherwise the number is (`nan`, `GiB`).
pub fn split_unit(text: &str) -> Result<(&str, u64), UnitError> {
    let t = text.trim();
    let num = t.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &t[num.len()..];
    let num = num.trim_end();
    if unit.is_empty() {
        return Ok((t, 1));
    }
    let lower = unit.to_ascii_lowercase();
    if let Some(&(_, mult)) = UNITS.iter().find(|(u, _)| *u == lower) {
        if unit.ends_with('b') {
            return Err(UnitError::Bits {
                text: t.into(),
                unit: unit.into(),
            });
        }
        return Ok((num, mult));
    }
    if num.parse::<f64>().is_ok() {
        return Err(UnitError::Unit {
            text: t.into(),
            unit: unit.into(),
        });
    }
    // Not a number followed by a unit: let the number parser name the text.
    Ok((t, 1))
}

fn number(num: &str, whole: &str, what: &'static str) -> Result<f64, UnitError> {
    match num.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(UnitError::Number {
            what,
            text: whole.into(),
        }),
    }
}

/// A size in bytes: `4096`, `1e9`, `1.5GiB`, `512 MiB`, `50GB` (fractions round to the
/// nearest byte; integers are exact up to 2^64 - 1).
pub fn parse_size(text: &str) -> Result<u64, UnitError> {
    let (num, mult) = split_unit(text)?;
    let whole = text.trim();
    let too_big = || UnitError::TooBig { text: whole.into() };
    if !num.is_empty() && num.bytes().all(|b| b.is_ascii_digit()) {
        let v: u64 = num.parse().map_err(|_| too_big())?;
        return v.checked_mul(mult).ok_or_else(too_big);
    }
    let bytes = number(num, whole, "size")? * mult as f64;
    if bytes >= 18_446_744_073_709_551_615.0 {
        return Err(too_big());
    }
    Ok(bytes.round() as u64)
}

/// A rate in bytes per second, > 0: `1GB/s`, `500MiB/s`, `2e9` (the `/s` is optional).
pub fn parse_rate(text: &str) -> Result<f64, UnitError> {
    let t = text.trim();
    let t = t
        .strip_suffix("/s")
        .or_else(|| t.strip_suffix("/S"))
        .unwrap_or(t);
    let (num, mult) = split_unit(t)?;
    let v = number(num, text.trim(), "bandwidth")? * mult as f64;
    if v >= 1.0 {
        Ok(v)
    } else {
        Err(UnitError::ZeroRate {
            text: text.trim().into(),
        })
    }
}

/// A byte count for messages: `512 B`, `1.50 KiB`, `16.00 GiB` (binary units, 2 decimals).
pub fn format_size(bytes: u64) -> String {
    const NAMES: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut unit = 0;
    while unit + 1 < NAMES.len() && bytes >= 1u64 << (10 * (unit + 1)) {
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!(
            "{:.2} {}",
            bytes as f64 / (1u64 << (10 * unit)) as f64,
            NAMES[unit]
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_rates() {
        for (text, want) in [
            ("2GiB", 2u64 << 30),
            ("512 MiB", 512 << 20),
            ("50GB", 50_000_000_000),
            ("1e9", 1_000_000_000),
            ("1.5GB", 1_500_000_000),
            ("1.5 KiB", 1536),
            ("4096", 4096),
            ("8B", 8),
            ("3kB", 3000),
            ("3KB", 3000),
            ("1EiB", 1 << 60),
            ("18446744073709551615", u64::MAX),
        ] {
            assert_eq!(parse_size(text), Ok(want), "{text}");
        }
        for bad in [
            "",
            "GiB",
            "-1GiB",
            "2XB",
            "2 parsecs",
            "1e30",
            "nan",
            "inf",
            "16EiB",
        ] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
        assert!(
            parse_size("2 parsecs")
                .unwrap_err()
                .to_string()
                .starts_with("bad unit `parsecs` in `2 parsecs`")
        );
        // The unit is blamed when the number is fine; the range names 64 bits.
        assert_eq!(
            parse_size("8XiB"),
            Err(UnitError::Unit {
                text: "8XiB".into(),
                unit: "XiB".into()
            })
        );
        assert!(matches!(parse_size("nan"), Err(UnitError::Number { .. })));
        assert!(matches!(parse_size("1e"), Err(UnitError::Unit { .. })));
        assert_eq!(parse_size("1e3"), Ok(1000));
        assert!(
            parse_size("16EiB")
                .unwrap_err()
                .to_string()
                .contains("out of range: at most 2^64 - 1 bytes")
        );
        assert_eq!(parse_size("15EiB"), Ok(15 << 60));
        assert_eq!(format_size(512), "512 B");
        assert_eq!(format_size(1536), "1.50 KiB");
        assert_eq!(format_size(16 << 30), "16.00 GiB");
        assert_eq!(format_size(u64::MAX), "16.00 EiB");
        assert_eq!(parse_rate("1GB/s"), Ok(1e9));
        assert_eq!(parse_rate("1MiB/s"), Ok(1048576.0));
        assert!(parse_rate("0GB/s").is_err());
    }
}
