//! Naming: Rust identifiers derived from spec names (heck), always valid:
//! ASCII only, never starting with a digit, keywords made raw (`r#type`) or
//! suffixed (`self_`); plus the snake-case word splitting the OpenAPI front
//! end builds tool and argument names from.
//!
//! A leaf module (nothing from the crate): the YAML front end, its
//! validation (to find collisions), the OpenAPI front end and `emit` all use
//! the same functions.

use heck::{ToKebabCase, ToSnakeCase, ToUpperCamelCase};

/// Strict and reserved keywords of Rust 2024 (plus weak `union`/`macro_rules`
/// are fine as identifiers and not listed).
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut",
    "pub", "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "try", "typeof", "unsized", "virtual", "yield",
];

/// Keywords that cannot be raw identifiers.
const NOT_RAW: &[&str] = &["crate", "self", "Self", "super"];

/// Is `s` a Rust keyword (2024 edition)?
pub(crate) fn is_keyword(s: &str) -> bool {
    KEYWORDS.contains(&s)
}

fn ascii_only(s: &str, keep: impl Fn(char) -> bool) -> String {
    s.chars().filter(|c| keep(*c)).collect()
}

fn finish(mut ident: String, empty: &str, digit_prefix: &str) -> String {
    if ident.is_empty() {
        ident = empty.to_string();
    }
    if ident.starts_with(|c: char| c.is_ascii_digit()) {
        ident.insert_str(0, digit_prefix);
    }
    if is_keyword(&ident) {
        if NOT_RAW.contains(&ident.as_str()) {
            ident.push('_');
        } else {
            ident.insert_str(0, "r#");
        }
    }
    ident
}

/// The `snake_case` words of a name with every non-ASCII character dropped
/// (`café` → `caf`), possibly empty or starting with a digit (not an
/// identifier by itself).
fn snake_dropping_non_ascii(name: &str) -> String {
    let s = ascii_only(&name.to_snake_case(), |c| {
        c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'
    });
    s.trim_matches('_').to_string()
}

/// `snake_case` identifier for methods and fields: `add-note` → `add_note`,
/// `type` → `r#type`, `self` → `self_`, `2fa` → `_2fa`.
pub(crate) fn snake(name: &str) -> String {
    finish(snake_dropping_non_ascii(name), "unnamed", "_")
}

/// `prefix_<name>` (never a keyword, so never raw): `read_self`.
fn prefixed(prefix: &str, name: &str) -> String {
    let words = snake_dropping_non_ascii(name);
    if words.is_empty() {
        format!("{prefix}_unnamed")
    } else {
        format!("{prefix}_{words}")
    }
}

/// `[a-z0-9_]` words of `s` in snake case, where every character that is
/// not an ASCII letter or digit separates words (`café.au` → `caf_au`),
/// without leading, trailing or doubled underscores (possibly empty).
pub(crate) fn snake_splitting_at_symbols(s: &str) -> String {
    let spaced: String = s
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { ' ' })
        .collect();
    let snake = spaced.to_snake_case();
    let mut out = String::with_capacity(snake.len());
    for c in snake.chars() {
        let c = if c.is_ascii_lowercase() || c.is_ascii_digit() {
            c
        } else {
            '_'
        };
        if c == '_' && (out.is_empty() || out.ends_with('_')) {
            continue;
        }
        out.push(c);
    }
    while out.ends_with('_') {
        out.pop();
    }
    out
}

/// `UpperCamelCase` identifier for types: `add-note` → `AddNote`.
pub(crate) fn camel(name: &str) -> String {
    let s = ascii_only(&name.to_upper_camel_case(), |c| c.is_ascii_alphanumeric());
    finish(s, "Unnamed", "N")
}

/// The name a field's serde attribute must match when `ident` alone would not.
pub(crate) fn serde_rename(ident: &str, name: &str) -> Option<String> {
    let plain = ident.strip_prefix("r#").unwrap_or(ident);
    (plain != name).then(|| name.to_string())
}

/// Kebab-case package name of a server, or why it cannot be one.
pub(crate) fn package_name(server_name: &str) -> Result<String, String> {
    let kebab = ascii_only(&server_name.to_kebab_case(), |c| {
        c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'
    });
    let kebab = kebab.trim_matches('-').to_string();
    if kebab.is_empty() {
        return Err("it has no ASCII letters or digits".into());
    }
    if kebab.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(format!(
            "the package name `{kebab}` would start with a digit"
        ));
    }
    let snake = kebab.replace('-', "_");
    if is_keyword(&snake) {
        return Err(format!("`{snake}` is a Rust keyword"));
    }
    const RESERVED: &[&str] = &[
        "std",
        "core",
        "alloc",
        "proc_macro",
        "test",
        "build",
        "deps",
        "examples",
        "lib",
    ];
    if RESERVED.contains(&snake.as_str()) {
        return Err(format!("`{kebab}` is reserved by Cargo or Rust"));
    }
    Ok(kebab)
}

/// Words of a document title that say nothing about which API it is: the
/// name ends before the first one (after leading ones are skipped).
const FILLER: &[&str] = &[
    "official",
    "unofficial",
    "spec",
    "specs",
    "specification",
    "openapi",
    "swagger",
    "api",
    "apis",
    "rest",
    "restful",
    "extension",
    "extensions",
    "definition",
    "definitions",
    "description",
    "document",
    "documentation",
    "version",
    "public",
    "org",
    "com",
    "io",
    "net",
];

/// Small words a name neither starts nor ends with.
const GLUE: &[&str] = &[
    "a", "an", "the", "of", "for", "and", "with", "to", "in", "on", "v",
];

/// A short package name people would choose for an API from its document
/// title: `GitHub's official OpenAPI spec + Octokit extension` → `github`,
/// `Swagger Petstore - OpenAPI 3.0` → `petstore`, `OpenAI API` → `openai`.
/// Words are split at spaces and punctuation only, so brand words written
/// in one piece (GitHub, OpenAI) stay whole; possessives, versions and
/// [`FILLER`] words end the name, which is the first run of other words (at
/// most five, without [`GLUE`] words at either end). `None` when nothing
/// usable is left.
pub(crate) fn short_name(title: &str) -> Option<String> {
    let apostrophe = |c: char| c == '\'' || c == '\u{2019}';
    let words: Vec<String> = title
        .split(|c: char| !(c.is_alphanumeric() || apostrophe(c)))
        .map(|w| {
            let w = w.trim_matches(apostrophe);
            let w = w
                .strip_suffix("'s")
                .or_else(|| w.strip_suffix("\u{2019}s"))
                .unwrap_or(w);
            ascii_only(&w.to_lowercase(), |c| c.is_ascii_alphanumeric())
        })
        .filter(|w| !w.is_empty())
        .collect();
    let is_version = |w: &str| {
        let digits = w.strip_prefix('v').unwrap_or(w);
        !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
    };
    let is_noise = |w: &&str| is_version(w) || FILLER.contains(w) || GLUE.contains(w);
    let mut run: Vec<&str> = words
        .iter()
        .map(String::as_str)
        .skip_while(is_noise)
        .take_while(|w| !is_version(w) && !FILLER.contains(w))
        .take(5)
        .collect();
    while run.last().is_some_and(|w| GLUE.contains(w)) {
        run.pop();
    }
    package_name(&run.join("-")).ok()
}

/// Is `s` a plain identifier as produced above (what the `ident` template
/// filter accepts)?
pub(crate) fn is_valid_ident(s: &str) -> bool {
    let body = s.strip_prefix("r#").unwrap_or(s);
    let mut chars = body.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    first_ok
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && body != "_"
        && (s == body || is_keyword(body))
}

// Names of generated items, one place for all of them.

/// Trait method of a tool.
///
/// Never [`HOOK_METHOD`]: validation refuses a tool named so.
pub(crate) fn tool_method(name: &str) -> String {
    snake(name)
}
/// The `Handlers` method wrapping every tool call (the tool-call hook).
pub(crate) const HOOK_METHOD: &str = "wrap_tool_call";
/// Arguments struct of a tool.
pub(crate) fn tool_args(name: &str) -> String {
    format!("{}Args", camel(name))
}
/// Trait method of a handler-backed resource.
pub(crate) fn resource_method(name: &str) -> String {
    prefixed("read", name)
}
/// Trait method of a resource template.
pub(crate) fn template_method(name: &str) -> String {
    prefixed("read", name)
}
/// Variables struct of a resource template.
pub(crate) fn template_params(name: &str) -> String {
    format!("{}Params", camel(name))
}
/// Trait method of a handler-backed prompt.
pub(crate) fn prompt_method(name: &str) -> String {
    prefixed("prompt", name)
}
/// Arguments struct of a handler-backed prompt.
pub(crate) fn prompt_args(name: &str) -> String {
    format!("{}PromptArgs", camel(name))
}
/// Enum type of a field's string `enum`: `search_notes` + `sort` →
/// `SearchNotesSort` (the caller makes it unique among the generated types).
pub(crate) fn field_enum(owner: &str, field: &str) -> String {
    format!("{}{}", camel(owner), camel(field))
}

/// `base`, or `base2`, `base3`, … : the first that `taken` does not hold.
pub(crate) fn unique(base: &str, taken: impl Fn(&str) -> bool) -> String {
    let mut candidate = base.to_string();
    let mut n = 2u32;
    while taken(&candidate) {
        candidate = format!("{base}{n}");
        n += 1;
    }
    candidate
}

/// Variant identifiers of a string enum, one per value, valid and unique
/// whatever the text: `new-est` → `NewEst`, `""` → `Empty`, `1st` → `N1st`,
/// `Self` → `Self_`, and `a_b` after `aB` → `AB2`.
pub(crate) fn enum_variants(values: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(values.len());
    for v in values {
        let base = if v.is_empty() {
            String::from("Empty")
        } else {
            camel(v)
        };
        let ident = unique(&base, |c| out.iter().any(|o| o == c));
        out.push(ident);
    }
    out
}

/// Whether `s` is an HTTP token (RFC 9110 `1*tchar`): a header name, a
/// method, a media type's parts. No spaces, separators or control
/// characters.
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// A source file's name (the spec or the OpenAPI document), kept to ASCII
/// letters, digits and `._-+`: it is written into generated text.
pub(crate) fn source_file_name(path: &std::path::Path) -> String {
    path.file_name()
        .map(|n| {
            n.to_string_lossy()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || "._-+".contains(*c))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_variants_are_valid_and_unique_for_hostile_values() {
        let values = [
            "newest", "", "1st", "Self", "self", "type", "aB", "a_b", "a-b", "café", "é", "a b2",
        ];
        let got = enum_variants(&values);
        assert_eq!(
            got,
            [
                "Newest", "Empty", "N1st", "Self_", "Self_2", "Type", "AB", "AB2", "AB3", "Caf",
                "Unnamed", "AB22"
            ]
        );
        for v in &got {
            assert!(is_valid_ident(v), "{v}");
        }
    }

    #[test]
    fn short_names_from_document_titles() {
        let cases = [
            (
                "GitHub's official OpenAPI spec + Octokit extension",
                Some("github"),
            ),
            ("Swagger Petstore - OpenAPI 3.0", Some("petstore")),
            ("Swagger Petstore", Some("petstore")),
            ("OpenAI API", Some("openai")),
            ("httpbin.org", Some("httpbin")),
            (
                "The Jira Cloud platform REST API",
                Some("jira-cloud-platform"),
            ),
            ("Stripe API v1", Some("stripe")),
            ("API definition with circular $refs", Some("circular-refs")),
            (
                "Support for different security types",
                Some("support-for-different-security-types"),
            ),
            ("Messy API", Some("messy")),
            ("Caf\u{e9} Ordering API", Some("caf-ordering")),
            ("API v2", None),
            ("self", None),
            ("", None),
        ];
        for (title, want) in cases {
            assert_eq!(short_name(title).as_deref(), want, "{title:?}");
        }
    }

    #[test]
    fn unique_appends_the_first_free_number() {
        let taken = ["Sort", "Sort2"];
        assert_eq!(unique("Sort", |c| taken.contains(&c)), "Sort3");
        assert_eq!(unique("Order", |c| taken.contains(&c)), "Order");
    }

    #[test]
    fn identifiers() {
        assert_eq!(snake("add-note"), "add_note");
        assert_eq!(snake("addNote"), "add_note");
        assert_eq!(snake("notes.search"), "notes_search");
        assert_eq!(snake("type"), "r#type");
        assert_eq!(snake("self"), "self_");
        assert_eq!(snake("2fa"), "_2fa");
        assert_eq!(snake("日本"), "unnamed");
        assert_eq!(camel("add-note"), "AddNote");
        assert_eq!(camel("3d"), "N3d");
        assert_eq!(serde_rename("r#type", "type"), None);
        assert_eq!(serde_rename("note_id", "noteId").as_deref(), Some("noteId"));
        assert_eq!(resource_method("type"), "read_type");
        assert_eq!(resource_method("self"), "read_self");
        assert_eq!(prompt_method("2fa"), "prompt_2fa");
        assert_eq!(template_method("!!"), "read_unnamed");
        for s in ["add_note", "r#type", "self_", "_2fa", "AddNoteArgs"] {
            assert!(is_valid_ident(s), "{s}");
        }
        for s in ["", "a b", "r#foo", "1a", "a-b", "_", "x\"y"] {
            assert!(!is_valid_ident(s), "{s}");
        }
    }

    #[test]
    fn the_two_word_splittings_differ_on_non_ascii() {
        assert_eq!(snake_dropping_non_ascii("café-au lait"), "caf_au_lait");
        assert_eq!(snake_splitting_at_symbols("café-au lait"), "caf_au_lait");
        assert_eq!(snake_dropping_non_ascii("naïve"), "nave");
        assert_eq!(snake_splitting_at_symbols("naïve"), "na_ve");
        assert_eq!(snake_splitting_at_symbols("page[size]"), "page_size");
        assert_eq!(snake_splitting_at_symbols("$"), "");
    }

    #[test]
    fn package_names() {
        assert_eq!(package_name("notes").as_deref(), Ok("notes"));
        assert_eq!(package_name("My Notes").as_deref(), Ok("my-notes"));
        assert_eq!(
            package_name("io.github.me/notes").as_deref(),
            Ok("io-github-me-notes")
        );
        assert!(package_name("test").is_err());
        assert!(package_name("async").is_err());
        assert!(package_name("42").is_err());
        assert!(package_name("日本").is_err());
    }
}
