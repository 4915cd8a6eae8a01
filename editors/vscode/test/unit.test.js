'use strict';
// Unit tests of the parts of the extension that do not need VS Code: how the server is started
// and how the graph view is built. Run with `node --test test/`.
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { serverCommand } = require('../src/server');
const graph = require('../src/graph');

test('the server is `chatflow lsp` by default', () => {
  assert.deepEqual(serverCommand(undefined, undefined, '/ws'), { command: 'chatflow', args: ['lsp'] });
  assert.deepEqual(serverCommand('  ', [], undefined), { command: 'chatflow', args: ['lsp'] });
});

test('a relative server path is taken from the workspace, a bare name from PATH', () => {
  assert.equal(serverCommand('target/debug/chatflow', [], '/ws').command, path.join('/ws', 'target/debug/chatflow'));
  assert.equal(serverCommand('/opt/chatflow', [], '/ws').command, '/opt/chatflow');
  assert.equal(serverCommand('chatflow-dev', [], '/ws').command, 'chatflow-dev');
});

test('extra arguments follow `lsp`; settings of the wrong type are ignored', () => {
  assert.deepEqual(serverCommand('chatflow', ['--log', 7, 'debug'], '/ws').args, ['lsp', '--log', 'debug']);
  assert.deepEqual(serverCommand(42, 'oops', '/ws'), { command: 'chatflow', args: ['lsp'] });
});

test('the graph is the Mermaid text the server answers, bare or in an object', () => {
  assert.equal(graph.mermaidFromResult('flowchart TD\n'), 'flowchart TD\n');
  assert.equal(graph.mermaidFromResult({ mermaid: 'flowchart LR\n' }), 'flowchart LR\n');
  assert.throws(() => graph.mermaidFromResult(null), /did not answer chatflow.graph/);
  assert.throws(() => graph.mermaidFromResult({ svg: '<svg/>' }), /did not answer/);
});

test('a drawn vertex names its flow node, sub-flow nodes included', () => {
  assert.equal(graph.nodeNameFromElementId('flowchart-n_greet-3'), 'greet');
  assert.equal(graph.nodeNameFromElementId('chatflow-graph-2-flowchart-n_menu-2'), 'menu');
  assert.equal(graph.nodeNameFromElementId('flowchart-n_verify_email__check-12'), 'verify_email.check');
  assert.equal(graph.nodeNameFromElementId('chatflow-graph-1-flowchart-flow_start-0'), undefined);
  assert.equal(graph.nodeNameFromElementId(undefined), undefined);
});

test('the graph page runs only its own scripts and escapes what it shows', () => {
  const html = graph.graphHtml({
    cspSource: 'vscode-resource:',
    nonce: 'abc123',
    mermaidUri: 'vscode-resource:/m.js',
    scriptUri: 'vscode-resource:/g.js',
    styleUri: 'vscode-resource:/g.css',
    title: 'Graph: <script>alert(1)</script>.flow',
  });
  assert.match(html, /script-src 'nonce-abc123'/);
  assert.doesNotMatch(html, /unsafe-eval/);
  assert.doesNotMatch(html, /<script>alert/);
  assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  const scripts = html.match(/<script[^>]*>/g);
  assert.equal(scripts.length, 2);
  for (const tag of scripts) assert.match(tag, /nonce="abc123"/);
});

test('a test run reports pass or failure with the server report', () => {
  const tests = require('../src/tests');
  assert.deepEqual(tests.testOutcome({ passed: true, report: 'ok 1\n' }, 'greets'), {
    passed: true,
    report: 'ok 1\n',
    message: '"greets" passed.',
  });
  const failed = tests.testOutcome({ passed: false, report: 'FAIL line 3' }, 'greets');
  assert.equal(failed.passed, false);
  assert.equal(failed.message, '"greets" failed.');
  // An answer without `passed: true` is never shown as a pass.
  assert.equal(tests.testOutcome(null, undefined).passed, false);
  assert.equal(tests.testOutcome({ passed: 'yes' }, '').message, 'The tests failed.');
});

test('Enter indents after an opening brace and Tab-out closes it, strings and comments aside', () => {
  const config = require('../language-configuration.json');
  const increase = new RegExp(config.indentationRules.increaseIndentPattern);
  const decrease = new RegExp(config.indentationRules.decreaseIndentPattern);
  assert.ok(increase.test('node greet {'));
  assert.ok(increase.test('  choose "Pick {one}" {   # the menu'));
  assert.ok(increase.test('  json {"items": ['));
  assert.ok(!increase.test('  say "{"'), 'a brace inside a string opens nothing');
  assert.ok(!increase.test('  say "a" # {'), 'a brace in a comment opens nothing');
  assert.ok(!increase.test('node n { say "a"; close }'));
  assert.ok(decrease.test('  }'));
  assert.ok(!decrease.test('  say "}"'));
  assert.equal(config.comments.lineComment, '#');
});
