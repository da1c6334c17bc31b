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

  it('trusts no proxy by default; TRUST_PROXY takes true, a hop count, or addresses, CIDRs and named ranges', () => {
    assert.equal(loadConfig({}).trustProxy, false);
    assert.equal(loadConfig({ TRUST_PROXY: 'true' }).trustProxy, true);
    assert.equal(loadConfig({ TRUST_PROXY: 'false' }).trustProxy, false);
    assert.equal(loadConfig({ TRUST_PROXY: '2' }).trustProxy, 2);
    assert.deepEqual(
      loadConfig({
        TRUST_PROXY: 'loopback, 10.0.0.0/8,192.168.1.1, fd00::/8,linklocal,uniquelocal,172.16.0.0/255.240.0.0',
      }).trustProxy,
      ['loopback', '10.0.0.0/8', '192.168.1.1', 'fd00::/8', 'linklocal', 'uniquelocal', '172.16.0.0/255.240.0.0'],
    );
  });

  it('takes MAIL_FROM as an address or a named one, and defaults to a valid address on the site host or localhost.localdomain', () => {
    assert.equal(
      loadConfig({ MAIL_FROM: 'The Judean <news@judean.example>' }).mail.from,
      'The Judean <news@judean.example>',
    );
    assert.equal(loadConfig({ MAIL_FROM: 'news@judean.example' }).mail.from, 'news@judean.example');
    assert.equal(loadConfig({ SITE_URL: 'https://news.judean.example' }).mail.from, 'newsletter@news.judean.example');
    for (const env of [{}, { SITE_URL: 'http://localhost:3000' }, { SITE_URL: 'http://[::1]:3000' }]) {
      assert.equal(loadConfig(env).mail.from, 'newsletter@localhost.localdomain', JSON.stringify(env));
    }
  });

  it('selects PostgreSQL for a postgres:// DATABASE_URL and a SQLite file for sqlite:', () => {
    assert.deepEqual(loadConfig({ DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/news' }).database, {
      kind: 'postgres',
      url: 'postgres://postgres@127.0.0.1:5432/news',
    });
    assert.deepEqual(loadConfig({ DATABASE_URL: 'sqlite:/tmp/x.sqlite' }).database, {
      kind: 'sqlite',
      file: '/tmp/x.sqlite',
    });
  });

  for (const [variable, value] of [
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['SITE_URL', 'ftp://example.com'],
    ['SITE_URL', 'not a url'],
    ['DATABASE_URL', 'mysql://localhost/db'],
    ['LOG_LEVEL', 'loud'],
    ['TRUST_PROXY', 'yes'],
    ['TRUST_PROXY', '10.0.0.0/33'],
    ['TRUST_PROXY', '127.0.0.1,'],
    ['TRUST_PROXY', 'loopback, proxy.example'],
    ['MAIL_FROM', 'newsletter@127.0.0.1'],
    ['MAIL_FROM', 'The Judean <newsletter@localhost>'],
    ['MAIL_FROM', 'The Judean'],
    ['MAIL_FROM', 'a@b.example\r\nBcc: x@y.example'],
  ] as const) {
    it(`rejects ${variable}=${value} with one line naming the variable`, () => {
      assert.throws(
        () => loadConfig({ [variable]: value }),
        (error: unknown) =>
          error instanceof ConfigError &&
          error.message.startsWith(`Invalid ${variable}=`) &&
          !error.message.includes('\n'),
      );
    });
  }

  it('takes TEST_CLOCK_FILE only with NODE_ENV=test, so no deployment runs on a moved clock', () => {
    assert.equal(loadConfig({}).testClockFile, null);
    assert.equal(loadConfig({ TEST_CLOCK_FILE: 'clock', NODE_ENV: 'test' }).testClockFile, path.resolve('clock'));
    for (const NODE_ENV of [undefined, 'production', 'development']) {
      assert.throws(
        () => loadConfig({ TEST_CLOCK_FILE: 'clock', ...(NODE_ENV ? { NODE_ENV } : {}) }),
        (error: unknown) =>
          error instanceof ConfigError &&
          /^Invalid TEST_CLOCK_FILE="clock": only for Gazette's own tests, with NODE_ENV=test$/.test(error.message),
      );
    }
  });

  it('keeps media on the filesystem by default, and selects S3 for MEDIA_URL=s3://bucket/prefix', () => {
    assert.deepEqual(loadConfig({}).media, { storage: { kind: 'filesystem' }, publicUrl: null });
    const media = loadConfig({
      MEDIA_URL: 's3://news-media/judean/',
      S3_ENDPOINT: 'http://127.0.0.1:9000/',
      S3_FORCE_PATH_STYLE: 'true',
      S3_ACCESS_KEY_ID: 'id',
      S3_SECRET_ACCESS_KEY: 'secret',
      MEDIA_PUBLIC_URL: 'https://cdn.example/judean/',
    }).media;
    assert.deepEqual(media, {
      storage: {
        kind: 's3',
        bucket: 'news-media',
        prefix: 'judean',
        endpoint: 'http://127.0.0.1:9000',
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: 'id', secretAccessKey: 'secret' },
      },
      publicUrl: 'https://cdn.example/judean',
    });
    const aws = loadConfig({ MEDIA_URL: 's3://news-media', AWS_REGION: 'eu-central-1' }).media.storage;
    assert.deepEqual(aws, {
      kind: 's3',
      bucket: 'news-media',
      prefix: '',
      endpoint: null,
      region: 'eu-central-1',
      forcePathStyle: false,
      credentials: null,
    });
  });

  for (const [env, variable] of [
    [{ MEDIA_URL: 'https://bucket.example' }, 'MEDIA_URL'],
    [{ MEDIA_URL: 's3://Bad_Bucket' }, 'MEDIA_URL'],
    [{ MEDIA_URL: 's3://news-media', S3_ENDPOINT: 'minio:9000' }, 'S3_ENDPOINT'],
    [{ MEDIA_URL: 's3://news-media', S3_ACCESS_KEY_ID: 'id' }, 'S3_SECRET_ACCESS_KEY'],
    [{ MEDIA_URL: 's3://news-media', S3_SECRET_ACCESS_KEY: 'top-secret-value' }, 'S3_ACCESS_KEY_ID'],
    [{ S3_SECRET_ACCESS_KEY: 'top-secret-value' }, 'S3_SECRET_ACCESS_KEY'],
    [{ S3_ENDPOINT: 'http://127.0.0.1:9000' }, 'S3_ENDPOINT'],
    [{ MEDIA_PUBLIC_URL: 'cdn.example' }, 'MEDIA_PUBLIC_URL'],
  ] as const) {
    it(`rejects media settings ${JSON.stringify(env)} naming ${variable}, never echoing a secret`, () => {
      assert.throws(
        () => loadConfig(env),
        (error: unknown) =>
          error instanceof ConfigError &&
          error.message.startsWith(`Invalid ${variable}`) &&
          !error.message.includes('\n') &&
          !error.message.includes('top-secret-value'),
      );
    });
  }
});
