// Created by mcpgen from "petstore-oas30.json" as a starting point. This file is yours:
// mcpgen never overwrites it.

//! Your implementation of the server. mcpgen created this file once and never
//! touches it again: regenerating only rewrites the other files.

use crate::generated::*;

/// Holds the server's state; `main.rs` builds it with `Default`.
///
/// The `Handlers` trait has one method, `wrap_tool_call`, around every tool
/// call (a tenant, refusals, errors, audit); by default it runs the tool.
#[derive(Debug, Default)]
pub struct ServerHandlers {}

impl Handlers for ServerHandlers {}
