// The MCP Inspector 2.x CLI (`mcp-inspector --cli`, npm @modelcontextprotocol/inspector,
// built on the TypeScript SDK 2.x client) in both protocol eras, over stdio and
// HTTP. The era is a per-server setting of its config file (`protocolEra`:
// "legacy", its default, or "auto": server/discover, then 2026-07-28); each case
// writes one, runs the real CLI as a child process and checks the JSON it
// prints (`--format json`: {"result": …} or {"error": {code, message}}).
// The 1.x CLI (@modelcontextprotocol/inspector-cli, legacy only) is
// inspector.test.mjs.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';

import { SERVER_BIN, TRANSPORTS, startHttpServer } from './helpers.mjs';

const INSPECTOR = fileURLToPath(
  new URL('../node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js', import.meta.url),
);
/** The version each era's setting must end up on against our server (both eras served). */
const ERAS = { legacy: '2025-11-25', auto: '2026-07-28' };

/** The CLI's config file for one server; resolves to its path. */
async function writeConfig(dir, transport, url, era) {
  const server =
    transport === 'stdio'
      ? { type: 'stdio', command: SERVER_BIN, args: ['--transport', 'stdio'] }
      : { type: 'http', url };
  const path = join(dir, 'mcp.json');
  await writeFile(path, JSON.stringify({ mcpServers: { conformance: { ...server, protocolEra: era } } }));
  return path;
}

/** The JSON object on the last line of `text` that starts with `{`, if any. */
function lastJson(text) {
  const line = text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .pop();
  return line === undefined ? undefined : JSON.parse(line);
}

/**
 * Run the CLI against the config's server; resolves to { code, result, error,
 * stderr }: what it printed, `{"result": …}` on stdout (a tool error's result
 * included) and `{"error": {code, message}}` on stderr. Its home and secret
 * store are the test's own: nothing is read from or written to the user's
 * ~/.mcp-inspector.
 */
function inspector(dir, config, args) {
  const env = { PATH: process.env.PATH, HOME: dir, MCP_INSPECTOR_SECRET_STORE: 'memory' };
  const argv = [INSPECTOR, '--cli', '--config', config, '--server', 'conformance', ...args, '--format', 'json'];
  return new Promise((resolve) => {
    execFile(process.execPath, argv, { env, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({
        code: error ? (error.code ?? 1) : 0,
        result: lastJson(stdout)?.result,
        error: lastJson(stderr)?.error,
        stderr,
      });
    });
  });
}

for (const transport of TRANSPORTS) {
  for (const [era, version] of Object.entries(ERAS)) {
    describe(`MCP Inspector 2.x CLI over ${transport}, protocolEra ${era}`, () => {
      let http;
      let dir;
      let config;
      before(async () => {
        if (transport === 'http') http = await startHttpServer();
        dir = await mkdtemp(join(tmpdir(), 'mcpgen-inspector2-'));
        config = await writeConfig(dir, transport, http?.url, era);
      });
      after(async () => {
        await http?.stop();
        if (dir) await rm(dir, { recursive: true, force: true });
      });
      /** Run the CLI, expect success and return its result. */
      const result = async (...args) => {
        const r = await inspector(dir, config, args);
        assert.equal(r.code, 0, `inspector ${args.join(' ')}:\n${r.stderr}`);
        return r.result;
      };

      it(`negotiates ${version}`, async () => {
        const init = await result('--method', 'initialize');
        assert.equal(init.protocolVersion, version);
        assert.equal(init.serverInfo.name, 'conformance-server');
        assert.equal(init.capabilities.tools.listChanged, true);
      });

      it('lists tools and calls one with arguments converted by schema', async () => {
        const { tools } = await result('--method', 'tools/list');
        const add = tools.find((t) => t.name === 'test_add');
        assert.deepEqual(add.outputSchema.required, ['sum']);
        const sum = await result('--method', 'tools/call', '--tool-name', 'test_add', '--tool-arg', 'a=2', 'b=40.5');
        assert.deepEqual(sum.structuredContent, { sum: 42.5 });
      });

      it('gets invalid arguments back as a tool error and refuses an unknown tool', async () => {
        const bad = await inspector(dir, config, ['--method', 'tools/call', '--tool-name', 'test_add', '--tool-arg', 'a=1']);
        assert.equal(bad.code, 5, 'tool_is_error');
        assert.equal(bad.error.code, 'tool_is_error');
        assert.equal(bad.result.isError, true);
        assert.match(bad.result.content[0].text, /"b" is a required property/);
        const unknown = await inspector(dir, config, ['--method', 'tools/call', '--tool-name', 'no_such_tool']);
        assert.equal(unknown.code, 5);
        assert.equal(unknown.error.code, 'tool_not_found');
        assert.match(unknown.error.message, /no_such_tool/);
      });

      it('lists and reads resources and templates', async () => {
        const { resources } = await result('--method', 'resources/list');
        assert.ok(resources.some((r) => r.uri === 'test://static-text'));
        const read = await result('--method', 'resources/read', '--uri', 'test://template/7/data');
        assert.equal(read.contents[0].uri, 'test://template/7/data');
        assert.deepEqual(JSON.parse(read.contents[0].text).id, '7');
        const { resourceTemplates } = await result('--method', 'resources/templates/list');
        assert.deepEqual(
          resourceTemplates.map((t) => t.uriTemplate),
          ['test://template/{id}/data'],
        );
      });

      it('lists prompts and renders one with arguments', async () => {
        const { prompts } = await result('--method', 'prompts/list');
        assert.ok(prompts.some((p) => p.name === 'test_prompt_with_arguments'));
        const got = await result(
          '--method',
          'prompts/get',
          '--prompt-name',
          'test_prompt_with_arguments',
          '--prompt-args',
          'arg1=alpha',
          'arg2=beta',
        );
        assert.equal(got.messages[0].content.text, "Prompt with arguments: arg1='alpha', arg2='beta'");
      });

      if (era === 'legacy') {
        it('sets the log level', async () => {
          assert.deepEqual(await result('--method', 'logging/setLevel', '--log-level', 'debug'), {});
        });
      } else {
        it('carries the 2026-07-28 envelope: results say complete, the server names itself', async () => {
          const text = await result('--method', 'tools/call', '--tool-name', 'test_simple_text');
          assert.equal(text.resultType, 'complete');
          assert.equal(text._meta['io.modelcontextprotocol/serverInfo'].name, 'conformance-server');
        });

        it('is told which capability a tool needs (-32021): the CLI declares no sampling', async () => {
          const r = await inspector(dir, config, ['--method', 'tools/call', '--tool-name', 'test_sampling', '--tool-arg', 'prompt=hi']);
          assert.equal(r.code, 1);
          assert.match(r.error.message, /client capability `sampling`/);
        });
      }
    });
  }
}
