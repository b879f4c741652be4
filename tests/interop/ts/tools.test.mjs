// Lifecycle and tools with the official TypeScript SDK client, over stdio,
// Streamable HTTP and the 2024-11-05 HTTP+SSE transport.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';

import { PNG_B64, SDK1_TRANSPORTS, WAV_B64, opts, startHttpServer, withClient } from './helpers.mjs';

const EXPECTED_TOOLS = [
  'confirm_delete',
  'failing_job',
  'greet',
  'json_schema_2020_12_tool',
  'multi_input',
  'protocol_error_job',
  'slow_compute',
  'test_add',
  'test_audio_content',
  'test_custom_header',
  'test_elicitation',
  'test_elicitation_sep1034_defaults',
  'test_elicitation_sep1330_enums',
  'test_embedded_resource',
  'test_error_handling',
  'test_image_content',
  'test_input_required_result_capabilities',
  'test_input_required_result_elicitation',
  'test_input_required_result_list_roots',
  'test_input_required_result_multi_round',
  'test_input_required_result_multiple_inputs',
  'test_input_required_result_request_state',
  'test_input_required_result_sampling',
  'test_input_required_result_tampered_state',
  'test_list_roots',
  'test_logging_tool',
  'test_missing_capability',
  'test_multiple_content_types',
  'test_reconnection',
  'test_sampling',
  'test_simple_text',
  'test_slow_operation',
  'test_streaming_elicitation',
  'test_tool_with_logging',
  'test_tool_with_progress',
  'test_tool_with_task',
  'test_touch_resource',
  'test_trigger_prompt_change',
  'test_trigger_tool_change',
];

for (const transport of SDK1_TRANSPORTS) {
  describe(`tools over ${transport}`, () => {
    let http;
    before(async () => {
      if (transport !== 'stdio') http = await startHttpServer(transport);
    });
    after(async () => {
      await http?.stop();
    });
    const run = (fn, answers) => withClient(transport, http?.url, fn, answers);

    it('initializes and answers ping', () =>
      run(async ({ client }) => {
        assert.deepEqual(client.getServerVersion(), {
          name: 'conformance-server',
          version: '0.1.0',
          title: 'mcpgen conformance server',
          description: 'Implements every tool, resource and prompt the MCP conformance suite exercises.',
        });
        assert.match(client.getInstructions(), /conformance suite/);
        const caps = client.getServerCapabilities();
        for (const cap of ['tools', 'resources', 'prompts', 'logging', 'completions']) {
          assert.equal(typeof caps[cap], 'object', `capability ${cap}`);
        }
        assert.equal(caps.resources.subscribe, true);
        assert.deepEqual(await client.ping(opts), {});
      }));

    it('lists every tool with its schema', () =>
      run(async ({ client }) => {
        const { tools, nextCursor } = await client.listTools({}, opts);
        assert.equal(nextCursor, undefined);
        assert.deepEqual(tools.map((t) => t.name).sort(), EXPECTED_TOOLS);
        for (const tool of tools) {
          assert.ok(tool.description, tool.name);
          assert.equal(tool.inputSchema.type, 'object', tool.name);
        }
        const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
        const js = byName.json_schema_2020_12_tool.inputSchema;
        assert.equal(js.$schema, 'https://json-schema.org/draft/2020-12/schema');
        assert.deepEqual(js.$defs.address.properties, { street: { type: 'string' }, city: { type: 'string' } });
        assert.deepEqual(js.properties.address, { $ref: '#/$defs/address' });
        assert.equal(js.additionalProperties, false);
        assert.deepEqual(byName.test_sampling.inputSchema.required, ['prompt']);
        assert.deepEqual(byName.test_add.outputSchema.required, ['sum']);
        assert.equal(byName.test_add.annotations.readOnlyHint, true);
        assert.equal(byName.test_add.annotations.openWorldHint, false);
      }));

    it('returns text, image, audio and embedded content', () =>
      run(async ({ client }) => {
        const simple = await client.callTool({ name: 'test_simple_text' }, undefined, opts);
        assert.deepEqual(simple.content, [{ type: 'text', text: 'This is a simple text response for testing.' }]);

        const image = await client.callTool({ name: 'test_image_content', arguments: {} }, undefined, opts);
        assert.deepEqual(image.content, [{ type: 'image', data: PNG_B64, mimeType: 'image/png' }]);

        const audio = await client.callTool({ name: 'test_audio_content', arguments: {} }, undefined, opts);
        assert.deepEqual(audio.content, [{ type: 'audio', data: WAV_B64, mimeType: 'audio/wav' }]);
        assert.equal(Buffer.from(audio.content[0].data, 'base64').subarray(0, 4).toString(), 'RIFF');

        const embedded = await client.callTool({ name: 'test_embedded_resource', arguments: {} }, undefined, opts);
        assert.deepEqual(embedded.content, [
          {
            type: 'resource',
            resource: {
              uri: 'test://embedded-resource',
              mimeType: 'text/plain',
              text: 'This is an embedded resource content.',
            },
          },
        ]);

        const mixed = await client.callTool({ name: 'test_multiple_content_types', arguments: {} }, undefined, opts);
        assert.deepEqual(
          mixed.content.map((c) => c.type),
          ['text', 'image', 'resource'],
        );
        assert.deepEqual(JSON.parse(mixed.content[2].resource.text), { test: 'data', value: 123 });
      }));

    it('returns structured content matching the output schema', () =>
      run(async ({ client }) => {
        await client.listTools({}, opts); // lets the SDK validate structuredContent against outputSchema
        const result = await client.callTool({ name: 'test_add', arguments: { a: 2, b: 3.5 } }, undefined, opts);
        assert.equal(result.isError, undefined);
        assert.deepEqual(result.structuredContent, { sum: 5.5 });
        assert.deepEqual(JSON.parse(result.content[0].text), { sum: 5.5 });
      }));

    it('reports a failing tool as an isError result', () =>
      run(async ({ client }) => {
        const result = await client.callTool({ name: 'test_error_handling', arguments: {} }, undefined, opts);
        assert.equal(result.isError, true);
        assert.equal(result.content[0].text, 'This tool intentionally returns an error for testing');
      }));

    it('reports invalid arguments as an isError result', () =>
      run(async ({ client }) => {
        const wrongType = await client.callTool({ name: 'test_add', arguments: { a: 'two', b: 3 } }, undefined, opts);
        assert.equal(wrongType.isError, true);
        assert.match(wrongType.content[0].text, /test_add/);
        assert.equal(wrongType.structuredContent, undefined);

        const missing = await client.callTool({ name: 'test_elicitation', arguments: {} }, undefined, opts);
        assert.equal(missing.isError, true);
        assert.match(missing.content[0].text, /message/);

        const ok = await client.callTool({ name: 'test_add', arguments: { a: 1, b: 1 } }, undefined, opts);
        assert.deepEqual(ok.structuredContent, { sum: 2 });
      }));

    it('rejects an unknown tool with a protocol error', () =>
      run(async ({ client }) => {
        await assert.rejects(
          client.callTool({ name: 'no_such_tool', arguments: {} }, undefined, opts),
          (err) => {
            assert.ok(err instanceof McpError, String(err));
            assert.equal(err.code, ErrorCode.InvalidParams);
            assert.match(err.message, /no_such_tool/);
            return true;
          },
        );
      }));

    it('sends progress notifications before the result', () =>
      run(async ({ client, transport }) => {
        // What reaches the SDK's transport, in order.
        const wire = [];
        const deliver = transport.onmessage;
        transport.onmessage = (message, extra) => {
          wire.push(message);
          deliver(message, extra);
        };
        const progress = [];
        const result = await client.callTool({ name: 'test_tool_with_progress', arguments: {} }, undefined, {
          ...opts,
          onprogress: (p) => progress.push(p),
        });
        const sent = wire
          .filter((m) => m.method === 'notifications/progress' || m.result)
          .map((m) => (m.result ? 'result' : [m.params.progress, m.params.total]));
        assert.deepEqual(sent, [[0, 100], [50, 100], [100, 100], 'result']);
        // The SDK runs notification handlers in a microtask but handles a
        // response at once, dropping the request's progress handler: a last
        // notification read in the same chunk as the result never reaches
        // onprogress (sdk/dist/esm/shared/protocol.js, _onnotification and
        // _onresponse). The earlier ones, a step apart, always do.
        const seen = progress.map((p) => [p.progress, p.total]);
        assert.deepEqual(seen.slice(0, 2), [
          [0, 100],
          [50, 100],
        ]);
        assert.ok(seen.length === 2 || (seen.length === 3 && seen[2][0] === 100), JSON.stringify(seen));
        // The tool answers with the progress token it received (the SDK uses the request id).
        assert.match(result.content[0].text, /^\d+$/);
      }));

    it('completes a call whose stream the server closes early', () =>
      run(async ({ client }) => {
        const result = await client.callTool({ name: 'test_reconnection', arguments: {} }, undefined, opts);
        assert.match(result.content[0].text, /^Reconnection test completed successfully/);
        const after = await client.callTool({ name: 'test_add', arguments: { a: 40, b: 2 } }, undefined, opts);
        assert.deepEqual(after.structuredContent, { sum: 42 });
      }));

    if (transport === 'http') {
      it('terminates the session with DELETE', () =>
        run(async ({ client, transport: t }) => {
          assert.ok(t.sessionId, 'the server assigned a session id');
          await t.terminateSession();
          assert.equal(t.sessionId, undefined);
        }));
    }
  });
}
