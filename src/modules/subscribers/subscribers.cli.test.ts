import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { runGazette } from '../../../test/helpers/gazette-process.ts';
import { createDb, type Db } from '../../db/index.ts';
import { legacyEmailHash } from './subscribers.tokens.ts';

/** A CSV's records as arrays of cells, header row included. */
const parseRows = (csv: string): string[][] => parse(csv);

/** Runs `gazette …` as a user would, in its own process; never throws on a non-zero exit. */
async function cli(dataDir: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await runGazette(args, { DATA_DIR: dataDir, SEED_DEMO: 'false', LOG_LEVEL: 'info' });
  return { code: code ?? -1, stdout, stderr };
}

describe('gazette subscribers import / export', () => {
  let dir: string;
  let db: Db;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'gazette-cli-'));
  });
  after(async () => {
    await db?.destroy();
    await rm(dir, { recursive: true, force: true });
  });
  const openDb = (dataDir: string) => createDb({ kind: 'sqlite', file: path.join(dataDir, 'gazette.sqlite') }).db;

  it('prints --help for import and export', async () => {
    const importHelp = await cli(dir, ['subscribers', 'import', '--help']);
    assert.equal(importHelp.code, 0);
    assert.match(importHelp.stdout, /--source/);
    const exportHelp = await cli(dir, ['subscribers', 'export', '--help']);
    assert.match(exportHelp.stdout, /export \[file\.csv\]/);
    const missingSource = await cli(dir, ['subscribers', 'import', 'x.csv']);
    assert.equal(missingSource.code, 2);
    assert.match(missingSource.stderr, /--source is required/);
  });

  it('imports good rows, reports bad ones by line number, shows a progress bar, and mails nothing', async () => {
    const dataDir = path.join(dir, 'a');
    const file = path.join(dir, 'list.csv');
    await writeFile(
      file,
      [
        'email,name,status,consented_at',
        'ann@example.com,Ann,confirmed,2025-01-02',
        'not-an-address,Bob,,',
        'cee@bücher.example,"Cé <b>",pending,',
        'dee@example.com,Dee,weird,',
        'ann@example.com,Again,,',
        'eve@example.com,"Eve\nNewline",,',
        'fay@example.com,Fay,,not a date',
        'gus@example.com,Gus,,',
      ].join('\n') + '\n',
    );
    const result = await cli(dataDir, ['subscribers', 'import', file, '--source', 'Old tool, May 2026']);
    assert.equal(result.code, 1, 'bad rows make a non-zero exit');
    assert.match(result.stdout, /Imported 3 subscribers \(1 confirmed\)/);
    assert.match(result.stderr, /Importing \|/);
    assert.match(result.stderr, /100% \| \d+ rows/);
    assert.match(result.stderr, /line 3: not a valid email address/);
    assert.match(result.stderr, /line 5: status/);
    assert.match(result.stderr, /line 6: ann@example.com appears earlier/);
    assert.match(result.stderr, /line 8: name/);
    assert.match(result.stderr, /line 9: consented_at/);

    db = openDb(dataDir);
    const rows = await db
      .selectFrom('subscribers')
      .select(['email', 'name', 'status', 'source', 'confirm_nonce'])
      .orderBy('id')
      .execute();
    assert.deepEqual(
      rows.map((r) => ({ ...r })),
      [
        { email: 'ann@example.com', name: 'Ann', status: 'confirmed', source: 'import', confirm_nonce: null },
        {
          email: 'cee@xn--bcher-kva.example',
          name: 'Cé <b>',
          status: 'pending',
          source: 'import',
          confirm_nonce: null,
        },
        { email: 'gus@example.com', name: 'Gus', status: 'pending', source: 'import', confirm_nonce: null },
      ],
    );
    const events = await db.selectFrom('consent_events').selectAll().orderBy('id').execute();
    assert.equal(events.length, 3);
    assert.ok(events.every((e) => e.kind === 'imported'));
    const detail = JSON.parse(events[0]?.detail ?? '{}') as Record<string, unknown>;
    assert.equal(detail.source, 'Old tool, May 2026');
    assert.equal(detail.consented_at, '2025-01-02T00:00:00.000Z');
    assert.ok(typeof detail.imported_at === 'string');

    // An erased address and a known one are skipped on a second import. The suppression is in the unkeyed
    // form older versions wrote: the import keys it first, so it still holds.
    await db
      .insertInto('suppressions')
      .values({
        email_hash: legacyEmailHash('hal@example.com'),
        reason: 'erased',
        created_at: new Date().toISOString(),
      })
      .execute();
    await writeFile(file, 'email\nhal@example.com\nann@example.com\nivy@example.com\n');
    const second = await cli(dataDir, ['subscribers', 'import', file, '--source', 'again']);
    assert.equal(second.code, 0);
    assert.match(second.stdout, /Imported 1 subscribers .* skipped 1 already known, 1 erased or bounced, 0 bad rows/);
    const outbox = await readFile(path.join(dataDir, 'outbox'), 'utf8').catch((e: NodeJS.ErrnoException) => e.code);
    assert.equal(outbox, 'ENOENT', 'an import sends no mail');
  });

  it('exports to a file and to stdout, and the export imports back into an empty site unchanged', async () => {
    const dataDir = path.join(dir, 'a');
    const file = path.join(dir, 'export.csv');
    const toFile = await cli(dataDir, ['subscribers', 'export', file]);
    assert.equal(toFile.code, 0);
    const toStdout = await cli(dataDir, ['subscribers', 'export']);
    assert.equal(toStdout.stdout, await readFile(file, 'utf8'));
    const records = parse<Record<string, string>>(toStdout.stdout, { columns: true });
    assert.deepEqual(Object.keys(records[0] ?? {}).slice(0, 3), ['email', 'name', 'status']);
    assert.equal(records.find((r) => r.email === 'ann@example.com')?.consent_source, 'Old tool, May 2026');

    const fresh = path.join(dir, 'b');
    const imported = await cli(fresh, ['subscribers', 'import', file, '--source', 'round trip']);
    assert.equal(imported.code, 0, imported.stderr);
    const again = await cli(fresh, ['subscribers', 'export']);
    const pick = (csv: string) =>
      parse<Record<string, string>>(csv, { columns: true }).map((r) => [r.email, r.name, r.status]);
    assert.deepEqual(pick(again.stdout), pick(toStdout.stdout));
  });

  it('neutralises formula-looking cells in the export (OWASP CSV injection) and imports them back unchanged', async () => {
    const dataDir = path.join(dir, 'formula');
    const file = path.join(dir, 'formula.csv');
    const hostile = [
      ['=eq@example.com', '=HYPERLINK("http://evil.example","x")'],
      ['+plus@example.com', '+1 555 0100'],
      ['-dash@example.com', '-2+3'],
      ["'+quote@example.com", '@SUM(A1:A2)'],
      ['plain@example.com', "'=already quoted"],
    ];
    // A file neutralised the same way is read back too: `''+quote@…` is the address `'+quote@…`.
    await writeFile(
      file,
      [
        'email,name',
        ...hostile.map((row) =>
          row.map((cell) => `"${/^'/.test(cell) ? "'" : ''}${cell.replaceAll('"', '""')}"`).join(','),
        ),
      ].join('\n'),
    );
    const first = await cli(dataDir, ['subscribers', 'import', file, '--source', "=cmd|' /C calc'!A0"]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /Imported 5 subscribers/);

    const exported = await cli(dataDir, ['subscribers', 'export', file]);
    assert.equal(exported.code, 0, exported.stderr);
    const text = await readFile(file, 'utf8');
    assert.match(text, /^"'=eq@example\.com","'=HYPERLINK\(""http:\/\/evil\.example"",""x""\)",pending,/m);
    assert.match(text, /,"'=cmd\|' \/C calc'!A0",/);
    // What a spreadsheet would see: no cell starts a formula.
    for (const record of parseRows(text)) for (const cell of record) assert.doesNotMatch(cell, /^[=+\-@\t\r]/, cell);

    const fresh = path.join(dir, 'formula-back');
    const back = await cli(fresh, ['subscribers', 'import', file, '--source', 'round trip']);
    assert.equal(back.code, 0, back.stderr);
    const freshDb = openDb(fresh);
    try {
      const rows = await freshDb.selectFrom('subscribers').select(['email', 'name']).orderBy('id').execute();
      assert.deepEqual(
        rows.map((r) => [r.email, r.name]),
        hostile,
      );
    } finally {
      await freshDb.destroy();
    }
    const pick = (csv: string) => parseRows(csv).map((r) => r.slice(0, 3));
    assert.deepEqual(pick((await cli(fresh, ['subscribers', 'export'])).stdout), pick(text));
  });

  // How fast is bench material (the README gives ~7–10 s on a quiet machine); here: nothing lost at that size.
  it('imports 100,000 rows in one run, every row stored once', async () => {
    const dataDir = path.join(dir, 'big');
    const file = path.join(dir, 'big.csv');
    const lines = ['email,name,status'];
    for (let i = 0; i < 100_000; i++) lines.push(`reader${i}@example.com,Reader ${i},${i % 2 ? 'confirmed' : ''}`);
    await writeFile(file, lines.join('\n'));
    const result = await cli(dataDir, ['subscribers', 'import', file, '--source', 'bulk']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Imported 100000 subscribers \(50000 confirmed\)/);
    const exported = await cli(dataDir, ['subscribers', 'export']);
    const emails = parse<Record<string, string>>(exported.stdout, { columns: true }).map((r) => r.email);
    assert.equal(emails.length, 100_000);
    assert.equal(new Set(emails).size, 100_000);
  });
});
