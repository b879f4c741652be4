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

use super::{MAX_DEPTH, Params, ParamsVisitor, Parts, RequestId};
use serde::{Deserialize, Deserializer};

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

    /// An object, read by [`ParamsVisitor`]. Read on their own, the params
    /// could nest one level deeper than serde_json allows in the whole
    /// message: ones with that many brackets are left to the serde paths.
    fn params(&mut self) -> Option<Params> {
        self.skip_whitespace();
        let rest = self.text.get(self.at..)?;
        let mut stream = serde_json::Deserializer::from_slice(rest).into_iter::<ParamsIn>();
        let ParamsIn(params) = stream.next()?.ok()?;
        let read = &rest[..stream.byte_offset()];
        let may_nest_deep = read.len() >= 2 * MAX_DEPTH
            && read.iter().filter(|b| matches!(b, b'{' | b'[')).count() >= MAX_DEPTH;
        if may_nest_deep {
            return None;
        }
        self.at += read.len();
        Some(params)
    }
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
