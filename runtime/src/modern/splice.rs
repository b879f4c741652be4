//! The modern result envelope added to a result that is already JSON text
//! (`Payload::Json`: tools/call results, `tools/list` pages): the result's
//! top-level members are read as text, not parsed into a `Value` tree, and
//! written back followed by the envelope's members — the members and order
//! `finish` gives a `Value` result.

use super::{CacheHints, META_SERVER_INFO};
use serde::de::{Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::fmt;

/// `raw` with the envelope; None when the `Value` path must add it: `raw`
/// is not an object, a key has escapes, or the result has a `_meta` of its
/// own to merge the server's identity into.
pub(super) fn splice(
    raw: &RawValue,
    cacheable: bool,
    cache: CacheHints,
    server_info: &RawValue,
) -> Option<Box<RawValue>> {
    append(raw, cacheable, cache, server_info)
        .or_else(|| splice_members(raw, cacheable, cache, server_info))
}

/// The members the envelope may add or read, as they appear in JSON text.
const ENVELOPE_KEYS: [&str; 2] = ["\"_meta\"", "\"resultType\""];
const CACHE_KEYS: [&str; 2] = ["\"ttlMs\"", "\"cacheScope\""];

/// The envelope written after the result's members without reading them:
/// for an object whose text names none of the envelope's members (a tool
/// result, mostly). A key spelled with a `\u` escape would hide from the
/// search, so a text with one takes [`splice_members`].
fn append(
    raw: &RawValue,
    cacheable: bool,
    cache: CacheHints,
    server_info: &RawValue,
) -> Option<Box<RawValue>> {
    let text = raw.get();
    let body = text.strip_prefix('{')?.strip_suffix('}')?;
    let named = |keys: &[&str]| keys.iter().any(|k| body.contains(k));
    if body.contains("\\u") || named(&ENVELOPE_KEYS) || (cacheable && named(&CACHE_KEYS)) {
        return None;
    }
    let mut out = String::with_capacity(text.len() + server_info.get().len() + 112);
    out.push('{');
    out.push_str(body);
    if !body.trim_start().is_empty() {
        out.push(',');
    }
    out.push_str("\"resultType\":\"complete\"");
    if cacheable {
        // `scope` is `public` or `private`: nothing to escape.
        let hints = format!(
            ",\"ttlMs\":{},\"cacheScope\":\"{}\"",
            cache.ttl_ms, cache.scope
        );
        out.push_str(&hints);
    }
    out.push_str(",\"_meta\":{\"");
    out.push_str(META_SERVER_INFO);
    out.push_str("\":");
    out.push_str(server_info.get());
    out.push_str("}}");
    verbatim(out)
}

/// The name under which serde_json hands a `RawValue` its text, unchanged.
const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

/// `json`, known to be valid JSON, as a `RawValue` without parsing it
/// again (`RawValue::from_string` would: as dear as the splice it saves)
/// or copying it: it is handed over the way serde_json's own deserializer
/// hands over a raw value's text. A serde_json that changed the way would
/// fail here: `verbatim_is_the_text_itself` catches that.
pub(crate) fn verbatim(json: String) -> Option<Box<RawValue>> {
    let members = std::iter::once((RAW_VALUE_TOKEN, json));
    let de = serde::de::value::MapDeserializer::<_, serde::de::value::Error>::new(members);
    Box::<RawValue>::deserialize(de).ok()
}

/// [`splice`] by the result's members, read as text.
fn splice_members(
    raw: &RawValue,
    cacheable: bool,
    cache: CacheHints,
    server_info: &RawValue,
) -> Option<Box<RawValue>> {
    let members: Members = serde_json::from_str(raw.get()).ok()?;
    if members.get("_meta").is_some() {
        return None;
    }
    let kind = members.get("resultType");
    let complete = match kind {
        None => true,
        Some(k) => serde_json::from_str::<String>(k.get()).is_ok_and(|k| k == "complete"),
    };
    let hints = cacheable && complete;
    let out = Spliced {
        members: &members.0,
        result_type: kind.is_none(),
        ttl_ms: (hints && members.get("ttlMs").is_none()).then_some(cache.ttl_ms),
        scope: (hints && members.get("cacheScope").is_none()).then_some(cache.scope),
        server_info,
    };
    serde_json::value::to_raw_value(&out).ok()
}

/// The top-level members of a JSON object, in order, values as text.
struct Members<'a>(Vec<(&'a str, &'a RawValue)>);

impl<'a> Members<'a> {
    fn get(&self, key: &str) -> Option<&'a RawValue> {
        self.0.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }
}

impl<'de> Deserialize<'de> for Members<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Object;
        impl<'de> Visitor<'de> for Object {
            type Value = Members<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members<'de>, A::Error> {
                let mut members = Vec::with_capacity(map.size_hint().unwrap_or(4));
                while let Some(member) = map.next_entry::<&'de str, &'de RawValue>()? {
                    members.push(member);
                }
                Ok(Members(members))
            }
        }
        d.deserialize_map(Object)
    }
}

/// The result's members, then the envelope's.
struct Spliced<'a> {
    members: &'a [(&'a str, &'a RawValue)],
    result_type: bool,
    ttl_ms: Option<u64>,
    scope: Option<&'static str>,
    server_info: &'a RawValue,
}

impl Serialize for Spliced<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let mut map = ser.serialize_map(None)?;
        for (k, v) in self.members {
            map.serialize_entry(k, v)?;
        }
        if self.result_type {
            map.serialize_entry("resultType", "complete")?;
        }
        if let Some(ttl) = self.ttl_ms {
            map.serialize_entry("ttlMs", &ttl)?;
        }
        if let Some(scope) = self.scope {
            map.serialize_entry("cacheScope", scope)?;
        }
        map.serialize_entry("_meta", &ServerInfo(self.server_info))?;
        map.end()
    }
}

/// `{"io.modelcontextprotocol/serverInfo": …}`.
struct ServerInfo<'a>(&'a RawValue);

impl Serialize for ServerInfo<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        ser.collect_map(std::iter::once((META_SERVER_INFO, self.0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbatim_is_the_text_itself() {
        let text = r#"{"a":[1,"x\"y"],"b":{}}"#;
        let raw = verbatim(text.to_owned()).expect("a RawValue");
        assert_eq!(raw.get(), text);
    }

    #[test]
    fn appended_envelope_is_valid_json_in_order() {
        let info = RawValue::from_string(r#"{"name":"s"}"#.into()).unwrap();
        let hints = CacheHints::default();
        for (result, cacheable, want) in [
            (
                r#"{"content":[]}"#,
                false,
                r#"{"content":[],"resultType":"complete","_meta":{"io.modelcontextprotocol/serverInfo":{"name":"s"}}}"#,
            ),
            (
                "{}",
                true,
                r#"{"resultType":"complete","ttlMs":0,"cacheScope":"private","_meta":{"io.modelcontextprotocol/serverInfo":{"name":"s"}}}"#,
            ),
        ] {
            let raw = RawValue::from_string(result.into()).unwrap();
            let done = append(&raw, cacheable, hints, &info).expect("appended");
            assert_eq!(done.get(), want);
            serde_json::from_str::<serde_json::Value>(done.get()).expect("valid JSON");
        }
        // Text that may name an envelope member is left to the member reader.
        for result in [
            r#"{"_meta":{}}"#,
            r#"{"resultType":"input_required"}"#,
            r#"{"\u005fmeta":{}}"#,
            "[1]",
        ] {
            let raw = RawValue::from_string(result.into()).unwrap();
            assert!(append(&raw, false, hints, &info).is_none(), "{result}");
        }
        let raw = RawValue::from_string(r#"{"ttlMs":5}"#.into()).unwrap();
        assert!(append(&raw, true, hints, &info).is_none());
        assert!(append(&raw, false, hints, &info).is_some());
    }
}
