// Server-to-client traffic with the official TypeScript SDK client, over stdio,
// Streamable HTTP and the 2024-11-05 HTTP+SSE transport: logging, sampling,
// elicitation, roots and cancellation.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import {
  INSTANCE_URLS,
  SDK1_TRANSPORTS,
  cancelledCalls,
  opts,
  sleep,
  startHttpServer,
  viaBalancer,
  waitFor,
  withClient,
} from './helpers.mjs';

const LOG_LINES = ['Tool execution started', 'Tool processing data', 'Tool execution completed'];

for (const transport of SDK1_TRANSPORTS) {
  describe(`client features over ${transport}`, () => {
    let http;
    before(async () => {
      if (transport !== 'stdio') http = await startHttpServer(transport);
    });
    after(async () => {
      await http?.stop();
    });
    const run = (fn, answers) => withClient(transport, http?.url, fn, answers);

    it('delivers log messages after logging/setLevel', () =>
      run(async ({ client, rec }) => {
        assert.deepEqual(await client.setLoggingLevel('debug', opts), {});
        const before = rec.logs.length;
        const result = await client.callTool({ name: 'test_tool_with_logging', arguments: {} }, undefined, opts);
        assert.equal(result.content[0].text, 'Tool with logging executed successfully');
        await sleep(200);
        const logs = rec.logs.slice(before);
        assert.deepEqual(
          logs.map((l) => l.data),
          LOG_LINES,
        );
        assert.ok(logs.every((l) => l.level === 'info'));
      }));

    it('filters log messages below the set level', () =>
      run(async ({ client, rec }) => {
        await client.setLoggingLevel('warning', opts);
        const before = rec.logs.length;
        await client.callTool({ name: 'test_tool_with_logging', arguments: {} }, undefined, opts);
        await sleep(200);
        assert.deepEqual(rec.logs.slice(before), []);

        await client.setLoggingLevel('info', opts);
        await client.callTool({ name: 'test_tool_with_logging', arguments: {} }, undefined, opts);
        await sleep(200);
        assert.deepEqual(
          rec.logs.slice(before).map((l) => l.data),
          LOG_LINES,
        );
      }));

    it('asks the client to sample and returns its answer', () =>
      run(
        async ({ client, rec }) => {
          const result = await client.callTool(
            { name: 'test_sampling', arguments: { prompt: 'Name a prime number' } },
            undefined,
            opts,
          );
          assert.equal(result.content[0].text, 'LLM response: Sampled by the TS interop test');
          assert.equal(rec.samplingRequests.length, 1);
          const req = rec.samplingRequests[0];
          assert.equal(req.maxTokens, 100);
          assert.deepEqual(req.messages, [{ role: 'user', content: { type: 'text', text: 'Name a prime number' } }]);
        },
        { samplingText: 'Sampled by the TS interop test' },
      ));

    it('elicits a form and round-trips the accepted content', () =>
      run(async ({ client, rec }) => {
        const result = await client.callTool(
          { name: 'test_elicitation', arguments: { message: 'Please identify yourself' } },
          undefined,
          opts,
        );
        const text = result.content[0].text;
        assert.match(text, /^User response: action=accept, content=/);
        assert.deepEqual(JSON.parse(text.split('content=')[1]), { username: 'ts-user', email: 'ts-user@example.com' });
        assert.equal(rec.elicitationRequests.length, 1);
        const req = rec.elicitationRequests[0];
        assert.equal(req.message, 'Please identify yourself');
        assert.equal(req.requestedSchema.type, 'object');
        assert.deepEqual(Object.keys(req.requestedSchema.properties).sort(), ['email', 'username']);
      }));

    it('reports a cancelled elicitation', () =>
      run(
        async ({ client, rec }) => {
          const result = await client.callTool(
            { name: 'test_elicitation', arguments: { message: 'Anyone there?' } },
            undefined,
            opts,
          );
          assert.equal(rec.elicitationRequests.length, 1);
          assert.match(result.content[0].text, /action=cancel/);
        },
        { elicitation: { action: 'cancel' } },
      ));

    it('elicits forms with defaults and enums', () =>
      run(
        async ({ client, rec }) => {
          const result = await client.callTool(
            { name: 'test_elicitation_sep1034_defaults', arguments: {} },
            undefined,
            opts,
          );
          const props = rec.elicitationRequests[0].requestedSchema.properties;
          assert.equal(props.name.default, 'John Doe');
          assert.equal(props.age.default, 30);
          assert.equal(props.score.default, 95.5);
          assert.deepEqual(props.status.enum, ['active', 'inactive', 'pending']);
          assert.equal(props.status.default, 'active');
          assert.equal(props.verified.default, true);
          const content = JSON.parse(result.content[0].text.split('content=')[1]);
          assert.deepEqual(content, { name: 'Jane Smith', age: 25, score: 88, status: 'inactive', verified: false });
        },
        {
          elicitation: {
            action: 'accept',
            content: { name: 'Jane Smith', age: 25, score: 88, status: 'inactive', verified: false },
          },
        },
      ));

    it('matches concurrent sampling requests to their calls', () =>
      run(
        async ({ client, rec }) => {
          const prompts = [0, 1, 2, 3].map((i) => `prompt number ${i}`);
          const results = await Promise.all(
            prompts.map((prompt) => client.callTool({ name: 'test_sampling', arguments: { prompt } }, undefined, opts)),
          );
          assert.deepEqual(
            results.map((r) => r.content[0].text),
            prompts.map((p) => `LLM response: echo: ${p}`),
          );
          assert.equal(rec.samplingRequests.length, prompts.length);
        },
        { samplingEcho: true },
      ));

    // The cancellation may reach another instance than the call's: counted
    // on all of them, which needs $INTEROP_INSTANCE_URLS.
    const perInstance = !INSTANCE_URLS.length && viaBalancer('needs INTEROP_INSTANCE_URLS (a per-process counter)');
    it('stops a tool call the client cancels', { skip: perInstance }, () =>
      run(async ({ client }) => {
        const before = await cancelledCalls(client);
        const controller = new AbortController();
        const call = client.callTool({ name: 'test_slow_operation', arguments: { seconds: 20 } }, undefined, {
          ...opts,
          signal: controller.signal,
        });
        await sleep(300);
        controller.abort('the test gave up');
        await assert.rejects(call);
        // The SDK sends notifications/cancelled; the server stops the handler.
        await waitFor(async () => (await cancelledCalls(client)) > before, 5000, 'the cancellation to be counted');
        assert.equal(await cancelledCalls(client), before + 1);
        const quick = await client.callTool(
          { name: 'test_slow_operation', arguments: { seconds: 0.05 } },
          undefined,
          opts,
        );
        assert.equal(quick.content[0].text, 'Completed after 0.05 s');
      }));

    it('asks the client for its roots', () =>
      run(async ({ client, rec }) => {
        const result = await client.callTool({ name: 'test_list_roots', arguments: {} }, undefined, opts);
        assert.equal(rec.rootsRequests, 1);
        assert.deepEqual(JSON.parse(result.content[0].text), {
          roots: [
            { uri: 'file:///tmp/ts-root-a', name: 'TS Root A' },
            { uri: 'file:///tmp/ts-root-b', name: 'TS Root B' },
          ],
        });
      }));
  });
}
