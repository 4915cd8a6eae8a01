'use strict';
// The graph webview in a real browser, under the page's own Content-Security-Policy: the
// bundled Mermaid draws the graph `chatflow graph` writes (actions_flows.mmd, from
// tests/inputs/ok/actions_flows.flow), and every drawn vertex leads back to a flow node. Needs
// `npm run build` first and Debian's `chromium`; run with `npm run test:webview`.
const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const graph = require('../../src/graph');

const media = path.join(__dirname, '..', '..', 'dist', 'media');

function chromium() {
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    try {
      execFileSync('which', [name], { stdio: 'ignore' });
      return name;
    } catch {
      // not this one
    }
  }
  return undefined;
}

test('the webview draws the Mermaid graph and maps its vertices to nodes', (t) => {
  const browser = chromium();
  if (!browser) {
    if (process.env.CI === 'true') assert.fail('chromium is missing (CI=true: failing instead of skipping)');
    t.skip('skipped: chromium is not installed');
    return;
  }
  assert.ok(fs.existsSync(path.join(media, 'mermaid.min.js')), 'run `npm run build` first');
  const mermaidText = fs.readFileSync(path.join(__dirname, 'actions_flows.mmd'), 'utf8');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chatflow-webview-'));
  try {
    const asUri = (file) => pathToFileURL(path.join(media, file)).toString();
    const nonce = graph.makeNonce();
    let html = graph.graphHtml({
      cspSource: 'file:',
      nonce,
      mermaidUri: asUri('mermaid.min.js'),
      scriptUri: asUri('graph.js'),
      styleUri: asUri('graph.css'),
      title: 'Graph: actions_flows.flow',
    });
    // What VS Code provides: acquireVsCodeApi, and the extension answering `ready` with the graph.
    const host = `<script nonce="${nonce}">
      window.acquireVsCodeApi = () => ({ postMessage: (m) => {
        if (m.type === 'ready') window.postMessage({ type: 'graph', text: ${JSON.stringify(mermaidText)}, title: 't' }, '*');
      } });
    </script>`;
    html = html.replace(`<script nonce="${nonce}" src=`, `${host}<script nonce="${nonce}" src=`);
    const page = path.join(dir, 'index.html');
    fs.writeFileSync(page, html);
    const dom = execFileSync(browser, [
      '--headless', '--no-sandbox', '--disable-gpu', '--allow-file-access-from-files',
      `--user-data-dir=${path.join(dir, 'profile')}`, '--virtual-time-budget=15000', '--dump-dom',
      pathToFileURL(page).toString(),
    ], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 60000 });

    assert.match(dom, /<body[^>]*data-rendered="1"/, 'the graph was drawn');
    assert.match(dom, /<div id="error" hidden=""/, 'no error is shown');
    const ids = [...dom.matchAll(/<g class="node[^"]*" id="([^"]+)"/g)].map((m) => m[1]);
    const named = ids.map(graph.nodeNameFromElementId).filter(Boolean).sort();
    assert.deepEqual(named, [
      'again', 'greet.bye', 'greet.hello', 'ok', 'signup', 'verify_email.bad', 'verify_email.check',
      'verify_email.ok', 'welcome',
    ]);
    assert.equal(ids.length, named.length + 1, 'the start vertex is the one vertex that is no node');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
