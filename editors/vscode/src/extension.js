'use strict';
// The chatflow extension: starts `chatflow lsp` (diagnostics, completion, navigation, ...
// all come from the server) and shows the flow's graph in a webview.
const vscode = require('vscode');
const { LanguageClient, ExecuteCommandRequest } = require('vscode-languageclient/node');
const { serverCommand } = require('./server');
const graph = require('./graph');
const tests = require('./tests');

/** @type {LanguageClient | undefined} */
let client;
/** @type {GraphPanel | undefined} */
let graphPanel;
/** @type {vscode.OutputChannel} */
let output;
/** @type {vscode.OutputChannel | undefined} */
let testOutput;

/** @param {vscode.ExtensionContext} context */
function activate(context) {
  output = vscode.window.createOutputChannel('chatflow');
  context.subscriptions.push(
    output,
    vscode.commands.registerCommand('chatflow.showGraph', () => showGraph(context)),
    vscode.commands.registerCommand('chatflow.restartServer', () => restartClient()),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('chatflow.server')) restartClient();
    }),
    vscode.workspace.onDidChangeTextDocument((e) => graphPanel?.documentChanged(e.document)),
    vscode.window.onDidChangeActiveTextEditor((editor) => graphPanel?.editorChanged(editor)),
  );
  return startClient();
}

function deactivate() {
  testOutput?.dispose();
  return client?.stop();
}

async function startClient() {
  const config = vscode.workspace.getConfiguration('chatflow');
  const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const { command, args } = serverCommand(config.get('server.path'), config.get('server.extraArgs'), root);
  const watcher = vscode.workspace.createFileSystemWatcher('**/*.{flow,csv}');
  client = new LanguageClient(
    'chatflow',
    'chatflow language server',
    { command, args, options: root ? { cwd: root } : undefined },
    {
      documentSelector: [
        { scheme: 'file', language: 'chatflow' },
        { scheme: 'untitled', language: 'chatflow' },
      ],
      outputChannel: output,
      // Imported files and intent CSVs change under the server's feet: tell it.
      synchronize: { fileEvents: watcher },
      middleware: {
        // The client runs the server's commands itself (the "Run test" lens); show what a
        // test run answers.
        executeCommand: async (command, args, next) => {
          if (command !== tests.RUN_TEST_COMMAND) return next(command, args);
          try {
            const result = await next(command, args);
            showTestOutcome(tests.testOutcome(result, args[1]));
            return result;
          } catch (err) {
            vscode.window.showErrorMessage(`chatflow: ${err instanceof Error ? err.message : String(err)}`);
            return undefined;
          }
        },
      },
    },
  );
  try {
    await client.start();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    output.appendLine(`could not start \`${command} ${args.join(' ')}\`: ${message}`);
    const choice = await vscode.window.showErrorMessage(
      `chatflow: could not start the language server \`${command} lsp\` (${message}). ` +
        'Install chatflow or set chatflow.server.path to the program.',
      'Open Settings',
    );
    if (choice === 'Open Settings') {
      vscode.commands.executeCommand('workbench.action.openSettings', 'chatflow.server.path');
    }
  }
}

/** @param {{ passed: boolean, report: string, message: string }} outcome */
async function showTestOutcome(outcome) {
  testOutput ??= vscode.window.createOutputChannel('chatflow tests');
  testOutput.appendLine(outcome.report.trimEnd());
  const show = 'Show Output';
  const choice = outcome.passed
    ? await vscode.window.showInformationMessage(outcome.message, show)
    : await vscode.window.showErrorMessage(outcome.message, show);
  if (choice === show) testOutput.show(true);
}

async function restartClient() {
  const old = client;
  client = undefined;
  if (old) {
    try {
      await old.stop();
    } catch (err) {
      output.appendLine(`stopping the language server: ${err instanceof Error ? err.message : err}`);
    }
  }
  await startClient();
  graphPanel?.render();
}

/** @param {vscode.ExtensionContext} context */
function showGraph(context) {
  const editor = vscode.window.activeTextEditor;
  const document = editor?.document.languageId === 'chatflow' ? editor.document : graphPanel?.document;
  if (!document) {
    vscode.window.showInformationMessage('chatflow: open a .flow file to see its graph.');
    return;
  }
  if (graphPanel) {
    graphPanel.show(document);
  } else {
    graphPanel = new GraphPanel(context, document);
  }
}

/** The webview with the graph of one flow file; it follows the active .flow editor. */
class GraphPanel {
  /**
   * @param {vscode.ExtensionContext} context
   * @param {vscode.TextDocument} document
   */
  constructor(context, document) {
    this.document = document;
    this.mermaid = '';
    /** @type {NodeJS.Timeout | undefined} */
    this.timer = undefined;
    const media = vscode.Uri.joinPath(context.extensionUri, 'dist', 'media');
    this.panel = vscode.window.createWebviewPanel(
      'chatflow.graph',
      this.title(),
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      { enableScripts: true, localResourceRoots: [media] },
    );
    const webview = this.panel.webview;
    const asUri = (/** @type {string} */ file) => webview.asWebviewUri(vscode.Uri.joinPath(media, file)).toString();
    webview.html = graph.graphHtml({
      cspSource: webview.cspSource,
      nonce: graph.makeNonce(),
      mermaidUri: asUri('mermaid.min.js'),
      scriptUri: asUri('graph.js'),
      styleUri: asUri('graph.css'),
      title: this.title(),
    });
    webview.onDidReceiveMessage((message) => this.received(message));
    this.panel.onDidDispose(() => {
      clearTimeout(this.timer);
      graphPanel = undefined;
    });
  }

  title() {
    return `Graph: ${vscode.workspace.asRelativePath(this.document.uri)}`;
  }

  /** @param {vscode.TextDocument} document */
  show(document) {
    this.panel.reveal(undefined, true);
    if (document.uri.toString() !== this.document.uri.toString()) {
      this.document = document;
      this.panel.title = this.title();
      this.render();
    }
  }

  /** @param {vscode.TextEditor | undefined} editor */
  editorChanged(editor) {
    if (editor?.document.languageId === 'chatflow') this.show(editor.document);
  }

  /** Re-render shortly after the shown file is edited (the server sees unsaved text). */
  /** @param {vscode.TextDocument} document */
  documentChanged(document) {
    if (document.uri.toString() !== this.document.uri.toString()) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.render(), 600);
  }

  /** @param {{ type?: string, id?: string }} message */
  received(message) {
    switch (message?.type) {
      case 'ready':
      case 'refresh':
        this.render();
        break;
      case 'copy':
        vscode.env.clipboard.writeText(this.mermaid);
        break;
      case 'reveal':
        this.reveal(graph.nodeNameFromElementId(message.id));
        break;
    }
  }

  async render() {
    const post = (/** @type {object} */ message) => this.panel.webview.postMessage({ ...message, title: this.title() });
    if (!client || !client.isRunning()) {
      post({ type: 'error', message: 'The chatflow language server is not running (see the chatflow output).' });
      return;
    }
    try {
      const result = await client.sendRequest(ExecuteCommandRequest.type, {
        command: graph.GRAPH_COMMAND,
        arguments: [this.document.uri.toString()],
      });
      this.mermaid = graph.mermaidFromResult(result);
      post({ type: 'graph', text: this.mermaid });
    } catch (err) {
      post({ type: 'error', message: err instanceof Error ? err.message : String(err) });
    }
  }

  /** Open the node a clicked vertex stands for, through the server's document symbols. */
  /** @param {string | undefined} name */
  async reveal(name) {
    if (!name) return;
    /** @type {Array<vscode.DocumentSymbol | vscode.SymbolInformation> | undefined} */
    const symbols = await vscode.commands.executeCommand('vscode.executeDocumentSymbolProvider', this.document.uri);
    const range = findSymbolRange(symbols ?? [], name.split('.'));
    if (!range) return;
    const editor = await vscode.window.showTextDocument(this.document, { viewColumn: vscode.ViewColumn.One });
    editor.selection = new vscode.Selection(range.start, range.start);
    editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  }
}

/**
 * The range of the symbol at a path of names (`[node]` or `[flow, node]`).
 * @param {Array<vscode.DocumentSymbol | vscode.SymbolInformation>} symbols
 * @param {string[]} path
 * @returns {vscode.Range | undefined}
 */
function findSymbolRange(symbols, path) {
  const [first, ...rest] = path;
  for (const symbol of symbols) {
    if (symbol.name !== first) continue;
    if ('children' in symbol) {
      if (rest.length === 0) return symbol.selectionRange;
      const inner = findSymbolRange(symbol.children, rest);
      if (inner) return inner;
    } else if (rest.length === 0) {
      return symbol.location.range;
    }
  }
  // A flat list (SymbolInformation) names a flow's node by its own name.
  return rest.length ? findSymbolRange(symbols, rest) : undefined;
}

module.exports = { activate, deactivate };
