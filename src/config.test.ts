import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from './config.ts';

describe('configuration from the environment', () => {
  it('defaults to port 3000 on 127.0.0.1, ./data and a SQLite file inside it', () => {
    const config = loadConfig({});
    assert.equal(config.port, 3000);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.siteUrl, 'http://127.0.0.1:3000');
    assert.equal(config.dataDir, path.resolve('data'));
    assert.deepEqual(config.database, { kind: 'sqlite', file: path.resolve('data', 'gazette.sqlite') });
    assert.ok(Object.isFrozen(config));
  });

  it('derives SITE_URL from HOST and PORT, and strips a trailing slash from an explicit one', () => {
    assert.equal(loadConfig({ HOST: '0.0.0.0', PORT: '8080' }).siteUrl, 'http://127.0.0.1:8080');
    assert.equal(loadConfig({ SITE_URL: 'https://news.example/' }).siteUrl, 'https://news.example');
  });

  it('selects PostgreSQL for a postgres:// DATABASE_URL and a SQLite file for sqlite:', () => {
    assert.deepEqual(loadConfig({ DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/news' }).database, {
      kind: 'postgres',
      url: 'postgres://postgres@127.0.0.1:5432/news',
    });
    assert.deepEqual(loadConfig({ DATABASE_URL: 'sqlite:/tmp/x.sqlite' }).database, { kind: 'sqlite', file: '/tmp/x.sqlite' });
  });

  for (const [variable, value] of [
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['SITE_URL', 'ftp://example.com'],
    ['SITE_URL', 'not a url'],
    ['DATABASE_URL', 'mysql://localhost/db'],
    ['LOG_LEVEL', 'loud'],
  ] as const) {
    it(`rejects ${variable}=${value} with one line naming the variable`, () => {
      assert.throws(
        () => loadConfig({ [variable]: value }),
        (error: unknown) => error instanceof ConfigError && error.message.startsWith(`Invalid ${variable}=`) && !error.message.includes('\n'),
      );
    });
  }
});
