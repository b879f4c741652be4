// The 2024-11-05 HTTP+SSE transport (--legacy-sse) with the TypeScript SDK
// 1.x SSEClientTransport: what the shared test files cannot show, the
// transport's own errors and the end of a session with its stream. (Tools,
// resources, prompts, progress, logging, sampling, elicitation, roots and
// cancellation over it run in tools, resources-prompts and client-features.)

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';

import { EXTERNAL_HTTP_URL, opts, sseUrl, startHttpServer, waitFor } from './helpers.mjs';

const skip = EXTERNAL_HTTP_URL ? 'the legacy transport is served by one instance (docs/deployment.md)' : false;

const ping = { jsonrpc: '2.0', id: 1, method: 'ping' };
const post = (url, body, type = 'application/json') =>
  fetch(url, { method: 'POST', headers: { 'content-type': type }, body });

describe('the 2024-11-05 HTTP+SSE transport', { skip }, () => {
  let on;
  let off;
  before(async () => {
    [on, off] = await Promise.all([startHttpServer('sse'), startHttpServer('http')]);
  });
  after(async () => {
    await Promise.all([on?.stop(), off?.stop()]);
  });

  it('is not served without --legacy-sse', async () => {
    const r = await fetch(sseUrl(off.url), { headers: { accept: 'text/event-stream' } });
    assert.equal(r.status, 404);
    await r.body?.cancel();
    const client = new Client({ name: 'mcpgen-ts-interop', version: '1.0.0' });
    await assert.rejects(client.connect(new SSEClientTransport(sseUrl(off.url)), opts));
  });

  it('answers 404 for an unknown session and 400 without one', async () => {
    const unknown = await post(new URL('/messages?sessionId=00000000000000000000000000000000', on.url), JSON.stringify(ping));
    assert.equal(unknown.status, 404);
    assert.equal((await unknown.json()).error.code, -32001);
    const missing = await post(new URL('/messages', on.url), JSON.stringify(ping));
    assert.equal(missing.status, 400);
  });

  it('refuses a body that is not JSON, and the session goes on', async () => {
    const transport = new SSEClientTransport(sseUrl(on.url));
    const client = new Client({ name: 'mcpgen-ts-interop', version: '1.0.0' });
    await client.connect(transport, opts);
    try {
      const endpoint = transport._endpoint;
      assert.ok(endpoint instanceof URL, 'the SDK keeps the endpoint the server named');
      assert.equal(endpoint.pathname, '/messages');
      const bad = await post(endpoint, '{"jsonrpc":');
      assert.equal(bad.status, 400);
      assert.equal((await bad.json()).error.code, -32700);
      const text = await post(endpoint, JSON.stringify(ping), 'text/plain');
      assert.equal(text.status, 415);
      assert.deepEqual(await client.ping(opts), {});
    } finally {
      await client.close();
    }
  });

  it('ends the session when the client closes its stream', async () => {
    const transport = new SSEClientTransport(sseUrl(on.url));
    const client = new Client({ name: 'mcpgen-ts-interop', version: '1.0.0' });
    await client.connect(transport, opts);
    const endpoint = transport._endpoint;
    assert.deepEqual(await client.ping(opts), {});
    await client.close();
    await waitFor(async () => (await post(endpoint, JSON.stringify(ping))).status === 404, 5000, 'the session to end');
  });
});
