// Shared helpers for the TypeScript-SDK interop tests (run with Node 22's
// `node --test`, through scripts/interop.sh ts).
//
// Each test file runs its cases once per transport: "stdio" (the SDK spawns
// the conformance server) and "http" (one server per file on a free
// 127.0.0.1 port, reached with StreamableHTTPClientTransport); the files of
// the 1.x client (SDK1_TRANSPORTS) also "sse": a server started with
// --legacy-sse, reached over the deprecated 2024-11-05 HTTP+SSE transport
// with SSEClientTransport.
//
// INTEROP_HTTP_URL=url runs the HTTP cases only, against a server already
// running there (scripts/scale-out.sh: HAProxy in front of several instances
// sharing Redis, every request possibly on another instance).
// INTEROP_INSTANCE_URLS (space-separated) then names each instance behind
// it, for the few tests that read a per-process counter (see cancelledCalls).

import { spawn } from 'node:child_process';
import { createServer, connect as tcpConnect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';

export const SERVER_BIN = process.env.CONFORMANCE_SERVER_BIN;
if (!SERVER_BIN) {
  throw new Error('CONFORMANCE_SERVER_BIN must name the conformance-server binary (run scripts/interop.sh ts)');
}

/** The server the HTTP cases use instead of starting their own, if any. */
export const EXTERNAL_HTTP_URL = process.env.INTEROP_HTTP_URL || undefined;
/**
 * Set on a test that cannot hold through a load balancer, to skip it there:
 * `it(name, { skip: viaBalancer('why') }, fn)`.
 */
export const viaBalancer = (why) => (EXTERNAL_HTTP_URL ? `through a load balancer: ${why}` : false);

/** Each instance behind $INTEROP_HTTP_URL, reached directly. */
export const INSTANCE_URLS = (process.env.INTEROP_INSTANCE_URLS ?? '').split(/\s+/).filter(Boolean);

export const TRANSPORTS = EXTERNAL_HTTP_URL ? ['http'] : ['stdio', 'http'];
/** TRANSPORTS and the 2024-11-05 HTTP+SSE one, which the 1.x client still speaks. */
export const SDK1_TRANSPORTS = EXTERNAL_HTTP_URL ? TRANSPORTS : [...TRANSPORTS, 'sse'];

/** The URL of the 2024-11-05 SSE stream of the server whose MCP endpoint is `url`. */
export const sseUrl = (url) => new URL('/sse', url);
/** Upper bound for any single request. */
export const REQUEST_TIMEOUT_MS = 30_000;

export const PNG_B64 =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
export const WAV_B64 = 'UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=';

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port) {
  return new Promise((resolve) => {
    const sock = tcpConnect({ host: '127.0.0.1', port });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

/**
 * Start the server over HTTP (or take $INTEROP_HTTP_URL when there are no
 * `extraArgs`); resolves to { url, stop() }.
 * `transport` 'sse' serves the 2024-11-05 HTTP+SSE transport beside (--legacy-sse);
 * `extraArgs` go to the server.
 */
export async function startHttpServer(transport = 'http', extraArgs = []) {
  if (EXTERNAL_HTTP_URL && extraArgs.length === 0) return { url: EXTERNAL_HTTP_URL, async stop() {} };
  const port = await freePort();
  const legacy = transport === 'sse' ? ['--legacy-sse'] : [];
  const args = ['--transport', 'http', '--bind', `127.0.0.1:${port}`, ...legacy, ...extraArgs];
  const child = spawn(SERVER_BIN, args, {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-4000);
  });
  let exited = null;
  child.once('exit', (code, signal) => {
    exited = { code, signal };
  });
  const deadline = Date.now() + 30_000;
  while (!(await canConnect(port))) {
    if (exited) throw new Error(`conformance-server exited early (${JSON.stringify(exited)}):\n${stderr}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`conformance-server did not listen on 127.0.0.1:${port}:\n${stderr}`);
    }
    await sleep(50);
  }
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    async stop() {
      if (exited) return;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(t);
    },
  };
}

/**
 * Connect a Client that declares sampling, elicitation and roots and records
 * everything the server sends it. `answers` overrides what the callbacks reply.
 */
export async function connect(transportName, httpUrl, answers = {}) {
  const rec = { logs: [], samplingRequests: [], elicitationRequests: [], rootsRequests: 0 };
  const client = new Client(
    { name: 'mcpgen-ts-interop', version: '1.0.0' },
    { capabilities: { sampling: {}, elicitation: { form: {} }, roots: { listChanged: true } } },
  );
  client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
    rec.samplingRequests.push(request.params);
    const text = answers.samplingEcho
      ? `echo: ${request.params.messages[0].content.text}`
      : (answers.samplingText ?? 'This is a test response from the TypeScript client');
    return {
      role: 'assistant',
      content: { type: 'text', text },
      model: 'ts-interop-model',
      stopReason: 'endTurn',
    };
  });
  client.setRequestHandler(ElicitRequestSchema, async (request) => {
    rec.elicitationRequests.push(request.params);
    return answers.elicitation ?? { action: 'accept', content: { username: 'ts-user', email: 'ts-user@example.com' } };
  });
  client.setRequestHandler(ListRootsRequestSchema, async () => {
    rec.rootsRequests += 1;
    return {
      roots: answers.roots ?? [
        { uri: 'file:///tmp/ts-root-a', name: 'TS Root A' },
        { uri: 'file:///tmp/ts-root-b', name: 'TS Root B' },
      ],
    };
  });
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
    rec.logs.push(n.params);
  });

  let transport;
  if (transportName === 'stdio') {
    transport = new StdioClientTransport({ command: SERVER_BIN, args: ['--transport', 'stdio'], stderr: 'inherit' });
  } else if (transportName === 'sse') {
    transport = new SSEClientTransport(sseUrl(httpUrl));
  } else {
    transport = new StreamableHTTPClientTransport(new URL(httpUrl));
  }
  await client.connect(transport, { timeout: REQUEST_TIMEOUT_MS });
  return { client, transport, rec };
}

/** Run `fn({client, transport, rec})` with a fresh connection, always closing it. */
export async function withClient(transportName, httpUrl, fn, answers) {
  const conn = await connect(transportName, httpUrl, answers);
  try {
    return await fn(conn);
  } finally {
    await conn.client.close();
  }
}

export const opts = { timeout: REQUEST_TIMEOUT_MS };

/**
 * Calls cancelled so far (test://stats, a counter of each server process).
 * Behind a load balancer the handler may run on any instance: the sum over
 * all of them, each read on a session of its own.
 */
export async function cancelledCalls(client) {
  const read = async (c) =>
    JSON.parse((await c.readResource({ uri: 'test://stats' }, opts)).contents[0].text).cancelledCalls;
  if (!EXTERNAL_HTTP_URL) return read(client);
  let sum = 0;
  for (const url of INSTANCE_URLS) sum += await withClient('http', url, ({ client: c }) => read(c));
  return sum;
}

/** Poll `cond` every 20 ms until it holds; fail after `ms`. */
export async function waitFor(cond, ms, what) {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(20);
  }
}
export { sleep };
