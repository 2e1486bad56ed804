//! OpenStack's timestamps: ISO 8601, usually without a zone.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDateTime, Utc};

/// A point in time as OpenStack services send it.
///
/// Cinder writes UTC without a zone and with microseconds
/// (`2026-11-22T12:05:53.624993`); Trove without a fraction
/// (`2026-11-22T12:05:53`); Keystone and some clouds with `Z` or an offset.
/// All of them decode; a value with an offset is converted to UTC. It
/// encodes in UTC without a zone, with as many fraction digits as the
/// server wrote (Trove's whole seconds stay whole, Cinder's microseconds
/// stay six digits), so that what is shown is what the server sent; one
/// made from a `DateTime` encodes with microseconds, as Cinder writes.
/// Equality, order and hashing are of the instant alone.
#[derive(Clone, Copy)]
pub struct Timestamp {
    at: NaiveDateTime,
    /// Digits after the seconds when written (0 to 9).
    digits: u8,
}

impl Timestamp {
    /// The time in UTC.
    pub fn to_utc(self) -> DateTime<Utc> {
        self.at.and_utc()
    }

    /// The time in UTC, without a zone.
    pub fn naive_utc(self) -> NaiveDateTime {
        self.at
    }
}

impl PartialEq for Timestamp {
    fn eq(&self, other: &Self) -> bool {
        self.at == other.at
    }
}

impl Eq for Timestamp {}

impl PartialOrd for Timestamp {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Timestamp {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.at.cmp(&other.at)
    }
}

impl std::hash::Hash for Timestamp {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.at.hash(state);
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(value: DateTime<Utc>) -> Self {
        Self { at: value.naive_utc(), digits: 6 }
    }
}

/// The number of digits after the seconds' `.` in `text` (0 without one).
fn fraction_digits(text: &str) -> u8 {
    let time = text.find(['T', 't']).map_or("", |t| &text[t..]);
    let Some(dot) = time.find('.') else { return 0 };
    time[dot + 1..].bytes().take_while(u8::is_ascii_digit).count().min(9) as u8
}

/// A string that is not an ISO 8601 timestamp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseTimestampError(String);

impl fmt::Display for ParseTimestampError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "expected a timestamp like \"2026-11-22T12:05:53.624993\" (zone optional), found {:?}", self.0)
    }
}

impl std::error::Error for ParseTimestampError {}

impl FromStr for Timestamp {
    type Err = ParseTimestampError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if let Some(t) = parse_fast(text) {
            return Ok(t);
        }
        let err = || ParseTimestampError(text.to_owned());
        // A zone suffix: `Z`, or `±HH:MM` after the time of day.
        let has_zone = text.ends_with('Z') || text.ends_with('z') || {
            let tail = text.get(text.len().saturating_sub(6)..).unwrap_or("");
            (tail.starts_with('+') || tail.starts_with('-')) && tail.as_bytes().get(3) == Some(&b':')
        };
        if has_zone {
            return DateTime::parse_from_rfc3339(text)
                .map(|t| Self { at: t.naive_utc(), digits: fraction_digits(text) })
                .map_err(|_| err());
        }
        NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
            .map(|at| Self { at, digits: fraction_digits(text) })
            .map_err(|_| err())
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.f…][Z]` without chrono's format machinery: this is
/// on the hot path of every list (three timestamps per backup).
fn parse_fast(text: &str) -> Option<Timestamp> {
    let b = text.as_bytes();
    let body = match b.last() {
        Some(b'Z' | b'z') => &b[..b.len() - 1],
        _ => b,
    };
    if body.len() < 19 || body[4] != b'-' || body[7] != b'-' || body[10] != b'T' || body[13] != b':' || body[16] != b':'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        body[r].iter().try_fold(0u32, |acc, c| c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0')))
    };
    let (nanos, written) = match &body[19..] {
        [] => (0, 0),
        [b'.', digits @ ..] if !digits.is_empty() && digits.len() <= 9 => {
            let value =
                digits.iter().try_fold(0u32, |acc, c| c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0')))?;
            (value * 10u32.pow(9 - digits.len() as u32), digits.len() as u8)
        }
        _ => return None,
    };
    let date = chrono::NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?;
    let time = chrono::NaiveTime::from_hms_nano_opt(num(11..13)?, num(14..16)?, num(17..19)?, nanos)?;
    Some(Timestamp { at: NaiveDateTime::new(date, time), digits: written })
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.at.format("%Y-%m-%dT%H:%M:%S"))?;
        if self.digits > 0 {
            // (A leap second's nanoseconds run past 1e9.)
            let fraction = format!("{:09}", self.at.and_utc().timestamp_subsec_nanos() % 1_000_000_000);
            write!(f, ".{}", &fraction[..usize::from(self.digits)])?;
        }
        Ok(())
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({self})")
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;

        impl serde::de::Visitor<'_> for Visitor {
            type Value = Timestamp;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an ISO 8601 timestamp")
            }

            fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<Timestamp, E> {
                value.parse().map_err(E::custom)
            }
        }

        deserializer.deserialize_str(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_every_dialect_as_utc() {
        let cinder: Timestamp = "2026-11-22T12:05:53.624993".parse().unwrap();
        assert_eq!(cinder.to_string(), "2026-11-22T12:05:53.624993");
        let trove: Timestamp = "2026-11-22T12:05:53".parse().unwrap();
        assert_eq!(trove.to_string(), "2026-11-22T12:05:53", "as Trove wrote it");
        let zulu: Timestamp = "2026-11-22T12:05:53.000000Z".parse().unwrap();
        assert_eq!(zulu, trove);
        let offset: Timestamp = "2026-11-22T14:05:53+02:00".parse().unwrap();
        assert_eq!(offset, trove);
        assert_eq!(offset.to_string(), "2026-11-22T12:05:53", "in UTC");
        assert_eq!(zulu.to_string(), "2026-11-22T12:05:53.000000");
        let tenths: Timestamp = "2026-11-22T12:05:53.1Z".parse().unwrap();
        assert_eq!(tenths.to_string(), "2026-11-22T12:05:53.1");
        let made = Timestamp::from(tenths.to_utc());
        assert_eq!(made.to_string(), "2026-11-22T12:05:53.100000", "as Cinder writes");
        assert!(trove < tenths && tenths == made);
        let unpadded: Timestamp = "2026-1-2T3:4:5.678".parse().unwrap();
        assert_eq!(unpadded.to_string(), "2026-01-02T03:04:05.678", "its fraction kept");
        let leap: Timestamp = "2016-12-31T23:59:60.5Z".parse().unwrap();
        assert_eq!(leap.to_string(), "2016-12-31T23:59:60.5");
        assert_eq!(cinder.to_utc().timestamp(), 1_795_349_153);
    }

    #[test]
    fn the_fast_path_agrees_with_chrono() {
        for text in [
            "2026-11-22T12:05:53.624993",
            "2026-11-22T12:05:53",
            "2026-11-22T12:05:53.1Z",
            "2024-02-29T23:59:59.999999999",
        ] {
            let fast = parse_fast(text).unwrap();
            let slow = NaiveDateTime::parse_from_str(text.trim_end_matches('Z'), "%Y-%m-%dT%H:%M:%S%.f").unwrap();
            assert_eq!(fast.at, slow, "{text}");
            assert_eq!(fast.to_string(), text.trim_end_matches('Z'), "written back as it came");
        }
        for bad in [
            "2026-11-22T12:05:53.",
            "2026-11-22T12:05:5x",
            "2023-02-29T00:00:00",
            "2026-11-22T24:00:00",
            "2026-11-22T12:05:53.1234567890",
        ] {
            assert!(parse_fast(bad).is_none(), "{bad}");
        }
    }

    /// Separators out of place are refused by the fast path and the slow
    /// one alike; unpadded fields take the slow path whatever their length.
    #[test]
    fn separators_and_unpadded_fields() {
        for bad in [
            "2026x11-22T12:05:53",
            "2026-11x22T12:05:53",
            "2026-11-22 12:05:53",
            "2026-11-22T12x05:53",
            "2026-11-22T12:05x53",
        ] {
            assert!(bad.parse::<Timestamp>().is_err(), "{bad}");
        }
        for (text, shown) in [
            ("2026-1-2T03:4:05", "2026-01-02T03:04:05"),
            ("2026-01-2T03:04:05.678", "2026-01-02T03:04:05.678"),
            ("2026-01-02T03:04:05.5+02:00", "2026-01-02T01:04:05.5"),
        ] {
            let t: Timestamp = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(t.to_string(), shown, "{text}");
        }
    }

    /// Equality, hashing and the naive value are of the instant alone,
    /// however many fraction digits the server wrote.
    #[test]
    fn the_instant_is_the_identity() {
        let whole: Timestamp = "2026-11-22T12:05:53".parse().unwrap();
        let micros: Timestamp = "2026-11-22T12:05:53.000000".parse().unwrap();
        let later: Timestamp = "2026-11-22T12:05:54".parse().unwrap();
        assert!(whole == micros && whole != later && whole < later);
        let set: std::collections::HashSet<Timestamp> = [whole, micros, later].into_iter().collect();
        assert_eq!(set.len(), 2);
        let hash = |t: &Timestamp| {
            use std::hash::{BuildHasher, BuildHasherDefault};
            BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default().hash_one(t)
        };
        assert_eq!(hash(&whole), hash(&micros));
        assert_ne!(hash(&whole), hash(&later));
        assert_eq!(format!("{micros:?}"), "Timestamp(2026-11-22T12:05:53.000000)");
        assert_eq!(whole.naive_utc(), whole.to_utc().naive_utc());
        assert_eq!(whole.naive_utc().to_string(), "2026-11-22 12:05:53");
    }

    #[test]
    fn rejects_what_is_not_a_timestamp() {
        for bad in
            ["", "yesterday", "2026-11-22", "2026-13-22T12:05:53", "2026-11-22T12:05:53+0200x", "2026-11-22T12:05:53."]
        {
            let err = bad.parse::<Timestamp>().unwrap_err();
            assert!(err.to_string().contains("expected a timestamp"), "{bad}");
        }
    }

    #[test]
    fn serde_round_trip() {
        let t: Timestamp = serde_json::from_str("\"2017-05-30T03:35:03.000000\"").unwrap();
        assert_eq!(serde_json::to_string(&t).unwrap(), "\"2017-05-30T03:35:03.000000\"");
        let err = serde_json::from_str::<Timestamp>("\"soon\"").unwrap_err();
        assert!(err.to_string().contains("expected a timestamp"));
        let err = serde_json::from_str::<Timestamp>("5").unwrap_err();
        assert_eq!(err.to_string(), "invalid type: integer `5`, expected an ISO 8601 timestamp at line 1 column 1");
    }
}
