// The TypeScript SDK 2.x client (@modelcontextprotocol/client) against the
// conformance server with its defaults (both eras served), over stdio and
// HTTP, in both of its negotiation modes: 'legacy' (initialize, 2025-11-25)
// and 'auto' (it probes server/discover and stays on 2026-07-28). The same
// calls work in both: sampling, elicitation and roots (server→client requests
// on a session, multi round-trip requests on the modern path), and change
// notifications (resources/subscribe on a session, subscriptions/listen on
// the modern path, delivered to the same notification handlers).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';

import { REQUEST_TIMEOUT_MS, SERVER_BIN, TRANSPORTS, opts, startHttpServer, waitFor } from './helpers.mjs';

/** The version each negotiation mode must end up on against our server. */
const MODES = { legacy: '2025-11-25', auto: '2026-07-28' };
const WATCHED = 'test://watched-resource';

/** A 2.x client declaring sampling, elicitation and roots, recording what it is asked and told. */
async function connect(transportName, url, mode, answers = {}) {
  const rec = { sampling: [], elicitation: [], roots: 0, updated: [], toolsChanged: 0, promptsChanged: 0 };
  const client = new Client(
    { name: 'mcpgen-ts-sdk2-interop', version: '1.0.0' },
    {
      capabilities: { sampling: {}, elicitation: { form: {} }, roots: {} },
      versionNegotiation: { mode },
    },
  );
  client.setRequestHandler('sampling/createMessage', async (request) => {
    rec.sampling.push(request.params);
    const text = answers.samplingText ?? 'sampled by the TS SDK 2.x';
    return { role: 'assistant', content: { type: 'text', text }, model: 'ts2-model', stopReason: 'endTurn' };
  });
  client.setRequestHandler('elicitation/create', async (request) => {
    rec.elicitation.push(request.params);
    return answers.elicitation ?? { action: 'accept', content: { username: 'ts2', email: 'ts2@example.com' } };
  });
  client.setRequestHandler('roots/list', async () => {
    rec.roots += 1;
    return { roots: [{ uri: 'file:///tmp/ts2-root', name: 'TS2 Root' }] };
  });
  client.setNotificationHandler('notifications/resources/updated', (n) => {
    rec.updated.push(n.params.uri);
  });
  client.setNotificationHandler('notifications/tools/list_changed', () => {
    rec.toolsChanged += 1;
  });
  client.setNotificationHandler('notifications/prompts/list_changed', () => {
    rec.promptsChanged += 1;
  });
  const transport =
    transportName === 'stdio'
      ? new StdioClientTransport({ command: SERVER_BIN, args: ['--transport', 'stdio'], stderr: 'inherit' })
      : new StreamableHTTPClientTransport(new URL(url));
  await client.connect(transport, { timeout: REQUEST_TIMEOUT_MS });
  return { client, rec };
}

const text = (result) => result.content[0].text;

for (const transport of TRANSPORTS) {
  for (const [mode, version] of Object.entries(MODES)) {
    describe(`TS SDK 2.x over ${transport}, mode ${mode}`, () => {
      let http;
      before(async () => {
        if (transport === 'http') http = await startHttpServer();
      });
      after(async () => {
        await http?.stop();
      });
      const run = async (fn, answers) => {
        const conn = await connect(transport, http?.url, mode, answers);
        try {
          return await fn(conn);
        } finally {
          await conn.client.close();
        }
      };

      it(`negotiates ${version}`, () =>
        run(async ({ client }) => {
          assert.equal(client.getNegotiatedProtocolVersion(), version);
          assert.equal(client.getServerVersion().name, 'conformance-server');
          const caps = client.getServerCapabilities();
          assert.equal(caps.tools.listChanged, true);
          assert.equal(caps.resources.subscribe, true);
          const result = await client.callTool({ name: 'test_simple_text', arguments: {} }, opts);
          assert.equal(text(result), 'This is a simple text response for testing.');
        }));

      it('answers sampling, elicitation and roots through its handlers', () =>
        run(
          async ({ client, rec }) => {
            const sampled = await client.callTool(
              { name: 'test_sampling', arguments: { prompt: 'Name a prime number' } },
              opts,
            );
            assert.equal(text(sampled), 'LLM response: seven');
            assert.deepEqual(rec.sampling.map((p) => p.messages[0].content.text), ['Name a prime number']);

            const elicited = await client.callTool(
              { name: 'test_elicitation', arguments: { message: 'Who are you?' } },
              opts,
            );
            assert.equal(rec.elicitation.length, 1);
            assert.equal(rec.elicitation[0].message, 'Who are you?');
            assert.match(text(elicited), /action=accept/);

            const roots = await client.callTool({ name: 'test_list_roots', arguments: {} }, opts);
            assert.equal(rec.roots, 1);
            assert.deepEqual(JSON.parse(text(roots)).roots, [{ uri: 'file:///tmp/ts2-root', name: 'TS2 Root' }]);
          },
          { samplingText: 'seven' },
        ));

      // SEP-2243: on 2026-07-28 over HTTP the client mirrors region (base64:
      // it is not ASCII) and priority into Mcp-Param-* headers, which the
      // server checks against the arguments; elsewhere nothing is mirrored.
      it('calls a tool whose arguments are mirrored into headers', () =>
        run(async ({ client }) => {
          const { tools } = await client.listTools({}, opts);
          const props = tools.find((t) => t.name === 'test_custom_header').inputSchema.properties;
          assert.equal(props.region['x-mcp-header'], 'Region');
          const result = await client.callTool(
            { name: 'test_custom_header', arguments: { region: 'Zürich', priority: 7 } },
            opts,
          );
          assert.equal(text(result), 'region Zürich, priority 7');
          const bare = await client.callTool({ name: 'test_custom_header', arguments: { region: 'eu-west' } }, opts);
          assert.equal(text(bare), 'region eu-west');
        }));

      it('goes through several rounds of input for one call', () =>
        run(
          async ({ client, rec }) => {
            const result = await client.callTool({ name: 'test_input_required_result_multi_round', arguments: {} }, opts);
            assert.equal(text(result), 'Ada likes teal');
            assert.deepEqual(
              rec.elicitation.map((p) => p.message),
              ['Step 1: What is your name?', 'Step 2: What is your favorite color?'],
            );
          },
          { elicitation: { action: 'accept', content: { name: 'Ada', color: 'teal' } } },
        ));

      it('hears of resource updates and list changes it asked for', () =>
        run(async ({ client, rec }) => {
          let sub;
          if (mode === 'legacy') {
            assert.deepEqual(await client.subscribeResource({ uri: WATCHED }, opts), {});
          } else {
            sub = await client.listen({ resourceSubscriptions: [WATCHED], toolsListChanged: true }, opts);
            assert.deepEqual(sub.honoredFilter, { toolsListChanged: true, resourceSubscriptions: [WATCHED] });
          }
          await client.callTool({ name: 'test_touch_resource', arguments: { uri: WATCHED } }, opts);
          await client.callTool({ name: 'test_touch_resource', arguments: { uri: 'test://static-text' } }, opts);
          await client.callTool({ name: 'test_trigger_tool_change', arguments: {} }, opts);
          await waitFor(() => rec.updated.length >= 1 && rec.toolsChanged >= 1, 5000, 'the notifications');
          assert.deepEqual(rec.updated, [WATCHED], 'only the subscribed resource');
          if (sub) {
            // Not asked for on the listen stream.
            await client.callTool({ name: 'test_trigger_prompt_change', arguments: {} }, opts);
            await new Promise((r) => setTimeout(r, 200));
            assert.equal(rec.promptsChanged, 0);
            await sub.close();
            assert.equal(await sub.closed, 'local');
          }
        }));
    });
  }
}
