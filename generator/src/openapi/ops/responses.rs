//! Responses: the output schema and the `Accept` header.

use std::collections::HashSet;

use serde_json::{Map, Value, json};

use super::body::{essence, is_json, media_rank};
use super::{ApiLowering, Version, is_token};
use crate::openapi::doc::Loc;

impl ApiLowering<'_> {
    /// The `Accept` header: the media types the operation documents for its
    /// successful responses (2.0: `produces`, the operation's or else the
    /// document's; 3.x: the content of every 2xx response), JSON types
    /// first, the others as listed. None (the runtime's default) when
    /// nothing but `*/*` is documented.
    pub(super) fn accept(
        &mut self,
        loc: &Loc,
        op: &Value,
        produces: Option<&Value>,
        produces_loc: &Loc,
    ) -> Option<String> {
        let mut listed: Vec<(Loc, String)> = Vec::new();
        if self.version == Version::Swagger2 {
            match produces {
                Some(Value::Array(list)) => {
                    for (i, m) in list.iter().enumerate() {
                        match m.as_str() {
                            Some(m) => listed.push((produces_loc.idx(i), m.to_string())),
                            None => self.f.warn(
                                &produces_loc.idx(i),
                                "a media type must be a string; ignored",
                            ),
                        }
                    }
                }
                Some(_) => self
                    .f
                    .warn(produces_loc, "`produces` must be an array; ignored"),
                None => {}
            }
        } else {
            let Some(Value::Object(responses)) = op.get("responses") else {
                return None;
            };
            let mut codes: Vec<&String> = responses
                .keys()
                .filter(|k| {
                    k.len() == 3
                        && k.starts_with('2')
                        && (k[1..].chars().all(|c| c.is_ascii_digit())
                            || k[1..].eq_ignore_ascii_case("XX"))
                })
                .collect();
            // 200…299, then 2XX.
            codes.sort_by_key(|k| (k[1..].eq_ignore_ascii_case("XX"), k.to_string()));
            for code in codes {
                let Some((rloc, response)) = self.deref(&loc.at("responses").at(code)) else {
                    continue;
                };
                if let Some(Value::Object(content)) = response.get("content") {
                    for media in content.keys() {
                        listed.push((rloc.at("content").at(media), media.clone()));
                    }
                }
            }
        }
        let mut seen = HashSet::new();
        let mut types: Vec<String> = Vec::new();
        for (at, media) in listed {
            let media = media.trim().to_string();
            let (kind, rest) = media.split_once('/').unwrap_or((&media, ""));
            let subtype = rest.split(';').next().unwrap_or("").trim();
            let valid = is_token(kind)
                && is_token(subtype)
                && !media.contains(',')
                && media
                    .bytes()
                    .all(|b| b == b' ' || b == b'\t' || b.is_ascii_graphic());
            if !valid {
                self.f.warn(
                    &at,
                    format!("{media:?} is not a media type; it is not sent in `Accept`"),
                );
                continue;
            }
            if seen.insert(media.to_ascii_lowercase()) {
                types.push(media);
            }
        }
        if types.iter().all(|m| essence(m) == "*/*") {
            return None;
        }
        let json = |m: &String| {
            let e = essence(m);
            e == "application/json" || e.ends_with("+json")
        };
        let (mut first, rest): (Vec<String>, Vec<String>) = types.into_iter().partition(json);
        first.extend(rest);
        Some(first.join(", "))
    }

    /// Output schema, whether it is wrapped, and the success media type.
    pub(super) fn success(
        &mut self,
        loc: &Loc,
        op: &Value,
        produces: Option<&Value>,
    ) -> (Option<Value>, bool, Option<String>) {
        let Some(Value::Object(responses)) = op.get("responses") else {
            return (None, false, None);
        };
        let mut codes: Vec<&String> = responses
            .keys()
            .filter(|k| {
                k.len() == 3 && k.starts_with('2') && k[1..].chars().all(|c| c.is_ascii_digit())
            })
            .collect();
        codes.sort();
        let code = codes
            .first()
            .copied()
            .or_else(|| responses.keys().find(|k| k.eq_ignore_ascii_case("2XX")));
        let Some(code) = code else {
            return (None, false, None);
        };
        let Some((rloc, response)) = self.deref(&loc.at("responses").at(code)) else {
            return (None, false, None);
        };
        let (schema_loc, schema, mime) = if self.version == Version::Swagger2 {
            let mime = produces
                .and_then(Value::as_array)
                .and_then(|l| {
                    l.iter()
                        .filter_map(Value::as_str)
                        .min_by_key(|m| media_rank(m))
                })
                .map(str::to_string);
            if mime.as_deref().is_some_and(|m| !is_json(m)) {
                return (None, false, mime);
            }
            match response.get("schema") {
                Some(s) => (
                    rloc.at("schema"),
                    s.clone(),
                    mime.or(Some("application/json".into())),
                ),
                None => return (None, false, mime),
            }
        } else {
            let Some(Value::Object(content)) = response.get("content") else {
                return (None, false, None);
            };
            let Some(media) = content.keys().min_by_key(|k| media_rank(k)).cloned() else {
                return (None, false, None);
            };
            if !is_json(&media) || media.contains('*') {
                return (None, false, Some(media).filter(|m| !m.contains('*')));
            }
            match content[&media].get("schema") {
                Some(s) => (
                    rloc.at("content").at(&media).at("schema"),
                    s.clone(),
                    Some(media),
                ),
                None => return (None, false, Some(media)),
            }
        };
        let converted = self
            .schemas
            .convert(self.docs, &schema_loc, &schema, self.f);
        self.schemas.drain(self.docs, self.f);
        if self.schemas.is_object(&converted) {
            let mut out = match converted {
                Value::Object(m) => m,
                _ => Map::new(),
            };
            out.insert("type".into(), "object".into());
            (Some(Value::Object(out)), false, mime)
        } else {
            let wrapped = json!({
                "type": "object",
                "properties": {"result": converted},
                "required": ["result"]
            });
            (Some(wrapped), true, mime)
        }
    }
}
