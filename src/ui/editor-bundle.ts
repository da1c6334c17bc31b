import { createHash } from 'node:crypto';
import { closeSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

// The article editor's script is TypeScript in ui/editor/ plus Tiptap from node_modules, bundled by esbuild
// into one file in ui/assets/, which StaticAssets serves (fingerprinted, with SRI) to the editor page only.
// It is built by `npm install` (the postinstall script) and checked again by `gazette serve` (`npm start`)
// before the assets are read: a missing or stale bundle (its stamp, a hash of its sources and of the locked
// dependencies, differs) is rebuilt there, in about a second. Nothing is downloaded at run time, and a user
// never has a build step to remember. Without the bundle the editor is the plain Markdown form.

const uiDir = import.meta.dirname;
const root = path.join(uiDir, '..', '..');
const sourceDir = path.join(uiDir, 'editor');
export const editorBundleName = 'editor.bundle.js';
const bundlePath = path.join(uiDir, 'assets', editorBundleName);
/** The budget the newsroom promises (issue 12): the editor's script gzipped. */
export const editorBundleBudgetBytes = 250 * 1024;

/** The files of ui/ outside ui/editor/ that the bundle imports (a test checks this list against esbuild's). */
export const sharedSources = ['article-cards.ts', 'slug.ts'];

/** A hash of everything the bundle is made from: its sources, the shared ui/ files, the lockfile. */
export function editorBundleStamp(): string {
  const hash = createHash('sha256');
  const files = [
    ...readdirSync(sourceDir)
      .filter((name) => name.endsWith('.ts'))
      .sort()
      .map((name) => path.join(sourceDir, name)),
    ...sharedSources.map((name) => path.join(uiDir, name)),
    path.join(root, 'package-lock.json'),
  ];
  for (const file of files) {
    hash.update(path.relative(root, file));
    try {
      hash.update(readFileSync(file));
    } catch {
      hash.update('(missing)');
    }
  }
  return hash.digest('hex').slice(0, 16);
}

function stampLine(stamp: string): string {
  return `/* gazette editor bundle ${stamp} */`;
}

/** Whether the bundle on disk was made from the sources as they are. */
export function editorBundleIsFresh(): boolean {
  // Only the first line is read: this runs at every start.
  const head = Buffer.alloc(80);
  let fd: number | undefined;
  try {
    fd = openSync(bundlePath, 'r');
    const length = readSync(fd, head, 0, head.length, 0);
    return head.subarray(0, length).toString('utf8').startsWith(stampLine(editorBundleStamp()));
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export interface BundleReport {
  bytes: number;
  gzipBytes: number;
  milliseconds: number;
  /** Our own files that went into it, relative to the working directory (esbuild's metafile). */
  inputs: string[];
}

/** Builds the bundle (esbuild, minified, one IIFE for browsers), writing it whole or not at all. */
export async function buildEditorBundle(): Promise<BundleReport> {
  const started = performance.now();
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [path.join(sourceDir, 'main.ts')],
    bundle: true,
    minify: process.env.GAZETTE_EDITOR_DEBUG !== '1',
    format: 'iife',
    platform: 'browser',
    target: ['es2022'],
    write: false,
    legalComments: 'none',
    banner: { js: stampLine(editorBundleStamp()) },
    logLevel: 'silent',
    metafile: true,
  });
  const output = result.outputFiles[0];
  if (!output) throw new Error('esbuild wrote no output');
  // Several processes may start at once: each writes its own file and renames it into place.
  const temporary = `${bundlePath}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, output.contents);
    renameSync(temporary, bundlePath);
  } finally {
    rmSync(temporary, { force: true });
  }
  const inputs = Object.keys(result.metafile.inputs).filter((input) => !input.includes('node_modules'));
  return {
    bytes: output.contents.byteLength,
    gzipBytes: gzipSync(output.contents, { level: 9 }).byteLength,
    milliseconds: performance.now() - started,
    inputs,
  };
}

/**
 * Builds the bundle if it is missing or stale; `gazette serve` calls it before reading the assets. A failed
 * build (a read-only install, say) is reported and the newsroom goes on with the plain Markdown form.
 */
export async function ensureEditorBundle(
  log: (message: string) => void = () => {},
): Promise<'fresh' | 'built' | 'failed'> {
  if (editorBundleIsFresh()) return 'fresh';
  try {
    const report = await buildEditorBundle();
    log(
      `Built the article editor's script: ${Math.round(report.gzipBytes / 1024)} KB gzipped, in ${Math.round(report.milliseconds)} ms.`,
    );
    return 'built';
  } catch (error) {
    log(
      `Could not build the article editor's script (${error instanceof Error ? error.message : String(error)}); the editor falls back to the Markdown form.`,
    );
    return 'failed';
  }
}
