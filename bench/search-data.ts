// The queries `npm run bench:search` runs over the articles bench/generate.ts makes: as readers type them.
import { functionWords, newsWords, type Corpus } from './generate.ts';

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
