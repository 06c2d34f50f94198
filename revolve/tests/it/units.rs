//! Sizes and rates with units: the part of the text at fault is named (the unit when the number
//! is fine, the number otherwise, the range for sizes of 2^64 bytes or more).

use revolve::units::{UnitError, format_size, parse_rate, parse_size};

#[test]
fn the_unit_is_blamed_when_the_number_is_fine() {
    for (text, unit) in [
        ("8XiB", "XiB"),
        ("2 parsecs", "parsecs"),
        ("1e", "e"),
        ("5GiBs", "GiBs"),
    ] {
        assert_eq!(
            parse_size(text),
            Err(UnitError::Unit {
                text: text.into(),
                unit: unit.into()
            }),
            "{text}"
        );
    }
    let e = parse_rate("1 furlong/s").unwrap_err().to_string();
    assert!(e.starts_with("bad unit `furlong` in `1 furlong`"), "{e}");
}

#[test]
fn the_number_is_blamed_when_it_is_not_one() {
    for text in ["", "GiB", "-1GiB", "nan", "inf", "x1GiB"] {
        assert!(
            matches!(parse_size(text), Err(UnitError::Number { .. })),
            "{text}: {:?}",
            parse_size(text)
        );
    }
}

#[test]
fn sizes_of_2_pow_64_bytes_or_more_are_out_of_range() {
    assert_eq!(parse_size("15EiB"), Ok(15 << 60));
    assert_eq!(parse_size("18446744073709551615"), Ok(u64::MAX));
    for text in ["16EiB", "18446744073709551616", "1e20", "20EB"] {
        let e = parse_size(text).unwrap_err();
        assert_eq!(e, UnitError::TooBig { text: text.into() });
        assert!(
            e.to_string()
                .contains("out of range: at most 2^64 - 1 bytes"),
            "{e}"
        );
    }
    assert_eq!(format_size(15 << 60), "15.00 EiB");
}

#[test]
fn bits_are_refused_never_read_as_bytes() {
    for (text, unit) in [("8Mb", "Mb"), ("1Gb", "Gb"), ("8b", "b"), ("3kb", "kb")] {
        assert_eq!(
            parse_size(text),
            Err(UnitError::Bits {
                text: text.into(),
                unit: unit.into()
            }),
            "{text}"
        );
    }
    let e = parse_rate("1Gb/s").unwrap_err();
    assert!(matches!(e, UnitError::Bits { .. }), "{e:?}");
    assert!(e.to_string().contains("a lower-case b means bits"), "{e}");
    // Upper-case B stays bytes, whatever the case of the prefix.
    assert_eq!(parse_size("8MB"), Ok(8_000_000));
    assert_eq!(parse_size("8mB"), Ok(8_000_000));
    assert_eq!(parse_rate("1GB/s"), Ok(1e9));
}

#[test]
fn rates_below_one_byte_per_second_are_refused() {
    for text in ["0", "1e-320", "0.5", "0GB/s"] {
        assert!(
            matches!(parse_rate(text), Err(UnitError::ZeroRate { .. })),
            "{text}: {:?}",
            parse_rate(text)
        );
    }
    assert_eq!(parse_rate("1"), Ok(1.0));
}
