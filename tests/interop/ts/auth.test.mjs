// The OAuth 2.1 resource server (docs/auth.md) against real parts: npm
// oidc-provider as the authorization server (oidc-as.mjs) and the official
// TypeScript SDK client's OAuth support, with runtime/examples/auth_server.rs
// ($AUTH_SERVER_BIN, built by scripts/interop.sh ts): `whoami` needs the
// server-wide scope `mcp`, `write_note` also `notes:write`.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, connect as tcpConnect } from 'node:net';
import { createHmac, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';

import { startAuthServer, clientCredentialsToken, authorizeHeadless, rsaKey, signJwt, TOKEN_EXCHANGE } from './oidc-as.mjs';

const BIN = process.env.AUTH_SERVER_BIN;
const SCOPES = ['mcp', 'notes:write'];

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

const canConnect = (port) =>
  new Promise((resolve) => {
    const s = tcpConnect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

/** Our server on `port` behind `issuer`; its stderr (debug logs) is kept. */
async function startMcp(port, issuer, extraArgs = [], env = {}) {
  const child = spawn(
    BIN,
    ['--transport', 'http', '--bind', `127.0.0.1:${port}`, '--auth-issuer', issuer, ...extraArgs],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, MCP_LOG: 'debug', ...env } },
  );
  const proc = { child, log: '' };
  child.stderr.on('data', (d) => (proc.log += d));
  const deadline = Date.now() + 30_000;
  while (!(await canConnect(port))) {
    if (child.exitCode !== null) throw new Error(`auth_server exited:\n${proc.log}`);
    if (Date.now() > deadline) throw new Error(`auth_server did not listen:\n${proc.log}`);
    await sleep(50);
  }
  proc.stop = async () => {
    if (child.exitCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await gone;
  };
  return proc;
}

let as, mcp, hiding, httpbin, ownClient, port, url, resource;
const logs = [];
const tokensSeen = [];

before(async () => {
  assert.ok(BIN, 'AUTH_SERVER_BIN must name the auth_server example (run scripts/interop.sh ts)');
  port = await freePort();
  resource = `http://127.0.0.1:${port}/mcp`;
  url = new URL(resource);
  as = await startAuthServer({ resource, scopes: SCOPES });
  // The introspection client: registered like any other.
  // The server's own client at the AS (introspection, token exchange):
  // registered like any other.
  const { client } = await clientCredentialsToken(as.issuer, { resource, scope: 'mcp', name: 'introspector', grants: [TOKEN_EXCHANGE] });
  ownClient = client;
  httpbin = await startHttpbin();
  mcp = await startMcp(port, as.issuer, ['--auth-jwks-refresh', '1'], serverEnv());
});

/**
 * httpbin (PyPI, under gunicorn) on a free port, with the e2e suite's
 * gunicorn config: the Authorization header of every request it receives
 * goes to a file, read by `requests()` (tool results show it redacted).
 */
async function startHttpbin() {
  const hbPort = await freePort();
  const log = join(mkdtempSync(join(tmpdir(), 'auth-httpbin-')), 'requests.jsonl');
  writeFileSync(log, '');
  const config = fileURLToPath(new URL('../../e2e/gunicorn.conf.py', import.meta.url));
  const gunicorn = ['-m', 'gunicorn', '--config', config, '--bind', `127.0.0.1:${hbPort}`, 'httpbin:app'];
  const child = spawn(process.env.HTTPBIN_PYTHON, gunicorn, {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
    env: { ...process.env, HTTPBIN_REQUEST_LOG: log },
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  const deadline = Date.now() + 30_000;
  while (!(await canConnect(hbPort))) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`httpbin did not start:\n${stderr}`);
    await sleep(100);
  }
  return {
    port: hbPort,
    /** The Authorization header of each request since the last call. */
    authorizations: (() => {
      let seen = 0;
      return () => {
        const lines = readFileSync(log, 'utf8').split('\n').filter(Boolean);
        const fresh = lines.slice(seen).map((l) => JSON.parse(l)[2]);
        seen = lines.length;
        return fresh;
      };
    })(),
    stop: async () => {
      if (child.exitCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      process.kill(-child.pid, 'SIGTERM');
      await gone;
    },
  };
}

function serverEnv() {
  return {
    MCP_AUTH_CLIENT_ID: ownClient.client_id,
    MCP_AUTH_CLIENT_SECRET: ownClient.client_secret,
    // The API's own origin, and another origin of the same httpbin.
    AUTH_EXAMPLE_API: `http://127.0.0.1:${httpbin.port}`,
    AUTH_EXAMPLE_OTHER_API: `http://localhost:${httpbin.port}`,
  };
}

after(async () => {
  await mcp?.stop();
  await hiding?.stop();
  await httpbin?.stop();
  await as?.stop();
  // Tokens never appear in logs, whatever happened to them.
  for (const log of [mcp?.log ?? '', ...logs]) {
    for (const t of tokensSeen) {
      assert.ok(!log.includes(t), 'a token appeared in the server log');
      const sig = t.split('.').at(-1);
      if (sig.length > 16) assert.ok(!log.includes(sig), 'a token signature appeared in the server log');
    }
  }
});

const INIT = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
};

async function post(body, token, extra = {}, to = url) {
  if (token) tokensSeen.push(token);
  const headers = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    ...(token ? { authorization: `Bearer ${token}` } : {}),
    ...extra,
  };
  return fetch(to, { method: 'POST', headers, body: JSON.stringify(body) });
}

/** A session on `token`: its id. */
async function session(token, to = url) {
  const r = await post(INIT, token, {}, to);
  assert.equal(r.status, 200, await r.text());
  const sid = r.headers.get('mcp-session-id');
  await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, token, { 'mcp-session-id': sid }, to);
  return sid;
}

const V2026 = '2026-07-28';

/** A stateless MCP 2026-07-28 request (no session), declaring elicitation. */
function modern(method, params, token, to = url) {
  const name = params.name ?? params.uri;
  const extra = { 'mcp-protocol-version': V2026, 'mcp-method': method, ...(name ? { 'mcp-name': name } : {}) };
  const _meta = {
    'io.modelcontextprotocol/protocolVersion': V2026,
    'io.modelcontextprotocol/clientCapabilities': { elicitation: {} },
  };
  return post({ jsonrpc: '2.0', id: 7, method, params: { ...params, _meta } }, token, extra, to);
}

function callTool(name, args, token, sid, to = url) {
  const body = { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name, arguments: args } };
  return post(body, token, { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' }, to);
}

test('Protected Resource Metadata names the AS, the resource and every scope', async () => {
  for (const path of ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']) {
    const r = await fetch(new URL(path, url));
    assert.equal(r.status, 200, path);
    const doc = await r.json();
    assert.equal(doc.resource, resource);
    assert.deepEqual(doc.authorization_servers, [as.issuer]);
    assert.deepEqual(doc.scopes_supported, SCOPES);
  }
});

test('no token: 401 with a challenge naming the metadata and the scope', async () => {
  const r = await post(INIT);
  assert.equal(r.status, 401);
  const challenge = r.headers.get('www-authenticate');
  assert.match(challenge, /^Bearer /);
  assert.ok(challenge.includes(`resource_metadata="http://127.0.0.1:${port}/.well-known/oauth-protected-resource/mcp"`), challenge);
  assert.ok(challenge.includes('scope="mcp"'), challenge);
  assert.ok(!challenge.includes('error='), 'no error code without a token (RFC 6750 §3.1)');
});

/**
 * The SDK's OAuthClientProvider for a public client with the authorization
 * code grant and PKCE: what it stores, and the authorization URL the SDK
 * sends the user to (driven headless by authorizeHeadless).
 */
class RecordingProvider {
  constructor() {
    this.registrations = 0;
    this.authorizations = [];
  }
  get redirectUrl() { return 'http://127.0.0.1:9/callback'; }
  get clientMetadata() {
    return {
      client_name: 'sdk-client',
      redirect_uris: [this.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  clientInformation() { return this.info; }
  saveClientInformation(info) { this.registrations += 1; this.info = info; }
  tokens() { return this.saved; }
  saveTokens(t) { tokensSeen.push(t.access_token); this.saved = t; }
  redirectToAuthorization(u) { this.authorizations.push(new URL(u)); }
  saveCodeVerifier(v) { this.verifier = v; }
  codeVerifier() { return this.verifier; }
}

/** Authorize what the SDK last asked for, and connect again with the code. */
async function login(provider) {
  const code = await authorizeHeadless(provider.authorizations.at(-1), provider.redirectUrl);
  const transport = new StreamableHTTPClientTransport(url, { authProvider: provider });
  await transport.finishAuth(code);
  const client = new Client({ name: 'auth-interop', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

test('the TypeScript SDK client: discovery from the 401, registration, authorization, a call, then step-up on 403', async () => {
  const provider = new RecordingProvider();
  const first401 = new Client({ name: 'auth-interop', version: '1.0.0' });
  await assert.rejects(
    first401.connect(new StreamableHTTPClientTransport(url, { authProvider: provider })),
    UnauthorizedError,
  );
  const client = await login(provider);
  assert.equal(provider.registrations, 1, 'registered dynamically');
  const first = provider.authorizations[0];
  assert.equal(first.searchParams.get('scope'), 'mcp', 'asked for the scope of the challenge');
  assert.equal(first.searchParams.get('resource'), resource, 'the RFC 8707 resource indicator');

  const who = await client.callTool({ name: 'whoami', arguments: {} });
  const caller = who.structuredContent.caller;
  assert.equal(caller.subject, 'alice', 'the handler sees the principal');
  assert.equal(caller.clientId, provider.info.client_id);
  assert.deepEqual(caller.scopes, ['mcp']);

  // write_note needs notes:write: 403 insufficient_scope, and the SDK sends
  // the user to authorize the scopes the challenge names.
  await assert.rejects(client.callTool({ name: 'write_note', arguments: { text: 'hi' } }), UnauthorizedError);
  const stepUp = provider.authorizations.at(-1);
  assert.equal(stepUp.searchParams.get('scope'), 'mcp notes:write');
  await client.close();
  const upscoped = await login(provider);
  const wrote = await upscoped.callTool({ name: 'write_note', arguments: { text: 'hi' } });
  assert.equal(wrote.structuredContent.stored, 'hi');
  assert.equal(provider.registrations, 1, 'the same client after step-up');
  await upscoped.close();
});

test('a token without the tool scope: 403 insufficient_scope naming it, other tools work', async () => {
  const { token } = await clientCredentialsToken(as.issuer, { resource, scope: 'mcp' });
  const sid = await session(token);
  const r = await callTool('write_note', { text: 'x' }, token, sid);
  assert.equal(r.status, 403);
  const challenge = r.headers.get('www-authenticate');
  assert.ok(challenge.includes('error="insufficient_scope"'), challenge);
  assert.ok(challenge.includes('scope="mcp notes:write"'), challenge);
  const ok = await callTool('whoami', {}, token, sid);
  assert.equal(ok.status, 200);
});

test('an opaque token is checked by introspection', async () => {
  const { token, client } = await clientCredentialsToken(as.issuer, { resource, scope: 'mcp', name: 'opaque' });
  assert.equal(token.split('.').length, 1, 'oidc-provider issued an opaque token');
  const sid = await session(token);
  const r = await callTool('whoami', {}, token, sid);
  assert.equal(r.status, 200);
  const body = await r.json();
  assert.equal(body.result.structuredContent.caller.subject, client.client_id);
  const bad = await post(INIT, `${token}x`);
  assert.equal(bad.status, 401, 'an unknown opaque token');
});

test('every forged token gets 401 invalid_token and never reaches a handler', async () => {
  const now = Math.floor(Date.now() / 1000);
  const good = { iss: as.issuer, aud: resource, sub: 'mallory', client_id: 'c', scope: 'mcp notes:write', iat: now, exp: now + 300, jti: randomUUID() };
  // The control: what the AS's own key signs with good claims is accepted,
  // so each refusal below is for the one thing that case changes.
  const control = signJwt(good, as.key);
  const sid = await session(control);

  const other = rsaKey(as.key.kid);
  const unknown = rsaKey();
  const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(JSON.stringify(good)).toString('base64url')}.`;
  // HS256 keyed with the AS's public key: the RS/HS confusion attack.
  const hsInput = `${Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: as.key.kid })).toString('base64url')}.${Buffer.from(JSON.stringify(good)).toString('base64url')}`;
  const pem = as.key.publicKey.export({ type: 'spki', format: 'pem' });
  const hs = `${hsInput}.${createHmac('sha256', pem).update(hsInput).digest('base64url')}`;
  const cases = {
    'signed by another key, same kid': signJwt(good, other),
    'signed by an unknown key': signJwt(good, unknown),
    'alg none': none,
    'HS256 with the public key as secret': hs,
    expired: signJwt({ ...good, iat: now - 7200, exp: now - 3600 }, as.key),
    'not yet valid': signJwt({ ...good, nbf: now + 3600 }, as.key),
    'wrong audience': signJwt({ ...good, aud: 'http://127.0.0.1:1/other' }, as.key),
    'wrong issuer': signJwt({ ...good, iss: 'http://127.0.0.1:1' }, as.key),
    'no audience': signJwt({ ...good, aud: undefined }, as.key),
    'tampered payload': `${control.split('.')[0]}.${Buffer.from(JSON.stringify({ ...good, sub: 'root' })).toString('base64url')}.${control.split('.')[2]}`,
    garbage: 'abc.def.ghi',
    'not base64': '%%%.%%%.%%%',
  };
  for (const [name, token] of Object.entries(cases)) {
    const r = await callTool('whoami', {}, token, sid);
    assert.equal(r.status, 401, name);
    const challenge = r.headers.get('www-authenticate');
    assert.ok(challenge.includes('error="invalid_token"'), `${name}: ${challenge}`);
    assert.ok(challenge.includes('resource_metadata='), name);
  }
  const r = await post(INIT, undefined, { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` });
  assert.equal(r.status, 401, 'not a Bearer authorization');
  assert.equal((await callTool('whoami', {}, control, sid)).status, 200, 'the control still works');
});

test('MCP 2026-07-28: the handler sees the caller, and a requestState is refused for another subject', async () => {
  const alice = await clientCredentialsToken(as.issuer, { resource, scope: 'mcp' });
  const bob = await clientCredentialsToken(as.issuer, { resource, scope: 'mcp' });
  const subject = async (token) => {
    const r = await modern('tools/call', { name: 'whoami', arguments: {} }, token);
    assert.equal(r.status, 200);
    return (await r.json()).result.structuredContent.caller?.subject;
  };
  const [a, b] = [await subject(alice.token), await subject(bob.token)];
  assert.ok(typeof a === 'string' && typeof b === 'string' && a !== b, `subjects ${a}, ${b}`);

  const ask = { name: 'confirm', arguments: {} };
  const first = (await (await modern('tools/call', ask, alice.token)).json()).result;
  assert.equal(first.resultType, 'input_required');
  const replay = {
    ...ask,
    requestState: first.requestState,
    inputResponses: { 'input-1': { action: 'accept', content: { ok: true } } },
  };
  const stolen = await (await modern('tools/call', replay, bob.token)).json();
  assert.equal(stolen.error?.code, -32602, JSON.stringify(stolen));
  assert.match(stolen.error.message, /another caller/);
  const done = (await (await modern('tools/call', replay, alice.token)).json()).result;
  assert.equal(done.resultType, 'complete');
  assert.deepEqual(done.structuredContent.answer, { ok: true });
});

test('--auth-hide-tools: tools/list shows only what the caller may call', async () => {
  // Another server needs another resource URI, and so an AS issuing for it.
  const p2 = await freePort();
  const r2 = `http://127.0.0.1:${p2}/mcp`;
  const as2 = await startAuthServer({ resource: r2, scopes: SCOPES });
  hiding = await startMcp(p2, as2.issuer, ['--auth-hide-tools']);
  try {
    const names = async (scope) => {
      const { token } = await clientCredentialsToken(as2.issuer, { resource: r2, scope });
      const sid = await session(token, r2);
      const body = { jsonrpc: '2.0', id: 3, method: 'tools/list', params: {} };
      const r = await post(body, token, { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' }, r2);
      return (await r.json()).result.tools.map((t) => t.name).sort();
    };
    const open = ['api_headers', 'confirm', 'other_host_headers', 'whoami'];
    assert.deepEqual(await names('mcp'), open);
    assert.deepEqual(await names('mcp notes:write'), [...open, 'write_note'].sort());
    // The same on MCP 2026-07-28, and the filtered list is the caller's own.
    for (const [scope, want] of [['mcp', open], ['mcp notes:write', [...open, 'write_note'].sort()]]) {
      const { token } = await clientCredentialsToken(as2.issuer, { resource: r2, scope });
      const r = await modern('tools/list', {}, token, r2);
      assert.equal(r.status, 200);
      const { result } = await r.json();
      assert.deepEqual(result.tools.map((t) => t.name).sort(), want);
      assert.equal(result.cacheScope, 'private');
    }
  } finally {
    await as2.stop();
  }
});

test('upstream credentials: none by default, the token forwarded only to the API origin, or an exchanged one', async () => {
  const { token } = await clientCredentialsToken(as.issuer, { resource, scope: 'mcp' });
  const { sub } = JSON.parse(Buffer.from(token.split('.')[1], 'base64url'));
  /** What httpbin received from each upstream tool, under `flags`. */
  const received = async (flags) => {
    logs.push(mcp.log);
    await mcp.stop();
    mcp = await startMcp(port, as.issuer, flags, serverEnv());
    const sid = await session(token);
    httpbin.authorizations();
    for (const tool of ['api_headers', 'other_host_headers', 'api_headers']) {
      const r = await callTool(tool, {}, token, sid);
      assert.equal(r.status, 200);
      const body = await r.json();
      assert.equal(body.result.isError, undefined, JSON.stringify(body));
    }
    const [own, other, again] = httpbin.authorizations();
    return { own: own ?? undefined, other: other ?? undefined, again: again ?? undefined };
  };

  const plain = await received([]);
  assert.deepEqual(plain, { own: undefined, other: undefined, again: undefined }, 'nothing by default');

  const forwarded = await received(['--forward-authorization']);
  assert.equal(forwarded.own, `Bearer ${token}`, 'the validated token, to the API origin');
  assert.equal(forwarded.other, undefined, 'never to another origin');

  const before = as.exchanges.length;
  const exchanged = await received(['--upstream-token-exchange', 'https://api.example']);
  assert.match(exchanged.own ?? '', /^Bearer /);
  const sent = exchanged.own.slice('Bearer '.length);
  tokensSeen.push(sent);
  assert.notEqual(sent, token, 'not the client token');
  const claims = JSON.parse(Buffer.from(sent.split('.')[1], 'base64url'));
  assert.equal(claims.aud, 'https://api.example');
  assert.equal(claims.sub, sub, 'for the same principal');
  assert.equal(claims.act.sub, ownClient.client_id, 'acted by this server');
  assert.equal(exchanged.other, undefined, 'never to another origin');
  assert.equal(exchanged.again, exchanged.own, 'cached for the principal');
  assert.equal(as.exchanges.length - before, 1, 'one exchange for two calls');
});

test('a rotated signing key is fetched on the first token naming it, and unknown kids fetch at most once per interval', async () => {
  const [asPort, mcpPort] = [await freePort(), await freePort()];
  const r3 = `http://127.0.0.1:${mcpPort}/mcp`;
  let as3 = await startAuthServer({ resource: r3, scopes: SCOPES, port: asPort });
  const old = as3.key;
  const server = await startMcp(mcpPort, as3.issuer, ['--auth-jwks-refresh', '2']);
  try {
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: as3.issuer, aud: r3, sub: 'u', scope: 'mcp', iat: now, exp: now + 300 };
    const status = async (key) => {
      const t = signJwt(claims, key);
      tokensSeen.push(t);
      return (await post(INIT, t, {}, r3)).status;
    };
    assert.equal(await status(old), 200);
    assert.equal(as3.counts.jwks, 1);

    // The AS restarts signing with a new key, the old one still published.
    await as3.stop();
    const rotated = rsaKey();
    as3 = await startAuthServer({ resource: r3, scopes: SCOPES, port: asPort, keys: [rotated, old] });
    // Within --auth-jwks-refresh of the last fetch even a real new kid
    // waits (401, and the client tries again): that is the price of the limit.
    assert.equal(await status(rotated), 401, 'no fetch within the interval');
    assert.equal(as3.counts.jwks, 0);
    await sleep(2100);
    assert.equal(await status(rotated), 200, 'the new kid made the server fetch the JWKS again');
    assert.equal(as3.counts.jwks, 1);
    assert.equal(await status(old), 200, 'the old key still works');

    // Forged kids: the interval since the last fetch has not passed.
    assert.equal(await status(rsaKey()), 401);
    assert.equal(await status(rsaKey()), 401);
    assert.equal(as3.counts.jwks, 1, 'no fetch within --auth-jwks-refresh');
    await sleep(2100);
    assert.equal(await status(rsaKey()), 401);
    assert.equal(as3.counts.jwks, 2, 'one fetch once the interval passed');
  } finally {
    logs.push(server.log);
    await server.stop();
    await as3.stop();
  }
});
