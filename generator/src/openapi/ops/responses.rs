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
        let listed = if self.version == Version::Swagger2 {
            self.produced(produces, produces_loc)
        } else {
            self.success_content_types(loc, op)?
        };
        let types = self.valid_media_types(listed);
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

    /// 2.0 `produces`, with the place of each entry.
    fn produced(&mut self, produces: Option<&Value>, produces_loc: &Loc) -> Vec<(Loc, String)> {
        let mut listed = Vec::new();
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
        listed
    }

    /// 3.x: the media types of every 2xx response (200…299, then 2XX), with
    /// their places; None without `responses`.
    fn success_content_types(&mut self, loc: &Loc, op: &Value) -> Option<Vec<(Loc, String)>> {
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
        codes.sort_by_key(|k| (k[1..].eq_ignore_ascii_case("XX"), k.to_string()));
        let mut listed = Vec::new();
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
        Some(listed)
    }

    /// The listed media types that can go into `Accept` (each once, case
    /// aside); a warning for each of the others.
    fn valid_media_types(&mut self, listed: Vec<(Loc, String)>) -> Vec<String> {
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
        types
    }

    /// Output schema, whether it is wrapped, and the success media type.
    pub(super) fn success(
        &mut self,
        loc: &Loc,
        op: &Value,
        produces: Option<&Value>,
    ) -> (Option<Value>, bool, Option<String>) {
        let Some((rloc, response)) = self.success_response(loc, op) else {
            return (None, false, None);
        };
        let found = if self.version == Version::Swagger2 {
            swagger2_success_schema(&rloc, &response, produces)
        } else {
            success_schema(&rloc, &response)
        };
        let (schema_loc, schema, mime) = match found {
            Found::Schema(at, schema, mime) => (at, schema, mime),
            Found::None(mime) => return (None, false, mime),
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

    /// The first 2xx response (by code; `2XX` when there is none), resolved.
    fn success_response(&mut self, loc: &Loc, op: &Value) -> Option<(Loc, Value)> {
        let Some(Value::Object(responses)) = op.get("responses") else {
            return None;
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
            .or_else(|| responses.keys().find(|k| k.eq_ignore_ascii_case("2XX")))?;
        self.deref(&loc.at("responses").at(code))
    }
}

/// The schema of a success response, or only its media type.
enum Found {
    /// (where, schema, media type)
    Schema(Loc, Value, Option<String>),
    None(Option<String>),
}

/// 2.0: the response's `schema` when the preferred of `produces` is JSON
/// (or nothing is produced).
fn swagger2_success_schema(rloc: &Loc, response: &Value, produces: Option<&Value>) -> Found {
    let mime = produces
        .and_then(Value::as_array)
        .and_then(|l| {
            l.iter()
                .filter_map(Value::as_str)
                .min_by_key(|m| media_rank(m))
        })
        .map(str::to_string);
    if mime.as_deref().is_some_and(|m| !is_json(m)) {
        return Found::None(mime);
    }
    match response.get("schema") {
        Some(s) => Found::Schema(
            rloc.at("schema"),
            s.clone(),
            mime.or(Some("application/json".into())),
        ),
        None => Found::None(mime),
    }
}

/// 3.x: the schema of the preferred media type, when that is JSON.
fn success_schema(rloc: &Loc, response: &Value) -> Found {
    let Some(Value::Object(content)) = response.get("content") else {
        return Found::None(None);
    };
    let Some(media) = content.keys().min_by_key(|k| media_rank(k)).cloned() else {
        return Found::None(None);
    };
    if !is_json(&media) || media.contains('*') {
        return Found::None(Some(media).filter(|m| !m.contains('*')));
    }
    match content[&media].get("schema") {
        Some(s) => Found::Schema(
            rloc.at("content").at(&media).at("schema"),
            s.clone(),
            Some(media),
        ),
        None => Found::None(Some(media)),
    }
}
