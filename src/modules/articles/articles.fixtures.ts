import type { NewArticle } from './articles.table.ts';

/**
 * An article row with every optional field empty, for tests and benchmarks that insert articles directly.
 * Published at `at` unless the status says otherwise.
 */
export function newArticleRow(
  fields: Pick<NewArticle, 'slug' | 'title'> & Partial<NewArticle>,
  at: string,
): NewArticle {
  const status = fields.status ?? 'published';
  return {
    standfirst: '',
    body_markdown: '',
    feature_image_id: null,
    video_id: null,
    video_caption: null,
    seo_title: null,
    seo_description: null,
    correction_note: null,
    scheduled_at: null,
    published_at: status === 'published' ? at : null,
    updated_at: at,
    created_at: at,
    ...fields,
    status,
  };
}
