// `npm install` (postinstall) and `npm run build:editor`: bundles the article editor's script if it is
// missing or stale (src/ui/editor-bundle.ts). `gazette serve` checks the same on start.
import { buildEditorBundle, editorBundleBudgetBytes, editorBundleIsFresh } from '../src/ui/editor-bundle.ts';

if (editorBundleIsFresh() && !process.argv.includes('--force')) {
  console.log('The article editor’s script is up to date.');
} else {
  const report = await buildEditorBundle();
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
  console.log(
    `Built the article editor’s script: ${kb(report.bytes)}, ${kb(report.gzipBytes)} gzipped (budget ${kb(editorBundleBudgetBytes)}), in ${Math.round(report.milliseconds)} ms.`,
  );
  if (report.gzipBytes > editorBundleBudgetBytes) process.exitCode = 1;
}
