// The graph webview: draws the Mermaid text the extension posts, with the bundled Mermaid.
/* global acquireVsCodeApi, mermaid */
(function () {
  'use strict';
  const vscode = acquireVsCodeApi();
  const graphEl = document.getElementById('graph');
  const errorEl = document.getElementById('error');
  const titleEl = document.getElementById('title');
  const dark = document.body.classList.contains('vscode-dark') || document.body.classList.contains('vscode-high-contrast');
  // `strict`: labels (text from the flow) are sanitised and cannot carry scripts or links.
  mermaid.initialize({ startOnLoad: false, securityLevel: 'strict', theme: dark ? 'dark' : 'default' });
  let drawn = 0;

  function showError(message) {
    errorEl.textContent = message;
    errorEl.hidden = false;
  }

  window.addEventListener('message', async (event) => {
    const message = event.data;
    if (message.title) titleEl.textContent = message.title;
    if (message.type === 'error') {
      showError(message.message);
      return;
    }
    if (message.type !== 'graph') return;
    drawn += 1;
    try {
      const { svg, bindFunctions } = await mermaid.render(`chatflow-graph-${drawn}`, message.text);
      graphEl.innerHTML = svg;
      if (bindFunctions) bindFunctions(graphEl);
      errorEl.hidden = true;
      document.body.dataset.rendered = String(drawn);
    } catch (err) {
      showError(`Mermaid could not draw this graph: ${err && err.message ? err.message : err}`);
    }
  });

  graphEl.addEventListener('click', (event) => {
    const vertex = event.target instanceof Element ? event.target.closest('g.node') : null;
    if (vertex) vscode.postMessage({ type: 'reveal', id: vertex.id });
  });
  document.getElementById('copy').addEventListener('click', () => vscode.postMessage({ type: 'copy' }));
  document.getElementById('refresh').addEventListener('click', () => vscode.postMessage({ type: 'refresh' }));
  vscode.postMessage({ type: 'ready' });
})();
