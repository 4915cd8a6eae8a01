'use strict';
// How the language server is started: `chatflow lsp` over stdio, with the program from the
// `chatflow.server.path` setting. Kept free of the `vscode` module so it can be unit tested.
const path = require('path');

/**
 * The command that starts the server.
 * @param {unknown} configured the `chatflow.server.path` setting
 * @param {unknown} extraArgs the `chatflow.server.extraArgs` setting
 * @param {string | undefined} workspaceRoot the first workspace folder's path, if any
 * @returns {{ command: string, args: string[] }}
 */
function serverCommand(configured, extraArgs, workspaceRoot) {
  let command = typeof configured === 'string' ? configured.trim() : '';
  if (command === '') command = 'chatflow';
  if (command.startsWith('~/') && process.env.HOME) {
    command = path.join(process.env.HOME, command.slice(2));
  }
  // A bare name is looked up on PATH; a relative path is taken from the workspace.
  const isBareName = !command.includes('/') && !command.includes('\\');
  if (!isBareName && !path.isAbsolute(command) && workspaceRoot) {
    command = path.join(workspaceRoot, command);
  }
  const extra = Array.isArray(extraArgs) ? extraArgs.filter((a) => typeof a === 'string') : [];
  return { command, args: ['lsp', ...extra] };
}

module.exports = { serverCommand };
