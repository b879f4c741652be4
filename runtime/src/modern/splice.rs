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
