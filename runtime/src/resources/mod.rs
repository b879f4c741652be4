//! `resources/*`: static resources, handler-backed resources, templates and
//! subscriptions.

pub(crate) mod uri_template;

use crate::context::RequestContext;
use crate::error::McpError;
use crate::model::{ReadResourceResult, ResourceContents};
use crate::pagination;
use futures::future::BoxFuture;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
pub(crate) use uri_template::UriTemplate;

pub(crate) type ResourceFn = Arc<
    dyn Fn(RequestContext, String) -> BoxFuture<'static, Result<ReadResourceResult, McpError>>
        + Send
        + Sync,
>;
pub(crate) type TemplateFn = Arc<
    dyn Fn(
            RequestContext,
            String,
            BTreeMap<String, String>,
        ) -> BoxFuture<'static, Result<ReadResourceResult, McpError>>
        + Send
        + Sync,
>;

pub(crate) enum Body {
    Text(String),
    Blob(String),
    Handler(ResourceFn),
}

pub(crate) struct Resource {
    pub uri: String,
    pub descriptor: Value,
    pub body: Body,
}

pub(crate) struct Template {
    pub descriptor: Value,
    pub template: UriTemplate,
    pub handler: TemplateFn,
}

pub(crate) struct Registry {
    by_uri: HashMap<String, Resource>,
    templates: Vec<Template>,
    pages: Vec<Value>,
    template_pages: Vec<Value>,
}

impl Registry {
    pub(crate) fn new(
        resources: Vec<Resource>,
        templates: Vec<Template>,
        page_size: usize,
    ) -> Self {
        let listed: Vec<Value> = resources.iter().map(|r| r.descriptor.clone()).collect();
        let listed_templates: Vec<Value> = templates.iter().map(|t| t.descriptor.clone()).collect();
        Registry {
            pages: pagination::paginate(&listed, "resources", page_size),
            template_pages: pagination::paginate(&listed_templates, "resourceTemplates", page_size),
            by_uri: resources.into_iter().map(|r| (r.uri.clone(), r)).collect(),
            templates,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.by_uri.is_empty() && self.templates.is_empty()
    }

    pub(crate) fn has_templates(&self) -> bool {
        !self.templates.is_empty()
    }

    pub(crate) fn list(&self, params: Option<&Value>) -> Result<Value, McpError> {
        pagination::select(&self.pages, params)
    }

    pub(crate) fn list_templates(&self, params: Option<&Value>) -> Result<Value, McpError> {
        pagination::select(&self.template_pages, params)
    }

    /// The template a completion reference names, by its uriTemplate.
    pub(crate) fn knows_template(&self, uri_template: &str) -> bool {
        self.templates
            .iter()
            .any(|t| t.descriptor.get("uriTemplate").and_then(Value::as_str) == Some(uri_template))
    }

    /// Whether `uri` names something this server can read.
    pub(crate) fn exists(&self, uri: &str) -> bool {
        self.by_uri.contains_key(uri)
            || self
                .templates
                .iter()
                .any(|t| t.template.matches(uri).is_some())
    }

    pub(crate) async fn read(
        &self,
        ctx: RequestContext,
        params: Option<&Value>,
    ) -> Result<Value, McpError> {
        let uri = uri_param(params)?;
        let result = if let Some(r) = self.by_uri.get(&uri) {
            let mime = r.descriptor.get("mimeType").and_then(Value::as_str);
            match &r.body {
                Body::Text(t) => ReadResourceResult {
                    contents: vec![ResourceContents::text(&uri, mime, t)],
                },
                Body::Blob(b) => ReadResourceResult {
                    contents: vec![ResourceContents::blob(&uri, mime, b)],
                },
                Body::Handler(h) => h(ctx, uri.clone()).await?,
            }
        } else if let Some((t, vars)) = self
            .templates
            .iter()
            .find_map(|t| Some((t, t.template.matches(&uri)?)))
        {
            (t.handler)(ctx, uri.clone(), vars).await?
        } else {
            return Err(McpError::resource_not_found(&uri));
        };
        serde_json::to_value(result).map_err(|e| McpError::internal(e.to_string()))
    }
}

/// Longest URI accepted in a request: far above any real resource URI, and
/// small enough that matching and storing one costs nothing.
pub(crate) const MAX_URI_BYTES: usize = 8 * 1024;

pub(crate) fn uri_param(params: Option<&Value>) -> Result<String, McpError> {
    let uri = params
        .and_then(|p| p.get("uri"))
        .and_then(Value::as_str)
        .ok_or_else(|| McpError::invalid_params("missing string parameter `uri`"))?;
    if uri.len() > MAX_URI_BYTES {
        return Err(McpError::invalid_params(format!(
            "uri is longer than {MAX_URI_BYTES} bytes"
        )));
    }
    Ok(uri.to_owned())
}
