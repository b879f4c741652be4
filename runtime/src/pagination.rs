//! Cursor pagination for the list methods. Pages are built once, when the
//! server is built or a list changes (tools: on first request, as
//! serialized JSON), so serving a page is a lookup.

use crate::error::McpError;
use serde::Serialize;
use serde::ser::SerializeMap;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::sync::Arc;

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

/// The index of the page a cursor points at, among `count` pages; an
/// unknown cursor is invalid params.
pub(crate) fn page_index(params: Option<&Value>, count: usize) -> Result<usize, McpError> {
    match params.and_then(|p| p.get("cursor")) {
        None | Some(Value::Null) => Ok(0),
        Some(Value::String(c)) => c
            .strip_prefix("page-")
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| *n < count)
            .ok_or_else(|| McpError::invalid_params(format!("invalid cursor: {c:?}"))),
        Some(_) => Err(McpError::invalid_params("cursor must be a string")),
    }
}

/// The page a cursor points at; an unknown cursor is invalid params.
pub(crate) fn select(pages: &[Value], params: Option<&Value>) -> Result<Value, McpError> {
    let index = page_index(params, pages.len())?;
    pages
        .get(index)
        .cloned()
        .ok_or_else(|| McpError::invalid_params("invalid cursor"))
}

/// A list result `{key: [...], nextCursor?}` of serialized items, itself
/// serialized: the same text as the `Value` page of [`paginate`].
pub(crate) fn page_json(
    key: &str,
    items: &[&RawValue],
    next: Option<usize>,
) -> Result<Arc<RawValue>, serde_json::Error> {
    struct Page<'a> {
        key: &'a str,
        items: &'a [&'a RawValue],
        next: Option<usize>,
    }
    impl Serialize for Page<'_> {
        fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
            let mut map = ser.serialize_map(None)?;
            map.serialize_entry(self.key, self.items)?;
            if let Some(n) = self.next {
                map.serialize_entry("nextCursor", &cursor(n))?;
            }
            map.end()
        }
    }
    serde_json::value::to_raw_value(&Page { key, items, next }).map(Arc::from)
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
    fn serialized_pages_are_the_text_of_the_value_pages() {
        let items: Vec<Value> = (0..5)
            .map(|i| json!({"name": format!("t{i}"), "inputSchema": {"type": "object", "z": [1, "é\n"]}}))
            .collect();
        let raw: Vec<Box<RawValue>> = items
            .iter()
            .map(|v| serde_json::value::to_raw_value(v).unwrap())
            .collect();
        let refs: Vec<&RawValue> = raw.iter().map(|r| &**r).collect();
        for (i, page) in paginate(&items, "tools", 2).iter().enumerate() {
            let chunk = &refs[i * 2..(i * 2 + 2).min(refs.len())];
            let next = (i < 2).then_some(i + 1);
            let text = page_json("tools", chunk, next).unwrap();
            assert_eq!(text.get(), page.to_string());
        }
        assert_eq!(
            page_json("tools", &[], None).unwrap().get(),
            r#"{"tools":[]}"#
        );
    }

    #[test]
    fn empty_list_has_one_empty_page() {
        let pages = paginate(&[], "prompts", 10);
        assert_eq!(select(&pages, None).unwrap(), json!({ "prompts": [] }));
    }
}
