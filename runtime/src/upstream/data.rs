//! Upstream tools from a generated crate's data files: `tools.jsonl` (per
//! tool a descriptor line and an operation line) and `tools.index` (per
//! tool its name and the byte lengths of those two lines). With the index,
//! start-up finds every tool's text without reading it: Microsoft Graph's
//! 22,361 tools are 37 MB of JSON, and splitting it into lines alone took
//! a third of the server's start-up.

use crate::builder::ServerBuilder;
use crate::error::BuildError;

/// One tool of the index: its name and its two texts, cut from the data.
type Entry = (&'static str, &'static str, &'static str);

fn invalid(line: usize, message: impl std::fmt::Display) -> BuildError {
    BuildError::Invalid {
        what: "upstream tools index".to_owned(),
        message: format!("line {line}: {message}"),
    }
}

/// Cut every tool's texts out of `data` as `index` says. Each text must
/// end where a line of `data` ends, so an index that does not match its
/// data is refused here rather than misread.
fn entries(index: &'static str, data: &'static str) -> Result<Vec<Entry>, BuildError> {
    let mut at = data.find('\n').map_or(data.len(), |i| i + 1);
    let mut out = Vec::new();
    for (n, line) in index.lines().enumerate().skip(1) {
        let mut fields = line.split(' ');
        let (Some(name), Some(d), Some(o), None) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return Err(invalid(
                n + 1,
                "expected `NAME DESCRIPTOR_BYTES OPERATION_BYTES`",
            ));
        };
        let mut text = |len: &str| -> Result<&'static str, BuildError> {
            let len: usize = len
                .parse()
                .map_err(|_| invalid(n + 1, format!("{len:?} is not a byte count")))?;
            let end = at
                .checked_add(len)
                .filter(|&e| data.as_bytes().get(e) == Some(&b'\n'));
            let text = end
                .and_then(|e| data.get(at..e))
                .ok_or_else(|| invalid(n + 1, "does not match the data file's lines"))?;
            at += len + 1;
            Ok(text)
        };
        out.push((name, text(d)?, text(o)?));
    }
    if at != data.len() {
        return Err(invalid(
            index.lines().count(),
            "the data file has lines past the index",
        ));
    }
    Ok(out)
}

impl ServerBuilder {
    /// Upstream tools from a generated crate's data files: `index` gives,
    /// after a header line, per tool `NAME DESCRIPTOR_BYTES
    /// OPERATION_BYTES`; `data`, after a header line, per tool its MCP
    /// descriptor line and its operation descriptor line. Each tool is
    /// registered as by [`ServerBuilder::upstream_tool_static`]; a data file
    /// that does not match its index is a build error.
    pub fn upstream_tools_data(mut self, index: &'static str, data: &'static str) -> Self {
        match entries(index, data) {
            Ok(tools) => {
                self.reserve_tools(tools.len());
                for (name, descriptor, operation) in tools {
                    self = self.upstream_tool_static(name, descriptor, operation);
                }
                self
            }
            Err(e) => self.with_error(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATA: &str =
        "# @generated\n{\"name\":\"a\"}\n{\"method\":\"GET\"}\n{\"name\":\"bé\"}\n{}\n";

    #[test]
    fn the_index_cuts_each_tools_texts_out_of_the_data() {
        let tools = entries("# @generated\na 12 16\nb 14 2\n", DATA).unwrap();
        assert_eq!(
            tools,
            [
                ("a", r#"{"name":"a"}"#, r#"{"method":"GET"}"#),
                ("b", r#"{"name":"bé"}"#, "{}"),
            ]
        );
        assert_eq!(entries("# h\n", "# h\n").unwrap(), []);
    }

    #[test]
    fn an_index_that_does_not_match_its_data_is_refused_with_its_line() {
        for (index, want) in [
            ("# h\na 11 16\nb 14 2\n", "line 2: does not match"),
            ("# h\na 12 16\nb 15 2\n", "line 3: does not match"),
            // Inside the two-byte é.
            ("# h\na 12 16\nb 12 2\n", "line 3: does not match"),
            ("# h\na 12 16\nb 14 2000\n", "line 3: does not match"),
            ("# h\na 12 16\n", "lines past the index"),
            ("# h\na 12\n", "line 2: expected"),
            ("# h\na 12 16 1\n", "line 2: expected"),
            ("# h\na x 16\n", "line 2: \"x\" is not a byte count"),
            ("# h\na 18446744073709551615 16\n", "line 2: does not match"),
        ] {
            let e = entries(index, DATA).unwrap_err().to_string();
            assert!(
                e.contains("upstream tools index") && e.contains(want),
                "{index}: {e}"
            );
        }
    }
}
