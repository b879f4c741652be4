//! Descriptions as a model reads them. An OpenAPI description is written
//! for a documentation site: HTML, a summary repeated as the first line of
//! the description, pages of example JSON. A model pays for every token of
//! it in each `tools/list`, so [`clean`] keeps the text faithful and drops
//! only what carries no meaning for it:
//!
//! * HTML tags become text: links `[text](url)` (or the URL), list items
//!   lines starting with `- `, `<code>` backticks, `<pre>` a fenced block,
//!   paragraphs and `<br>` line breaks; entities are decoded. Only known
//!   HTML elements are touched: `<Pay>` (a TwiML verb), `<quantity>` (a
//!   grammar) or anything inside backticks or a fenced block stays as is.
//! * Example blobs go: a fenced block, or a JSON value after an
//!   `Example:`-style heading, longer than [`EXAMPLE_LIMIT`] bytes that is
//!   JSON, XML or YAML or that a heading calls an example. A block that a
//!   sentence leads into (`… returns:`) stays, so no sentence is left
//!   pointing at nothing.
//! * Whitespace: runs of spaces inside a line become one, trailing spaces
//!   and runs of blank lines go; indentation and fenced blocks are kept.
//!
//! [`compose`] joins summary and description without saying the summary
//! twice. Nothing else is rewritten: sentences, URLs, enum explanations and
//! deprecation notes are kept word for word (the tests below use real
//! snippets of the Kubernetes, Twilio and Figma descriptions).

/// Example blocks longer than this many bytes (of their content) are left
/// out; shorter ones usually show a format and stay.
pub const EXAMPLE_LIMIT: usize = 300;

/// The tool description of an operation: `Deprecated.`, the summary and
/// the description, each once; `fallback` (`METHOD /path`) when there is
/// neither. With `raw`, the texts are joined as they are (a description
/// identical to the summary is said once), as before the clean-up.
pub fn compose(
    deprecated: bool,
    summary: Option<&str>,
    description: Option<&str>,
    fallback: &str,
    raw: bool,
) -> String {
    let tidy = |t: &str| match raw {
        true => t.trim().to_string(),
        false => clean(t),
    };
    let summary = summary.map(tidy).filter(|t| !t.is_empty());
    let description = description.map(tidy).filter(|t| !t.is_empty());
    let mut parts: Vec<String> = Vec::new();
    let says_deprecated = |t: &Option<String>| {
        t.as_deref()
            .is_some_and(|t| t.to_ascii_lowercase().starts_with("deprecated"))
    };
    if deprecated && (raw || !(says_deprecated(&summary) || says_deprecated(&description))) {
        parts.push("Deprecated.".into());
    }
    let repeated = match (&summary, &description) {
        (Some(s), Some(d)) if raw => s == d,
        (Some(s), Some(d)) => starts_with_sentence(d, s),
        _ => false,
    };
    if let Some(s) = summary
        && !repeated
    {
        parts.push(s);
    }
    if let Some(d) = description {
        parts.push(d);
    }
    if parts.is_empty() || parts == ["Deprecated."] {
        parts.push(fallback.to_string());
    }
    parts.join("\n\n")
}

/// Whether `text` begins with `summary` (case, spaces and final
/// punctuation aside) followed by the end of a word: "Get a webhook" in
/// "Get a webhook by ID.", not "Get a" in "Get all …".
fn starts_with_sentence(text: &str, summary: &str) -> bool {
    let norm = |t: &str| -> String {
        t.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    };
    let s = norm(summary);
    let s = s.trim_end_matches(['.', ':', ';', '!']);
    if s.is_empty() {
        return false;
    }
    let t = norm(text);
    t.strip_prefix(s)
        .is_some_and(|rest| !rest.starts_with(|c: char| c.is_alphanumeric() || c == '_'))
}

/// A description without HTML, large example blobs and extra whitespace
/// (see the module documentation).
pub fn clean(text: &str) -> String {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    // HTML outside fenced blocks first: `<pre>` may make new fences.
    let mut html = String::new();
    let mut was_html = false;
    for b in blocks(&text) {
        match b {
            Block::Text(t) => {
                let (t, converted) = from_html(&t);
                was_html |= converted;
                html.push_str(&t);
            }
            Block::Fence { raw, .. } => html.push_str(&raw),
        }
    }
    let mut kept: Vec<Block> = Vec::new();
    for b in blocks(&html) {
        match b {
            Block::Fence {
                ref info, ref body, ..
            } if is_example_fence(info, body) => {
                let lead = kept.last_mut().and_then(|k| match k {
                    Block::Text(t) => Some(t),
                    Block::Fence { .. } => None,
                });
                // Dropped, with its heading; kept when a sentence leads in.
                match lead.map(|t| (lead_in(t), t)) {
                    Some((LeadIn::Heading(start), t)) => t.truncate(start),
                    Some((LeadIn::Sentence, _)) => kept.push(b),
                    Some((LeadIn::None, _)) | None => {}
                }
            }
            Block::Text(t) => kept.push(Block::Text(drop_json_examples(&t))),
            fence => kept.push(fence),
        }
    }
    let mut out = String::new();
    for b in kept {
        match b {
            // HTML's indentation means nothing.
            Block::Text(t) if was_html => {
                let t: Vec<&str> = t.split('\n').map(str::trim_start).collect();
                out.push_str(&tidy_whitespace(&t.join("\n")));
            }
            Block::Text(t) => out.push_str(&tidy_whitespace(&t)),
            Block::Fence { raw, .. } => {
                if !out.is_empty() && !out.ends_with('\n') {
                    out.push('\n');
                }
                out.push_str(&raw);
                out.push('\n');
            }
        }
    }
    squeeze_blank_lines(&out).trim_start().to_string()
}

/// A run of lines: text, or a fenced code block (kept byte for byte).
#[derive(Debug)]
enum Block {
    Text(String),
    Fence {
        /// The whole block, fences included, without the final newline.
        raw: String,
        /// The info string, lower case (`json`).
        info: String,
        /// The lines between the fences.
        body: String,
    },
}

/// Splits `text` into text and fenced blocks (``` or ~~~, three or more;
/// an unclosed fence runs to the end).
fn blocks(text: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut lines = text.split_inclusive('\n').peekable();
    while let Some(line) = lines.next() {
        let trimmed = line.trim_start();
        let fence_char = trimmed.chars().next().filter(|c| *c == '`' || *c == '~');
        let run = fence_char.map_or(0, |c| trimmed.chars().take_while(|x| *x == c).count());
        let (Some(c), true) = (fence_char, run >= 3) else {
            current.push_str(line);
            continue;
        };
        let info = trimmed[run..].trim();
        // A backtick fence's info string has no backtick (CommonMark).
        if c == '`' && info.contains('`') {
            current.push_str(line);
            continue;
        }
        if !current.is_empty() {
            out.push(Block::Text(std::mem::take(&mut current)));
        }
        let mut raw = line.to_string();
        let mut body = String::new();
        for next in lines.by_ref() {
            raw.push_str(next);
            let t = next.trim();
            if t.len() >= run && t.chars().all(|x| x == c) {
                break;
            }
            body.push_str(next);
        }
        out.push(Block::Fence {
            raw: raw.trim_end_matches('\n').to_string(),
            info: info.to_ascii_lowercase(),
            body,
        });
    }
    if !current.is_empty() {
        out.push(Block::Text(current));
    }
    out
}

/// A data example: long, and JSON, XML or YAML by its info string or its
/// first character.
fn is_example_fence(info: &str, body: &str) -> bool {
    let lang = info.split_whitespace().next().unwrap_or("");
    let data = matches!(lang, "json" | "jsonc" | "json5" | "xml" | "yaml" | "yml")
        || body.trim_start().starts_with(['{', '['])
        || body.trim_start().starts_with("<?xml");
    body.trim().len() > EXAMPLE_LIMIT && data
}

/// What leads into a block at the end of `text`.
enum LeadIn {
    /// An `Example:`-style heading starting at this byte offset: it goes
    /// with the block.
    Heading(usize),
    /// A sentence ending in `:` refers to the block: both stay.
    Sentence,
    /// Nothing that refers to the block.
    None,
}

fn lead_in(text: &str) -> LeadIn {
    let body = text.trim_end();
    let start = body.rfind('\n').map_or(0, |i| i + 1);
    let line = body[start..].trim();
    if !line.ends_with(':') && !line.ends_with(":**") && !line.ends_with(":*") {
        return LeadIn::None;
    }
    if is_example_heading(line) {
        LeadIn::Heading(start)
    } else {
        LeadIn::Sentence
    }
}

/// `Example:`, `**Example response:**`, `Sample request body:`, `### Example`…
fn is_example_heading(line: &str) -> bool {
    let words = line
        .trim_matches(|c: char| c == '#' || c == '*' || c == '_' || c == ':' || c.is_whitespace())
        .to_ascii_lowercase();
    line.chars().count() <= 60
        && words.split_whitespace().count() <= 5
        && (words.contains("example") || words.contains("sample"))
}

/// Removes unfenced JSON values longer than [`EXAMPLE_LIMIT`] that follow
/// an example heading on a line of their own (with the heading).
fn drop_json_examples(text: &str) -> String {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut out = String::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim();
        if is_example_heading(line) && line.ends_with([':', '*']) {
            let mut j = i + 1;
            while j < lines.len() && lines[j].trim().is_empty() {
                j += 1;
            }
            if j < lines.len()
                && lines[j].trim_start().starts_with(['{', '['])
                && let Some(end) = json_end(&lines[j..])
            {
                let blob: usize = lines[j..j + end].iter().map(|l| l.trim().len()).sum();
                if blob > EXAMPLE_LIMIT {
                    i = j + end;
                    continue;
                }
            }
        }
        out.push_str(lines[i]);
        i += 1;
    }
    out
}

/// How many of `lines` a JSON value starting on the first one spans, when
/// its brackets balance at the end of a line (strings respected).
fn json_end(lines: &[&str]) -> Option<usize> {
    let mut depth = 0usize;
    let (mut in_string, mut escaped) = (false, false);
    for (n, line) in lines.iter().enumerate() {
        for c in line.chars() {
            if in_string {
                match (escaped, c) {
                    (true, _) => escaped = false,
                    (false, '\\') => escaped = true,
                    (false, '"') => in_string = false,
                    _ => {}
                }
                continue;
            }
            match c {
                '"' => in_string = true,
                '{' | '[' => depth += 1,
                '}' | ']' => depth = depth.checked_sub(1)?,
                _ => {}
            }
        }
        if depth == 0 {
            return (!in_string).then_some(n + 1);
        }
    }
    None
}

/// HTML elements turned into text; any other `<name>` is left alone.
const ELEMENTS: &[&str] = &[
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "caption",
    "cite",
    "code",
    "dd",
    "del",
    "div",
    "dl",
    "dt",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "ins",
    "kbd",
    "li",
    "mark",
    "ol",
    "p",
    "pre",
    "s",
    "small",
    "span",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "tt",
    "u",
    "ul",
    "var",
];

/// A tag at the start of `s`: (closing, lower-case name, attributes, length).
fn tag(s: &str) -> Option<(bool, String, &str, usize)> {
    let rest = s.strip_prefix('<')?;
    let (closing, rest) = match rest.strip_prefix('/') {
        Some(r) => (true, r),
        None => (false, rest),
    };
    let name_len = rest
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(rest.len());
    let name = rest[..name_len].to_ascii_lowercase();
    if name.is_empty() || !ELEMENTS.contains(&name.as_str()) {
        return None;
    }
    let after = &rest[name_len..];
    if !(after.starts_with(['>', '/']) || after.starts_with(char::is_whitespace)) {
        return None;
    }
    let close = after.find('>')?;
    let attrs = &after[..close];
    if attrs.contains('<') || (closing && !attrs.trim().is_empty()) {
        return None;
    }
    let len = s.len() - after.len() + close + 1;
    Some((closing, name, attrs.trim().trim_end_matches('/'), len))
}

/// The value of attribute `name` (quoted or not).
fn attribute(attrs: &str, name: &str) -> Option<String> {
    let lower = attrs.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find(name) {
        let at = from + i;
        from = at + name.len();
        let before_ok = at == 0 || lower[..at].ends_with(char::is_whitespace);
        let rest = attrs[at + name.len()..].trim_start();
        let (true, Some(rest)) = (before_ok, rest.strip_prefix('=')) else {
            continue;
        };
        let rest = rest.trim_start();
        let value = match rest.chars().next() {
            Some(q @ ('"' | '\'')) => rest[1..].split(q).next().unwrap_or(""),
            _ => rest.split_whitespace().next().unwrap_or(""),
        };
        return Some(decode_entities(value));
    }
    None
}

/// Ends `out` with a line break (trailing spaces dropped).
fn new_line(out: &mut String) {
    out.truncate(out.trim_end_matches([' ', '\t']).len());
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
}

/// Ends `out` with a blank line (trailing spaces dropped).
fn paragraph(out: &mut String) {
    new_line(out);
    if !out.is_empty() && !out.ends_with("\n\n") {
        out.push('\n');
    }
}

/// HTML elements and entities of a text block as text (backtick code
/// spans are kept as they are), and whether there was an HTML element.
fn from_html(text: &str) -> (String, bool) {
    let mut converted = false;
    let mut out = String::new();
    // Open links: (href, where their text starts in `out`).
    let mut links: Vec<(Option<String>, usize)> = Vec::new();
    let mut plain = String::new();
    let mut rest = text;
    let flush = |plain: &mut String, out: &mut String| {
        out.push_str(&decode_entities(plain));
        plain.clear();
    };
    while let Some(c) = rest.chars().next() {
        if c == '`' {
            let run = rest.chars().take_while(|x| *x == '`').count();
            let fence = &rest[..run];
            let closing = rest[run..]
                .find(fence)
                .filter(|i| !rest[run + i + run..].starts_with('`'));
            match closing {
                Some(i) => {
                    flush(&mut plain, &mut out);
                    out.push_str(&rest[..run + i + run]);
                    rest = &rest[run + i + run..];
                }
                None => {
                    plain.push_str(fence);
                    rest = &rest[run..];
                }
            }
            continue;
        }
        if c == '<'
            && let Some((closing, name, attrs, len)) = tag(rest)
        {
            flush(&mut plain, &mut out);
            converted = true;
            match (name.as_str(), closing) {
                ("br", _) => out.push('\n'),
                ("p" | "div" | "blockquote" | "table" | "dl" | "hr", _)
                | ("h1" | "h2" | "h3" | "h4" | "h5" | "h6", _) => paragraph(&mut out),
                ("ul" | "ol" | "tbody" | "thead" | "tfoot" | "caption" | "tr" | "dt" | "dd", _) => {
                    new_line(&mut out)
                }
                ("li", false) => {
                    new_line(&mut out);
                    out.push_str("- ");
                }
                ("td" | "th", false) if !out.ends_with('\n') => out.push_str(" | "),
                ("code" | "tt" | "kbd", _) => out.push('`'),
                ("pre", false) => out.push_str("\n```\n"),
                ("pre", true) => out.push_str("\n```\n"),
                ("img", false) => {
                    if let Some(alt) = attribute(attrs, "alt") {
                        out.push_str(&alt);
                    }
                }
                ("a", false) => links.push((attribute(attrs, "href"), out.len())),
                ("a", true) => {
                    if let Some((href, start)) = links.pop() {
                        let text = out[start..].trim().to_string();
                        out.truncate(start);
                        match href.filter(|h| !h.is_empty() && !h.starts_with('#')) {
                            Some(h) if text.is_empty() || text == h => out.push_str(&h),
                            Some(h) => out.push_str(&format!("[{text}]({h})")),
                            None => out.push_str(&text),
                        }
                    }
                }
                _ => {}
            }
            rest = &rest[len..];
            continue;
        }
        plain.push(c);
        rest = &rest[c.len_utf8()..];
    }
    flush(&mut plain, &mut out);
    (out, converted)
}

/// `&amp;`, `&lt;`, `&#39;`, `&#x2F;`… as characters; unknown names and
/// control characters stay as written.
fn decode_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let decoded = rest[1..].find(';').filter(|&n| n <= 10).and_then(|n| {
            let name = &rest[1..=n];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some(' '),
                "ndash" => Some('–'),
                "mdash" => Some('—'),
                "hellip" => Some('…'),
                "lsquo" => Some('‘'),
                "rsquo" => Some('’'),
                "ldquo" => Some('“'),
                "rdquo" => Some('”'),
                "bull" => Some('•'),
                "middot" => Some('·'),
                "times" => Some('×'),
                "copy" => Some('©'),
                "reg" => Some('®'),
                "trade" => Some('™'),
                _ => {
                    let num = name.strip_prefix('#')?;
                    let code = match num.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => num.parse().ok()?,
                    };
                    char::from_u32(code).filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
                }
            }?;
            Some((c, n + 2))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Inside each line, runs of spaces outside backtick spans become one
/// space; trailing whitespace goes; indentation stays.
fn tidy_whitespace(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let newline = line.ends_with('\n');
        let line = line.trim_end();
        let body = line.trim_start();
        out.push_str(&line[..line.len() - body.len()]);
        let mut in_code = false;
        let mut space = false;
        for c in body.chars() {
            if c == '`' {
                in_code = !in_code;
            }
            if !in_code && (c == ' ' || c == '\t') {
                space = true;
                continue;
            }
            if space {
                out.push(' ');
                space = false;
            }
            out.push(c);
        }
        if newline {
            out.push('\n');
        }
    }
    out
}

/// At most one blank line in a row (fenced blocks included: they were
/// written with their own), no blank lines at either end, and no
/// whitespace-only lines.
fn squeeze_blank_lines(text: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let mut in_fence = false;
    for line in text.lines() {
        let t = line.trim_start();
        if t.starts_with("```") || t.starts_with("~~~") {
            in_fence = !in_fence;
        }
        if line.trim().is_empty() && !in_fence {
            if out.last().is_some_and(|l| !l.is_empty()) {
                out.push("");
            }
            continue;
        }
        out.push(line);
    }
    while out.last() == Some(&"") {
        out.pop();
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Figma, `GET /v1/images/{file_key}`: sentences, backticks and the
    /// short request example stay.
    const FIGMA_IMAGES: &str = "Renders images from a file.\n\nIf no error occurs, `\"images\"` will be populated with a map from node IDs to URLs of the rendered images, and `\"status\"` will be omitted. The image assets will expire after 30 days. Images up to 32 megapixels can be exported. Any images that are larger will be scaled down.\n\nImportant: the image map may contain values that are `null`. This indicates that rendering of that specific node has failed. This may be due to the node id not existing, or other reasons such has the node having no renderable components. It is guaranteed that any node that was requested for rendering will be represented in this map whether or not the render succeeded.\n\nTo render multiple images from the same file, use the `ids` query parameter to specify multiple node ids.\n\n```\nGET /v1/images/:key?ids=1:2,1:3,1:4\n```\n";

    #[test]
    fn figma_images_description_is_kept_whole() {
        assert_eq!(clean(FIGMA_IMAGES), FIGMA_IMAGES.trim_end());
    }

    #[test]
    fn figma_summary_repeated_by_the_description_is_said_once() {
        let d = compose(
            false,
            Some("Get a webhook"),
            Some("Get a webhook by ID."),
            "GET /v2/webhooks/{webhook_id}",
            false,
        );
        assert_eq!(d, "Get a webhook by ID.");
        let d = compose(
            false,
            Some("Get dev resources"),
            Some("Get dev resources in a file"),
            "",
            false,
        );
        assert_eq!(d, "Get dev resources in a file");
        // A summary that is only a word prefix is not a repetition.
        let d = compose(false, Some("Get a"), Some("Get all files."), "", false);
        assert_eq!(d, "Get a\n\nGet all files.");
        // Raw keeps both (only an identical text is said once).
        let d = compose(
            false,
            Some("Get a webhook"),
            Some("Get a webhook by ID."),
            "",
            true,
        );
        assert_eq!(d, "Get a webhook\n\nGet a webhook by ID.");
        let d = compose(
            false,
            Some("Get file metadata"),
            Some("Get file metadata"),
            "",
            true,
        );
        assert_eq!(d, "Get file metadata");
    }

    #[test]
    fn figma_deprecation_note_and_link_survive() {
        let desc = "Deprecated in favor of [Get top-level folders in a team](https://developers.figma.com/docs/rest-api/folders-endpoints/). You can use this endpoint to get a list of the top-level Projects (now called \"folders\") within the specified team.";
        let d = compose(true, Some("Get projects in a team"), Some(desc), "", false);
        assert_eq!(d, format!("Get projects in a team\n\n{desc}"));
        let d = compose(true, Some("Get projects in a team"), None, "", false);
        assert_eq!(d, "Deprecated.\n\nGet projects in a team");
        assert_eq!(
            compose(true, None, None, "GET /x", false),
            "Deprecated.\n\nGET /x"
        );
        assert_eq!(compose(false, None, Some("  "), "GET /x", false), "GET /x");
    }

    #[test]
    fn kubernetes_enum_explanations_and_deprecations_are_unchanged() {
        for text in [
            "Whether and how garbage collection will be performed. Either this field or OrphanDependents may be set, but not both. The default policy is decided by the existing finalizer set in the metadata.finalizers and the resource-specific default policy. Acceptable values are: 'Orphan' - orphan the dependents; 'Background' - allow the garbage collector to delete the dependents in the background; 'Foreground' - a cascading policy that deletes all dependents in the foreground.",
            "Deprecated: please use the PropagationPolicy, this field will be deprecated in 1.7. Should the dependent objects be orphaned. If true/false, the \"orphan\" finalizer will be added to/removed from the object's finalizers list. Either this field or PropagationPolicy may be set, but not both.",
            "ComponentStatus (and ComponentStatusList) holds the cluster validation info. Deprecated: This API is deprecated in v1.19+",
            "get service account issuer OpenID configuration, also known as the 'OIDC discovery doc'",
        ] {
            assert_eq!(clean(text), text);
        }
    }

    #[test]
    fn kubernetes_grammar_and_tab_indented_examples_stay() {
        // Angle brackets of a grammar are not HTML; a block a sentence
        // leads into is not dropped.
        let quantity = "Quantity is a fixed-point representation of a number.\n\nThe serialization format is:\n\n``` <quantity>        ::= <signedNumber><suffix>\n\n\t(Note that <suffix> may be empty, from the \"\" case in <decimalSI>.)\n\n<digit>           ::= 0 | 1 | ... | 9";
        // (Its ``` opens a block that never closes: all of it is code.)
        assert_eq!(clean(quantity), quantity);
        let unfenced = "The serialization format is:\n\n<quantity>        ::= <signedNumber><suffix>\n\t(Note that <suffix> may be empty.)";
        assert_eq!(
            clean(unfenced),
            "The serialization format is:\n\n<quantity> ::= <signedNumber><suffix>\n\t(Note that <suffix> may be empty.)"
        );
        let cel = "expression will be evaluated by CEL to create a [JSON patch](https://jsonpatch.com/). ref: https://github.com/google/cel-spec\n\nFor example, this CEL expression returns a JSON patch to conditionally modify a value:\n\n\t  [\n\t    JSONPatch{op: \"test\", path: \"/spec/example\", value: \"Red\"},\n\t  ]";
        assert_eq!(clean(cel), cel);
    }

    #[test]
    fn twilio_verbs_in_angle_brackets_and_markdown_links_stay() {
        for text in [
            "A single-level JSON object used to pass custom parameters to payment processors. (Required for ACH payments). The information that has to be included here depends on the <Pay> Connector. [Read more](https://www.twilio.com/console/voice/pay-connectors).",
            "The URL we call using the `announce_method` for an announcement to the participant. The URL may return an MP3 file, a WAV file, or a TwiML document that contains `<Play>`, `<Say>`, `<Pause>`, or `<Redirect>` verbs.",
            "The SID of the [Account](https://www.twilio.com/docs/iam/api/account) that is responsible for the Address resource to read.",
            "Whether text elements are rendered as outlines (vector paths) or as `<text>` elements in SVGs.",
        ] {
            assert_eq!(clean(text), text);
        }
    }

    #[test]
    fn html_becomes_text_with_links_lists_and_code() {
        // httpbin's info.description.
        let html = "A simple HTTP Request &amp; Response Service.<br/> A <a href='http://kennethreitz.com/'>Kenneth Reitz</a> project.<br/> <br/> <b>Run locally: </b> <br/> <code>$ docker pull ghcr.io/psf/httpbin</code> <br/> <code>$ docker run -p 80:8080 ghcr.io/psf/httpbin</code>";
        assert_eq!(
            clean(html),
            "A simple HTTP Request & Response Service.\nA [Kenneth Reitz](http://kennethreitz.com/) project.\n\nRun locally:\n`$ docker pull ghcr.io/psf/httpbin`\n`$ docker run -p 80:8080 ghcr.io/psf/httpbin`"
        );
        let list = "<p>Sort order:</p>\n<ul>\n  <li><code>asc</code> &ndash; oldest first</li>\n  <li><code>desc</code> &ndash; newest first</li>\n</ul>\n<p>See <a href=\"https://example.com/docs\">https://example.com/docs</a>.</p>";
        assert_eq!(
            clean(list),
            "Sort order:\n\n- `asc` – oldest first\n- `desc` – newest first\n\nSee https://example.com/docs."
        );
        assert_eq!(
            clean("a &lt;b&gt; &#39;c&#x27; &unknown; & d"),
            "a <b> 'c' &unknown; & d"
        );
        // Inside backticks nothing is decoded or converted.
        assert_eq!(clean("use `&amp;` and `<br>`"), "use `&amp;` and `<br>`");
    }

    #[test]
    fn large_json_examples_go_small_ones_stay() {
        let big: String = (0..40)
            .map(|i| format!("  \"field_{i}\": \"value {i}\""))
            .collect::<Vec<_>>()
            .join(",\n");
        let big = format!("{{\n{big}\n}}");
        let text = format!(
            "Creates a thing.\n\nExample response:\n\n```json\n{big}\n```\n\nRequires the `admin` scope."
        );
        assert_eq!(
            clean(&text),
            "Creates a thing.\n\nRequires the `admin` scope."
        );
        // Unfenced, after a heading.
        let text = format!("Creates a thing.\n\n**Example:**\n{big}\nRequires the `admin` scope.");
        assert_eq!(
            clean(&text),
            "Creates a thing.\n\nRequires the `admin` scope."
        );
        // A small example shows the format: kept.
        let text = "Filter.\n\nExample:\n```json\n{\"name\": \"x\"}\n```";
        assert_eq!(clean(text), text);
        // Introduced by a sentence: kept, or the sentence points at nothing.
        let text =
            format!("The body looks like this when the account is new:\n```json\n{big}\n```");
        assert_eq!(clean(&text), text);
        // A large block that is not data (a grammar, a shell session) stays.
        let text = format!(
            "Example:\n```\n{}\n```",
            "$ run --flag value\n".repeat(30).trim()
        );
        assert_eq!(clean(&text), text);
    }

    #[test]
    fn whitespace_is_collapsed_but_indentation_and_code_kept() {
        assert_eq!(
            clean("  Lists   the\tpets.  \n\n\n\nSecond  paragraph `a  b`.\n   - nested item\n"),
            "Lists the pets.\n\nSecond paragraph `a  b`.\n   - nested item"
        );
        assert_eq!(clean("x\r\ny"), "x\ny");
    }

    #[test]
    fn unfinished_markup_is_left_as_text() {
        for text in [
            "a < b and c > d",
            "<a href=\"x\"",
            "`unclosed code",
            "```\nunclosed fence",
            "&#1114112; &#0;",
        ] {
            assert_eq!(clean(text), text);
        }
    }
}
