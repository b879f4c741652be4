// The TypeScript SDK 2.x client (@modelcontextprotocol/client) against the
// conformance server with its defaults (both eras served), over stdio and
// HTTP, in both of its negotiation modes: 'legacy' (initialize, 2025-11-25)
// and 'auto' (it probes server/discover and stays on 2026-07-28). The same
// calls work in both: tools, resources, templates, prompts, completion,
// progress, cancellation; sampling, elicitation and roots (server→client requests on a
// session, multi round-trip requests on the modern path); logs (after
// logging/setLevel on a session, per request log level on the modern path);
// change notifications (resources/subscribe on a session,
// subscriptions/listen on the modern path, delivered to the same
// notification handlers). And 'auto' against a server with the modern era
// switched off: its server/discover probe comes before initialize, the
// server (stdio included) survives it and the client falls back.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';

import {
  INSTANCE_URLS,
  REQUEST_TIMEOUT_MS,
  SERVER_BIN,
  TRANSPORTS,
  cancelledCalls,
  opts,
  sleep,
  startHttpServer,
  viaBalancer,
  waitFor,
} from './helpers.mjs';

/** The version each negotiation mode must end up on against our server. */
const MODES = { legacy: '2025-11-25', auto: '2026-07-28' };
const WATCHED = 'test://watched-resource';
const LOG_LEVEL_META = 'io.modelcontextprotocol/logLevel';
const LOG_LINES = ['Tool execution started', 'Tool processing data', 'Tool execution completed'];

/**
 * A 2.x client declaring sampling, elicitation and roots, recording what it is
 * asked and told; `serverArgs` go to a stdio server.
 */
async function connect(transportName, url, mode, answers = {}, serverArgs = []) {
  const rec = { sampling: [], elicitation: [], roots: 0, updated: [], toolsChanged: 0, promptsChanged: 0, logs: [] };
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
  client.setNotificationHandler('notifications/message', (n) => {
    rec.logs.push(n.params);
  });
  const transport =
    transportName === 'stdio'
      ? new StdioClientTransport({ command: SERVER_BIN, args: ['--transport', 'stdio', ...serverArgs], stderr: 'inherit' })
      : new StreamableHTTPClientTransport(new URL(url));
  await client.connect(transport, { timeout: REQUEST_TIMEOUT_MS });
  return { client, rec, transport };
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

      it(mode === 'auto' ? 'discovers the server with server/discover' : 'has no discover result', () =>
        run(async ({ client }) => {
          if (mode === 'legacy') {
            assert.equal(client.getDiscoverResult(), undefined);
            return;
          }
          const found = client.getDiscoverResult();
          assert.deepEqual(found.supportedVersions, ['2026-07-28']);
          assert.equal(found._meta['io.modelcontextprotocol/serverInfo'].name, 'conformance-server');
          assert.equal(found.capabilities.completions !== undefined, true);
          // Again, on the same connection (stdio: the same process).
          const again = await client.discover(opts);
          assert.deepEqual(again.supportedVersions, ['2026-07-28']);
        }));

      it('lists and reads resources and templates, gets prompts, completes arguments', () =>
        run(async ({ client }) => {
          const { resources } = await client.listResources(undefined, opts);
          assert.ok(resources.some((r) => r.uri === 'test://static-text'));
          const read = await client.readResource({ uri: 'test://static-text' }, opts);
          assert.equal(read.contents[0].uri, 'test://static-text');
          assert.equal(typeof read.contents[0].text, 'string');
          const { resourceTemplates } = await client.listResourceTemplates(undefined, opts);
          assert.deepEqual(
            resourceTemplates.map((t) => t.uriTemplate),
            ['test://template/{id}/data'],
          );
          const viaTemplate = await client.readResource({ uri: 'test://template/7/data' }, opts);
          assert.equal(viaTemplate.contents[0].uri, 'test://template/7/data');
          assert.match(viaTemplate.contents[0].text, /7/);

          const { prompts } = await client.listPrompts(undefined, opts);
          assert.ok(prompts.some((p) => p.name === 'test_prompt_with_arguments'));
          const got = await client.getPrompt(
            { name: 'test_prompt_with_arguments', arguments: { arg1: 'alpha', arg2: 'beta' } },
            opts,
          );
          assert.equal(got.messages[0].content.text, "Prompt with arguments: arg1='alpha', arg2='beta'");

          const ref = { type: 'ref/prompt', name: 'test_prompt_with_arguments' };
          const done = await client.complete({ ref, argument: { name: 'arg1', value: 'test' } }, opts);
          assert.deepEqual(done.completion, { values: ['testValue1', 'testValue2'], total: 2, hasMore: false });
          const ids = await client.complete(
            { ref: { type: 'ref/resource', uri: 'test://template/{id}/data' }, argument: { name: 'id', value: '12' } },
            opts,
          );
          assert.deepEqual(ids.completion.values, ['123', '124']);
        }));

      it('gets progress before the result, and reports it to onprogress', () =>
        run(async ({ client, transport }) => {
          // What reaches the SDK's transport, in order.
          const wire = [];
          const deliver = transport.onmessage;
          transport.onmessage = (message, extra) => {
            wire.push(message);
            deliver(message, extra);
          };
          const seen = [];
          const result = await client.callTool(
            { name: 'test_tool_with_progress', arguments: {} },
            { ...opts, onprogress: (p) => seen.push([p.progress, p.total]) },
          );
          assert.equal(result.isError ?? false, false);
          const sent = wire
            .filter((m) => m.method === 'notifications/progress' || m.result)
            .map((m) => (m.result ? 'result' : [m.params.progress, m.params.total]));
          assert.deepEqual(sent, [[0, 100], [50, 100], [100, 100], 'result']);
          // As in the 1.x SDK (tools.test.mjs): notification handlers run in a
          // microtask, a response at once, which drops the request's progress
          // handler, so a last notification read in the same chunk as the
          // result may never reach onprogress. The earlier ones, a step apart, do.
          assert.deepEqual(seen.slice(0, 2), [
            [0, 100],
            [50, 100],
          ]);
          assert.deepEqual(seen.slice(2), seen.length === 3 ? [[100, 100]] : []);
        }));

      it(mode === 'auto' ? 'gets logs for a request that asks with its log level' : 'gets logs after logging/setLevel', () =>
        run(async ({ client, rec }) => {
          const call = (meta) =>
            client.callTool({ name: 'test_tool_with_logging', arguments: {}, ...(meta && { _meta: meta }) }, opts);
          if (mode === 'legacy') {
            await client.setLoggingLevel('info', opts);
            await call();
          } else {
            await call();
            await new Promise((r) => setTimeout(r, 200));
            assert.deepEqual(rec.logs, [], 'no log level asked: no logs');
            await call({ [LOG_LEVEL_META]: 'error' });
            await new Promise((r) => setTimeout(r, 200));
            assert.deepEqual(rec.logs, [], 'info logs are below the error level');
            await call({ [LOG_LEVEL_META]: 'info' });
          }
          await waitFor(() => rec.logs.length >= LOG_LINES.length, 5000, 'the logs');
          assert.deepEqual(
            rec.logs.map((l) => [l.level, l.data]),
            LOG_LINES.map((line) => ['info', line]),
          );
        }));

      // Session era: notifications/cancelled. Modern: over HTTP the client
      // drops the request's response, over stdio it sends notifications/cancelled.
      // Counted per process: through a balancer, on every instance.
      const perInstance = !INSTANCE_URLS.length && viaBalancer('needs INTEROP_INSTANCE_URLS (a per-process counter)');
      it('stops a tool call it cancels', { skip: perInstance }, () =>
        run(async ({ client }) => {
          const before = await cancelledCalls(client);
          const controller = new AbortController();
          const call = client.callTool(
            { name: 'test_slow_operation', arguments: { seconds: 20 } },
            { ...opts, signal: controller.signal },
          );
          await sleep(300);
          controller.abort('the test gave up');
          await assert.rejects(call);
          await waitFor(async () => (await cancelledCalls(client)) > before, 5000, 'the cancellation to be counted');
          assert.equal(await cancelledCalls(client), before + 1);
          const quick = await client.callTool({ name: 'test_slow_operation', arguments: { seconds: 0.05 } }, opts);
          assert.equal(text(quick), 'Completed after 0.05 s');
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

for (const transport of TRANSPORTS) {
  describe(`TS SDK 2.x over ${transport}, mode auto, the server serving 2025-11-25 only`, () => {
    const off = ['--protocol-2026=false'];
    let http;
    before(async () => {
      if (transport === 'http') http = await startHttpServer('http', off);
    });
    after(async () => {
      await http?.stop();
    });

    it('falls back to initialize after its server/discover probe is refused', async () => {
      const { client, rec } = await connect(transport, http?.url, 'auto', {}, off);
      try {
        assert.equal(client.getNegotiatedProtocolVersion(), '2025-11-25');
        assert.equal(client.getProtocolEra(), 'legacy');
        assert.equal(client.getDiscoverResult(), undefined);
        // The same process (stdio) or endpoint serves the session: MRTR is off, real requests instead.
        const sampled = await client.callTool({ name: 'test_sampling', arguments: { prompt: 'after fallback' } }, opts);
        assert.equal(text(sampled), 'LLM response: sampled by the TS SDK 2.x');
        assert.equal(rec.sampling.length, 1);
      } finally {
        await client.close();
      }
    });
  });
}
