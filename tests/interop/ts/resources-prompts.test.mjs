// Resources, templates, prompts and completion with the official TypeScript
// SDK client, over stdio, Streamable HTTP and the 2024-11-05 HTTP+SSE transport.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { McpError, ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';

import { PNG_B64, SDK1_TRANSPORTS, opts, sleep, startHttpServer, waitFor, withClient } from './helpers.mjs';

for (const transport of SDK1_TRANSPORTS) {
  describe(`resources and prompts over ${transport}`, () => {
    let http;
    before(async () => {
      if (transport !== 'stdio') http = await startHttpServer(transport);
    });
    after(async () => {
      await http?.stop();
    });
    const run = (fn) => withClient(transport, http?.url, fn);

    it('lists resources and templates', () =>
      run(async ({ client }) => {
        const { resources } = await client.listResources({}, opts);
        assert.deepEqual(
          resources.map((r) => [r.uri, r.name, r.mimeType]),
          [
            ['test://static-text', 'static-text', 'text/plain'],
            ['test://static-binary', 'static-binary', 'image/png'],
            ['test://watched-resource', 'watched-resource', 'text/plain'],
            ['test://stats', 'stats', 'application/json'],
          ],
        );
        assert.ok(resources.every((r) => r.description));
        const { resourceTemplates } = await client.listResourceTemplates({}, opts);
        assert.deepEqual(
          resourceTemplates.map((t) => [t.uriTemplate, t.name, t.mimeType]),
          [['test://template/{id}/data', 'template', 'application/json']],
        );
      }));

    it('reads text, binary and templated resources', () =>
      run(async ({ client }) => {
        assert.deepEqual((await client.readResource({ uri: 'test://static-text' }, opts)).contents, [
          {
            uri: 'test://static-text',
            mimeType: 'text/plain',
            text: 'This is the content of the static text resource.',
          },
        ]);
        assert.deepEqual((await client.readResource({ uri: 'test://static-binary' }, opts)).contents, [
          { uri: 'test://static-binary', mimeType: 'image/png', blob: PNG_B64 },
        ]);
        const { contents } = await client.readResource({ uri: 'test://template/abc/data' }, opts);
        assert.equal(contents.length, 1);
        assert.equal(contents[0].uri, 'test://template/abc/data');
        assert.equal(contents[0].mimeType, 'application/json');
        assert.deepEqual(JSON.parse(contents[0].text), { id: 'abc', templateTest: true, data: 'Data for ID: abc' });
      }));

    it('rejects an unknown resource with -32002', () =>
      run(async ({ client }) => {
        await assert.rejects(client.readResource({ uri: 'test://nope' }, opts), (err) => {
          assert.ok(err instanceof McpError, String(err));
          assert.equal(err.code, -32002);
          return true;
        });
      }));

    it('subscribes and unsubscribes', () =>
      run(async ({ client }) => {
        assert.deepEqual(await client.subscribeResource({ uri: 'test://watched-resource' }, opts), {});
        assert.deepEqual(await client.unsubscribeResource({ uri: 'test://watched-resource' }, opts), {});
      }));

    it('notifies subscribers of resource updates', () =>
      run(async ({ client }) => {
        const updates = [];
        client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => updates.push(n.params));
        const watched = 'test://watched-resource';
        await client.subscribeResource({ uri: watched }, opts);
        await client.callTool({ name: 'test_touch_resource', arguments: { uri: watched } }, undefined, opts);
        await waitFor(() => updates.length > 0, 5000, 'notifications/resources/updated');
        // Not subscribed: no notification.
        await client.callTool(
          { name: 'test_touch_resource', arguments: { uri: 'test://static-text' } },
          undefined,
          opts,
        );
        await client.unsubscribeResource({ uri: watched }, opts);
        await client.callTool({ name: 'test_touch_resource', arguments: { uri: watched } }, undefined, opts);
        await sleep(300);
        assert.deepEqual(updates, [{ uri: watched }]);
      }));

    it('lists and renders prompts', () =>
      run(async ({ client }) => {
        const { prompts } = await client.listPrompts({}, opts);
        assert.deepEqual(prompts.map((p) => p.name).sort(), [
          'test_input_required_result_prompt',
          'test_prompt_with_arguments',
          'test_prompt_with_embedded_resource',
          'test_prompt_with_image',
          'test_simple_prompt',
        ]);
        assert.ok(prompts.every((p) => p.description));
        const withArgs = prompts.find((p) => p.name === 'test_prompt_with_arguments');
        assert.deepEqual(
          withArgs.arguments.map((a) => [a.name, a.description, a.required]),
          [
            ['arg1', 'First test argument', true],
            ['arg2', 'Second test argument', true],
          ],
        );

        const simple = await client.getPrompt({ name: 'test_simple_prompt' }, opts);
        assert.deepEqual(simple.messages, [
          { role: 'user', content: { type: 'text', text: 'This is a simple prompt for testing.' } },
        ]);

        const args = await client.getPrompt(
          { name: 'test_prompt_with_arguments', arguments: { arg1: 'one', arg2: 'two' } },
          opts,
        );
        assert.deepEqual(args.messages, [
          { role: 'user', content: { type: 'text', text: "Prompt with arguments: arg1='one', arg2='two'" } },
        ]);

        const embedded = await client.getPrompt(
          { name: 'test_prompt_with_embedded_resource', arguments: { resourceUri: 'test://ts-resource' } },
          opts,
        );
        assert.deepEqual(embedded.messages, [
          {
            role: 'user',
            content: {
              type: 'resource',
              resource: {
                uri: 'test://ts-resource',
                mimeType: 'text/plain',
                text: 'Embedded resource content for testing.',
              },
            },
          },
          { role: 'user', content: { type: 'text', text: 'Please process the embedded resource above.' } },
        ]);

        const image = await client.getPrompt({ name: 'test_prompt_with_image' }, opts);
        assert.deepEqual(image.messages, [
          { role: 'user', content: { type: 'image', data: PNG_B64, mimeType: 'image/png' } },
          { role: 'user', content: { type: 'text', text: 'Please analyze the image above.' } },
        ]);
      }));

    it('rejects a prompt without its required arguments', () =>
      run(async ({ client }) => {
        await assert.rejects(
          client.getPrompt({ name: 'test_prompt_with_arguments', arguments: { arg2: 'x' } }, opts),
          (err) => {
            assert.ok(err instanceof McpError, String(err));
            assert.equal(err.code, -32602);
            return true;
          },
        );
      }));

    it('completes prompt arguments and template variables', () =>
      run(async ({ client }) => {
        const prompt = await client.complete(
          {
            ref: { type: 'ref/prompt', name: 'test_prompt_with_arguments' },
            argument: { name: 'arg1', value: 'test' },
          },
          opts,
        );
        assert.deepEqual(prompt.completion, { values: ['testValue1', 'testValue2'], total: 2, hasMore: false });

        const template = await client.complete(
          {
            ref: { type: 'ref/resource', uri: 'test://template/{id}/data' },
            argument: { name: 'id', value: '4' },
          },
          opts,
        );
        assert.deepEqual(template.completion.values, ['456']);
      }));
  });
}
