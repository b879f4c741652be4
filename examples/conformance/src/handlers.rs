// Created by mcpgen from "conformance.yaml" as a starting point. This file is yours:
// mcpgen never overwrites it.

//! The conformance server's behaviour: what the official MCP conformance
//! suite (`scripts/conformance.sh`) and the interop tests (`tests/interop`)
//! expect of each tool, template and prompt. Payloads follow the suite's
//! reference server (see `docs/conformance-notes.md` §5–§7).

use crate::generated::*;
use mcpgen_runtime::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::time::sleep;

/// A 1x1 red PNG.
pub const PNG_BASE64: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
/// A minimal WAV file.
pub const WAV_BASE64: &str = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=";

/// Pause between the steps of the logging and progress tools.
const STEP: Duration = Duration::from_millis(50);

/// The longest `slow_compute` task.
const MAX_TASK: Duration = Duration::from_secs(120);
/// The longest `test_slow_operation` waits.
const MAX_SLOW: Duration = Duration::from_secs(30);

/// Sessions live in the runtime; the handlers only keep counters for
/// `test://stats`.
#[derive(Debug, Default)]
pub struct ServerHandlers {
    /// `test_slow_operation` calls that ended because the client cancelled them.
    cancelled_calls: AtomicU64,
}

/// The text of a `sampling/createMessage` result: its content is one block
/// or (2025-11-25, with tools) an array of blocks.
fn sampled_text(result: &Value) -> String {
    let text_of = |block: &Value| block.get("text").and_then(Value::as_str).map(str::to_owned);
    match result.get("content") {
        Some(Value::Array(blocks)) => blocks
            .iter()
            .filter_map(text_of)
            .collect::<Vec<_>>()
            .join("\n"),
        Some(block) => text_of(block).unwrap_or_default(),
        None => String::new(),
    }
}

/// `action=…, content=…` of an `elicitation/create` result.
fn elicited(result: &Value) -> String {
    let action = result
        .get("action")
        .and_then(Value::as_str)
        .unwrap_or("unknown");
    let content = result.get("content").cloned().unwrap_or(Value::Null);
    format!("action={action}, content={content}")
}

/// An `elicitation/create` asking for one string field, `name`.
fn ask_name(message: &str) -> Value {
    json!({
        "message": message,
        "requestedSchema": {
            "type": "object",
            "properties": {"name": {"type": "string"}},
            "required": ["name"]
        }
    })
}

/// An `elicitation/create` asking for a yes/no confirmation.
fn confirm() -> Value {
    json!({
        "message": "Please confirm",
        "requestedSchema": {
            "type": "object",
            "properties": {"ok": {"type": "boolean"}},
            "required": ["ok"]
        }
    })
}

/// A `sampling/createMessage` of one user message.
fn sample(text: &str, max_tokens: u32) -> Value {
    json!({
        "messages": [{"role": "user", "content": {"type": "text", "text": text}}],
        "maxTokens": max_tokens
    })
}

/// A field of an accepted elicitation's content, as text.
fn field(result: &Value, name: &str) -> String {
    match result.get("content").and_then(|c| c.get(name)) {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => format!("(no {name})"),
    }
}

impl Handlers for ServerHandlers {
    async fn test_simple_text(
        &self,
        _ctx: RequestContext,
        _args: TestSimpleTextArgs,
    ) -> Result<CallToolResult, ToolError> {
        Ok(CallToolResult::text(
            "This is a simple text response for testing.",
        ))
    }

    async fn test_image_content(
        &self,
        _ctx: RequestContext,
        _args: TestImageContentArgs,
    ) -> Result<CallToolResult, ToolError> {
        Ok(CallToolResult::content(vec![Content::image(
            PNG_BASE64,
            "image/png",
        )]))
    }

    async fn test_audio_content(
        &self,
        _ctx: RequestContext,
        _args: TestAudioContentArgs,
    ) -> Result<CallToolResult, ToolError> {
        Ok(CallToolResult::content(vec![Content::audio(
            WAV_BASE64,
            "audio/wav",
        )]))
    }

    async fn test_embedded_resource(
        &self,
        _ctx: RequestContext,
        _args: TestEmbeddedResourceArgs,
    ) -> Result<CallToolResult, ToolError> {
        Ok(CallToolResult::content(vec![Content::resource(
            ResourceContents::text(
                "test://embedded-resource",
                Some("text/plain"),
                "This is an embedded resource content.",
            ),
        )]))
    }

    async fn test_multiple_content_types(
        &self,
        _ctx: RequestContext,
        _args: TestMultipleContentTypesArgs,
    ) -> Result<CallToolResult, ToolError> {
        Ok(CallToolResult::content(vec![
            Content::text("Multiple content types test:"),
            Content::image(PNG_BASE64, "image/png"),
            Content::resource(ResourceContents::text(
                "test://mixed-content-resource",
                Some("application/json"),
                json!({ "test": "data", "value": 123 }).to_string(),
            )),
        ]))
    }

    async fn test_tool_with_logging(
        &self,
        ctx: RequestContext,
        _args: TestToolWithLoggingArgs,
    ) -> Result<CallToolResult, ToolError> {
        ctx.info("Tool execution started");
        sleep(STEP).await;
        ctx.info("Tool processing data");
        sleep(STEP).await;
        ctx.info("Tool execution completed");
        Ok(CallToolResult::text(
            "Tool with logging executed successfully",
        ))
    }

    async fn test_error_handling(
        &self,
        _ctx: RequestContext,
        _args: TestErrorHandlingArgs,
    ) -> Result<CallToolResult, ToolError> {
        Err(ToolError::new(
            "This tool intentionally returns an error for testing",
        ))
    }

    async fn test_tool_with_progress(
        &self,
        ctx: RequestContext,
        _args: TestToolWithProgressArgs,
    ) -> Result<CallToolResult, ToolError> {
        for (i, progress) in [0.0, 50.0, 100.0].into_iter().enumerate() {
            if i > 0 {
                sleep(STEP).await;
            }
            ctx.progress(progress, Some(100.0), None);
        }
        let token = match ctx.meta().and_then(|m| m.get("progressToken")) {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => "no progress token".to_owned(),
        };
        Ok(CallToolResult::text(token))
    }

    async fn test_sampling(
        &self,
        ctx: RequestContext,
        args: TestSamplingArgs,
    ) -> Result<CallToolResult, ToolError> {
        let result = ctx
            .create_message(json!({
                "messages": [{ "role": "user", "content": { "type": "text", "text": args.prompt } }],
                "maxTokens": 100,
            }))
            .await?;
        Ok(CallToolResult::text(format!(
            "LLM response: {}",
            sampled_text(&result)
        )))
    }

    async fn test_elicitation(
        &self,
        ctx: RequestContext,
        args: TestElicitationArgs,
    ) -> Result<CallToolResult, ToolError> {
        let result = ctx
            .elicit(json!({
                "message": args.message,
                "requestedSchema": {
                    "type": "object",
                    "properties": {
                        "username": { "type": "string", "description": "User's response" },
                        "email": { "type": "string", "description": "User's email address" },
                    },
                    "required": ["username", "email"],
                },
            }))
            .await?;
        Ok(CallToolResult::text(format!(
            "User response: {}",
            elicited(&result)
        )))
    }

    async fn test_elicitation_sep1034_defaults(
        &self,
        ctx: RequestContext,
        _args: TestElicitationSep1034DefaultsArgs,
    ) -> Result<CallToolResult, ToolError> {
        let result = ctx
            .elicit(json!({
                "message": "Please review and update the form fields with defaults",
                "requestedSchema": {
                    "type": "object",
                    "properties": {
                        "name": { "type": "string", "description": "User name", "default": "John Doe" },
                        "age": { "type": "integer", "description": "User age", "default": 30 },
                        "score": { "type": "number", "description": "User score", "default": 95.5 },
                        "status": {
                            "type": "string",
                            "description": "User status",
                            "enum": ["active", "inactive", "pending"],
                            "default": "active",
                        },
                        "verified": { "type": "boolean", "description": "Verification status", "default": true },
                    },
                    "required": [],
                },
            }))
            .await?;
        Ok(CallToolResult::text(format!(
            "Elicitation completed: {}",
            elicited(&result)
        )))
    }

    async fn test_elicitation_sep1330_enums(
        &self,
        ctx: RequestContext,
        _args: TestElicitationSep1330EnumsArgs,
    ) -> Result<CallToolResult, ToolError> {
        let result = ctx
            .elicit(json!({
                "message": "Please select options from the enum fields",
                "requestedSchema": {
                    "type": "object",
                    "properties": {
                        "untitledSingle": {
                            "type": "string",
                            "description": "Select one option",
                            "enum": ["option1", "option2", "option3"],
                        },
                        "titledSingle": {
                            "type": "string",
                            "description": "Select one option with titles",
                            "oneOf": [
                                { "const": "value1", "title": "First Option" },
                                { "const": "value2", "title": "Second Option" },
                                { "const": "value3", "title": "Third Option" },
                            ],
                        },
                        "legacyEnum": {
                            "type": "string",
                            "description": "Select one option (legacy)",
                            "enum": ["opt1", "opt2", "opt3"],
                            "enumNames": ["Option One", "Option Two", "Option Three"],
                        },
                        "untitledMulti": {
                            "type": "array",
                            "description": "Select multiple options",
                            "minItems": 1,
                            "maxItems": 3,
                            "items": { "type": "string", "enum": ["option1", "option2", "option3"] },
                        },
                        "titledMulti": {
                            "type": "array",
                            "description": "Select multiple options with titles",
                            "minItems": 1,
                            "maxItems": 3,
                            "items": {
                                "anyOf": [
                                    { "const": "value1", "title": "First Choice" },
                                    { "const": "value2", "title": "Second Choice" },
                                    { "const": "value3", "title": "Third Choice" },
                                ],
                            },
                        },
                    },
                    "required": [],
                },
            }))
            .await?;
        Ok(CallToolResult::text(format!(
            "Elicitation completed: {}",
            elicited(&result)
        )))
    }

    async fn json_schema_2020_12_tool(
        &self,
        _ctx: RequestContext,
        args: JsonSchema202012ToolArgs,
    ) -> Result<CallToolResult, ToolError> {
        let args = serde_json::to_value(&args)?;
        Ok(CallToolResult::text(format!("Received: {args}")))
    }

    async fn test_reconnection(
        &self,
        ctx: RequestContext,
        _args: TestReconnectionArgs,
    ) -> Result<CallToolResult, ToolError> {
        // End the HTTP response stream now (after its priming event); the
        // client reconnects with Last-Event-ID and gets the result there.
        ctx.close_sse_stream(Duration::from_millis(100));
        sleep(Duration::from_millis(100)).await;
        Ok(CallToolResult::text(
            "Reconnection test completed successfully. If you received this, the client properly reconnected after stream closure.",
        ))
    }

    async fn test_list_roots(
        &self,
        ctx: RequestContext,
        _args: TestListRootsArgs,
    ) -> Result<CallToolResult, ToolError> {
        let result = ctx.list_roots().await?;
        let roots = result.get("roots").cloned().unwrap_or_else(|| json!([]));
        Ok(CallToolResult::text(json!({ "roots": roots }).to_string()))
    }

    async fn test_missing_capability(
        &self,
        ctx: RequestContext,
        _args: TestMissingCapabilityArgs,
    ) -> Result<CallToolResult, ToolError> {
        let result = ctx
            .create_message(json!({
                "messages": [{"role": "user", "content": {"type": "text", "text": "Say hello"}}],
                "maxTokens": 20
            }))
            .await?;
        Ok(CallToolResult::text(sampled_text(&result)))
    }

    async fn test_streaming_elicitation(
        &self,
        ctx: RequestContext,
        _args: TestStreamingElicitationArgs,
    ) -> Result<CallToolResult, ToolError> {
        ctx.progress(0.0, Some(1.0), Some("asking the user"));
        let result = ctx
            .elicit(json!({
                "message": "Please provide your name",
                "requestedSchema": {
                    "type": "object",
                    "properties": {"name": {"type": "string"}},
                    "required": ["name"]
                }
            }))
            .await?;
        Ok(CallToolResult::text(elicited(&result)))
    }

    async fn test_logging_tool(
        &self,
        ctx: RequestContext,
        _args: TestLoggingToolArgs,
    ) -> Result<CallToolResult, ToolError> {
        ctx.info("Logging tool started");
        sleep(STEP).await;
        ctx.info("Logging tool completed");
        Ok(CallToolResult::text("Logging tool executed"))
    }

    async fn test_trigger_tool_change(
        &self,
        ctx: RequestContext,
        _args: TestTriggerToolChangeArgs,
    ) -> Result<CallToolResult, ToolError> {
        ctx.server().notify_list_changed("tools");
        Ok(CallToolResult::text("Announced a tool list change"))
    }

    async fn test_trigger_prompt_change(
        &self,
        ctx: RequestContext,
        _args: TestTriggerPromptChangeArgs,
    ) -> Result<CallToolResult, ToolError> {
        ctx.server().notify_list_changed("prompts");
        Ok(CallToolResult::text("Announced a prompt list change"))
    }

    async fn test_custom_header(
        &self,
        _ctx: RequestContext,
        args: TestCustomHeaderArgs,
    ) -> Result<CallToolResult, ToolError> {
        // The transport has already checked the Mcp-Param-* headers.
        Ok(CallToolResult::text(match args.priority {
            Some(p) => format!("region {}, priority {p}", args.region),
            None => format!("region {}", args.region),
        }))
    }

    async fn test_input_required_result_elicitation(
        &self,
        ctx: RequestContext,
        _args: TestInputRequiredResultElicitationArgs,
    ) -> Result<CallToolResult, ToolError> {
        let answer = ctx
            .elicit_as("user_name", ask_name("What is your name?"))
            .await?;
        Ok(CallToolResult::text(format!(
            "Hello, {}!",
            field(&answer, "name")
        )))
    }

    async fn test_input_required_result_sampling(
        &self,
        ctx: RequestContext,
        _args: TestInputRequiredResultSamplingArgs,
    ) -> Result<CallToolResult, ToolError> {
        let question = sample("What is the capital of France?", 100);
        let answer = ctx.create_message_as("capital_question", question).await?;
        Ok(CallToolResult::text(sampled_text(&answer)))
    }

    async fn test_input_required_result_list_roots(
        &self,
        ctx: RequestContext,
        _args: TestInputRequiredResultListRootsArgs,
    ) -> Result<CallToolResult, ToolError> {
        let answer = ctx.list_roots_as("client_roots").await?;
        let roots = answer.get("roots").cloned().unwrap_or_else(|| json!([]));
        Ok(CallToolResult::text(format!("Client roots: {roots}")))
    }

    async fn test_input_required_result_request_state(
        &self,
        ctx: RequestContext,
        _args: TestInputRequiredResultRequestStateArgs,
    ) -> Result<CallToolResult, ToolError> {
        let answer = ctx.elicit_as("confirm", confirm()).await?;
        // Reaching this line on a stateless request means the runtime
        // opened and checked the echoed requestState (a bad one is refused).
        Ok(CallToolResult::text(format!(
            "state-ok: {}",
            elicited(&answer)
        )))
    }

    async fn test_input_required_result_multiple_inputs(
        &self,
        ctx: RequestContext,
        _args: TestInputRequiredResultMultipleInputsArgs,
    ) -> Result<CallToolResult, ToolError> {
        // Asked together, so one round carries all three.
        let (name, greeting, roots) = tokio::join!(
            ctx.elicit_as("user_name", ask_name("What is your name?")),
            ctx.create_message_as("greeting", sample("Generate a greeting", 50)),
            ctx.list_roots_as("client_roots"),
        );
        let (name, greeting, roots) = (name?, greeting?, roots?);
        Ok(CallToolResult::text(format!(
            "{} {}; roots: {}",
            sampled_text(&greeting),
            field(&name, "name"),
            roots.get("roots").cloned().unwrap_or_else(|| json!([]))
        )))
    }

    async fn test_input_required_result_multi_round(
        &self,
        ctx: RequestContext,
        _args: TestInputRequiredResultMultiRoundArgs,
    ) -> Result<CallToolResult, ToolError> {
        let name = ctx
            .elicit_as("step1", ask_name("Step 1: What is your name?"))
            .await?;
        let color = ctx
            .elicit_as(
                "step2",
                json!({
                    "message": "Step 2: What is your favorite color?",
                    "requestedSchema": {
                        "type": "object",
                        "properties": {"color": {"type": "string"}},
                        "required": ["color"]
                    }
                }),
            )
            .await?;
        Ok(CallToolResult::text(format!(
            "{} likes {}",
            field(&name, "name"),
            field(&color, "color")
        )))
    }

    async fn test_input_required_result_tampered_state(
        &self,
        ctx: RequestContext,
        _args: TestInputRequiredResultTamperedStateArgs,
    ) -> Result<CallToolResult, ToolError> {
        let answer = ctx.elicit_as("confirm", confirm()).await?;
        Ok(CallToolResult::text(format!(
            "state-ok: {}",
            elicited(&answer)
        )))
    }

    async fn test_input_required_result_capabilities(
        &self,
        ctx: RequestContext,
        _args: TestInputRequiredResultCapabilitiesArgs,
    ) -> Result<CallToolResult, ToolError> {
        let caps = ctx.client_capabilities();
        let mut parts = Vec::new();
        // Ask only for what the client can answer.
        if caps.get("sampling").is_some() {
            let answer = ctx
                .create_message_as("sample", sample("Say hello", 20))
                .await?;
            parts.push(format!("sampled: {}", sampled_text(&answer)));
        }
        if caps.get("elicitation").is_some() {
            let answer = ctx
                .elicit_as("user_name", ask_name("What is your name?"))
                .await?;
            parts.push(format!("elicited: {}", field(&answer, "name")));
        }
        if parts.is_empty() {
            parts.push("the client declared neither sampling nor elicitation".into());
        }
        Ok(CallToolResult::text(parts.join("; ")))
    }

    async fn test_add(
        &self,
        _ctx: RequestContext,
        args: TestAddArgs,
    ) -> Result<CallToolResult, ToolError> {
        Ok(CallToolResult::structured(
            json!({ "sum": args.a + args.b }),
        ))
    }

    async fn test_touch_resource(
        &self,
        ctx: RequestContext,
        args: TestTouchResourceArgs,
    ) -> Result<CallToolResult, ToolError> {
        ctx.notify_resource_updated(&args.uri);
        Ok(CallToolResult::text(format!(
            "Notified the subscribers of {}",
            args.uri
        )))
    }

    async fn test_slow_operation(
        &self,
        ctx: RequestContext,
        args: TestSlowOperationArgs,
    ) -> Result<CallToolResult, ToolError> {
        let wait = Duration::try_from_secs_f64(args.seconds.max(0.0))
            .unwrap_or(MAX_SLOW)
            .min(MAX_SLOW);
        tokio::select! {
            _ = sleep(wait) => Ok(CallToolResult::text(format!("Completed after {} s", wait.as_secs_f64()))),
            _ = ctx.cancelled() => {
                self.cancelled_calls.fetch_add(1, Ordering::SeqCst);
                Err(ToolError::new("cancelled"))
            }
        }
    }

    async fn greet(
        &self,
        _ctx: RequestContext,
        args: GreetArgs,
    ) -> Result<CallToolResult, ToolError> {
        Ok(CallToolResult::text(format!("Hello, {}!", args.name)))
    }

    async fn slow_compute(
        &self,
        ctx: RequestContext,
        args: SlowComputeArgs,
    ) -> Result<CallToolResult, ToolError> {
        let wait = Duration::try_from_secs_f64(args.seconds.max(0.0))
            .unwrap_or(MAX_TASK)
            .min(MAX_TASK);
        let label = args.label.unwrap_or_default();
        tokio::select! {
            _ = sleep(wait) => Ok(CallToolResult::text(format!(
                "Computed {label} after {} s",
                wait.as_secs_f64()
            ))),
            // A cancelled task settles as cancelled whatever this returns.
            _ = ctx.cancelled() => Err(ToolError::new("cancelled")),
        }
    }

    async fn failing_job(
        &self,
        _ctx: RequestContext,
        _args: FailingJobArgs,
    ) -> Result<CallToolResult, ToolError> {
        sleep(Duration::from_secs(1)).await;
        Err(ToolError::new("failing_job always fails"))
    }

    async fn protocol_error_job(
        &self,
        _ctx: RequestContext,
        _args: ProtocolErrorJobArgs,
    ) -> Result<CallToolResult, ToolError> {
        // On purpose: the suite checks that a task whose handler dies
        // reports `failed` with a JSON-RPC error.
        panic!("protocol_error_job fails on purpose")
    }

    async fn confirm_delete(
        &self,
        ctx: RequestContext,
        args: ConfirmDeleteArgs,
    ) -> Result<CallToolResult, ToolError> {
        let message = format!("Delete {}?", args.filename);
        let answer = ctx
            .elicit_as(
                "confirm",
                json!({
                    "message": message,
                    "requestedSchema": {
                        "type": "object",
                        "properties": {"confirm": {"type": "boolean"}},
                        "required": ["confirm"]
                    }
                }),
            )
            .await?;
        let done = answer["action"] == "accept" && answer["content"]["confirm"] == true;
        Ok(CallToolResult::text(if done {
            format!("Deleted {}", args.filename)
        } else {
            format!("Kept {}", args.filename)
        }))
    }

    async fn multi_input(
        &self,
        ctx: RequestContext,
        _args: MultiInputArgs,
    ) -> Result<CallToolResult, ToolError> {
        // Asked together, so both are pending at once.
        let (first, second) = tokio::join!(
            ctx.elicit_as("first", ask_name("First name?")),
            ctx.elicit_as("second", ask_name("Second name?")),
        );
        let (first, second) = (first?, second?);
        Ok(CallToolResult::text(format!(
            "{} and {}",
            field(&first, "name"),
            field(&second, "name")
        )))
    }

    async fn test_tool_with_task(
        &self,
        ctx: RequestContext,
        _args: TestToolWithTaskArgs,
    ) -> Result<CallToolResult, ToolError> {
        // Inline (MRTR) until the name is known; then the rest runs as a
        // task, where this handler runs again and the ask returns at once.
        let answer = ctx
            .elicit_as("user_name", ask_name("What is your name?"))
            .await?;
        ctx.continue_as_task()?;
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        Ok(CallToolResult::text(format!(
            "Hello, {}!",
            field(&answer, "name")
        )))
    }

    async fn read_stats(
        &self,
        _ctx: RequestContext,
        uri: String,
    ) -> Result<ReadResourceResult, McpError> {
        let stats = json!({ "cancelledCalls": self.cancelled_calls.load(Ordering::SeqCst) });
        Ok(ReadResourceResult::text(
            uri,
            Some("application/json"),
            stats.to_string(),
        ))
    }

    async fn read_template(
        &self,
        _ctx: RequestContext,
        uri: String,
        params: TemplateParams,
    ) -> Result<ReadResourceResult, McpError> {
        let data = json!({
            "id": params.id,
            "templateTest": true,
            "data": format!("Data for ID: {}", params.id),
        });
        Ok(ReadResourceResult::text(
            uri,
            Some("application/json"),
            data.to_string(),
        ))
    }

    async fn prompt_test_prompt_with_embedded_resource(
        &self,
        _ctx: RequestContext,
        args: TestPromptWithEmbeddedResourcePromptArgs,
    ) -> Result<GetPromptResult, McpError> {
        Ok(GetPromptResult {
            description: None,
            messages: vec![
                PromptMessage::user(Content::resource(ResourceContents::text(
                    args.resource_uri,
                    Some("text/plain"),
                    "Embedded resource content for testing.",
                ))),
                PromptMessage::user(Content::text("Please process the embedded resource above.")),
            ],
        })
    }

    async fn prompt_test_input_required_result_prompt(
        &self,
        ctx: RequestContext,
        _args: TestInputRequiredResultPromptPromptArgs,
    ) -> Result<GetPromptResult, McpError> {
        let answer = ctx
            .elicit_as(
                "user_context",
                json!({
                    "message": "What context should the prompt use?",
                    "requestedSchema": {
                        "type": "object",
                        "properties": {"context": {"type": "string"}},
                        "required": ["context"]
                    }
                }),
            )
            .await?;
        Ok(GetPromptResult {
            description: None,
            messages: vec![PromptMessage::user(Content::text(format!(
                "Answer with this context in mind: {}",
                field(&answer, "context")
            )))],
        })
    }
}
