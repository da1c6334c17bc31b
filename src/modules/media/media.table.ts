import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

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
  /** The newsroom user who uploaded it (null for seeded files, or once the user is gone). */
  uploaded_by: number | null;
  created_at: string;
}

/** A responsive size of an image (`srcset`), or a crop of it for structured data, made by sharp at upload. */
export interface MediaVariantTable {
  id: Generated<number>;
  media_id: number;
  file_name: string;
  mime_type: string;
  width: number;
  height: number;
  byte_size: number;
  /** The aspect ratio of a crop ('16:9', '4:3', '1:1'); null for a size of the whole image. */
  crop: ColumnType<string | null, string | null | undefined, string | null>;
}

export type ClipJobStatus = 'queued' | 'running' | 'done' | 'failed';

/** "Cut a snippet": a clip of a stored video, made by the worker's `video-clips` job. */
export interface VideoClipJobTable {
  id: Generated<number>;
  source_media_id: number;
  start_seconds: number;
  end_seconds: number;
  status: Generated<ClipJobStatus>;
  /** 0–100, from ffmpeg's `-progress` output. */
  progress: Generated<number>;
  error: string | null;
  result_media_id: number | null;
  requested_by: number | null;
  claimed_by: string | null;
  heartbeat_at: string | null;
  attempts: Generated<number>;
  created_at: string;
  finished_at: string | null;
}

export interface MediaTables {
  media: MediaTable;
  media_variants: MediaVariantTable;
  video_clip_jobs: VideoClipJobTable;
}

export type MediaRow = Selectable<MediaTable>;
export type NewMedia = Insertable<MediaTable>;
export type MediaVariantRow = Selectable<MediaVariantTable>;
export type NewMediaVariant = Insertable<MediaVariantTable>;
export type ClipJobRow = Selectable<VideoClipJobTable>;
