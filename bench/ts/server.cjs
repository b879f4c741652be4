// The TypeScript SDK comparison server of the benchmark suite
// (docs/benchmarks.md): test_simple_text on the SDK's McpServer, served
// statefully over Streamable HTTP at /mcp the way the SDK's README does it
// (one transport + McpServer per session, kept in a map by session id).
//
//   BENCH_NPM_DIR=.tools/npm node bench/ts/server.cjs --bind 127.0.0.1:PORT
//
// CommonJS with createRequire so the SDK resolves from .tools/npm (pinned in
// tests/interop/package.json) although this file lives elsewhere.
'use strict';
const http = require('node:http');
const path = require('node:path');
const { randomUUID } = require('node:crypto');
const { createRequire } = require('node:module');

const npmDir = process.env.BENCH_NPM_DIR;
if (!npmDir) {
  console.error('BENCH_NPM_DIR must point at the npm install (.tools/npm)');
  process.exit(2);
}
const req = createRequire(path.resolve(npmDir, 'package.json'));
const { McpServer } = req('@modelcontextprotocol/sdk/server/mcp.js');
const { StreamableHTTPServerTransport } = req('@modelcontextprotocol/sdk/server/streamableHttp.js');
const { isInitializeRequest } = req('@modelcontextprotocol/sdk/types.js');

const args = process.argv.slice(2);
if (args.length !== 2 || args[0] !== '--bind') {
  console.error('usage: server.cjs --bind HOST:PORT');
  process.exit(2);
}
const sep = args[1].lastIndexOf(':');
const host = args[1].slice(0, sep);
const port = Number(args[1].slice(sep + 1));

function newServer() {
  const server = new McpServer({ name: 'bench-ts', version: '0.1.0' });
  server.registerTool(
    'test_simple_text',
    { description: 'Returns a simple text response.' },
    async () => ({ content: [{ type: 'text', text: 'This is a simple text response for testing.' }] }),
  );
  return server;
}

const transports = new Map();

function reply(res, status, message) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
}

async function onPost(request, res, body) {
  const id = request.headers['mcp-session-id'];
  let transport = id ? transports.get(id) : undefined;
  if (!transport) {
    if (id || !isInitializeRequest(body)) return reply(res, id ? 404 : 400, 'no valid session');
    transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (sid) => transports.set(sid, transport),
    });
    transport.onclose = () => transport.sessionId && transports.delete(transport.sessionId);
    await newServer().connect(transport);
  }
  await transport.handleRequest(request, res, body);
}

http
  .createServer((request, res) => {
    if (request.method !== 'POST') return reply(res, 405, 'POST only');
    const chunks = [];
    request.on('data', (c) => chunks.push(c));
    request.on('end', () => {
      let body;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return reply(res, 400, 'bad JSON');
      }
      onPost(request, res, body).catch((e) => {
        console.error(e);
        if (!res.headersSent) reply(res, 500, 'internal error');
      });
    });
  })
  .listen(port, host);
