// Tokens a model pays for a generated server's tools, counted with a real
// tokenizer (npm gpt-tokenizer, o200k_base). Used by scripts/bench-tokens.sh;
// prints one JSON object of figures on stdout. Measures only: a server that
// does not answer is an error (exit 1); a tool surface the server does not
// know is "n/a", not an error.
//
//   node scripts/bench-tokens.mjs BIN [RAW_BIN]
//
// BIN is a generated server binary (spoken to over stdio). For each surface
// (`--tool-surface all|toolsets|compact`) it pages through the whole
// tools/list and counts the tokens and bytes of the JSON of all its tools.
// For compact it also counts one round a model would make: search_tools with
// a query made from an operation's summary, describe_tool of the top hit,
// and call_tool of it (against a closed local port, so the result is an
// error result): the requests' params and the results' content.
// RAW_BIN, the same document generated with --raw-descriptions, gives the
// all-surface figures before the description clean-up.
//
// BENCH_TOKENIZER_DIR: a directory whose node_modules has gpt-tokenizer
// (default tests/interop, linked to .tools/npm by scripts/setup.sh).

import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const tokenizerDir = process.env.BENCH_TOKENIZER_DIR || path.join(here, '..', 'tests', 'interop');
const { countTokens } = createRequire(path.join(path.resolve(tokenizerDir), 'package.json'))(
  'gpt-tokenizer/encoding/o200k_base',
);

const REQUEST_TIMEOUT_MS = 600_000;

/** A closed TCP port on 127.0.0.1: the upstream calls fail fast. */
function closedPort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** A server over stdio: request(method, params) → the response message. */
class Session {
  constructor(bin, args, env) {
    this.child = spawn(bin, ['--transport', 'stdio', ...args], {
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.pending = new Map();
    this.nextId = 1;
    this.stderr = '';
    this.exited = null;
    // Resolved once the process has exited and its output is all read.
    this.closed = new Promise((resolve) => this.child.on('close', resolve));
    let buf = '';
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (chunk) => {
      buf += chunk;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!line.trim()) continue;
        const msg = JSON.parse(line);
        const p = msg.id !== undefined && this.pending.get(msg.id);
        if (p) {
          this.pending.delete(msg.id);
          p.resolve(msg);
        }
      }
    });
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (d) => {
      if (this.stderr.length < 20000) this.stderr += d;
    });
    this.child.on('exit', (code, signal) => {
      this.exited = { code, signal };
      for (const p of this.pending.values()) p.reject(new Error(`server exited (${code ?? signal})`));
      this.pending.clear();
    });
    this.child.stdin.on('error', () => {});
  }

  request(method, params) {
    if (this.exited) return Promise.reject(new Error(`server exited (${this.exited.code ?? this.exited.signal})`));
    const id = this.nextId++;
    const msg = { jsonrpc: '2.0', id, method, params };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${method}: no answer in ${REQUEST_TIMEOUT_MS} ms`)), REQUEST_TIMEOUT_MS);
      this.pending.set(id, {
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.child.stdin.write(JSON.stringify(msg) + '\n');
    });
  }

  notify(method, params) {
    this.child.stdin.write(JSON.stringify({ jsonrpc: '2.0', method, params }) + '\n');
  }

  async initialize() {
    const r = await this.request('initialize', {
      protocolVersion: '2025-11-25',
      capabilities: {},
      clientInfo: { name: 'bench-tokens', version: '1' },
    });
    if (r.error) throw new Error(`initialize: ${JSON.stringify(r.error)}`);
    this.notify('notifications/initialized', {});
  }

  /** Every tool, through all the pages. */
  async listTools() {
    const tools = [];
    let cursor;
    for (let page = 0; page < 100000; page++) {
      const r = await this.request('tools/list', cursor ? { cursor } : {});
      if (r.error) throw new Error(`tools/list: ${JSON.stringify(r.error)}`);
      tools.push(...r.result.tools);
      cursor = r.result.nextCursor;
      if (!cursor) return tools;
    }
    throw new Error('tools/list: too many pages');
  }

  async close() {
    if (!this.exited) {
      this.child.stdin.end();
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      await this.closed;
      clearTimeout(timer);
    }
    await this.closed;
  }
}

/** Tokens and bytes of a value's JSON. */
function measure(value) {
  const text = JSON.stringify(value);
  return { tokens: countTokens(text), bytes: Buffer.byteLength(text) };
}

/** Every string under a `description` key, anywhere in `value`. */
function descriptions(value, out = []) {
  if (Array.isArray(value)) {
    for (const v of value) descriptions(v, out);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'description' && typeof v === 'string') out.push(v);
      else descriptions(v, out);
    }
  }
  return out;
}

function descriptionTokens(tools) {
  return descriptions(tools).reduce((n, d) => n + countTokens(d), 0);
}

/** Start BIN with ARGS; null when it refuses the flag in ARGS (a server
 * from before tool surfaces); any other failure to start is an error. */
async function start(bin, args, env) {
  const s = new Session(bin, args, env);
  try {
    await s.initialize();
    return s;
  } catch (e) {
    await s.close();
    if (args.length && /unexpected argument '--tool-surface'/.test(s.stderr)) return null;
    throw new Error(`${bin} ${args.join(' ')} does not start: ${e.message}\n${s.stderr.slice(0, 2000)}`);
  }
}

/** The tools of one surface: null when the server does not know it. */
async function surface(bin, mode, env, baseline) {
  const s = await start(bin, ['--tool-surface', mode], env);
  if (!s) return null;
  try {
    const tools = await s.listTools();
    // A server that ignores the flag lists what it lists without it.
    const names = tools.map((t) => t.name).join('\n');
    if (baseline && names === baseline.map((t) => t.name).join('\n')) return null;
    return { session: s, tools };
  } catch (e) {
    await s.close();
    throw e;
  }
}

/** The query a model would write for `tool`: its summary (title), else the
 * first sentence of its description, at most 12 words. */
function queryFor(tool) {
  const text = tool.title || (tool.description || '').split(/\n|\. /)[0] || tool.name.replace(/_/g, ' ');
  return text.split(/\s+/).slice(0, 12).join(' ');
}

/** A value of the right type for a schema (first enum value, default…). */
function sample(schema, defs, depth = 0) {
  if (!schema || typeof schema !== 'object' || depth > 4) return 'x';
  if (schema.$ref && defs) {
    const name = decodeURIComponent(schema.$ref.replace(/^#\/\$defs\//, ''));
    return sample(defs[name], defs, depth + 1);
  }
  if (schema.default !== undefined) return schema.default;
  if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum[0];
  if (schema.const !== undefined) return schema.const;
  for (const k of ['anyOf', 'oneOf', 'allOf']) {
    if (Array.isArray(schema[k]) && schema[k].length) return sample(schema[k][0], defs, depth + 1);
  }
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  switch (type) {
    case 'integer':
    case 'number':
      return schema.minimum ?? 1;
    case 'boolean':
      return true;
    case 'array':
      return [];
    case 'object':
      return requiredArguments(schema, defs, depth + 1);
    default:
      return 'x';
  }
}

function requiredArguments(schema, defs, depth = 0) {
  const args = {};
  for (const name of schema.required || []) {
    args[name] = sample((schema.properties || {})[name], defs || schema.$defs, depth);
  }
  return args;
}

/** What the model sees of a tool result: its content (the text the
 * structured content repeats), and whether it is an error. */
function seen(result) {
  return result.result ? { content: result.result.content, isError: result.result.isError } : result.error;
}

/** One search → describe → call round on a compact surface. */
async function round(s, target) {
  const call = async (name, args) => {
    const params = { name, arguments: args };
    const r = await s.request('tools/call', params);
    return { params, r, tokens: measure(params).tokens + measure(seen(r)).tokens };
  };
  const query = queryFor(target);
  const search = await call('search_tools', { query });
  const hits = search.r.result?.structuredContent?.tools || [];
  const top = hits[0]?.name;
  if (!top) throw new Error(`search_tools found nothing for ${JSON.stringify(query)}: ${JSON.stringify(search.r)}`);
  const describe = await call('describe_tool', { names: [top] });
  const described = describe.r.result?.structuredContent?.tools?.[0];
  if (!described) throw new Error(`describe_tool ${top}: ${JSON.stringify(describe.r).slice(0, 500)}`);
  const run = await call('call_tool', { name: top, arguments: requiredArguments(described.inputSchema || {}) });
  return {
    query,
    expected: target.name,
    top,
    rank: hits.findIndex((h) => h.name === target.name) + 1 || null,
    search: search.tokens,
    describe: describe.tokens,
    call: run.tokens,
    callIsError: run.r.result?.isError === true || run.r.error !== undefined,
    total: search.tokens + describe.tokens + run.tokens,
  };
}

async function main() {
  const [bin, rawBin] = process.argv.slice(2);
  if (!bin) {
    console.error('usage: node scripts/bench-tokens.mjs BIN [RAW_BIN]');
    process.exit(2);
  }
  const env = { MCP_UPSTREAM_BASE_URL: `http://127.0.0.1:${await closedPort()}`, MCP_LOG: 'error' };
  const out = { tokenizer: 'gpt-tokenizer o200k_base' };

  // all: with the flag where the server knows it (a server may default to
  // another surface), else as it starts.
  let all = await surface(bin, 'all', env, null);
  if (!all) all = { session: await start(bin, [], env), tools: null };
  all.tools ??= await all.session.listTools();
  await all.session.close();
  const tools = all.tools;
  out.tools = tools.length;
  out.all = { ...measure(tools), descriptionTokens: descriptionTokens(tools) };

  if (rawBin) {
    let raw = await surface(rawBin, 'all', env, null);
    if (!raw) raw = { session: await start(rawBin, [], env), tools: null };
    raw.tools ??= await raw.session.listTools();
    await raw.session.close();
    out.allRaw = { ...measure(raw.tools), descriptionTokens: descriptionTokens(raw.tools) };
  }

  const toolsets = await surface(bin, 'toolsets', env, tools);
  if (toolsets) {
    out.toolsets = { ...measure(toolsets.tools), tools: toolsets.tools.length };
    await toolsets.session.close();
  } else {
    out.toolsets = null;
  }

  const compact = await surface(bin, 'compact', env, tools);
  if (compact) {
    try {
      // The operation in the middle of the list with a summary (else with
      // a description of its own, not `METHOD /path`; else any): a typical
      // operation, the same on every run.
      const titled = tools.filter((t) => t.title);
      const described = tools.filter((t) => t.description && !/^[A-Z]+ \//.test(t.description));
      const pool = titled.length ? titled : described.length ? described : tools;
      const target = pool[Math.floor(pool.length / 2)];
      const list = measure(compact.tools);
      const r = await round(compact.session, target);
      out.compact = { ...list, tools: compact.tools.length, round: r, total: list.tokens + r.total };
    } finally {
      await compact.session.close();
    }
  } else {
    out.compact = null;
  }
  console.log(JSON.stringify(out));
}

main().catch((e) => {
  console.error(`bench-tokens: ${e.stack || e}`);
  process.exit(1);
});
