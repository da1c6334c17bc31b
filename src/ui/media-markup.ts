import { clockDuration } from './format.ts';
import { html, type SafeHtml } from './html.ts';

// The markup of pictures and videos, one definition for every place that shows one: the feature image and
// video snippet at the top of an article, story cards, and the image, gallery and video cards in a body.

/** An image as the kit shows it (the media module's views have this shape). */
export interface ImageView {
  url: string;
  width: number | null;
  height: number | null;
  alt: string;
  /** Responsive sizes (`url 480w, …`), when the image has any. */
  srcset?: string;
}

/**
 * `<img>` with its intrinsic size (no layout shift) and lazy loading below the fold; with `srcset` when the
 * image has responsive sizes, `sizes` saying how wide it shows (the reading column unless told).
 */
export function image(
  media: ImageView,
  options: { eager?: boolean; className?: string; alt?: string; sizes?: string } = {},
): SafeHtml {
  return html`<img src="${media.url}"${media.srcset ? html` srcset="${media.srcset}" sizes="${options.sizes ?? '(max-width: 48rem) 100vw, 48rem'}"` : ''} alt="${options.alt ?? media.alt}"${
    media.width && media.height ? html` width="${media.width}" height="${media.height}"` : ''
  } ${options.eager ? html`fetchpriority="high"` : html`loading="lazy"`} decoding="async"${options.className ? html` class="${options.className}"` : ''}>`;
}

/** A video as the kit shows it (the media module's VideoView has this shape). */
export interface VideoFigureView {
  url: string;
  mimeType: string;
  width: number | null;
  height: number | null;
  durationSeconds: number | null;
  poster: { url: string } | null;
  captions: { url: string } | null;
}

/**
 * A video in a `<figure>`: the native player (no script), its poster frame, WebVTT captions on by default,
 * a download link for browsers without the format, and the caption with the running time.
 */
export function videoFigure(
  video: VideoFigureView,
  options: { caption: string; lang: string; className: string },
): SafeHtml {
  return html`<figure class="${options.className}">
    <video controls preload="metadata" playsinline${video.poster ? html` poster="${video.poster.url}"` : ''}${
      video.width && video.height ? html` width="${video.width}" height="${video.height}"` : ''
    }>
      <source src="${video.url}" type="${video.mimeType}">
      ${video.captions ? html`<track kind="captions" src="${video.captions.url}" srclang="${options.lang}" label="Captions" default>` : ''}
      <a href="${video.url}">Download the video</a>
    </video>
    <figcaption>${options.caption}${video.durationSeconds ? html` <span class="article__video-duration">(${clockDuration(video.durationSeconds)})</span>` : ''}</figcaption>
  </figure>`;
}
