// The TypeScript SDK (1.32.2) against an upstream that does not keep to its
// document (tests/e2e/deviating.yaml). The SDK validates structuredContent
// against a tool's declared outputSchema and throws on a mismatch, so this
// proves the declared schema accepts what the real API sent, and that the
// whole response arrives as a success. Run by scripts/e2e.sh, which sets
// MCP_SDK_DIR, DEVIATING_SERVER_BIN and HTTPBIN_URL.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';

const { SDK, BIN, HTTPBIN } = {
  SDK: process.env.MCP_SDK_DIR,
  BIN: process.env.DEVIATING_SERVER_BIN,
  HTTPBIN: process.env.HTTPBIN_URL,
};
if (!SDK || !BIN || !HTTPBIN) {
  throw new Error('MCP_SDK_DIR, DEVIATING_SERVER_BIN and HTTPBIN_URL must be set (run scripts/e2e.sh)');
}
const sdk = (path) => import(pathToFileURL(`${SDK}/dist/esm/${path}`).href);
const { Client } = await sdk('client/index.js');
const { StdioClientTransport } = await sdk('client/stdio.js');

async function connect() {
  const transport = new StdioClientTransport({
    command: BIN,
    args: ['--transport', 'stdio', '--base-url', HTTPBIN],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
  });
  const client = new Client({ name: 'mcpgen-e2e-ts', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

const timeout = { timeout: 30_000 };

test('a response that breaks its document is a success carrying all its data', async () => {
  const client = await connect();
  try {
    // listTools caches each tool's outputSchema: callTool validates against it.
    const { tools } = await client.listTools();
    assert.ok(tools.find((t) => t.name === 'get_record')?.outputSchema, 'get_record declares an outputSchema');
    const r = await client.callTool({ name: 'get_record', arguments: {} }, undefined, timeout);
    assert.notEqual(r.isError, true, JSON.stringify(r));
    const echo = r.structuredContent;
    // null for a non-nullable object, a missing required id, extra fields,
    // a string where an integer is documented: all of it passed on.
    assert.equal(echo.json, null);
    assert.equal('id' in echo, false);
    assert.equal(echo.method, 'GET');
    assert.equal(typeof echo.origin, 'string');
    assert.ok(echo.headers && echo.args, 'the undocumented fields arrive');
    assert.deepEqual(JSON.parse(r.content[0].text), echo);
    assert.match(r.content.at(-1).text, /^Note: the response departs from the API's own description/);
  } finally {
    await client.close();
  }
});

test('an object where the document promises a list still arrives whole', async () => {
  const client = await connect();
  try {
    await client.listTools();
    const r = await client.callTool({ name: 'list_names', arguments: {} }, undefined, timeout);
    assert.notEqual(r.isError, true, JSON.stringify(r));
    assert.equal(r.structuredContent.result.method, 'GET');
    assert.match(r.content.at(-1).text, /`type` fails at \/result/);
  } finally {
    await client.close();
  }
});
