//! Flow collections indented as libyaml and js-yaml accept them.
//!
//! YAML asks the lines of a flow collection (`{ … }`, `[ … ]`) to be
//! indented deeper than the block that holds it, and `saphyr-parser`
//! enforces that; libyaml (PyYAML) and js-yaml do not, and real documents
//! rely on it (Docker Engine's swagger.yaml closes `{` at its parent's
//! indentation). When a parse fails on indentation, [`reindent`] pads the
//! lines inside flow collections so the strict parser reads what the others
//! read, and records the padding so positions still point into the original.

/// The padded text and, per 0-based line, how many spaces were added.
pub(crate) struct Reindented {
    pub text: String,
    pub added: Vec<usize>,
}

/// What the scanner is inside of at the end of a line.
#[derive(Default)]
struct State {
    /// Nesting of flow collections.
    depth: usize,
    /// Least column the lines of the open flow collection need.
    min_col: usize,
    /// An open quoted scalar.
    quote: Option<char>,
    /// Inside a block scalar introduced on a line of this indentation.
    block_scalar: Option<usize>,
}

/// `text` with the lines inside flow collections indented enough; None when
/// no line needs it.
pub(crate) fn reindent(text: &str) -> Option<Reindented> {
    let mut state = State::default();
    let mut out = String::with_capacity(text.len() + 64);
    let mut added = Vec::new();
    for line in text.split_inclusive('\n') {
        let indent = line.len() - line.trim_start_matches(' ').len();
        let blank = line.trim().is_empty();
        let mut pad = 0;
        if let Some(block) = state.block_scalar {
            if blank || indent > block {
                out.push_str(line);
                added.push(0);
                continue;
            }
            state.block_scalar = None;
        }
        if state.depth > 0 && !blank && indent < state.min_col {
            pad = state.min_col - indent;
            out.extend(std::iter::repeat_n(' ', pad));
        }
        out.push_str(line);
        added.push(pad);
        scan_line(line, indent, &mut state);
    }
    added
        .iter()
        .any(|&n| n > 0)
        .then_some(Reindented { text: out, added })
}

/// Follow quotes, comments and flow brackets through one line.
fn scan_line(line: &str, indent: usize, state: &mut State) {
    let chars: Vec<char> = line.trim_end_matches(['\n', '\r']).chars().collect();
    // Where a block-context value starts: after the indentation and any
    // `- ` sequence markers.
    let mut content = indent;
    while chars.get(content) == Some(&'-') && chars.get(content + 1) == Some(&' ') {
        content += 2;
        while chars.get(content) == Some(&' ') {
            content += 1;
        }
    }
    let mut i = 0;
    let mut last_significant = None;
    while i < chars.len() {
        let c = chars[i];
        let prev = i.checked_sub(1).map(|p| chars[p]);
        match state.quote {
            Some('\'') => {
                if c == '\'' {
                    if chars.get(i + 1) == Some(&'\'') {
                        i += 1;
                    } else {
                        state.quote = None;
                    }
                }
            }
            Some(_) => {
                if c == '\\' {
                    i += 1;
                } else if c == '"' {
                    state.quote = None;
                }
            }
            None => {
                let at_token = prev.is_none_or(|p| p == ' ' || p == '\t' || "[{,".contains(p));
                let value_start = state.depth > 0
                    || i <= content
                    || (at_token && matches!(last_significant, Some(':' | '-' | '?')));
                match c {
                    '#' if prev.is_none_or(|p| p == ' ' || p == '\t') => break,
                    '\'' | '"' if at_token && value_start => state.quote = Some(c),
                    '[' | '{' if value_start => {
                        if state.depth == 0 {
                            state.min_col = content + 1;
                        }
                        state.depth += 1;
                    }
                    ']' | '}' if state.depth > 0 => state.depth -= 1,
                    _ => {}
                }
                if c != ' ' && c != '\t' {
                    last_significant = Some(c);
                }
            }
        }
        i += 1;
    }
    if state.depth == 0 && state.quote.is_none() && opens_block_scalar(&chars) {
        state.block_scalar = Some(indent);
    }
}

/// A line ending in a block scalar indicator (`|`, `>-`, `|2+` …, then
/// perhaps a comment).
fn opens_block_scalar(chars: &[char]) -> bool {
    let line: String = chars.iter().collect();
    let code = match line.find(" #") {
        Some(at) => &line[..at],
        None => &line,
    };
    let Some(last_word) = code.split_whitespace().last() else {
        return false;
    };
    let mut rest = last_word.chars();
    matches!(rest.next(), Some('|' | '>'))
        && rest.all(|c| c == '-' || c == '+' || c.is_ascii_digit())
        && code.trim_end().len() > last_word.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_only_lines_inside_flow_collections() {
        let text = "a:\n  b: {\n    x: 1\n}\nc: [\n1]\n";
        let r = reindent(text).unwrap();
        assert_eq!(r.text, "a:\n  b: {\n    x: 1\n   }\nc: [\n 1]\n");
        assert_eq!(r.added, vec![0, 0, 0, 3, 0, 1]);
    }

    #[test]
    fn quotes_comments_and_block_scalars_hide_brackets() {
        let text = "a: 'it''s {'\nb: \"\\\" [\" # {\nc: |\n  {\nd: x{y\n";
        assert!(reindent(text).is_none());
        let nested = "- k: {\n  a: [1,\n 2], s: '}'\n}\n";
        let r = reindent(nested).unwrap();
        assert_eq!(r.added, vec![0, 1, 2, 3]);
    }
}
