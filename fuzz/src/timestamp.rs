//! The `timestamp` target, and the shape of the contract's `occurred_at`.

use serde_json::value::RawValue;

/// The `timestamp` target: `occurred_at` on a JSON scalar never panics, and what it
/// returns has the contract's shape.
pub fn fuzz_timestamp(data: &[u8]) {
    if let Some(raw) = scalar(data)
        && let Some(at) = org_change_core::occurred_at(&raw)
    {
        assert!(is_rfc3339_millis(&at), "{} -> {at:?}", raw.get());
    }
}

/// The first byte picks how the scalar is made from the rest: as JSON text, or as a
/// string, integer, float, quoted integer (as `header.create_time` is sent) or literal.
fn scalar(data: &[u8]) -> Option<Box<RawValue>> {
    let (&mode, rest) = data.split_first()?;
    let mut u = arbitrary::Unstructured::new(rest);
    let json = match mode % 6 {
        0 => std::str::from_utf8(rest).ok()?.to_owned(),
        1 => serde_json::to_string(&String::from_utf8_lossy(rest)).ok()?,
        2 => u.arbitrary::<i64>().ok()?.to_string(),
        3 => serde_json::to_string(&u.arbitrary::<f64>().ok()?).ok()?,
        4 => format!("\"{}\"", u.arbitrary::<u64>().ok()?),
        _ => ["true", "false", "null"][rest.len() % 3].to_owned(),
    };
    let raw = RawValue::from_string(json).ok()?;
    (!raw.get().starts_with(['{', '['])).then_some(raw)
}

/// `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`, the contract's `occurred_at`.
pub fn is_rfc3339_millis(text: &str) -> bool {
    const SHAPE: &[u8; 24] = b"dddd-dd-ddTdd:dd:dd.dddZ";
    text.len() == SHAPE.len()
        && text.bytes().zip(SHAPE).all(|(b, &s)| match s {
            b'd' => b.is_ascii_digit(),
            s => b == s,
        })
}
