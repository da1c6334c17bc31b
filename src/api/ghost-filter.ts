import nql from '@tryghost/nql';
import type { ArticleCondition, ArticleTimeField } from '../modules/articles/index.ts';
import { GhostApiError } from './ghost-errors.ts';

// Ghost's NQL filters (`tag:news+published_at:>'2024-01-01'`), parsed by @tryghost/nql into Mongo-style JSON
// and translated here into the articles module's conditions, which its repository turns into SQL.

type Json = Record<string, unknown>;

const tagKeys = new Set(['tag', 'tags', 'tag.slug', 'tags.slug']);
const authorKeys = new Set(['author', 'authors', 'author.slug', 'authors.slug']);
const timeKeys = new Set<string>(['published_at', 'updated_at', 'created_at']);
const comparisons = { $gt: '>', $gte: '>=', $lt: '<', $lte: '<=' } as const;

function refuse(message: string): never {
  throw new GhostApiError('BadRequestError', 'Error parsing filter', message);
}

/** Parses an NQL filter; a syntax error is Ghost's 400. */
export function parseFilter(filter: string): Json {
  try {
    return nql(filter).parse();
  } catch (error) {
    refuse(error instanceof Error ? (error.message.split('\n')[0] ?? 'invalid filter') : 'invalid filter');
  }
}

/** An in-memory match for bounded sets (tags, authors): nql's own matcher. */
export function matchesFilter(filter: string | undefined): (object: object) => boolean {
  if (filter === undefined || filter === '') return () => true;
  parseFilter(filter);
  const query = nql(filter);
  return (object) => query.queryJSON(object);
}

/** A post filter as a condition on published articles; refuses (400) what Gazette cannot answer. */
export function postCondition(filter: string | undefined): ArticleCondition {
  if (filter === undefined || filter === '') return { all: [] };
  return toCondition(parseFilter(filter));
}

function toCondition(json: Json): ArticleCondition {
  const parts: ArticleCondition[] = [];
  for (const [key, value] of Object.entries(json)) {
    if (key === '$and' || key === '$or') {
      if (!Array.isArray(value)) refuse(`${key} needs a list`);
      const inner = value.map((v) => toCondition(v as Json));
      parts.push(key === '$and' ? { all: inner } : { any: inner });
    } else parts.push(fieldCondition(key, value));
  }
  return parts.length === 1 && parts[0] ? parts[0] : { all: parts };
}

/** `{ $ne: x }`, `{ $in: [...] }`… as an operator and its operand; a plain value is equality. */
function operation(value: unknown): [string, unknown] {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value);
    const [first] = entries;
    if (entries.length !== 1 || !first) refuse('one operator per field');
    return first;
  }
  return ['$eq', value];
}

function fieldCondition(key: string, value: unknown): ArticleCondition {
  const [op, operand] = operation(value);
  if (op === '$regex') refuse(`“contains” filters (~) are not supported on ${key}`);
  const list =
    op === '$in' || op === '$nin' ? (Array.isArray(operand) ? operand : refuse(`${op} needs a list`)) : [operand];
  const negate = op === '$ne' || op === '$nin';
  const membership = op === '$eq' || op === '$ne' || op === '$in' || op === '$nin';
  const wrap = (c: ArticleCondition): ArticleCondition => (negate ? { not: c } : c);

  // Fields every Gazette article has the same value of.
  const constant: Record<string, unknown> = {
    featured: false,
    visibility: 'public',
    status: 'published',
    type: 'post',
    page: false,
  };
  if (Object.hasOwn(constant, key)) {
    if (!membership) refuse(`${key} takes no comparison`);
    const holds = list.some((v) => v === constant[key]);
    return { always: negate ? !holds : holds };
  }
  if (timeKeys.has(key)) {
    const time = (v: unknown) => {
      const ms =
        typeof v === 'string'
          ? Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(v) ? v.replace(' ', 'T') : `${v.replace(' ', 'T')}Z`)
          : NaN;
      return Number.isNaN(ms) ? refuse(`${key} needs a date, like '2024-01-31'`) : new Date(ms).toISOString();
    };
    const field = key as ArticleTimeField;
    if (op in comparisons) return { field, op: comparisons[op as keyof typeof comparisons], value: time(operand) };
    if (op === '$eq' || op === '$ne') return wrap({ field, op: '=', value: time(operand) });
    refuse(`${key} takes one date`);
  }
  if (!membership) refuse(`${key} cannot be compared with ${op}`);
  const strings = () =>
    list.map((v) => (typeof v === 'string' || typeof v === 'number' ? String(v) : refuse(`${key} needs text`)));
  if (key === 'id')
    return wrap({
      field: 'id',
      in: strings()
        .map(Number)
        .filter((n) => Number.isSafeInteger(n)),
    });
  if (key === 'slug' || key === 'title') return wrap({ field: key, in: strings() });
  if (tagKeys.has(key)) return wrap({ field: 'tag', in: strings() });
  if (authorKeys.has(key)) return wrap({ field: 'author', in: strings() });
  if (key === 'primary_tag' || key === 'primary_tag.slug') return wrap({ field: 'primary_tag', in: strings() });
  if (key === 'primary_author' || key === 'primary_author.slug')
    return wrap({ field: 'primary_author', in: strings() });
  refuse(`Gazette cannot filter posts by ${key}`);
}
