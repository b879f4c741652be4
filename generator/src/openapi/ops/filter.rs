//! Include / exclude filters over operations.

use crate::openapi::Filter;

fn glob_match(pattern: &str, text: &str) -> bool {
    // `**` any characters; `*` any but `/`; `?` one character.
    fn go(p: &[u8], t: &[u8]) -> bool {
        match p.first() {
            None => t.is_empty(),
            Some(b'*') if p.get(1) == Some(&b'*') => (0..=t.len()).any(|i| go(&p[2..], &t[i..])),
            Some(b'*') => {
                let mut i = 0;
                loop {
                    if go(&p[1..], &t[i..]) {
                        return true;
                    }
                    if i >= t.len() || t[i] == b'/' {
                        return false;
                    }
                    i += 1;
                }
            }
            Some(b'?') => !t.is_empty() && go(&p[1..], &t[1..]),
            Some(c) => t.first() == Some(c) && go(&p[1..], &t[1..]),
        }
    }
    go(pattern.as_bytes(), text.as_bytes())
}

/// The facts filters look at.
pub(super) struct Facts<'a> {
    pub(super) method: &'a str,
    pub(super) path: &'a str,
    pub(super) operation_id: Option<&'a str>,
    pub(super) tags: &'a [String],
}

impl Filter {
    /// Whether a filter that says something matches (an empty one selects
    /// nothing): toolsets of the spec.
    pub(super) fn selects(&self, f: &Facts<'_>) -> bool {
        !self.is_empty() && self.includes(f)
    }
    fn is_empty(&self) -> bool {
        self.tags.is_empty()
            && self.operations.is_empty()
            && self.paths.is_empty()
            && self.methods.is_empty()
    }

    /// Per dimension: None when the filter says nothing about it.
    fn dims(&self, f: &Facts<'_>) -> [Option<bool>; 4] {
        let any = |list: &[String], m: &dyn Fn(&str) -> bool| {
            (!list.is_empty()).then(|| list.iter().any(|p| m(p)))
        };
        [
            any(&self.tags, &|p| f.tags.iter().any(|t| glob_match(p, t))),
            any(&self.operations, &|p| {
                f.operation_id.is_some_and(|id| glob_match(p, id))
                    || glob_match(p, &format!("{} {}", f.method, f.path))
            }),
            any(&self.paths, &|p| glob_match(p, f.path)),
            any(&self.methods, &|p| p.eq_ignore_ascii_case(f.method)),
        ]
    }

    /// Included: matches every dimension the filter names.
    pub(super) fn includes(&self, f: &Facts<'_>) -> bool {
        self.is_empty() || self.dims(f).iter().all(|d| d.unwrap_or(true))
    }

    /// Excluded: matches any entry.
    pub(super) fn excludes(&self, f: &Facts<'_>) -> bool {
        self.dims(f).contains(&Some(true))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("/pets/*", "/pets/{id}"));
        assert!(!glob_match("/pets/*", "/pets/{id}/photos"));
        assert!(glob_match("/pets/**", "/pets/{id}/photos"));
        assert!(glob_match("list*", "listPets"));
        assert!(glob_match("?et", "get"));
    }
}
