import type { MediaRow, MediaVariantRow } from './media.table.ts';

/** What a page needs to show a stored file. */
export interface MediaView {
  url: string;
  mimeType: string;
  width: number | null;
  height: number | null;
  alt: string;
  byteSize: number;
  /** Responsive sizes (`url 480w, …`), when the image has any; pages add `sizes`. */
  srcset?: string;
  /** Crops for structured data (16:9, 4:3, 1:1), when the image was large enough for them. */
  crops?: { ratio: string; url: string; width: number; height: number }[];
}

/** A video snippet with its poster frame and captions. */
export interface VideoView extends MediaView {
  durationSeconds: number | null;
  poster: MediaView | null;
  captions: MediaView | null;
  uploadedAt: string;
}

/** Public path of a stored file; file names are fingerprinted, so the URL changes when the bytes do. */
export function mediaUrl(fileName: string): string {
  return `/media/${encodeURIComponent(fileName)}`;
}

/** `variants`: responsive sizes by media id (findVariantsOfMedia); the WebP ones, plus the original, make the srcset. */
export function toMediaView(row: MediaRow, variants?: ReadonlyMap<number, readonly MediaVariantRow[]>): MediaView {
  const sizes = (variants?.get(row.id) ?? []).filter((v) => v.mime_type === 'image/webp' && v.crop === null);
  // Widest first (16:9, 4:3, 1:1), as Google's examples list them.
  const crops = (variants?.get(row.id) ?? [])
    .filter((v) => v.crop !== null)
    .sort((a, b) => b.width / b.height - a.width / a.height);
  return {
    url: mediaUrl(row.file_name),
    mimeType: row.mime_type,
    width: row.width,
    height: row.height,
    alt: row.alt_text ?? '',
    byteSize: row.byte_size,
    ...(sizes.length > 0 && row.width
      ? {
          srcset: [
            ...sizes.map((v) => `${mediaUrl(v.file_name)} ${v.width}w`),
            `${mediaUrl(row.file_name)} ${row.width}w`,
          ].join(', '),
        }
      : {}),
    ...(crops.length > 0
      ? {
          crops: crops.map((v) => ({
            ratio: v.crop ?? '',
            url: mediaUrl(v.file_name),
            width: v.width,
            height: v.height,
          })),
        }
      : {}),
  };
}

export function toVideoView(
  row: MediaRow,
  byId: ReadonlyMap<number, MediaRow>,
  variants?: ReadonlyMap<number, readonly MediaVariantRow[]>,
): VideoView {
  const poster = row.poster_media_id === null ? undefined : byId.get(row.poster_media_id);
  const captions = row.captions_media_id === null ? undefined : byId.get(row.captions_media_id);
  return {
    ...toMediaView(row),
    durationSeconds: row.duration_seconds,
    poster: poster ? toMediaView(poster, variants) : null,
    captions: captions ? toMediaView(captions) : null,
    uploadedAt: row.created_at,
  };
}

/** Reads and the one insert other modules use as the repository does them: the article views, the seed. */
export { findMediaByFileNames, findMediaByIds, findVariantsOfMedia, insertMedia } from './media.repository.ts';
