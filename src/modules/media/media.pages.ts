import { html, type SafeHtml } from '../../ui/html.ts';
import { clockDuration, formatDateTime } from '../../ui/format.ts';
import type { SiteContext } from '../../ui/layout.ts';
import { csrfInput, newsroomLayout } from '../../ui/newsroom-layout.ts';
import type { UserRow } from '../users/index.ts';
import type { MediaEntry } from './media.newsroom.service.ts';
import { mediaUrl } from './media.service.ts';
import type { ClipJobRow, MediaRow, MediaVariantRow } from './media.table.ts';
import { formatBytes, type UploadLimits } from './media.upload.ts';

// The newsroom's media pages: the library (with the upload form) and one file's page (snippets, captions).
// media.js adds upload progress and live snippet progress; without it every form still works.

/** What the file input offers; the server decides by content anyway. */
const acceptUpload = 'image/jpeg,image/png,image/webp,image/avif,image/gif,video/mp4,video/webm,video/quicktime';

interface PageUser {
  user: UserRow;
  csrf: string;
}

/** The smallest stored rendition that is at least `minWidth` wide (or the largest there is), for thumbnails. */
function thumbnail(
  entry: MediaEntry,
  minWidth = 320,
): { url: string; width: number | null; height: number | null } | null {
  const webp = entry.variants.filter((v) => v.mime_type === 'image/webp');
  const pick = webp.find((v) => v.width >= minWidth) ?? webp.at(-1);
  if (pick) return { url: mediaUrl(pick.file_name), width: pick.width, height: pick.height };
  const still = entry.row.kind === 'image' ? entry.row : entry.poster;
  return still ? { url: mediaUrl(still.file_name), width: still.width, height: still.height } : null;
}

function describeSize(row: MediaRow): string {
  const parts = [formatBytes(row.byte_size)];
  if (row.width && row.height) parts.push(`${row.width} × ${row.height}`);
  return parts.join(' · ');
}

function altNote(row: MediaRow): SafeHtml {
  if (row.kind === 'image' && row.alt_text === '') return html`<em>Decorative (no alt text)</em>`;
  if (!row.alt_text) return html`<em>No description</em>`;
  return html`${row.alt_text}`;
}

export function libraryPage(
  site: SiteContext,
  options: PageUser & {
    entries: MediaEntry[];
    limits: UploadLimits;
    error?: string;
    notice?: string;
    alt?: string;
    decorative?: boolean;
  },
): string {
  const { limits } = options;
  const errorId = 'upload-error';
  return newsroomLayout(
    site,
    { title: 'Media', path: '/newsroom/media', user: options.user, csrf: options.csrf, scripts: ['media.js'] },
    html`<h1>Media</h1>
${options.notice ? html`<p class="newsroom__notice" role="status">${options.notice}</p>` : ''}
<section class="media-upload" aria-labelledby="upload-heading">
  <h2 id="upload-heading">Upload an image or a video</h2>
  <p class="media-upload__hint">Images (JPEG, PNG, WebP, AVIF, GIF) up to ${formatBytes(limits.image)}; videos (MP4, WebM, QuickTime) up to ${formatBytes(limits.video)}. SVG is not accepted.</p>
  <div id="${errorId}" class="media-upload__error" role="alert">${options.error ? html`<p class="newsroom__error">${options.error}</p>` : ''}</div>
  <form class="newsroom__form media-upload__form" method="post" action="/newsroom/media" enctype="multipart/form-data" data-media-upload
    data-max-image="${limits.image}" data-max-video="${limits.video}">
    ${csrfInput(options.csrf)}
    <label for="media-alt">Alt text (required for images)</label>
    <textarea id="media-alt" name="alt" rows="2" maxlength="500" aria-describedby="media-alt-hint${options.error ? html` ${errorId}` : ''}">${options.alt ?? ''}</textarea>
    <p id="media-alt-hint" class="media-upload__hint">What a reader who cannot see the image needs to know. For a video, a short description.</p>
    <label class="media-upload__check"><input type="checkbox" name="decorative"${options.decorative ? html` checked` : ''}> Decorative image (no alt text needed)</label>
    <label for="media-file">File</label>
    <input id="media-file" name="file" type="file" required accept="${acceptUpload}">
    <button class="newsroom__button" type="submit">Upload</button>
    <div class="media-upload__progress" data-upload-progress hidden>
      <label for="upload-progress">Upload progress</label>
      <progress id="upload-progress" max="100" value="0"></progress>
      <span data-upload-percent aria-hidden="true">0%</span>
      <span class="visually-hidden" role="status" aria-live="polite" data-upload-status></span>
    </div>
  </form>
  <p data-upload-result role="status" aria-live="polite"></p>
</section>
<section aria-labelledby="library-heading">
  <h2 id="library-heading">Library</h2>
  ${
    options.entries.length === 0
      ? html`<p>Nothing uploaded yet.</p>`
      : html`<ul class="media-grid">${options.entries.map((entry) => libraryItem(entry))}</ul>`
  }
</section>`,
  );
}

function libraryItem(entry: MediaEntry): SafeHtml {
  const { row } = entry;
  const thumb = thumbnail(entry);
  return html`<li class="media-grid__item">
  <a class="media-grid__thumb" href="/newsroom/media/${row.id}" tabindex="-1" aria-hidden="true">${
    thumb
      ? html`<img src="${thumb.url}" alt=""${thumb.width && thumb.height ? html` width="${thumb.width}" height="${thumb.height}"` : ''} loading="lazy" decoding="async">`
      : ''
  }${row.kind === 'video' && row.duration_seconds ? html`<span class="media-grid__duration">▶ ${clockDuration(row.duration_seconds)}</span>` : ''}</a>
  <p class="media-grid__name"><a href="/newsroom/media/${row.id}">${row.original_name}</a></p>
  <p class="media-grid__meta">${row.kind === 'video' ? 'Video' : 'Image'} · ${describeSize(row)}${
    row.kind === 'video' && row.duration_seconds ? html` · <span>${clockDuration(row.duration_seconds)}</span>` : ''
  }</p>
  <p class="media-grid__alt">${altNote(row)}</p>
</li>`;
}

/** `srcset` of an image's WebP sizes plus the original at its own width. */
export function srcsetOf(row: MediaRow, variants: readonly MediaVariantRow[]): string {
  const entries = variants
    .filter((v) => v.mime_type === 'image/webp' && v.crop === null)
    .map((v) => `${mediaUrl(v.file_name)} ${v.width}w`);
  if (row.width) entries.push(`${mediaUrl(row.file_name)} ${row.width}w`);
  return entries.join(', ');
}

export function mediaPage(
  site: SiteContext,
  options: PageUser & {
    entry: MediaEntry;
    jobs: ClipJobRow[];
    canDelete: boolean;
    error?: string;
    notice?: string;
    start?: string;
    end?: string;
  },
): string {
  const { entry } = options;
  const { row } = entry;
  const isVideo = row.kind === 'video';
  return newsroomLayout(
    site,
    {
      title: row.original_name,
      path: `/newsroom/media/${row.id}`,
      user: options.user,
      csrf: options.csrf,
      scripts: ['media.js'],
    },
    html`<p><a href="/newsroom/media">← Media library</a></p>
<h1 class="media-page__title">${row.original_name}</h1>
${options.notice ? html`<p class="newsroom__notice" role="status">${options.notice}</p>` : ''}
${options.error ? html`<p class="newsroom__error" role="alert" id="media-error">${options.error}</p>` : ''}
<div class="media-page">
  <div class="media-page__preview">${
    isVideo
      ? html`<video controls preload="metadata" ${entry.poster ? html`poster="${mediaUrl(entry.poster.file_name)}"` : ''}${
          row.width && row.height ? html` width="${row.width}" height="${row.height}"` : ''
        }><source src="${mediaUrl(row.file_name)}" type="${row.mime_type}">${
          entry.captions
            ? html`<track kind="captions" src="${mediaUrl(entry.captions.file_name)}" srclang="${site.settings.locale}" label="Captions" default>`
            : ''
        }</video>`
      : html`<img src="${mediaUrl(row.file_name)}" srcset="${srcsetOf(row, entry.variants)}" sizes="(max-width: 48rem) 100vw, 48rem" alt="${row.alt_text ?? ''}"${
          row.width && row.height ? html` width="${row.width}" height="${row.height}"` : ''
        }>`
  }</div>
  <dl class="media-page__facts">
    <dt>Type</dt><dd>${row.mime_type}</dd>
    <dt>Size</dt><dd>${describeSize(row)}</dd>
    ${isVideo && row.duration_seconds ? html`<dt>Duration</dt><dd>${clockDuration(row.duration_seconds)} (${row.duration_seconds.toFixed(1)} s)</dd>` : ''}
    <dt>${isVideo ? 'Description' : 'Alt text'}</dt><dd>${altNote(row)}</dd>
    <dt>Address</dt><dd><code>${mediaUrl(row.file_name)}</code></dd>
    <dt>Uploaded</dt><dd>${formatDateTime(row.created_at, site.settings.locale, site.settings.timeZone)}</dd>
    ${isVideo ? html`<dt>Captions</dt><dd>${entry.captions ? html`<a href="${mediaUrl(entry.captions.file_name)}">${entry.captions.original_name}</a>` : 'None'}</dd>` : ''}
  </dl>
</div>
${
  !isVideo && entry.variants.length > 0
    ? html`<h2>Responsive sizes</h2>
<table class="newsroom__table">
  <thead><tr><th scope="col">Width</th><th scope="col">Format</th><th scope="col">Size</th><th scope="col">File</th></tr></thead>
  <tbody>${entry.variants.map(
    (v) =>
      html`<tr><td>${v.width} px${v.crop ? ` (${v.crop} crop)` : ''}</td><td>${v.mime_type}</td><td>${formatBytes(v.byte_size)}</td><td><a href="${mediaUrl(v.file_name)}">${v.file_name}</a></td></tr>`,
  )}</tbody>
</table>`
    : ''
}
${isVideo ? videoTools(options) : ''}
${
  options.canDelete
    ? html`<h2>Delete</h2>
<form method="post" action="/newsroom/media/${row.id}/delete">${csrfInput(options.csrf)}<button class="newsroom__button newsroom__button--quiet" type="submit">Delete this ${isVideo ? 'video' : 'image'}</button></form>`
    : ''
}`,
  );
}

function videoTools(
  options: PageUser & { entry: MediaEntry; jobs: ClipJobRow[]; start?: string; end?: string; error?: string },
): SafeHtml {
  const { row } = options.entry;
  const duration = row.duration_seconds ?? 0;
  return html`<section class="media-snippets" aria-labelledby="snippet-heading">
  <h2 id="snippet-heading">Cut a snippet</h2>
  <p id="snippet-hint">Start and end in seconds (<code>12.5</code>) or minutes:seconds (<code>1:05</code>), within the video's ${clockDuration(duration)}, at most 10 minutes long. The worker cuts it into a new video with its own poster frame.</p>
  <form class="newsroom__form media-snippets__form" method="post" action="/newsroom/media/${row.id}/clips">
    ${csrfInput(options.csrf)}
    <label for="clip-start">Start</label>
    <input id="clip-start" name="start" inputmode="decimal" required maxlength="20" value="${options.start ?? '0'}" aria-describedby="snippet-hint">
    <label for="clip-end">End</label>
    <input id="clip-end" name="end" inputmode="decimal" required maxlength="20" value="${options.end ?? clockDuration(Math.min(duration, 10))}" aria-describedby="snippet-hint">
    <button class="newsroom__button" type="submit">Cut the snippet</button>
  </form>
  ${options.jobs.length > 0 ? html`<h3>Snippets</h3><ul class="media-jobs">${options.jobs.map((job) => clipJobItem(job))}</ul>` : ''}
</section>
<section aria-labelledby="captions-heading">
  <h2 id="captions-heading">Attach captions</h2>
  <p>A WebVTT file (<code>.vtt</code>, at most 1 MB). It replaces any captions attached before.</p>
  <form class="newsroom__form media-upload__form" method="post" action="/newsroom/media/${row.id}/captions" enctype="multipart/form-data">
    ${csrfInput(options.csrf)}
    <label for="captions-file">Caption file</label>
    <input id="captions-file" name="file" type="file" required accept=".vtt,text/vtt">
    <button class="newsroom__button" type="submit">Attach captions</button>
  </form>
</section>`;
}

const statusWords: Record<ClipJobRow['status'], string> = {
  queued: 'Waiting for the worker',
  running: 'Cutting',
  done: 'Done',
  failed: 'Failed',
};

/** One snippet job: its times, a progress bar and status; media.js polls `/newsroom/media/clips/:id` while unfinished. */
export function clipJobItem(job: ClipJobRow): SafeHtml {
  const label = `Snippet ${clockDuration(job.start_seconds)}–${clockDuration(job.end_seconds)}`;
  return html`<li class="media-jobs__item" data-clip-job="/newsroom/media/clips/${job.id}" data-status="${job.status}">
  <span id="clip-job-${job.id}" class="media-jobs__label">${label}</span>
  <progress max="100" value="${job.progress}" aria-labelledby="clip-job-${job.id}"></progress>
  <span class="media-jobs__status" role="status" aria-live="polite" data-clip-status>${statusWords[job.status]}${
    job.status === 'running' || job.status === 'queued' ? ` · ${job.progress}%` : ''
  }${job.status === 'failed' && job.error ? `: ${job.error}` : ''}</span>
  ${job.result_media_id !== null ? html`<a data-clip-result href="/newsroom/media/${job.result_media_id}">Open the snippet</a>` : ''}
</li>`;
}
