//! `{{ env.NAME }}` templates in the upstream descriptor's configuration
//! strings (`baseUrl`, `headers`, `tls` paths): the generator checks their
//! syntax, the runtime substitutes them at start-up. One implementation,
//! so the two cannot disagree on what a template is.
//!
//! - `{{ env.NAME }}` (spaces or tabs inside the braces optional) is the
//!   value of the environment variable `NAME` (`[A-Za-z_][A-Za-z0-9_]*`);
//! - `\{{` is a literal `{{`;
//! - any other `{{` is an error. A lone `}}` or `{` is text.

use std::fmt;

/// One piece of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece<'a> {
    /// Literal text (escapes already undone).
    Text(&'a str),
    /// `{{ env.NAME }}`: the variable's name.
    Env(&'a str),
}

/// A malformed template: what is wrong and where (a byte offset into the
/// string, at the `{{` that starts the bad part).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    /// Byte offset of the offending `{{`.
    pub offset: usize,
    /// What is wrong, without the position.
    pub message: String,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TemplateError {}

/// Why a template could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RenderError {
    /// The template is malformed.
    Syntax(TemplateError),
    /// The environment variable is unset or empty.
    Missing(String),
}

/// Split `text` into literal pieces and `{{ env.NAME }}` references.
pub fn parse(text: &str) -> Result<Vec<Piece<'_>>, TemplateError> {
    let mut pieces = vec![];
    let mut rest = text;
    let mut offset = 0;
    while let Some(at) = rest.find("{{") {
        if at > 0 && rest.as_bytes()[at - 1] == b'\\' {
            // `\{{`: the text before the backslash, then a literal `{{`.
            push_text(&mut pieces, &rest[..at - 1]);
            pieces.push(Piece::Text("{{"));
            rest = &rest[at + 2..];
            offset += at + 2;
            continue;
        }
        push_text(&mut pieces, &rest[..at]);
        let inner_start = at + 2;
        let Some(close) = rest[inner_start..].find("}}") else {
            return Err(TemplateError {
                offset: offset + at,
                message: "`{{` is not closed by `}}` (write `\\{{` for a literal `{{`)".into(),
            });
        };
        let inner = &rest[inner_start..inner_start + close];
        let name = inner
            .trim_matches([' ', '\t'])
            .strip_prefix("env.")
            .filter(|n| is_name(n))
            .ok_or_else(|| TemplateError {
                offset: offset + at,
                message: format!(
                    "malformed template `{{{{{inner}}}}}`: expected `{{{{ env.NAME }}}}` with NAME of letters, digits and `_` (write `\\{{{{` for a literal `{{{{`)"
                ),
            })?;
        pieces.push(Piece::Env(name));
        let end = inner_start + close + 2;
        rest = &rest[end..];
        offset += end;
    }
    push_text(&mut pieces, rest);
    Ok(pieces)
}

fn push_text<'a>(pieces: &mut Vec<Piece<'a>>, text: &'a str) {
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
}

fn is_name(n: &str) -> bool {
    let mut chars = n.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Whether `text` has anything to substitute or unescape.
pub fn is_template(text: &str) -> bool {
    text.contains("{{")
}

/// The variables `text` names, in order, each once.
pub fn variables(text: &str) -> Result<Vec<&str>, TemplateError> {
    let mut names: Vec<&str> = vec![];
    for piece in parse(text)? {
        if let Piece::Env(n) = piece
            && !names.contains(&n)
        {
            names.push(n);
        }
    }
    Ok(names)
}

/// Substitute every `{{ env.NAME }}` with `lookup(NAME)`; `None` (or an
/// empty value) is [`RenderError::Missing`].
pub fn render(
    text: &str,
    mut lookup: impl FnMut(&str) -> Option<String>,
) -> Result<String, RenderError> {
    let mut out = String::with_capacity(text.len());
    for piece in parse(text).map_err(RenderError::Syntax)? {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Env(name) => match lookup(name).filter(|v| !v.is_empty()) {
                Some(v) => out.push_str(&v),
                None => return Err(RenderError::Missing(name.to_owned())),
            },
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "HOST" => Some("api.example.com".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn both_whitespace_forms_substitute() {
        for t in [
            "https://{{env.HOST}}/v1",
            "https://{{ env.HOST }}/v1",
            "https://{{\tenv.HOST  }}/v1",
        ] {
            assert_eq!(render(t, env).unwrap(), "https://api.example.com/v1", "{t}");
        }
    }

    #[test]
    fn plain_text_and_lone_braces_are_kept() {
        assert_eq!(render("a } b }} c {d}", env).unwrap(), "a } b }} c {d}");
        assert!(!is_template("{d}"));
    }

    #[test]
    fn escaped_braces_are_literal() {
        assert_eq!(
            render(r"x \{{ env.HOST }} y", env).unwrap(),
            "x {{ env.HOST }} y"
        );
        assert_eq!(variables(r"\{{ env.A }} {{ env.B }}").unwrap(), ["B"]);
    }

    #[test]
    fn missing_and_empty_variables_are_errors_naming_them() {
        assert_eq!(
            render("{{ env.NOPE }}", env),
            Err(RenderError::Missing("NOPE".into()))
        );
        assert_eq!(
            render("{{ env.EMPTY }}", env),
            Err(RenderError::Missing("EMPTY".into()))
        );
    }

    #[test]
    fn malformed_templates_say_where() {
        for (t, offset) in [
            ("ab{{ env.HOST", 2),
            ("{{ HOST }}", 0),
            ("x{{ env.1A }}", 1),
            ("{{ env. }}", 0),
            ("{{ env.A-B }}", 0),
            ("{{ env.A }} {{ other.B }}", 12),
        ] {
            let e = parse(t).unwrap_err();
            assert_eq!(e.offset, offset, "{t}: {e}");
            assert!(e.message.contains("{{"), "{e}");
        }
    }

    #[test]
    fn variables_are_listed_once_in_order() {
        assert_eq!(
            variables("{{ env.B }}{{env.A}}{{ env.B }}").unwrap(),
            ["B", "A"]
        );
    }
}
