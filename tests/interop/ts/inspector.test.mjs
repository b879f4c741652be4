// The MCP Inspector's CLI mode (@modelcontextprotocol/inspector-cli), the tool
// people reach for first to try a server by hand, over stdio and HTTP. Each
// case runs the real CLI as a child process and checks the JSON it prints.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';

import { SERVER_BIN, TRANSPORTS, startHttpServer } from './helpers.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const INSPECTOR = fileURLToPath(
  new URL('../node_modules/@modelcontextprotocol/inspector-cli/build/index.js', import.meta.url),
);

/** Run the inspector CLI; resolves to { code, stdout, stderr }. */
function inspector(target, args) {
  return new Promise((resolve) => {
    // The CLI finds its own package.json through `../package.json` relative
    // to the working directory, so it runs from this directory.
    execFile(
      process.execPath,
      [INSPECTOR, ...target, ...args],
      { cwd: HERE, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => resolve({ code: error ? (error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** Run the CLI, expect success and parse what it printed. */
async function json(target, args) {
  const r = await inspector(target, args);
  assert.equal(r.code, 0, `inspector ${args.join(' ')} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout);
}

for (const transport of TRANSPORTS) {
  describe(`MCP Inspector CLI over ${transport}`, () => {
    let http;
    let target;
    before(async () => {
      if (transport === 'http') {
        http = await startHttpServer();
        target = [http.url];
      } else {
        // stdio is the server's default; the CLI would take a `--transport`
        // here as its own option.
        target = [SERVER_BIN];
      }
    });
    after(async () => {
      await http?.stop();
    });

    it('lists tools with their schemas and annotations', async () => {
      const { tools } = await json(target, ['--method', 'tools/list']);
      const names = tools.map((t) => t.name);
      for (const n of ['test_simple_text', 'test_add', 'json_schema_2020_12_tool']) {
        assert.ok(names.includes(n), `${n} in ${names}`);
      }
      for (const t of tools) assert.equal(t.inputSchema.type, 'object', t.name);
      const add = tools.find((t) => t.name === 'test_add');
      assert.deepEqual(add.outputSchema.required, ['sum']);
    });

    it('calls a tool with arguments the CLI converts by schema', async () => {
      const r = await json(target, ['--method', 'tools/call', '--tool-name', 'test_add', '--tool-arg', 'a=2', 'b=40.5']);
      assert.equal(r.isError ?? false, false);
      assert.deepEqual(r.structuredContent, { sum: 42.5 });
      const text = await json(target, ['--method', 'tools/call', '--tool-name', 'test_simple_text']);
      assert.deepEqual(text.content, [{ type: 'text', text: 'This is a simple text response for testing.' }]);
    });

    it('gets invalid arguments back as a tool error', async () => {
      const r = await json(target, ['--method', 'tools/call', '--tool-name', 'test_add', '--tool-arg', 'a=1']);
      assert.equal(r.isError, true);
      assert.match(r.content[0].text, /"b" is a required property/);
    });

    it('reports an unknown tool as a failure', async () => {
      const r = await inspector(target, ['--method', 'tools/call', '--tool-name', 'no_such_tool']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /no_such_tool/);
    });

    it('lists and reads resources and templates', async () => {
      const { resources } = await json(target, ['--method', 'resources/list']);
      assert.ok(resources.some((r) => r.uri === 'test://static-text'));
      const read = await json(target, ['--method', 'resources/read', '--uri', 'test://static-text']);
      assert.equal(read.contents[0].uri, 'test://static-text');
      assert.equal(typeof read.contents[0].text, 'string');
      const { resourceTemplates } = await json(target, ['--method', 'resources/templates/list']);
      assert.ok(resourceTemplates.some((t) => t.uriTemplate === 'test://template/{id}/data'));
      const viaTemplate = await json(target, ['--method', 'resources/read', '--uri', 'test://template/7/data']);
      assert.equal(viaTemplate.contents[0].uri, 'test://template/7/data');
      assert.match(viaTemplate.contents[0].text, /7/);
    });

    it('lists prompts and renders one with arguments', async () => {
      const { prompts } = await json(target, ['--method', 'prompts/list']);
      assert.ok(prompts.some((p) => p.name === 'test_prompt_with_arguments'));
      const got = await json(target, [
        '--method',
        'prompts/get',
        '--prompt-name',
        'test_prompt_with_arguments',
        '--prompt-args',
        'arg1=alpha',
        'arg2=beta',
      ]);
      const text = got.messages.map((m) => m.content.text).join('\n');
      assert.match(text, /alpha/);
      assert.match(text, /beta/);
    });

    it('sets the log level, and accepts request metadata', async () => {
      assert.deepEqual(await json(target, ['--method', 'logging/setLevel', '--log-level', 'debug']), {});
      const { tools } = await json(target, ['--method', 'tools/list', '--metadata', 'trace=abc']);
      assert.ok(tools.length > 0);
    });
  });
}
