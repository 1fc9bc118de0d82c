//! The one piece of JSON every versioned document reads first: its `version`.
//!
//! A receipt, record, registration or licence of another version says so, instead of failing
//! on the first field that changed between versions. Parsing into `serde_json::Value` to
//! look at the version first built a tree of the whole document, 17 to 21 times its size —
//! a 256 MB receipt of zeros peaked at 4.5 GB before any check ran. [`version`] reads the same bytes
//! as a map whose values it skips ([`IgnoredAny`] allocates nothing), keeping only a
//! `version` that is an unsigned integer; the caller then deserializes the real type from the
//! same bytes, after checking the bytes against its cap.

use serde::Deserializer;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// The document's `version` when it is a JSON object whose `version` is an unsigned integer
/// (the last one, if the key repeats); `None` for any other version value, a missing one or
/// a document that is no object. `Err` when the bytes are not JSON.
pub(crate) fn version(bytes: &[u8]) -> Result<Option<u64>, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let v = (&mut de).deserialize_any(Document)?;
    de.end()?;
    Ok(v)
}

/// The whole document: a map is searched for `version`, anything else skipped.
struct Document;

impl<'de> Visitor<'de> for Document {
    type Value = Option<u64>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON document")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<u64>, A::Error> {
        let mut version = None;
        while let Some(is_version) = map.next_key_seed(IsVersion)? {
            if is_version {
                version = map.next_value_seed(Lenient)?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(version)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Option<u64>, A::Error> {
        skip_seq(seq)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Option<u64>, E> {
        Ok(None)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Option<u64>, E> {
        Ok(None)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Option<u64>, E> {
        Ok(None)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Option<u64>, E> {
        Ok(None)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Option<u64>, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Option<u64>, E> {
        Ok(None)
    }
}

fn skip_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<Option<u64>, A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(None)
}

/// Whether a key is `version`, compared where it lies (no `String` per key).
struct IsVersion;

impl<'de> DeserializeSeed<'de> for IsVersion {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for IsVersion {
    type Value = bool;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<bool, E> {
        Ok(key == "version")
    }
}

/// A `version` value: `Some` for an unsigned integer, `None` for any other value, which is
/// skipped whole.
struct Lenient;

impl<'de> DeserializeSeed<'de> for Lenient {
    type Value = Option<u64>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<u64>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Lenient {
    type Value = Option<u64>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a version")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Option<u64>, E> {
        Ok(Some(v))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<u64>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Option<u64>, A::Error> {
        skip_seq(seq)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Option<u64>, E> {
        Ok(None)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Option<u64>, E> {
        Ok(None)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Option<u64>, E> {
        Ok(None)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Option<u64>, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Option<u64>, E> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_an_unsigned_version_and_nothing_else() {
        let v = |s: &str| version(s.as_bytes()).map_err(|e| e.to_string());
        assert_eq!(
            v(r#"{"version": 4, "x": [1, {"version": 9}]}"#),
            Ok(Some(4))
        );
        assert_eq!(v(r#"{"x": {"version": 9}, "version": 3}"#), Ok(Some(3)));
        assert_eq!(v(r#"{"version": 1, "version": 2}"#), Ok(Some(2)));
        assert_eq!(
            v(&format!(r#"{{"version": {}}}"#, u64::MAX)),
            Ok(Some(u64::MAX))
        );
        for no in [
            r#"{"x": 1}"#,
            r#"{"version": "4"}"#,
            r#"{"version": -4}"#,
            r#"{"version": 4.0}"#,
            r#"{"version": null}"#,
            r#"{"version": [4]}"#,
            r#"{"version": {"version": 4}}"#,
            r#"[4]"#,
            r#""version""#,
            "4",
            "true",
            "null",
        ] {
            assert_eq!(v(no), Ok(None), "{no}");
        }
        for bad in ["", "{", r#"{"version": 4"#, r#"{"version": 4} x"#, "[1,]"] {
            assert!(v(bad).is_err(), "{bad}");
        }
        assert!(version(b"{").unwrap_err().is_eof());
    }
}
