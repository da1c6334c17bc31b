/**
 * The modules' borders (STYLE rules 11 and the layout in docs/ARCHITECTURE.md), kept by the import graph:
 * - no cycle between parts of the code, counting runtime imports (`import type` is erased and not counted);
 * - another module is reached only through its entry file `modules/<name>/index.ts`, never its repository
 *   or tables (the one exception: `db/database.ts` assembles the tables' types into the database's type);
 * - the view kit `ui/` and the other kits import no domain module, no consumer (site, newsroom) and no entry
 *   point; domain modules import no consumer.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import ts from 'typescript';

const srcDir = path.join(import.meta.dirname, '..', 'src');

interface Edge {
  from: string;
  to: string;
  typeOnly: boolean;
}

/** The static imports and re-exports of one file, relative specifiers resolved against its folder. */
export function importsOf(file: string, text: string): Edge[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const edges: Edge[] = [];
  const add = (specifier: ts.Expression | undefined, typeOnly: boolean) => {
    if (!specifier || !ts.isStringLiteral(specifier) || !specifier.text.startsWith('.')) return;
    edges.push({ from: file, to: path.normalize(path.join(path.dirname(file), specifier.text)), typeOnly });
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const named = clause?.namedBindings;
      const allTypes =
        !!clause &&
        (clause.isTypeOnly ||
          (!clause.name &&
            !!named &&
            ts.isNamedImports(named) &&
            named.elements.length > 0 &&
            named.elements.every((e) => e.isTypeOnly)));
      add(node.moduleSpecifier, allTypes);
    } else if (ts.isExportDeclaration(node)) {
      const named = node.exportClause;
      const allTypes =
        node.isTypeOnly ||
        (!!named && ts.isNamedExports(named) && named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly));
      add(node.moduleSpecifier, allTypes);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node.arguments[0], false);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return edges;
}

/** The part of the code a file (path relative to src/) belongs to: `modules/articles`, `ui`, `root:app.ts`… */
export function partOf(file: string): string {
  const parts = file.split(path.sep);
  if (parts[0] === 'modules') return `modules/${parts[1]}`;
  return parts.length === 1 ? `root:${parts[0]}` : (parts[0] ?? file);
}

const kits = new Set([
  'ui',
  'http',
  'db',
  'jobs',
  'content-changes',
  'root:config.ts',
  'root:errors.ts',
  'root:logging.ts',
  'root:clock.ts',
  'root:scratch.ts',
  'root:cli-support.ts',
  'root:email-address.ts',
]);
const consumers = new Set(['site', 'newsroom', 'api']);

/** Every border broken by these edges (paths relative to src/), in words. */
export function borderProblems(edges: readonly Edge[]): string[] {
  const problems: string[] = [];
  const runtime = new Map<string, Set<string>>();
  for (const { from, to, typeOnly } of edges) {
    const a = partOf(from);
    const b = partOf(to);
    if (
      path.basename(from) === 'index.ts' &&
      /\.(repository|table)\.ts$/.test(to) &&
      !(typeOnly && to.endsWith('.table.ts'))
    ) {
      problems.push(`${from} re-exports ${to}: an entry file offers services, not the repository or tables`);
    }
    if (a === b) continue;
    // The database's type is assembled from every module's table types (Kysely's one `Database` interface).
    if (from === path.join('db', 'database.ts') && typeOnly && to.endsWith('.table.ts')) continue;
    if (b.startsWith('modules/') && path.basename(to) !== 'index.ts') {
      problems.push(`${from} imports ${to}: use ${b}/index.ts`);
    }
    if (kits.has(a) && (b.startsWith('modules/') || consumers.has(b) || (b.startsWith('root:') && !kits.has(b)))) {
      problems.push(`${from} imports ${to}: the kit ${a} depends on no domain module, consumer or entry point`);
    }
    if (a.startsWith('modules/') && (consumers.has(b) || (b.startsWith('root:') && !kits.has(b)))) {
      problems.push(`${from} imports ${to}: a domain module depends on no consumer or entry point`);
    }
    if (!typeOnly) {
      let targets = runtime.get(a);
      if (!targets) runtime.set(a, (targets = new Set()));
      targets.add(b);
    }
  }
  // A cycle between parts: depth-first search, reporting each cycle's path once.
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (part: string) => {
    state.set(part, 'open');
    stack.push(part);
    for (const next of [...(runtime.get(part) ?? [])].sort()) {
      if (state.get(next) === 'open')
        problems.push(`cycle: ${[...stack.slice(stack.indexOf(next)), next].join(' → ')}`);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(part, 'done');
  };
  for (const part of [...runtime.keys()].sort()) if (!state.has(part)) visit(part);
  return problems;
}

/** Source files whose imports count: tests and their fixtures may reach anywhere. */
function sourceFiles(): string[] {
  return readdirSync(srcDir, { recursive: true, encoding: 'utf8' }).filter(
    (name) =>
      name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.fixtures.ts') && !name.endsWith('.d.ts'),
  );
}

describe('module borders', () => {
  it('no cycle between parts, no reach into another module, no kit depending on a domain', () => {
    const files = sourceFiles();
    assert.ok(files.length > 50, `found ${files.length} files`);
    const edges = files.flatMap((file) => importsOf(file, readFileSync(path.join(srcDir, file), 'utf8')));
    assert.deepEqual(borderProblems(edges), []);
  });

  it('every domain module has an entry file', () => {
    const modules = readdirSync(path.join(srcDir, 'modules'));
    const missing = modules.filter((name) => !readdirSync(path.join(srcDir, 'modules', name)).includes('index.ts'));
    assert.deepEqual(missing, []);
  });

  it('finds a cycle, a repository reached from outside, and a kit importing a domain', () => {
    const edges = [
      ...importsOf(
        path.join('modules', 'a', 'a.service.ts'),
        "import { b } from '../b/b.repository.ts';\nimport type { X } from '../../site/x.ts';",
      ),
      ...importsOf(path.join('modules', 'b', 'index.ts'), "export { a } from '../a/index.ts';"),
      ...importsOf(
        path.join('ui', 'layout.ts'),
        "import type { T } from '../modules/a/index.ts';\nconst m = await import('../modules/b/index.ts');",
      ),
    ];
    edges.push(
      ...importsOf(
        path.join('modules', 'c', 'index.ts'),
        "export { x } from './c.repository.ts';\nexport type { Row } from './c.table.ts';",
      ),
    );
    const problems = borderProblems(edges);
    assert.ok(
      problems.includes(
        'modules/c/index.ts re-exports modules/c/c.repository.ts: an entry file offers services, not the repository or tables',
      ),
      problems.join('\n'),
    );
    assert.ok(!problems.some((p) => p.includes('c.table.ts')), problems.join('\n'));
    assert.ok(
      problems.some((p) => p.includes('b.repository.ts: use modules/b/index.ts')),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((p) => p === 'cycle: modules/a → modules/b → modules/a'),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((p) => p.startsWith('ui/layout.ts imports modules/a/index.ts: the kit ui')),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((p) => p.startsWith('modules/a/a.service.ts imports site/x.ts')),
      problems.join('\n'),
    );
    // A type-only import makes no runtime edge: no cycle through it.
    assert.deepEqual(
      borderProblems(importsOf(path.join('modules', 'b', 'index.ts'), "import type { A } from '../a/index.ts';")),
      [],
    );
  });
});
