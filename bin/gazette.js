#!/usr/bin/env -S node --max-semi-space-size=2
// --max-semi-space-size=2 (also in `npm start`): a young generation of 2 MB semi-spaces instead of up to
// 32 MB keeps RSS under a page load about 60 MB lower at the same throughput (bench:site: peak 153 MB
// against 213 MB), because rendered pages are cached and each request's garbage is small.
// The `gazette` command. Node 24 runs the TypeScript sources directly (type stripping).
import module from 'node:module';

// Keep compiled code and stripped TypeScript on disk (NODE_COMPILE_CACHE, or a folder in the OS temp dir):
// later starts skip the stripping and most parsing, which saves start-up time and the stripper's memory.
module.enableCompileCache?.();
const { main } = await import('../src/cli.ts');

process.exitCode = await main(process.argv.slice(2));
