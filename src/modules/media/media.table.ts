import type { Generated, Insertable, Selectable } from 'kysely';

export type MediaKind = 'image' | 'video' | 'captions';

export interface MediaTable {
  id: Generated<number>;
  kind: MediaKind;
  /** Fingerprinted (`name.<hash>.ext`), so it can be cached forever. */
  file_name: string;
  original_name: string;
  mime_type: string;
  byte_size: number;
  sha256: string;
  width: number | null;
  height: number | null;
  duration_seconds: number | null;
  alt_text: string | null;
  poster_media_id: number | null;
  captions_media_id: number | null;
  created_at: string;
}

export interface MediaTables {
  media: MediaTable;
}

export type MediaRow = Selectable<MediaTable>;
export type NewMedia = Insertable<MediaTable>;
