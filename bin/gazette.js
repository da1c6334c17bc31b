#!/usr/bin/env node
// The `gazette` command. Node 24 runs the TypeScript sources directly (type stripping).
import module from 'node:module';

// Keep compiled code and stripped TypeScript on disk (NODE_COMPILE_CACHE, or a folder in the OS temp dir):
// later starts skip the stripping and most parsing, which saves start-up time and the stripper's memory.
module.enableCompileCache?.();
const { main } = await import('../src/cli.ts');

process.exitCode = await main(process.argv.slice(2));
