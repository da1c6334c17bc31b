// Bulk data for benchmarks and tests: N published articles with a news-like vocabulary, or N confirmed
// subscribers with their consent records. Multi-row INSERTs in transactions, on SQLite and PostgreSQL alike,
// through the same repositories and fixtures the application uses.
//
//   npm run bench:generate -- articles 100000       # into DATABASE_URL / DATA_DIR, as `gazette serve` would open it
//   npm run bench:generate -- subscribers 100000
//
// Deterministic (seeded), so runs compare. Words follow a Zipf-like distribution: a few hundred real English
// and news words at the head, then a long tail of made-up names and terms, as in a real archive.
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.ts';
import { createDb, type Db } from '../src/db/index.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { renderArticleBody } from '../src/modules/articles/articles.body.ts';
import { newArticleRow } from '../src/modules/articles/articles.fixtures.ts';
import { insertConsentEvents, insertSubscribers } from '../src/modules/subscribers/subscribers.repository.ts';
import { getOrCreateSecretKey } from '../src/modules/settings/secret.ts';
import { emailHash } from '../src/modules/subscribers/subscribers.tokens.ts';

/** A small seeded PRNG (mulberry32): the same articles and queries on every run. */
export function randomSource(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const functionWords =
  `the of and to a in that is was for on with as by he it at said his from be have has are an not they
this who were had but been their will would which its or after more about two one up new also than other into over
there year when last first could people so what all can out some no time may only if most years week government just
we before three like since back state officials told where us made between including while during under city those`.split(
    /\s+/,
  );

export const newsWords =
  `ceasefire hostages minister president election council budget parliament coalition agreement talks mediators envoy
border security police court judge ruling appeal verdict protest strike union workers wages inflation prices market shares
investors bank interest rates economy growth exports imports trade tariffs energy gas oil electricity climate drought
flood storm heatwave hospital doctors nurses patients vaccine health school teachers students university research science
technology startup software company founder chief executive profits losses layoffs housing rent mortgage tenants
transport railway airport flights ferry harbour roads traffic culture gallery galleries museum theatre festival music
film author novel poetry exhibition artists football league match season coach players stadium victory defeat weather
diplomacy sanctions embassy ambassador summit treaty negotiations proposal deadline vote referendum campaign candidate
opposition spokesperson statement investigation report inquiry scandal resignation reform pension taxes spending deficit
refugees migrants aid convoy supplies humanitarian water food shortage crisis emergency rescue fire earthquake village
region capital north south east west island coast valley mountain desert river farmers harvest wheat tourism hotels`.split(
    /\s+/,
  );

const syllables = [
  'ka',
  'lo',
  'mir',
  'ten',
  'sha',
  'vel',
  'dor',
  'ri',
  'an',
  'bel',
  'zu',
  'ko',
  'mar',
  'el',
  'ta',
  'nis',
  'or',
  'gal',
  'ben',
  'ya',
  'hu',
  'ro',
  'sel',
  'di',
];

/** The vocabulary, most frequent first: function words, news words, then about 12,000 invented names and terms. */
export function buildVocabulary(random: () => number): string[] {
  const tail = new Set<string>();
  while (tail.size < 12_000) {
    const n = 2 + Math.floor(random() * 3);
    let word = '';
    for (let i = 0; i < n; i++) word += syllables[Math.floor(random() * syllables.length)];
    tail.add(word);
  }
  return [...new Set([...functionWords, ...newsWords, ...tail])];
}

/** Picks word indices with probability ∝ 1/(rank+1)^s, by binary search over the cumulative weights. */
export function zipfSampler(size: number, random: () => number, s = 1.05): () => number {
  const cumulative = new Float64Array(size);
  let sum = 0;
  for (let i = 0; i < size; i++) cumulative[i] = sum += 1 / Math.pow(i + 1, s);
  return () => {
    const target = random() * sum;
    let lo = 0;
    let hi = size - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((cumulative[mid] ?? 0) < target) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

export interface Corpus {
  vocabulary: string[];
  sentence: (min: number, max: number) => string;
  random: () => number;
}

export function createCorpus(seed = 20261125): Corpus {
  const random = randomSource(seed);
  const vocabulary = buildVocabulary(random);
  const pick = zipfSampler(vocabulary.length, random);
  const sentence = (min: number, max: number) => {
    const n = min + Math.floor(random() * (max - min + 1));
    const words = Array.from({ length: n }, () => vocabulary[pick()] ?? 'the');
    const first = words[0] ?? 'the';
    words[0] = first.charAt(0).toUpperCase() + first.slice(1);
    return `${words.join(' ')}.`;
  };
  return { vocabulary, sentence, random };
}

export interface GenerateOptions {
  /** Rows per INSERT statement (bound parameters stay far below SQLite's 32,766 and PostgreSQL's 65,535). */
  batchSize?: number;
  /** Rows per transaction: fewer commits is faster; smaller ones let other writers in between. */
  transactionSize?: number;
  /** Called after each transaction with the rows written so far. */
  onProgress?: (done: number) => void;
}

/** Runs `fill(trx, from, to)` for [0, count) in transactions of `transactionSize` rows and batches of `batchSize`. */
async function inBatches(
  db: Db,
  count: number,
  options: GenerateOptions,
  defaults: { batchSize: number },
  fill: (trx: Db, from: number, to: number) => Promise<void>,
): Promise<void> {
  const batchSize = options.batchSize ?? defaults.batchSize;
  const transactionSize = Math.max(batchSize, options.transactionSize ?? 20_000);
  for (let from = 0; from < count; from += transactionSize) {
    const until = Math.min(count, from + transactionSize);
    await db.transaction().execute(async (trx) => {
      for (let at = from; at < until; at += batchSize) await fill(trx, at, Math.min(until, at + batchSize));
    });
    options.onProgress?.(until);
  }
}

/** Tags and authors the generated articles are filed under, so that archives have deep pages as a real site's do. */
export interface Taxonomy {
  /** `bench-topic-<k>`: each article has one to three, the first tags far more often than the last (Zipf). */
  tags: number;
  /** `bench-author-<k>`: each article has one byline, every eighth a second one. */
  authors: number;
}

const defaultTaxonomy: Taxonomy = { tags: 24, authors: 12 };

/**
 * Inserts `count` articles, `bench-article-<n>` (title 5–11 words, standfirst 18–30, body 3–5 paragraphs of
 * 40–70 words, stored rendered as a save would; every 50th a draft, the rest published half an hour apart from
 * 2020-01-01), each with tags and authors (`taxonomy`; `false` for none). The search index follows through the
 * migration's triggers (SQLite) or generated column (PostgreSQL), as in production. Tags and authors are made
 * once, so a second run adds articles to the same ones.
 */
export async function generateArticles(
  db: Db,
  count: number,
  options: GenerateOptions & { corpus?: Corpus; taxonomy?: Taxonomy | false; firstNumber?: number } = {},
): Promise<void> {
  const corpus = options.corpus ?? createCorpus();
  const taxonomy = options.taxonomy ?? defaultTaxonomy;
  const first = options.firstNumber ?? 0;
  const start = Date.parse('2020-01-01T00:00:00.000Z');
  const people = taxonomy ? await benchTaxonomy(db, taxonomy) : undefined;
  // A source of its own, so the articles' text is the same with or without a taxonomy.
  const random = randomSource(7);
  const pickTag = zipfSampler(taxonomy ? taxonomy.tags : 1, random, 1);
  const pickAuthor = zipfSampler(taxonomy ? taxonomy.authors : 1, random, 1);
  await inBatches(db, count, options, { batchSize: 500 }, async (trx, from, to) => {
    const rows = [];
    for (let i = first + from; i < first + to; i++) {
      const at = new Date(start + i * 1_800_000).toISOString();
      const paragraphs = 3 + Math.floor(corpus.random() * 3);
      const body = Array.from(
        { length: paragraphs },
        () => `${corpus.sentence(12, 24)} ${corpus.sentence(12, 24)} ${corpus.sentence(12, 24)}`,
      ).join('\n\n');
      rows.push(
        newArticleRow(
          {
            slug: `bench-article-${i}`,
            title: corpus.sentence(5, 11).slice(0, -1),
            standfirst: corpus.sentence(18, 30),
            body_markdown: body,
            // As the editor stores it on save (articles.body.ts).
            ...renderArticleBody(body),
            status: i % 50 === 0 ? 'draft' : 'published',
          },
          at,
        ),
      );
    }
    const inserted = await trx.insertInto('articles').values(rows).returning(['id', 'slug']).execute();
    if (!people) return;
    const tags = [];
    const authors = [];
    for (const { id, slug } of inserted.sort((a, b) => a.id - b.id)) {
      const tagIds = [
        ...new Set(Array.from({ length: 1 + Math.floor(random() * 3) }, () => people.tags[pickTag()] ?? 0)),
      ];
      tags.push(...tagIds.map((tag_id, position) => ({ article_id: id, tag_id, position })));
      const authorIds = [
        ...new Set([
          people.authors[pickAuthor()] ?? 0,
          ...(Number(slug.slice('bench-article-'.length)) % 8 === 0 ? [people.authors[pickAuthor()] ?? 0] : []),
        ]),
      ];
      authors.push(...authorIds.map((author_id, position) => ({ article_id: id, author_id, position })));
    }
    await trx.insertInto('article_tags').values(tags).execute();
    await trx.insertInto('article_authors').values(authors).execute();
  });
}

/** The generated tags' and authors' ids, in number order, creating those not there yet. */
async function benchTaxonomy(db: Db, taxonomy: Taxonomy): Promise<{ tags: number[]; authors: number[] }> {
  const at = '2020-01-01T00:00:00.000Z';
  const tagSlugs = Array.from({ length: taxonomy.tags }, (_, k) => `bench-topic-${k}`);
  const authorSlugs = Array.from({ length: taxonomy.authors }, (_, k) => `bench-author-${k}`);
  await db
    .insertInto('tags')
    .values(tagSlugs.map((slug, k) => ({ slug, name: `Bench topic ${k}`, description: '', created_at: at })))
    .onConflict((oc) => oc.column('slug').doNothing())
    .execute();
  await db
    .insertInto('authors')
    .values(
      authorSlugs.map((slug, k) => ({
        slug,
        name: `Bench Author ${k}`,
        bio: '',
        email: null,
        avatar_media_id: null,
        created_at: at,
      })),
    )
    .onConflict((oc) => oc.column('slug').doNothing())
    .execute();
  const tags = new Map(
    (await db.selectFrom('tags').select(['id', 'slug']).where('slug', 'in', tagSlugs).execute()).map((t) => [
      t.slug,
      t.id,
    ]),
  );
  const authors = new Map(
    (await db.selectFrom('authors').select(['id', 'slug']).where('slug', 'in', authorSlugs).execute()).map((a) => [
      a.slug,
      a.id,
    ]),
  );
  return {
    tags: tagSlugs.map((slug) => tags.get(slug) ?? 0),
    authors: authorSlugs.map((slug) => authors.get(slug) ?? 0),
  };
}

/** The address of generated subscriber `n`. */
export const benchSubscriberEmail = (n: number) => `reader${n}@bench.example`;

/**
 * Inserts `count` confirmed subscribers, `reader<n>@bench.example` (n from `firstNumber`, 0 by default), each
 * with an `imported` consent event, as `gazette subscribers import` records a list confirmed elsewhere.
 */
export async function generateSubscribers(
  db: Db,
  count: number,
  options: GenerateOptions & { firstNumber?: number; now?: Date; secretKey?: string | null } = {},
): Promise<void> {
  // Consent records carry the address hash keyed as the application keys it (its secret, as it finds it).
  const secret = await getOrCreateSecretKey(db, options.secretKey ?? null);
  const at = (options.now ?? new Date()).toISOString();
  const first = options.firstNumber ?? 0;
  const detail = JSON.stringify({ source: 'bench/generate.ts', imported_at: at });
  await inBatches(db, count, options, { batchSize: 1000 }, async (trx, from, to) => {
    const rows = [];
    for (let i = from; i < to; i++) {
      const email = benchSubscriberEmail(first + i);
      rows.push({
        email,
        email_key: email,
        name: null,
        status: 'confirmed' as const,
        source: 'import' as const,
        created_at: at,
        confirmed_at: at,
      });
    }
    const ids = await insertSubscribers(trx, rows);
    await insertConsentEvents(
      trx,
      rows.map((r) => ({
        subscriber_id: ids.get(r.email_key) ?? null,
        email_hash: emailHash(secret, r.email_key),
        kind: 'imported' as const,
        detail,
        created_at: at,
      })),
    );
  });
}

async function main(argv: string[]): Promise<number> {
  const { positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true });
  const [what, countText] = positionals;
  const count = Number(countText);
  if ((what !== 'articles' && what !== 'subscribers') || !Number.isInteger(count) || count < 1) {
    console.error(
      'Usage: npm run bench:generate -- articles|subscribers N   (into DATABASE_URL, or the SQLite file in DATA_DIR)',
    );
    return 2;
  }
  const config = loadConfig();
  const { db } = createDb(config.database);
  try {
    await migrateToLatest(db);
    const started = performance.now();
    const onProgress = (done: number) => process.stderr.write(`  ${done.toLocaleString('en')} ${what}…\n`);
    if (what === 'articles') {
      // Continue the numbering after any generated articles already there, so a second run adds more.
      const existing = await db
        .selectFrom('articles')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('slug', 'like', 'bench-article-%')
        .executeTakeFirstOrThrow();
      await generateArticles(db, count, { onProgress, firstNumber: Number(existing.n) });
    } else {
      // Continue the numbering after any generated subscribers already there, so a second run adds more.
      const existing = await db
        .selectFrom('subscribers')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      await generateSubscribers(db, count, {
        onProgress,
        firstNumber: Number(existing.n),
        secretKey: config.secretKey,
      });
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `${count.toLocaleString('en')} ${what} in ${seconds.toFixed(1)} s (${Math.round(count / seconds).toLocaleString('en')}/s) into ${config.database.kind}`,
    );
    return 0;
  } finally {
    await db.destroy();
  }
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
