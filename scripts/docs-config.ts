// Rewrites docs/configuration.md from the schema in src/config.ts: `npm run docs:config`.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { configurationMarkdown } from '../src/config.docs.ts';

const target = path.join(import.meta.dirname, '..', 'docs', 'configuration.md');
await writeFile(target, configurationMarkdown());
console.log(`Wrote ${path.relative(process.cwd(), target)}.`);
