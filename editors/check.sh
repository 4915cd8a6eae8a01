#!/usr/bin/env bash
# Editor support, checked as CI does it: the VS Code extension (npm ci, unit and grammar tests,
# the .vsix built with vsce) and the tree-sitter grammar (src/ generated from grammar.js, the
# corpus and highlight tests, and every example and tests/inputs/ok flow parsed with no ERROR).
#
# Needs Node.js and npm (the machine's), and tree-sitter-cli at the version below: installed
# with cargo from crates.io when missing (the npm package downloads its binary from GitHub
# when installed, which this project's machines cannot reach). A tool that is missing skips
# its part with a message, except under CI=true, where it fails.
set -euo pipefail
cd "$(dirname "$0")"

TREE_SITTER_VERSION=0.27.1
ci="${CI:-false}"

missing() {
  if [ "$ci" = true ]; then
    echo "editors/check.sh: $1 is missing (CI=true: failing instead of skipping)" >&2
    exit 1
  fi
  echo "editors/check.sh: $1 is missing; skipping $2" >&2
}

seconds() { date +%s; }
started=$(seconds)

# ---- VS Code extension -----------------------------------------------------------------------
if command -v npm > /dev/null && command -v node > /dev/null; then
  (
    cd vscode
    npm ci --prefer-offline --no-audit --no-fund --loglevel=error
    npm test
    npm run --silent package
    test -s chatflow.vsix
    # The graph view in a browser (Debian's chromium, which ./test.sh installs).
    npm run --silent test:webview
  )
  echo "editors/check.sh: VS Code extension built (editors/vscode/chatflow.vsix) in $(($(seconds) - started)) s"
else
  missing "npm" "the VS Code extension"
fi

# ---- tree-sitter grammar ---------------------------------------------------------------------
# The one at the pinned version: on PATH, or where cargo installs it.
is_pinned() { [ -x "$1" ] && [ "$("$1" --version 2> /dev/null)" = "tree-sitter $TREE_SITTER_VERSION" ]; }
tree_sitter=""
for candidate in "$(command -v tree-sitter || true)" "$HOME/.cargo/bin/tree-sitter"; do
  if [ -n "$candidate" ] && is_pinned "$candidate"; then
    tree_sitter="$candidate"
    break
  fi
done
if [ -z "$tree_sitter" ] && command -v cargo > /dev/null; then
  echo "editors/check.sh: installing tree-sitter-cli $TREE_SITTER_VERSION from crates.io (a few minutes, once per machine)" >&2
  # A debug build: 205 s of CPU instead of 530 s for release (measured on this 2-core kind),
  # which keeps a fresh CI machine inside its time budget; our grammar and corpus are small
  # enough that generate and test take about 2 s either way.
  cargo install --quiet --debug --locked --no-default-features tree-sitter-cli --version "$TREE_SITTER_VERSION"
  tree_sitter="$HOME/.cargo/bin/tree-sitter"
fi
if [ -n "$tree_sitter" ] && ! command -v node > /dev/null; then
  missing "node (tree-sitter generate runs grammar.js with it)" "the tree-sitter grammar"
elif [ -n "$tree_sitter" ]; then
  ts_started=$(seconds)
  # A configuration of our own: the only grammar directory is this one (not the user's).
  ts_config="$(mktemp)"
  trap 'rm -f "$ts_config"' EXIT
  printf '{"parser-directories": ["%s"]}\n' "$PWD" > "$ts_config"
  (
    cd tree-sitter-chatflow
    # The generated parser is committed; it must be what grammar.js generates.
    "$tree_sitter" generate
    if ! git diff --quiet -- src; then
      git --no-pager diff --stat -- src >&2
      echo "editors/check.sh: src/ is not what grammar.js generates: run tree-sitter generate and commit src/" >&2
      exit 1
    fi
    "$tree_sitter" test --config-path "$ts_config"
    # Every example flow, and the TextMate grammar's samples, parse with no ERROR or MISSING node.
    "$tree_sitter" parse --config-path "$ts_config" --quiet --stat \
      ../../examples/*.flow ../../tests/inputs/ok/*.flow ../../tests/inputs/ok/lib/*.flow \
      ../vscode/test/grammar/*.flow
  )
  echo "editors/check.sh: tree-sitter grammar checked in $(($(seconds) - ts_started)) s"
else
  missing "tree-sitter $TREE_SITTER_VERSION (and cargo to install it)" "the tree-sitter grammar"
fi
echo "editors/check.sh: done in $(($(seconds) - started)) s"
