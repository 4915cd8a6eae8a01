// Builds dist/: the extension bundled with esbuild (so the .vsix needs no node_modules), the
// webview's files, and Mermaid's browser bundle. Mermaid is taken from its npm tarball (pinned
// version and checksum) rather than installed as a dependency: only dist/mermaid.min.js is
// needed, and installing the package would pull in ~100 packages it has bundled already.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const MERMAID_VERSION = '11.17.2';
const MERMAID_INTEGRITY = 'sha512-V6K3C8EBdEsPFZXSKMJe6ppQOENxuHARr9GvHX4hh47lAbhMRD9qf4oEK7LoaRQxULMa80/qt5gHO73aCleBBg==';

const here = dirname(fileURLToPath(import.meta.url));
const media = join(here, 'dist', 'media');
mkdirSync(media, { recursive: true });

await esbuild.build({
  entryPoints: [join(here, 'src', 'extension.js')],
  outfile: join(here, 'dist', 'extension.js'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node18',
  external: ['vscode'],
  minify: true,
  logLevel: 'warning',
});
for (const file of ['graph.js', 'graph.css']) copyFileSync(join(here, 'media', file), join(media, file));
fetchMermaid();

function fetchMermaid() {
  // Cached beside the npm packages, keyed by the checksum, so a rebuild copies it again.
  const cache = join(here, 'node_modules', '.cache', `chatflow-mermaid-${MERMAID_VERSION}`);
  const stamp = join(cache, 'integrity');
  if (!(existsSync(stamp) && readFileSync(stamp, 'utf8') === MERMAID_INTEGRITY)) {
    const work = mkdtempSync(join(tmpdir(), 'chatflow-mermaid-'));
    try {
      // `npm pack` fetches through npm's cache, so a second build needs no network.
      const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
      const packed = JSON.parse(
        execFileSync(npm, ['pack', `mermaid@${MERMAID_VERSION}`, '--json', '--prefer-offline', '--pack-destination', work], {
          encoding: 'utf8',
          shell: process.platform === 'win32',
        }),
      );
      const tarball = join(work, packed[0].filename);
      const integrity = 'sha512-' + createHash('sha512').update(readFileSync(tarball)).digest('base64');
      if (integrity !== MERMAID_INTEGRITY) {
        throw new Error(`mermaid@${MERMAID_VERSION}: checksum ${integrity}, expected ${MERMAID_INTEGRITY}`);
      }
      execFileSync('tar', ['-xzf', tarball, '-C', work, 'package/dist/mermaid.min.js', 'package/LICENSE']);
      mkdirSync(cache, { recursive: true });
      copyFileSync(join(work, 'package', 'dist', 'mermaid.min.js'), join(cache, 'mermaid.min.js'));
      copyFileSync(join(work, 'package', 'LICENSE'), join(cache, 'LICENSE'));
      writeFileSync(stamp, MERMAID_INTEGRITY);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  copyFileSync(join(cache, 'mermaid.min.js'), join(media, 'mermaid.min.js'));
  copyFileSync(join(cache, 'LICENSE'), join(media, 'mermaid.LICENSE'));
}
