/**
 * A condition on published articles, as machine interfaces ask for them (the Ghost Content API's filters are
 * translated into this in src/api/): the repository turns it into SQL, so a filter never loads more rows than
 * it returns. Tags and authors are named by slug; `always` is a condition known without the database (a
 * field every article has the same value of, such as Ghost's `visibility:public`).
 */
export type ArticleCondition =
  | { all: ArticleCondition[] }
  | { any: ArticleCondition[] }
  | { not: ArticleCondition }
  | { always: boolean }
  | { field: 'id'; in: number[] }
  | { field: 'slug' | 'title'; in: string[] }
  | { field: 'tag' | 'author' | 'primary_tag' | 'primary_author'; in: string[] }
  | { field: ArticleTimeField; op: '=' | '<' | '<=' | '>' | '>='; value: string };

export type ArticleTimeField = 'published_at' | 'updated_at' | 'created_at';

export type ArticleOrderField = 'published_at' | 'updated_at' | 'created_at' | 'title' | 'slug' | 'id';

export interface ArticleQuery {
  where: ArticleCondition;
  order: { field: ArticleOrderField; direction: 'asc' | 'desc' }[];
  limit: number;
  offset: number;
}
