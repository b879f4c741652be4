//! Names derived from an OpenAPI description: tool names (snake_case, at
//! most 64 characters, stable), argument names and environment variables.

use heck::ToShoutySnakeCase;

use crate::names::snake_splitting_at_symbols;

/// Longest tool name produced.
pub const MAX_TOOL_NAME: usize = 64;

/// How much of a name [`disambiguate`] keeps before its hash suffix.
pub const DISAMBIGUATE_ROOM: usize = MAX_TOOL_NAME - 7;

/// FNV-1a, 64 bits: a small stable hash (never changes between releases).
pub fn stable_hash(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Whole-word abbreviations used only for names longer than the limit.
const ABBREVIATIONS: &[(&str, &str)] = &[
    ("namespaced", "ns"),
    ("namespace", "ns"),
    ("collection", "coll"),
    ("configurations", "configs"),
    ("configuration", "config"),
    ("admissionregistration", "admreg"),
    ("apiextensions", "apiext"),
    ("authorization", "authz"),
    ("authentication", "authn"),
    ("certificates", "certs"),
    ("certificate", "cert"),
    ("horizontal", "horiz"),
    ("autoscaler", "as"),
    ("autoscaling", "autosc"),
    ("persistent", "pers"),
    ("definitions", "defs"),
    ("definition", "def"),
    ("specification", "spec"),
    ("information", "info"),
    ("organizations", "orgs"),
    ("organization", "org"),
    ("repositories", "repos"),
    ("repository", "repo"),
    ("environments", "envs"),
    ("environment", "env"),
    ("management", "mgmt"),
    ("applications", "apps"),
    ("application", "app"),
    ("subscriptions", "subs"),
    ("subscription", "sub"),
    ("notifications", "notifs"),
    ("notification", "notif"),
    ("attachments", "attachs"),
    ("attachment", "attach"),
    ("participants", "parts"),
    ("participant", "part"),
    ("conference", "conf"),
    ("conferences", "confs"),
    ("recordings", "recs"),
    ("recording", "rec"),
    ("transcriptions", "transcrs"),
    ("transcription", "transcr"),
    ("credentials", "creds"),
    ("credential", "cred"),
    ("controller", "ctrl"),
    ("replication", "repl"),
    ("deployment", "deploy"),
    ("resource", "res"),
    ("resources", "res"),
    ("version", "ver"),
    ("account", "acct"),
    ("accounts", "accts"),
];

/// Tool name for an operation: its operationId (or `method path`) in
/// snake case, at most [`MAX_TOOL_NAME`] characters: long words are
/// abbreviated first, then the name is cut and given a hash of the full
/// name, so that it stays unique and stable.
pub fn tool_name(operation_id: Option<&str>, method: &str, path: &str) -> String {
    let from_id = operation_id
        .map(snake_splitting_at_symbols)
        .filter(|s| !s.is_empty());
    let full = match from_id {
        Some(s) => s,
        None => {
            let p = snake_splitting_at_symbols(path);
            let p = if p.is_empty() {
                String::from("root")
            } else {
                p
            };
            format!("{}_{p}", method.to_ascii_lowercase())
        }
    };
    shorten(&full, MAX_TOOL_NAME)
}

/// Fit `name` into `max` characters (see [`tool_name`]).
pub fn shorten(name: &str, max: usize) -> String {
    let name = if name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("op_{name}")
    } else {
        name.to_string()
    };
    if name.len() <= max {
        return name;
    }
    let abbreviated = name
        .split('_')
        .map(|w| {
            ABBREVIATIONS
                .iter()
                .find(|(long, _)| *long == w)
                .map_or(w, |(_, short)| *short)
        })
        .collect::<Vec<_>>()
        .join("_");
    if abbreviated.len() <= max {
        return abbreviated;
    }
    let suffix = format!("_{:08x}", stable_hash(&name) as u32);
    let mut cut = prefix(&abbreviated, max - suffix.len()).to_string();
    while cut.ends_with('_') {
        cut.pop();
    }
    cut + &suffix
}

/// The longest prefix of `s` of at most `max` bytes that ends on a char
/// boundary.
fn prefix(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// `name` with a short hash of `identity` appended (within the length limit),
/// for names that would otherwise collide.
pub fn disambiguate(name: &str, identity: &str) -> String {
    let suffix = format!("_{:06x}", stable_hash(identity) & 0x00ff_ffff);
    let room = DISAMBIGUATE_ROOM;
    debug_assert_eq!(room, MAX_TOOL_NAME - suffix.len());
    let mut base = prefix(name, room).to_string();
    while base.ends_with('_') {
        base.pop();
    }
    base + &suffix
}

/// How many numbered names [`numbered`] tries before giving up.
const MAX_NAME_TRIES: usize = 1000;

/// A name for the operation `method path` that is not in `used`, from
/// `base_2`, `base_3`, … (each given a hash suffix when too long), or `None`
/// after `MAX_NAME_TRIES` tries.
pub fn numbered(
    base: &str,
    method: &str,
    path: &str,
    used: &std::collections::HashSet<String>,
) -> Option<String> {
    for n in 2..MAX_NAME_TRIES + 2 {
        let numbered = format!("{base}_{n}");
        let name = disambiguate(&numbered, path);
        if !used.contains(&name) {
            return Some(name);
        }
        // The number may have been cut off: hash it in too, so that every
        // try gives a new name.
        if numbered.len() > DISAMBIGUATE_ROOM {
            let name = disambiguate(&numbered, &format!("{method} {path} {n}"));
            if !used.contains(&name) {
                return Some(name);
            }
        }
    }
    None
}

/// A tool argument name for a parameter: snake case (`petId` → `pet_id`,
/// `X-Trace` → `x_trace`).
pub fn arg_name(name: &str) -> String {
    let s = snake_splitting_at_symbols(name);
    if s.is_empty() {
        String::from("param")
    } else {
        s
    }
}

/// `SHOUTY_SNAKE` of `s` (ASCII letters, digits and `_`).
pub fn shouty(s: &str) -> String {
    let spaced: String = s
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { ' ' })
        .collect();
    let out = spaced.to_shouty_snake_case();
    let out: String = out
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    let out = out.trim_matches('_').to_string();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{out}")
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_names_end_even_when_the_number_is_cut_off() {
        let base = "a".repeat(60);
        let mut used = std::collections::HashSet::from([base.clone()]);
        for method in ["POST", "PUT", "PATCH"] {
            let name = numbered(&base, method, "/things", &used).expect("a name");
            assert!(name.len() <= MAX_TOOL_NAME, "{name}");
            assert!(used.insert(name));
        }
        assert_eq!(used.len(), 4);
        // Short names keep their number.
        let used = std::collections::HashSet::from(["x".to_string()]);
        assert!(
            numbered("x", "GET", "/", &used)
                .unwrap()
                .starts_with("x_2_")
        );
    }

    #[test]
    fn truncation_never_splits_a_character() {
        let long = "é".repeat(40);
        let d = disambiguate(&long, "GET /x");
        assert!(d.len() <= MAX_TOOL_NAME, "{d}");
        assert!(d.starts_with('é'));
        let s = shorten(&long, MAX_TOOL_NAME);
        assert!(s.len() <= MAX_TOOL_NAME, "{s}");
    }

    #[test]
    fn names() {
        assert_eq!(tool_name(Some("listPets"), "GET", "/pets"), "list_pets");
        assert_eq!(
            tool_name(Some("pets/list.all"), "GET", "/pets"),
            "pets_list_all"
        );
        assert_eq!(tool_name(None, "GET", "/pets/{petId}"), "get_pets_pet_id");
        assert_eq!(tool_name(None, "GET", "/"), "get_root");
        assert_eq!(tool_name(Some("2fa"), "GET", "/"), "op_2fa");
        let long = tool_name(
            Some(
                "replaceAdmissionregistrationV1beta1MutatingWebhookConfigurationWithAVeryLongNameIndeed",
            ),
            "PUT",
            "/x",
        );
        assert!(long.len() <= 64, "{long}");
        assert_eq!(
            long,
            tool_name(
                Some(
                    "replaceAdmissionregistrationV1beta1MutatingWebhookConfigurationWithAVeryLongNameIndeed"
                ),
                "PUT",
                "/y"
            )
        );
        assert_eq!(
            tool_name(
                Some("listCoreV1NamespacedPersistentVolumeClaimForAllNamespacesWatch"),
                "GET",
                "/"
            ),
            "list_core_v1_ns_pers_volume_claim_for_all_namespaces_watch"
        );
        let d = disambiguate(&"a".repeat(64), "GET /x");
        assert_eq!(d.len(), 64);
        assert_eq!(arg_name("petId"), "pet_id");
        assert_eq!(arg_name("X-Trace"), "x_trace");
        assert_eq!(arg_name("page[size]"), "page_size");
        assert_eq!(arg_name("$"), "param");
        assert_eq!(shouty("Swagger Petstore"), "SWAGGER_PETSTORE");
        assert_eq!(shouty("api_key"), "API_KEY");
        assert_eq!(shouty("bearer-jwt"), "BEARER_JWT");
    }
}
