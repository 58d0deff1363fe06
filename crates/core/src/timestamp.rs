//! Event creation times, in the platforms' several units (`docs/protocol.md`, "Envelopes").
//! An unreadable time becomes `null`, never a refusal.

use std::time::{Duration, UNIX_EPOCH};

use serde_json::value::RawValue;

/// The last millisecond RFC 3339 can write with a four-digit year.
const MAX_MILLIS: u64 = 253_402_300_799_999;

/// A raw JSON timestamp as RFC 3339 UTC with milliseconds; `None` when it is implausible.
pub fn occurred_at(raw: &RawValue) -> Option<String> {
    let millis = raw_unix_millis(raw)?;
    let time = UNIX_EPOCH + Duration::from_millis(millis);
    Some(humantime::format_rfc3339_millis(time).to_string())
}

/// A raw JSON timestamp as Unix milliseconds; `None` when it is implausible.
pub(crate) fn raw_unix_millis(raw: &RawValue) -> Option<u64> {
    let text = raw.get();
    let text = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text)
        .trim();
    unix_millis(text).filter(|millis| *millis <= MAX_MILLIS)
}

/// Unix milliseconds from seconds, milliseconds, microseconds or nanoseconds, by digit count.
fn unix_millis(text: &str) -> Option<u64> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) {
        return None;
    }
    let value: u64 = whole.parse().ok()?;
    if !fraction.is_empty() {
        // Seconds with a fraction.
        let millis: u64 = format!("{fraction:0<3}")[..3].parse().ok()?;
        return value.checked_mul(1000)?.checked_add(millis);
    }
    match whole.trim_start_matches('0').len() {
        0..=11 => value.checked_mul(1000),
        12..=14 => Some(value),
        15..=17 => Some(value / 1_000),
        _ => Some(value / 1_000_000),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(json: &str) -> Option<String> {
        occurred_at(&RawValue::from_string(json.to_owned()).unwrap())
    }

    #[test]
    fn reads_the_documented_milliseconds() {
        // The documentation samples' `create_time`.
        assert_eq!(
            at(r#""1608725989000""#).as_deref(),
            Some("2020-12-23T12:19:49.000Z")
        );
        assert_eq!(
            at(r#""1740385174957""#).as_deref(),
            Some("2025-02-24T08:19:34.957Z")
        );
    }

    #[test]
    fn reads_seconds_microseconds_and_numbers() {
        // The Go/Java SDK test event's 16-digit `create_time`.
        assert_eq!(
            at(r#""1603977298000000""#).as_deref(),
            Some("2020-10-29T13:14:58.000Z")
        );
        assert_eq!(
            at("1608725989").as_deref(),
            Some("2020-12-23T12:19:49.000Z")
        );
        assert_eq!(
            at("1608725989123").as_deref(),
            Some("2020-12-23T12:19:49.123Z")
        );
        assert_eq!(
            at(r#""1608725989123456789""#).as_deref(),
            Some("2020-12-23T12:19:49.123Z")
        );
    }

    #[test]
    fn reads_schema_1_fractional_seconds() {
        assert_eq!(
            at(r#""1502199207.7171419""#).as_deref(),
            Some("2017-08-08T13:33:27.717Z")
        );
        assert_eq!(
            at("1502199207.5").as_deref(),
            Some("2017-08-08T13:33:27.500Z")
        );
    }

    #[test]
    fn reads_padded_and_zero_prefixed_times_by_their_significant_digits() {
        // Spaces inside the quotes are trimmed; leading zeros do not count as digits
        // when telling seconds from milliseconds.
        let millis = Some("2020-12-23T12:19:49.000Z");
        for json in [
            r#"" 1608725989000 ""#,
            r#""0001608725989000""#,
            r#"" 0001608725989000 ""#,
            r#""0001608725989""#,
        ] {
            assert_eq!(at(json).as_deref(), millis, "{json}");
        }
    }

    #[test]
    fn unreadable_times_are_none_not_errors() {
        for raw in [
            r#""""#,
            r#""soon""#,
            "-1",
            r#""1e12""#,
            "null",
            "true",
            r#""12.3.4""#,
            r#"".5""#,
            "99999999999999999999",
            "9999999999999.9",
        ] {
            assert_eq!(at(raw), None, "{raw}");
        }
    }
}
