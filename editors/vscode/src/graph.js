'use strict';
// The graph view: the server's `chatflow.graph` command answers with Mermaid text, which a
// webview renders with the Mermaid bundled in the extension. Kept free of the `vscode` module
// so it can be unit tested.

/** The server command that renders a flow's graph (LSP workspace/executeCommand). */
const GRAPH_COMMAND = 'chatflow.graph';

/**
 * The Mermaid text out of the server's answer: the text itself, or an object that carries it.
 * @param {unknown} result
 * @returns {string}
 */
function mermaidFromResult(result) {
  if (typeof result === 'string') return result;
  if (result && typeof result === 'object') {
    for (const key of ['mermaid', 'graph', 'text']) {
      const value = /** @type {Record<string, unknown>} */ (result)[key];
      if (typeof value === 'string') return value;
    }
  }
  throw new Error('the language server did not answer chatflow.graph with Mermaid text');
}

/**
 * The flow node a drawn vertex stands for. `chatflow graph` names vertices `n_NAME` (a node
 * `f.n` of a sub-flow becomes `n_f__n`) and Mermaid draws vertex V as element
 * `RENDERID-flowchart-V-INDEX`.
 * @param {unknown} elementId
 * @returns {string | undefined}
 */
function nodeNameFromElementId(elementId) {
  const match = /(?:^|-)flowchart-n_(\w+)-\d+$/.exec(String(elementId));
  return match ? match[1].replace(/__/g, '.') : undefined;
}

/** Text for HTML content or a double-quoted attribute. @param {string} text */
function escapeHtml(text) {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);
}

/**
 * The webview's page. Scripts run only from the extension (by nonce); the graph text arrives
 * later by message, so nothing from the flow is ever part of the HTML.
 * @param {{ cspSource: string, nonce: string, mermaidUri: string, scriptUri: string, styleUri: string, title: string }} p
 */
function graphHtml(p) {
  const csp = [
    "default-src 'none'",
    `img-src ${p.cspSource} data:`,
    // Mermaid writes <style> into the SVG it draws.
    `style-src ${p.cspSource} 'unsafe-inline'`,
    `font-src ${p.cspSource}`,
    `script-src 'nonce-${p.nonce}'`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${escapeHtml(p.styleUri)}">
<title>${escapeHtml(p.title)}</title>
</head>
<body>
<header>
  <span id="title">${escapeHtml(p.title)}</span>
  <button id="copy" title="Copy the Mermaid text">Copy Mermaid</button>
  <button id="refresh" title="Render the graph again">Refresh</button>
</header>
<div id="error" hidden></div>
<div id="graph"></div>
<script nonce="${p.nonce}" src="${escapeHtml(p.mermaidUri)}"></script>
<script nonce="${p.nonce}" src="${escapeHtml(p.scriptUri)}"></script>
</body>
</html>`;
}

/** A fresh nonce for the page's scripts. */
function makeNonce() {
  return require('crypto').randomBytes(18).toString('base64');
}

module.exports = { GRAPH_COMMAND, mermaidFromResult, nodeNameFromElementId, escapeHtml, graphHtml, makeNonce };
