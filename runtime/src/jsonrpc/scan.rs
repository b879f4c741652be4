//! The usual request envelope read by hand: `{"jsonrpc":"2.0","id":…,
//! "method":"…","params":{…}}`, members in any order, each once. Only the
//! params go through serde (as [`ParamsVisitor`] reads them); the envelope
//! costs a pass over its few bytes instead of serde's field matching and
//! the `Value`s and `String`s of its members.
//!
//! Anything else (an escape in a name or a string, an id that is not a
//! plain integer or string, another member, no `"2.0"`, no method, a
//! params that is not an object) gives None and the serde paths read the
//! message, so they alone decide what is an error and how it is worded.

use super::{MAX_DEPTH, MetaIn, Params, ParamsVisitor, Parts, RequestId, known_meta};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

/// Params read on their own.
struct ParamsIn(Params);

impl<'de> Deserialize<'de> for ParamsIn {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ParamsIn, D::Error> {
        d.deserialize_map(ParamsVisitor).map(ParamsIn)
    }
}

/// A request or notification in the usual form, as [`Parts`].
pub(super) fn envelope(text: &[u8]) -> Option<Parts> {
    let mut s = Scan { text, at: 0 };
    let (mut version, mut id, mut method, mut params) = (None, None, None, None);
    s.byte(b'{')?;
    loop {
        let name = s.string()?;
        s.byte(b':')?;
        match name {
            b"jsonrpc" if version.is_none() => version = Some(s.string()? == b"2.0"),
            b"id" if id.is_none() => id = Some(s.id()?),
            b"method" if method.is_none() => method = Some(s.text()?.to_owned()),
            b"params" if params.is_none() => params = Some(s.params()?),
            _ => return None,
        }
        match s.next()? {
            b',' => continue,
            b'}' => break,
            _ => return None,
        }
    }
    s.skip_whitespace();
    if s.at != text.len() || version != Some(true) {
        return None;
    }
    Some(Parts {
        jsonrpc: version,
        id: id.map(Ok),
        method: Some(Ok(method?)),
        params,
        result: None,
        error: None,
    })
}

struct Scan<'a> {
    text: &'a [u8],
    at: usize,
}

impl<'a> Scan<'a> {
    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.text.get(self.at) {
            self.at += 1;
        }
    }

    /// The next byte that is not whitespace, taken.
    fn next(&mut self) -> Option<u8> {
        self.skip_whitespace();
        let b = *self.text.get(self.at)?;
        self.at += 1;
        Some(b)
    }

    fn byte(&mut self, want: u8) -> Option<()> {
        (self.next()? == want).then_some(())
    }

    /// A string without escapes or control characters: its bytes.
    fn string(&mut self) -> Option<&'a [u8]> {
        self.byte(b'"')?;
        let rest = self.text.get(self.at..)?;
        let len = rest
            .iter()
            .position(|b| *b == b'"' || *b == b'\\' || *b < 0x20)?;
        if rest[len] != b'"' {
            return None;
        }
        self.at += len + 1;
        Some(&rest[..len])
    }

    /// A [`Scan::string`] that is UTF-8.
    fn text(&mut self) -> Option<&'a str> {
        std::str::from_utf8(self.string()?).ok()
    }

    /// A string, or an integer as JSON writes one (no fraction, exponent
    /// or leading zero) within i64.
    fn id(&mut self) -> Option<RequestId> {
        self.skip_whitespace();
        if self.text.get(self.at) == Some(&b'"') {
            return Some(RequestId::String(self.text()?.to_owned()));
        }
        let rest = self.text.get(self.at..)?;
        let sign = usize::from(rest.first() == Some(&b'-'));
        let digits = rest[sign..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        let end = sign + digits;
        let leading_zero = digits > 1 && rest[sign] == b'0';
        let ends = matches!(
            rest.get(end),
            Some(b' ' | b'\t' | b'\n' | b'\r' | b',' | b'}')
        );
        if digits == 0 || leading_zero || !ends {
            return None;
        }
        self.at += end;
        std::str::from_utf8(&rest[..end])
            .ok()?
            .parse()
            .ok()
            .map(RequestId::Number)
    }

    /// One JSON value read by serde.
    fn value<T: Deserialize<'a>>(&mut self) -> Option<T> {
        let rest = self.text.get(self.at..)?;
        let mut stream = serde_json::Deserializer::from_slice(rest).into_iter::<T>();
        let value = stream.next()?.ok()?;
        self.at += stream.byte_offset();
        Some(value)
    }

    /// A `_meta`, as [`ParamsVisitor`] reads it; one byte-identical to
    /// the last this thread read is not read again (nor scanned to its end).
    fn meta(&mut self) -> Option<Result<std::sync::Arc<super::ModernMeta>, Value>> {
        self.skip_whitespace();
        if let Some((len, m)) = known_meta(self.text.get(self.at..)?) {
            self.at += len;
            return Some(Ok(m));
        }
        self.value::<MetaIn>().map(|m| m.0)
    }

    /// An object, read by [`ParamsVisitor`]. Read on their own, the params
    /// could nest one level deeper than serde_json allows in the whole
    /// message: ones with that many brackets are left to the serde paths.
    fn params(&mut self) -> Option<Params> {
        self.skip_whitespace();
        let rest = self.text.get(self.at..)?;
        let (params, len) = match members(rest) {
            Some(read) => read,
            None => {
                let mut stream = serde_json::Deserializer::from_slice(rest).into_iter::<ParamsIn>();
                let ParamsIn(params) = stream.next()?.ok()?;
                (params, stream.byte_offset())
            }
        };
        let read = &rest[..len];
        let may_nest_deep = read.len() >= 2 * MAX_DEPTH
            && read.iter().filter(|b| matches!(b, b'{' | b'[')).count() >= MAX_DEPTH;
        if may_nest_deep {
            return None;
        }
        self.at += read.len();
        Some(params)
    }
}

/// The params object at the start of `text` read as [`ParamsVisitor`]
/// reads it, and its length: the member names by hand, each value by
/// serde, so that a known `_meta` is compared, not read. None (serde reads
/// it) for a name with an escape or anything else unusual.
fn members(text: &[u8]) -> Option<(Params, usize)> {
    let mut s = Scan { text, at: 0 };
    let (mut value, mut meta, mut seen_meta) = (Map::new(), None, false);
    s.byte(b'{')?;
    s.skip_whitespace();
    if s.text.get(s.at) == Some(&b'}') {
        s.at += 1;
    } else {
        loop {
            let name = s.string()?;
            s.byte(b':')?;
            // `_meta` told by its bytes, and a second one by a flag: no
            // UTF-8 check of the name, no hashed look-up in the map.
            if name != b"_meta" {
                let name = std::str::from_utf8(name).ok()?;
                value.insert(name.to_owned(), s.value::<Value>()?);
            } else if seen_meta {
                return None;
            } else {
                seen_meta = true;
                match s.meta()? {
                    Ok(m) => meta = Some(m),
                    Err(v) => {
                        value.insert("_meta".to_owned(), v);
                    }
                }
            }
            match s.next()? {
                b',' => continue,
                b'}' => break,
                _ => return None,
            }
        }
    }
    let value = Value::Object(value);
    Some((Params { value, meta }, s.at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jsonrpc::Message;

    /// What the serde path makes of `text`.
    fn by_serde(text: &str) -> Message {
        Message::from_parts(serde_json::from_str::<Parts>(text).unwrap()).unwrap()
    }

    #[test]
    fn the_usual_envelope_reads_as_serde_reads_it() {
        for text in [
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t","arguments":{}}}"#,
            r#" { "params" : { "a" : [1, {"b": "é"}] } , "method" : "m" , "id" : "x" , "jsonrpc" : "2.0" } "#,
            "{\"jsonrpc\":\"2.0\",\n\"id\":-9223372036854775808,\t\"method\":\"m\"}\r\n",
            r#"{"jsonrpc":"2.0","id":0,"method":"m","params":{}}"#,
            r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
            r#"{"jsonrpc":"2.0","method":"n","params":{"_meta":{"k":1},"x":"a\"b"}}"#,
            r#"{"jsonrpc":"2.0","id":7,"method":"m","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}"#,
        ] {
            let parts = envelope(text.as_bytes()).unwrap_or_else(|| panic!("{text}"));
            assert_eq!(
                Message::from_parts(parts).unwrap(),
                by_serde(text),
                "{text}"
            );
        }
    }

    #[test]
    fn a_known_meta_reads_as_the_value_tree_says() {
        let v = "io.modelcontextprotocol/protocolVersion";
        let c = "io.modelcontextprotocol/clientCapabilities";
        let i = "io.modelcontextprotocol/clientInfo";
        let meta =
            format!(r#"{{"{v}":"2026-07-28","{c}":{{}},"{i}":{{"name":"n","version":"1"}}}}"#);
        let other = format!(r#"{{"{v}":"2026-07-28","{c}":{{"x":1}},"k":[1]}}"#);
        let message = |params: String| {
            format!(r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{params}}}"#)
        };
        let texts = [
            message(format!(
                r#"{{"_meta":{meta},"arguments":{{"a":[1,"x"]}},"name":"t"}}"#
            )),
            message(format!(r#"{{"name":"t","arguments":{{}},"_meta":{meta}}}"#)),
            message(format!(r#"{{ "_meta" : {meta} , "x" : null }}"#)),
            message(format!(r#"{{"_meta":{other}}}"#)),
            message(format!(r#"{{"_meta":{meta}x}}"#)),
            message(format!(r#"{{"_meta":{meta},}}"#)),
            message(format!(r#"{{"_meta":{meta},"_meta":{meta}}}"#)),
            message(format!(
                r#"{{"_meta":{{"progressToken":1}},"_meta":{meta}}}"#
            )),
            message(format!(r#"{{"a":1,"a":2,"_meta":{meta},"b":"\u00e9"}}"#)),
            message(format!(r#"{{"_m\u0065ta":{meta}}}"#)),
            message("{}".to_owned()),
            // The serde paths (an escape in the method), with a known `_meta`.
            format!(
                r#"{{"jsonrpc":"2.0","id":1,"method":"tools\/call","params":{{"_meta":{meta}}}}}"#
            ),
        ];
        // Twice: the second round reads every `_meta` with the thread's
        // memory of another.
        for text in texts.iter().chain(texts.iter()) {
            let tree = serde_json::from_str::<serde_json::Value>(text).map(Message::from_value);
            let direct = Message::from_slice(text.as_bytes());
            match (tree, direct) {
                (Ok(a), b) => assert_eq!(a, b, "{text}"),
                (Err(_), Err(e)) => assert_eq!(e.outcome.unwrap_err().code, -32700, "{text}"),
                (Err(e), Ok(b)) => panic!("{text}: {e} / {b:?}"),
            }
        }
        let Ok(Message::Request(r)) = Message::from_slice(texts[0].as_bytes()) else {
            panic!("not a request");
        };
        let kept = r.modern_meta.and_then(|m| m.value());
        assert_eq!(kept, serde_json::from_str(&meta).ok());
    }

    #[test]
    fn anything_else_is_left_to_the_serde_paths() {
        let deep = format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"m","params":{}1{}}}"#,
            r#"{"a":["#.repeat(64),
            "]}".repeat(64)
        );
        for text in [
            r#"{"jsonrpc":"2.0","id":1.0,"method":"m"}"#,
            r#"{"jsonrpc":"2.0","id":1e3,"method":"m"}"#,
            r#"{"jsonrpc":"2.0","id":01,"method":"m"}"#,
            r#"{"jsonrpc":"2.0","id":-,"method":"m"}"#,
            r#"{"jsonrpc":"2.0","id":9223372036854775808,"method":"m"}"#,
            r#"{"jsonrpc":"2.0","id":null,"method":"m"}"#,
            r#"{"jsonrpc":"2.0","id":"a\"b","method":"m"}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"m\u0041"}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":7}"#,
            r#"{"jsonrpc":"1.0","id":1,"method":"m"}"#,
            r#"{"id":1,"method":"m"}"#,
            r#"{"jsonrpc":"2.0","id":1}"#,
            r#"{"jsonrpc":"2.0","id":1,"result":{}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"m","params":[1]}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"m","params":null}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"m","params":{"a":}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"m","id":2}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"m",}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"m"} x"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"m""#,
            "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\tb\"}",
            "{}",
            "[]",
            &deep,
        ] {
            assert!(envelope(text.as_bytes()).is_none(), "{text}");
        }
        assert!(envelope(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xff\"}").is_none());
    }
}
