//! Cursor pagination for the list methods. Pages are built once, when the
//! server is built or a list changes, so serving a page is a lookup.

use crate::error::McpError;
use serde_json::{Map, Value};

pub(crate) const DEFAULT_PAGE_SIZE: usize = 100;

/// Split `items` into list results `{key: [...], nextCursor?}`.
pub(crate) fn paginate(items: &[Value], key: &str, page_size: usize) -> Vec<Value> {
    let size = page_size.max(1);
    let chunks: Vec<&[Value]> = if items.is_empty() {
        vec![&[]]
    } else {
        items.chunks(size).collect()
    };
    let count = chunks.len();
    chunks
        .into_iter()
        .enumerate()
        .map(|(i, chunk)| {
            let mut page = Map::new();
            page.insert(key.to_owned(), Value::Array(chunk.to_vec()));
            if i + 1 < count {
                page.insert("nextCursor".into(), Value::String(cursor(i + 1)));
            }
            Value::Object(page)
        })
        .collect()
}

fn cursor(page: usize) -> String {
    format!("page-{page}")
}

/// The page a cursor points at; an unknown cursor is invalid params.
pub(crate) fn select(pages: &[Value], params: Option<&Value>) -> Result<Value, McpError> {
    let cursor = params.and_then(|p| p.get("cursor"));
    let index = match cursor {
        None | Some(Value::Null) => 0,
        Some(Value::String(c)) => c
            .strip_prefix("page-")
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| *n < pages.len())
            .ok_or_else(|| McpError::invalid_params(format!("invalid cursor: {c:?}")))?,
        Some(_) => return Err(McpError::invalid_params("cursor must be a string")),
    };
    pages
        .get(index)
        .cloned()
        .ok_or_else(|| McpError::invalid_params("invalid cursor"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn walks_every_page_by_cursor() {
        let items: Vec<Value> = (0..5).map(|i| json!(i)).collect();
        let pages = paginate(&items, "tools", 2);
        let mut seen = vec![];
        let mut params = None;
        loop {
            let page = select(&pages, params.as_ref()).unwrap();
            seen.extend(page["tools"].as_array().unwrap().iter().cloned());
            match page.get("nextCursor") {
                Some(c) => params = Some(json!({ "cursor": c })),
                None => break,
            }
        }
        assert_eq!(seen, items);
    }

    #[test]
    fn bad_cursor_is_invalid_params() {
        let pages = paginate(&[json!(1)], "tools", 2);
        for c in [json!("page-9"), json!("nope"), json!(3)] {
            let e = select(&pages, Some(&json!({ "cursor": c }))).unwrap_err();
            assert_eq!(e.code(), crate::jsonrpc::INVALID_PARAMS);
        }
    }

    #[test]
    fn empty_list_has_one_empty_page() {
        let pages = paginate(&[], "prompts", 10);
        assert_eq!(select(&pages, None).unwrap(), json!({ "prompts": [] }));
    }
}
