//! Request bodies: JSON, `application/x-www-form-urlencoded`,
//! `multipart/form-data`, binary (base64 arguments decoded to bytes), text,
//! and anything else given as a string. Defaults follow the OpenAPI 3.1
//! Encoding Object: primitives as text, objects as JSON, arrays one entry
//! per item.

use super::error::CallError;
use super::serialize::{self, Style, scalar};
use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use reqwest::header::HeaderValue;
use serde::Deserialize;
use serde_json::{Map, Value};

/// The body of an operation descriptor (`mcpgen_contract::Body`), with the
/// behaviour the runtime gives it.
#[derive(Debug, Clone, Deserialize)]
#[serde(transparent)]
pub(super) struct BodySpec(pub mcpgen_contract::Body);

impl std::ops::Deref for BodySpec {
    type Target = mcpgen_contract::Body;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Json,
    Form,
    Multipart,
    Binary,
    Text,
    Other,
}

/// `application/json`, `application/problem+json`, … (parameters ignored).
pub(super) fn is_json(media_type: &str) -> bool {
    // `essence` without its lower-cased copy: this runs for every response.
    let e = media_type.split(';').next().unwrap_or("").trim().as_bytes();
    e.eq_ignore_ascii_case(b"application/json")
        || e.len() >= 5 && e[e.len() - 5..].eq_ignore_ascii_case(b"+json")
}

/// The media type without parameters, lower-cased.
pub(super) fn essence(media_type: &str) -> String {
    media_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// One multipart part.
pub(super) struct Part {
    name: String,
    data: Vec<u8>,
    filename: Option<String>,
    content_type: Option<String>,
}

pub(super) enum PreparedBody {
    Bytes {
        content_type: HeaderValue,
        data: Vec<u8>,
    },
    /// Kept as parts so every attempt of a retried call can build a fresh form.
    Multipart(Vec<Part>),
}

impl PreparedBody {
    pub(super) fn attach(
        &self,
        rb: reqwest::RequestBuilder,
    ) -> Result<reqwest::RequestBuilder, CallError> {
        Ok(match self {
            PreparedBody::Bytes { content_type, data } => rb
                .header(reqwest::header::CONTENT_TYPE, content_type.clone())
                .body(data.clone()),
            PreparedBody::Multipart(parts) => {
                let mut form = reqwest::multipart::Form::new();
                for p in parts {
                    let mut part = reqwest::multipart::Part::bytes(p.data.clone());
                    if let Some(f) = &p.filename {
                        part = part.file_name(f.clone());
                    }
                    if let Some(ct) = &p.content_type {
                        part = part.mime_str(ct).map_err(|_| {
                            CallError::invalid(&p.name, format!("invalid content type `{ct}`"))
                        })?;
                    }
                    form = form.part(p.name.clone(), part);
                }
                rb.multipart(form)
            }
        })
    }
}

impl BodySpec {
    fn kind(&self) -> Kind {
        let e = essence(&self.media_type);
        let binary_type = e == "application/octet-stream"
            || ["image/", "audio/", "video/"]
                .iter()
                .any(|p| e.starts_with(p));
        match e.as_str() {
            _ if self.binary == Some(true) => Kind::Binary,
            _ if is_json(&e) => Kind::Json,
            "application/x-www-form-urlencoded" => Kind::Form,
            _ if e.starts_with("multipart/") => Kind::Multipart,
            _ if self.binary.is_none() && binary_type => Kind::Binary,
            _ if e.starts_with("text/") => Kind::Text,
            _ => Kind::Other,
        }
    }

    fn name(&self) -> &str {
        self.arg.as_deref().unwrap_or("body")
    }

    /// JSON pointers into `args` of the file values given as resource links
    /// (`{"uri": …}`), which the caller reads and replaces before the body
    /// is prepared: multipart file fields, and a whole binary body.
    pub(super) fn file_links(&self, args: &Value) -> Vec<String> {
        let base = match &self.arg {
            Some(a) => format!("/{}", pointer_token(a)),
            None => String::new(),
        };
        let candidates: Vec<String> = match self.kind() {
            Kind::Binary if self.arg.is_some() => vec![base],
            Kind::Multipart => self
                .binary_fields
                .iter()
                .map(|f| format!("{base}/{}", pointer_token(f)))
                .collect(),
            _ => vec![],
        };
        let mut links = vec![];
        for ptr in candidates {
            match args.pointer(&ptr) {
                Some(v) if is_link(v) => links.push(ptr),
                Some(Value::Array(items)) => links.extend(
                    (0..items.len())
                        .filter(|i| is_link(&items[*i]))
                        .map(|i| format!("{ptr}/{i}")),
                ),
                _ => {}
            }
        }
        links
    }

    pub(super) fn check(&self) -> Result<(), String> {
        let e = essence(&self.media_type);
        if e.split('/').filter(|s| !s.is_empty()).count() != 2
            || HeaderValue::from_str(&self.media_type).is_err()
        {
            return Err(format!(
                "body mediaType `{}` is not a media type",
                self.media_type
            ));
        }
        match (&self.arg, self.flattened.is_empty()) {
            (Some(_), true) | (None, false) => {}
            _ => return Err("the body needs exactly one of `arg` and `flattened`".into()),
        }
        for (prop, enc) in &self.encoding {
            if let Some(s) = enc.style
                && !matches!(
                    s,
                    Style::Form | Style::SpaceDelimited | Style::PipeDelimited | Style::DeepObject
                )
            {
                return Err(format!(
                    "encoding of `{prop}`: style {s:?} is not allowed in a body"
                ));
            }
        }
        Ok(())
    }

    /// The body for these arguments; None when it is optional and absent.
    pub(super) fn prepare(&self, args: &Value) -> Result<Option<PreparedBody>, CallError> {
        let value = if self.flattened.is_empty() {
            self.arg
                .as_ref()
                .and_then(|a| args.get(a))
                .filter(|v| !v.is_null())
                .cloned()
        } else {
            let props: Map<String, Value> = self
                .flattened
                .iter()
                .filter_map(|k| Some((k.clone(), args.get(k).filter(|v| !v.is_null())?.clone())))
                .collect();
            (!props.is_empty() || self.required).then_some(Value::Object(props))
        };
        let Some(value) = value else {
            return match self.required {
                true => Err(CallError::MissingBody(self.name().to_owned())),
                false => Ok(None),
            };
        };
        let bytes = |content_type: &str, data: Vec<u8>| {
            let content_type = HeaderValue::from_str(content_type)
                .map_err(|_| CallError::invalid(self.name(), "invalid content type"))?;
            Ok(Some(PreparedBody::Bytes { content_type, data }))
        };
        match self.kind() {
            Kind::Json => bytes(
                &self.media_type,
                serde_json::to_vec(&value).unwrap_or_default(),
            ),
            Kind::Form => bytes(
                &self.media_type,
                self.form(self.object(&value)?).into_bytes(),
            ),
            Kind::Multipart => Ok(Some(PreparedBody::Multipart(
                self.multipart(self.object(&value)?)?,
            ))),
            Kind::Binary => {
                let f = file(self.name(), &value)?;
                // A wildcard is no Content-Type; the file's own type is.
                let ct = match (self.media_type.contains('*'), f.content_type) {
                    (true, Some(ct)) => ct,
                    (true, None) => "application/octet-stream".to_owned(),
                    (false, _) => self.media_type.clone(),
                };
                bytes(&ct, f.data)
            }
            Kind::Text => {
                let ct = if self.media_type.contains(';') {
                    self.media_type.clone()
                } else {
                    format!("{}; charset=utf-8", self.media_type)
                };
                bytes(&ct, scalar(&value).into_bytes())
            }
            Kind::Other => match value {
                Value::String(s) => bytes(
                    &self.media_type.replace("*/*", "application/octet-stream"),
                    s.into_bytes(),
                ),
                _ => Err(CallError::invalid(
                    self.name(),
                    format!("a {} body must be given as a string", self.media_type),
                )),
            },
        }
    }

    fn object<'a>(&self, v: &'a Value) -> Result<&'a Map<String, Value>, CallError> {
        v.as_object().ok_or_else(|| {
            CallError::invalid(
                self.name(),
                format!("a {} body must be an object", self.media_type),
            )
        })
    }

    /// Per property: style-based when the encoding gives style/explode/
    /// allowReserved, else content-based (text, or JSON for objects).
    fn form(&self, map: &Map<String, Value>) -> String {
        let fe = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let mut pieces = vec![];
        for (name, v) in map.iter().filter(|(_, v)| !v.is_null()) {
            let enc = self.encoding.get(name);
            if let Some(e) = enc
                .filter(|e| e.style.is_some() || e.explode.is_some() || e.allow_reserved.is_some())
            {
                let style = e.style.unwrap_or(Style::Form);
                let explode = e.explode.unwrap_or(style == Style::Form);
                pieces.extend(serialize::query(
                    name,
                    v,
                    style,
                    explode,
                    e.allow_reserved.unwrap_or(false),
                ));
                continue;
            }
            let json = enc.and_then(|e| e.content_type.as_deref()).map(is_json);
            let items: Vec<&Value> = match v {
                Value::Array(items) if json != Some(true) => {
                    items.iter().filter(|i| !i.is_null()).collect()
                }
                other => vec![other],
            };
            for item in items {
                let text = if json == Some(true) || item.is_object() || item.is_array() {
                    item.to_string()
                } else {
                    scalar(item)
                };
                pieces.push(format!("{}={}", fe(name), fe(&text)));
            }
        }
        pieces.join("&")
    }

    fn multipart(&self, map: &Map<String, Value>) -> Result<Vec<Part>, CallError> {
        let mut parts = vec![];
        for (name, v) in map.iter().filter(|(_, v)| !v.is_null()) {
            let declared = self
                .encoding
                .get(name)
                .and_then(|e| e.content_type.as_deref())
                .and_then(|ct| ct.split(',').map(str::trim).find(|t| !t.contains('*')));
            let items: Vec<&Value> = match v {
                Value::Array(items) => items.iter().filter(|i| !i.is_null()).collect(),
                other => vec![other],
            };
            for item in items {
                parts.push(if self.binary_fields.contains(name) {
                    let f = file(name, item)?;
                    Part {
                        name: name.clone(),
                        data: f.data,
                        filename: Some(f.filename.unwrap_or_else(|| name.clone())),
                        content_type: Some(
                            f.content_type
                                .or(declared.map(str::to_owned))
                                .unwrap_or_else(|| "application/octet-stream".into()),
                        ),
                    }
                } else if declared.map_or(item.is_object() || item.is_array(), is_json) {
                    Part {
                        name: name.clone(),
                        data: item.to_string().into_bytes(),
                        filename: None,
                        content_type: Some(declared.unwrap_or("application/json").to_owned()),
                    }
                } else {
                    Part {
                        name: name.clone(),
                        data: scalar(item).into_bytes(),
                        filename: None,
                        content_type: declared.map(str::to_owned),
                    }
                });
            }
        }
        Ok(parts)
    }
}

/// A resource link given for a file: an object with a `uri` and no `data`.
pub(super) fn is_link(v: &Value) -> bool {
    v.get("uri").is_some_and(Value::is_string) && v.get("data").is_none()
}

fn pointer_token(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

pub(super) struct File {
    pub data: Vec<u8>,
    pub filename: Option<String>,
    pub content_type: Option<String>,
}

/// A file argument: base64 text, a `data:` URL, or
/// `{"data": base64, "filename": …, "contentType": …}`.
pub(super) fn file(arg: &str, v: &Value) -> Result<File, CallError> {
    let shape =
        "expected base64 text or an object {\"data\": base64, \"filename\": …, \"contentType\": …}";
    let text = |key: &str, m: &Map<String, Value>| -> Result<Option<String>, CallError> {
        match m.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.chars().any(char::is_control) => Err(CallError::invalid(
                arg,
                format!("`{key}` must not contain control characters"),
            )),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(CallError::invalid(arg, format!("`{key}` must be a string"))),
        }
    };
    let (data, filename, content_type) = match v {
        Value::String(s) => (s.as_str(), None, None),
        Value::Object(m) => match m.get("data") {
            Some(Value::String(d)) => (d.as_str(), text("filename", m)?, text("contentType", m)?),
            _ => return Err(CallError::invalid(arg, shape)),
        },
        _ => return Err(CallError::invalid(arg, shape)),
    };
    let (data, from_url) = match data
        .strip_prefix("data:")
        .and_then(|r| r.split_once(";base64,"))
    {
        Some((ct, d)) => (d, Some(ct.to_owned()).filter(|c| !c.is_empty())),
        None => (data, None),
    };
    Ok(File {
        data: decode_base64(data).ok_or_else(|| CallError::invalid(arg, "not valid base64"))?,
        filename,
        content_type: content_type.or(from_url),
    })
}

/// Standard or URL-safe alphabet, padded or not, line breaks allowed:
/// models and clients produce all of these.
pub(super) fn decode_base64(s: &str) -> Option<Vec<u8>> {
    let clean: String = s.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let config =
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    let alphabet = if clean.contains(['-', '_']) {
        &base64::alphabet::URL_SAFE
    } else {
        &base64::alphabet::STANDARD
    };
    GeneralPurpose::new(alphabet, config).decode(clean).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(v: Value) -> BodySpec {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn base64_in_every_common_spelling() {
        for s in ["aGk/Pz4+", "aGk_Pz4-", "aGk/Pz4+\n", "aGk=", "aGk"] {
            assert!(decode_base64(s).is_some(), "{s}");
        }
        assert_eq!(decode_base64("aGk").unwrap(), b"hi");
        assert!(decode_base64("not base64!").is_none());
    }

    #[test]
    fn file_arguments_take_three_shapes() {
        let f = file("f", &json!("aGk=")).unwrap();
        assert_eq!(
            (f.data, f.filename, f.content_type),
            (b"hi".to_vec(), None, None)
        );
        let f = file("f", &json!("data:image/png;base64,aGk=")).unwrap();
        assert_eq!(f.content_type.as_deref(), Some("image/png"));
        let f = file(
            "f",
            &json!({"data": "aGk=", "filename": "a.txt", "contentType": "text/plain"}),
        )
        .unwrap();
        assert_eq!(f.filename.as_deref(), Some("a.txt"));
        assert!(file("f", &json!({"data": "aGk=", "filename": "a\r\n.txt"})).is_err());
        assert!(file("f", &json!(5)).is_err());
    }

    #[test]
    fn form_bodies_follow_the_encoding_defaults() {
        let b = spec(
            json!({"arg": "b", "mediaType": "application/x-www-form-urlencoded",
            "encoding": {"deep": {"style": "deepObject", "explode": true}, "j": {"contentType": "application/json"}}}),
        );
        let map = json!({"id": "a b+c", "tags": ["x", "y"], "addr": {"zip": "1+2"}, "deep": {"k": "v"}, "j": "s", "n": null});
        assert_eq!(
            b.form(map.as_object().unwrap()),
            "id=a+b%2Bc&tags=x&tags=y&addr=%7B%22zip%22%3A%221%2B2%22%7D&deep%5Bk%5D=v&j=%22s%22"
        );
    }

    #[test]
    fn body_descriptors_are_checked() {
        assert!(
            spec(json!({"arg": "b", "mediaType": "application/json"}))
                .check()
                .is_ok()
        );
        assert!(
            spec(json!({"mediaType": "application/json"}))
                .check()
                .is_err()
        );
        assert!(
            spec(json!({"arg": "b", "flattened": ["x"], "mediaType": "application/json"}))
                .check()
                .is_err()
        );
        assert!(
            spec(json!({"arg": "b", "mediaType": "json"}))
                .check()
                .is_err()
        );
    }
}
