// Data for `npm run bench:search`: articles in bulk with a news-like vocabulary, and the queries to run.
// Deterministic (seeded), so runs compare. Words follow a Zipf-like distribution: a few hundred real
// English and news words at the head, then a long tail of made-up names and terms, as in a real archive.
import type { Db } from '../src/db/index.ts';
import { newArticleRow } from '../src/modules/articles/articles.fixtures.ts';

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

const functionWords = `the of and to a in that is was for on with as by he it at said his from be have has are an not they
this who were had but been their will would which its or after more about two one up new also than other into over
there year when last first could people so what all can out some no time may only if most years week government just
we before three like since back state officials told where us made between including while during under city those`.split(/\s+/);

const newsWords = `ceasefire hostages minister president election council budget parliament coalition agreement talks mediators envoy
border security police court judge ruling appeal verdict protest strike union workers wages inflation prices market shares
investors bank interest rates economy growth exports imports trade tariffs energy gas oil electricity climate drought
flood storm heatwave hospital doctors nurses patients vaccine health school teachers students university research science
technology startup software company founder chief executive profits losses layoffs housing rent mortgage tenants
transport railway airport flights ferry harbour roads traffic culture gallery galleries museum theatre festival music
film author novel poetry exhibition artists football league match season coach players stadium victory defeat weather
diplomacy sanctions embassy ambassador summit treaty negotiations proposal deadline vote referendum campaign candidate
opposition spokesperson statement investigation report inquiry scandal resignation reform pension taxes spending deficit
refugees migrants aid convoy supplies humanitarian water food shortage crisis emergency rescue fire earthquake village
region capital north south east west island coast valley mountain desert river farmers harvest wheat tourism hotels`.split(/\s+/);

const syllables = ['ka', 'lo', 'mir', 'ten', 'sha', 'vel', 'dor', 'ri', 'an', 'bel', 'zu', 'ko', 'mar', 'el', 'ta', 'nis', 'or', 'gal', 'ben', 'ya', 'hu', 'ro', 'sel', 'di'];

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

/**
 * Inserts `count` published articles (title 5–11 words, standfirst 18–30, body 3–5 paragraphs of 40–70
 * words) in batches of 500 rows, one transaction. The search index follows through the migration's
 * triggers (SQLite) or generated column (PostgreSQL), as it would in production.
 */
export async function generateArticles(db: Db, count: number, corpus = createCorpus(), onProgress?: (done: number) => void): Promise<void> {
  const start = Date.parse('2020-01-01T00:00:00.000Z');
  await db.transaction().execute(async (trx) => {
    for (let from = 0; from < count; from += 500) {
      const rows = [];
      for (let i = from; i < Math.min(count, from + 500); i++) {
        const at = new Date(start + i * 1_800_000).toISOString();
        const paragraphs = 3 + Math.floor(corpus.random() * 3);
        rows.push(
          newArticleRow(
            { slug: `bench-article-${i}`, title: corpus.sentence(5, 11).slice(0, -1), standfirst: corpus.sentence(18, 30), body_markdown: Array.from({ length: paragraphs }, () => `${corpus.sentence(12, 24)} ${corpus.sentence(12, 24)} ${corpus.sentence(12, 24)}`).join('\n\n'), status: i % 50 === 0 ? 'draft' : 'published' },
            at,
          ),
        );
      }
      await trx.insertInto('articles').values(rows).execute();
      onProgress?.(Math.min(count, from + 500));
    }
  });
}

export interface BenchQuery {
  kind: string;
  q: string;
}

/**
 * Queries as readers type them: one news word, one rare name, two or three words, a prefix, a word that
 * matches nothing, hostile punctuation, and a very common word (which matches most articles).
 */
export function benchQueries(corpus: Corpus, count = 400): BenchQuery[] {
  const { vocabulary, random } = corpus;
  const at = (lo: number, hi: number) => vocabulary[lo + Math.floor(random() * (hi - lo))] ?? 'council';
  const newsFrom = functionWords.length;
  const newsTo = newsFrom + newsWords.length;
  const makers: Array<[string, number, () => string]> = [
    ['one news word', 25, () => at(newsFrom, newsTo)],
    ['one rare word', 15, () => at(newsTo + 500, vocabulary.length)],
    ['two words', 20, () => `${at(newsFrom, newsTo)} ${at(newsFrom, newsTo + 300)}`],
    ['three words', 10, () => `${at(newsFrom, newsTo)} ${at(newsFrom, newsTo)} ${at(newsTo, newsTo + 2000)}`],
    ['prefix', 10, () => at(newsFrom, newsTo + 1000).slice(0, 4)],
    ['no match', 5, () => `zzq${Math.floor(random() * 1e6)}`],
    ['punctuation', 5, () => ['"', 'AND OR NOT', ')(', '-', '*'][Math.floor(random() * 5)] ?? '"'],
    ['common word', 10, () => at(0, 40)],
  ];
  const totalWeight = makers.reduce((sum, [, w]) => sum + w, 0);
  return Array.from({ length: count }, () => {
    let r = random() * totalWeight;
    for (const [kind, weight, make] of makers) {
      if ((r -= weight) < 0) return { kind, q: make() };
    }
    return { kind: 'one news word', q: 'council' };
  });
}
