//! The tool surface of an API's server (docs/surfaces.md): which of
//! `all`, `toolsets` and `compact` the generated server starts with, the
//! toolset of every tool, and why.
//!
//! `auto` keeps `tools/list` within [`TOKEN_BUDGET`] tokens, estimated as
//! [`BYTES_PER_TOKEN`] bytes of compact JSON per token: `all` when every
//! tool fits; else `toolsets` when the operations fall into 2 to
//! [`MAX_TOOLSETS`] toolsets that each fit; else `compact`.

use serde_json::{Map, Value, json};

use super::{ToolSurface, Toolset};
use crate::ir::{Surface, UpstreamItem};

/// What a model's tool list should stay within, in tokens.
pub const TOKEN_BUDGET: usize = 25_000;

/// Bytes of tool-list JSON per token. Measured with the o200k tokenizer on
/// the `tools/list` of the shared corpus (petstore, USPTO, httpbin, Figma,
/// Kubernetes, Twilio…): 3.9 to 4.6 bytes per token, so 4 errs on the side
/// of a longer list (docs/surfaces.md).
pub const BYTES_PER_TOKEN: usize = 4;

/// More toolsets than this are a list of their own to read: `compact` then.
pub const MAX_TOOLSETS: usize = 64;

/// The meta-tools of the runtime's surfaces, in the order it registers
/// them; operations may not take these names.
pub const META_TOOLS: [&str; 5] = [
    "search_tools",
    "describe_tool",
    "call_tool",
    "list_toolsets",
    "enable_toolset",
];

/// Estimated tokens of `bytes` of JSON.
pub fn estimate_tokens(bytes: usize) -> usize {
    bytes.div_ceil(BYTES_PER_TOKEN)
}

/// Bytes of `{"tools":[…]}` holding these descriptors, as the server sends
/// them (compact JSON).
fn list_bytes<'a>(descriptors: impl Iterator<Item = &'a Map<String, Value>>) -> usize {
    let mut n: usize = 0;
    let mut bytes = r#"{"tools":[]}"#.len();
    for d in descriptors {
        bytes += serde_json::to_string(d).map_or(0, |s| s.len());
        n += 1;
    }
    bytes + n.saturating_sub(1)
}

/// One toolset as the runtime gets it.
struct Set {
    name: String,
    description: Option<String>,
    tools: Vec<usize>,
}

/// Group `tools` by their toolset: the spec's toolsets in their order,
/// else tag toolsets in order of first use.
fn group(
    tools: &[UpstreamItem],
    user: &[Toolset],
    tag_descriptions: &[(String, String)],
) -> Vec<Set> {
    let mut sets: Vec<Set> = user
        .iter()
        .map(|t| Set {
            name: t.name.clone(),
            description: t.description.clone(),
            tools: vec![],
        })
        .collect();
    for (i, t) in tools.iter().enumerate() {
        let name = t.toolset.clone().unwrap_or_else(|| "other".to_owned());
        match sets.iter_mut().find(|s| s.name == name) {
            Some(s) => s.tools.push(i),
            None => {
                let description = tag_descriptions
                    .iter()
                    .find(|(tag, _)| crate::names::snake_splitting_at_symbols(tag) == name)
                    .map(|(_, d)| d.clone());
                sets.push(Set {
                    name,
                    description,
                    tools: vec![i],
                })
            }
        }
    }
    sets.retain(|s| !s.tools.is_empty());
    sets
}

/// `n` with thousands separators.
fn num(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The surface of a server with these upstream tools.
pub fn choose(
    tools: &[UpstreamItem],
    requested: ToolSurface,
    user: &[Toolset],
    tag_descriptions: &[(String, String)],
) -> Surface {
    let sets = group(tools, user, tag_descriptions);
    let all = estimate_tokens(list_bytes(tools.iter().map(|t| &t.descriptor)));
    let per_set: Vec<usize> = sets
        .iter()
        .map(|s| estimate_tokens(list_bytes(s.tools.iter().map(|&i| &tools[i].descriptor))))
        .collect();
    let largest = per_set
        .iter()
        .enumerate()
        .max_by_key(|(i, n)| (**n, std::cmp::Reverse(*i)))
        .map(|(i, n)| (sets[i].name.as_str(), *n));
    let by = if user.is_empty() {
        "by tag"
    } else {
        "of the spec"
    };
    let (surface, reason) = match requested {
        ToolSurface::Auto => auto(all, sets.len(), largest, by),
        chosen => (
            chosen,
            format!(
                "as asked; estimated tools/list with every tool {} tokens",
                num(all)
            ),
        ),
    };
    let listed: Vec<String> = match surface {
        ToolSurface::Toolsets => META_TOOLS[3..].iter().map(|s| (*s).to_owned()).collect(),
        ToolSurface::Compact => META_TOOLS[..3].iter().map(|s| (*s).to_owned()).collect(),
        _ => tools.iter().map(|t| t.name.clone()).collect(),
    };
    Surface {
        surface: surface.as_str().to_owned(),
        reason,
        estimated_tokens: all,
        config: json!({ "surface": surface.as_str(), "toolsets": toolsets_json(&sets, tools) }),
        listed,
    }
}

/// What `auto` picks, and why: `all` within the budget, else `toolsets`
/// when 2 to `MAX_TOOLSETS` sets each fit, else `compact`. `largest` is the
/// largest set's name and estimated tokens.
fn auto(
    all: usize,
    set_count: usize,
    largest: Option<(&str, usize)>,
    by: &str,
) -> (ToolSurface, String) {
    if all <= TOKEN_BUDGET {
        return (
            ToolSurface::All,
            format!(
                "estimated tools/list {} tokens <= {}",
                num(all),
                num(TOKEN_BUDGET)
            ),
        );
    }
    let over = format!(
        "estimated tools/list {} tokens > {}",
        num(all),
        num(TOKEN_BUDGET)
    );
    let listable = (2..=MAX_TOOLSETS).contains(&set_count);
    let reason = match largest {
        Some((name, n)) if listable && n <= TOKEN_BUDGET => {
            return (
                ToolSurface::Toolsets,
                format!(
                    "{over}; its {set_count} toolsets ({by}) each fit, the largest `{name}` {} tokens",
                    num(n)
                ),
            );
        }
        Some((name, n)) if listable => format!(
            "{over}, and toolsets ({by}) do not fit: `{name}` alone is {} tokens",
            num(n)
        ),
        _ if set_count > MAX_TOOLSETS => {
            format!("{over}, and {set_count} toolsets ({by}) are too many to list")
        }
        _ => format!("{over}, and the operations form one toolset ({by})"),
    };
    (ToolSurface::Compact, reason)
}

/// The toolsets as `TOOL_SURFACE` carries them: name, description, tools.
fn toolsets_json(sets: &[Set], tools: &[UpstreamItem]) -> Vec<Value> {
    sets.iter()
        .map(|s| {
            let mut v = Map::new();
            v.insert("name".into(), s.name.clone().into());
            if let Some(d) = &s.description {
                v.insert("description".into(), d.clone().into());
            }
            let names: Vec<&str> = s.tools.iter().map(|&i| tools[i].name.as_str()).collect();
            v.insert("tools".into(), json!(names));
            Value::Object(v)
        })
        .collect()
}

/// The first paragraph of a tag's description, at most 200 characters.
pub fn tag_description(text: &str) -> Option<String> {
    let para = text.trim().split("\n\n").next()?;
    let one = para.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.is_empty() {
        return None;
    }
    Some(if one.chars().count() > 200 {
        let cut: String = one.chars().take(199).collect();
        format!("{}…", cut.trim_end())
    } else {
        one
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(name: &str, toolset: &str, description_bytes: usize) -> UpstreamItem {
        let mut d = Map::new();
        d.insert("name".into(), name.into());
        d.insert("description".into(), "x".repeat(description_bytes).into());
        UpstreamItem {
            name: name.into(),
            method: "GET".into(),
            path: "/".into(),
            title: None,
            descriptor: d,
            operation: serde_json::from_value(json!({"method": "GET", "path": "/"}))
                .expect("a minimal operation"),
            uri: None,
            toolset: Some(toolset.into()),
        }
    }

    #[test]
    fn auto_picks_all_within_the_budget() {
        let tools = vec![item("a", "x", 100), item("b", "y", 100)];
        let s = choose(&tools, ToolSurface::Auto, &[], &[]);
        assert_eq!(s.surface, "all");
        assert_eq!(s.listed, ["a", "b"]);
        assert!(s.reason.contains("<= 25,000"), "{}", s.reason);
    }

    #[test]
    fn auto_picks_toolsets_when_each_fits_else_compact() {
        // 30,000 tokens in all, two sets of 15,000.
        let tools = vec![item("a", "x", 60_000), item("b", "y", 60_000)];
        let s = choose(
            &tools,
            ToolSurface::Auto,
            &[],
            &[("Y".into(), "Why".into())],
        );
        assert_eq!(s.surface, "toolsets", "{}", s.reason);
        assert_eq!(s.listed, ["list_toolsets", "enable_toolset"]);
        assert_eq!(
            s.config["toolsets"],
            json!([{"name": "x", "tools": ["a"]}, {"name": "y", "description": "Why", "tools": ["b"]}])
        );
        // One set too big: compact, and the reason names it.
        let tools = vec![item("a", "x", 120_000), item("b", "y", 60)];
        let s = choose(&tools, ToolSurface::Auto, &[], &[]);
        assert_eq!(s.surface, "compact");
        assert_eq!(s.listed, ["search_tools", "describe_tool", "call_tool"]);
        assert!(s.reason.contains("`x` alone is 30,0"), "{}", s.reason);
        // One set only: compact.
        let tools = vec![item("a", "x", 60_000), item("b", "x", 60_000)];
        assert_eq!(
            choose(&tools, ToolSurface::Auto, &[], &[]).surface,
            "compact"
        );
        // Too many sets: compact.
        let tools: Vec<UpstreamItem> = (0..65)
            .map(|i| item(&format!("t{i}"), &format!("s{i}"), 2_000))
            .collect();
        assert!(
            choose(&tools, ToolSurface::Auto, &[], &[])
                .reason
                .contains("65 toolsets")
        );
    }

    #[test]
    fn an_explicit_surface_is_kept() {
        let tools = vec![item("a", "x", 10)];
        let s = choose(&tools, ToolSurface::Compact, &[], &[]);
        assert_eq!(s.surface, "compact");
        assert!(s.reason.starts_with("as asked"), "{}", s.reason);
    }

    #[test]
    fn estimates_and_numbers() {
        assert_eq!(estimate_tokens(0), 0);
        assert_eq!(estimate_tokens(9), 3);
        assert_eq!(num(1_067_000), "1,067,000");
        assert_eq!(num(25), "25");
        assert_eq!(tag_description("Pets.\n\nMore."), Some("Pets.".into()));
    }
}
