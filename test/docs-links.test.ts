import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

const root = path.join(import.meta.dirname, '..');

/** README.md, CONTRIBUTING.md and every Markdown file under docs/. */
function markdownFiles(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const full = path.join(dir, name);
      return statSync(full).isDirectory() ? walk(full) : name.endsWith('.md') ? [full] : [];
    });
  return [path.join(root, 'README.md'), path.join(root, 'CONTRIBUTING.md'), ...walk(path.join(root, 'docs'))];
}

/** The Markdown outside fenced code blocks, where `](…)` is a link. */
function prose(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, '');
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchorsOf(markdown: string): Set<string> {
  const headings = [...prose(markdown).matchAll(/^#{1,6} (.+)$/gm)].map((m) => m[1] ?? '');
  return new Set(
    headings.map((h) =>
      h
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\p{M} _-]/gu, '')
        .replace(/ /g, '-'),
    ),
  );
}

describe('documentation links', () => {
  for (const file of markdownFiles()) {
    it(`every relative link in ${path.relative(root, file)} points at an existing file and heading`, () => {
      const links = [...prose(readFileSync(file, 'utf8')).matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] ?? '');
      for (const link of links.filter((l) => !/^[a-z]+:/i.test(l))) {
        const [target = '', anchor] = link.split('#');
        const resolved = target === '' ? file : path.resolve(path.dirname(file), target);
        assert.ok(existsSync(resolved), `${path.relative(root, file)} links to ${link}, which does not exist`);
        if (anchor && resolved.endsWith('.md')) {
          assert.ok(
            anchorsOf(readFileSync(resolved, 'utf8')).has(anchor),
            `${path.relative(root, file)} links to ${link}: no such heading`,
          );
        }
      }
    });
  }
});
