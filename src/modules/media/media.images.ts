import path from 'node:path';
import type SharpModule from 'sharp';

/** Widths of the responsive sizes (`srcset`): a phone, a tablet or narrow column, a wide screen. */
export const variantWidths = [480, 960, 1600] as const;

/**
 * sharp (libvips) is loaded on first use: it adds ~20 MB to a process's memory, and most web processes
 * never touch an image (decision: RSS under the page load, issue 5).
 */
let loaded: Promise<typeof SharpModule> | undefined;
const loadSharp = (): Promise<typeof SharpModule> => (loaded ??= import('sharp').then((m) => m.default));

/** Decoding limit: a 20 MB file can still claim billions of pixels (a decompression bomb). 100 megapixels is plenty. */
const maxInputPixels = 100_000_000;

export interface ImageInfo {
  /** As displayed, EXIF orientation applied. */
  width: number;
  height: number;
  /** Frames: 1 for a still. */
  pages: number;
  format: string;
  animated: boolean;
}

/**
 * Reads an image's displayed size and frame count from its header, decoding no pixels (so it is quick
 * whatever the size, and the caller can refuse a huge image first); rejects when sharp cannot read it (a
 * corrupt or disguised file).
 */
export async function readImageInfo(file: string): Promise<ImageInfo> {
  const sharp = await loadSharp();
  const metadata = await sharp(file, { limitInputPixels: false }).metadata();
  const width = metadata.autoOrient.width;
  const height = metadata.autoOrient.height;
  if (!width || !height) throw new Error('no image dimensions');
  // sharp names AVIF `heif` (its container); the rest of the module speaks of the file type.
  const format = metadata.format === 'heif' && metadata.compression === 'av1' ? 'avif' : metadata.format;
  const pages = metadata.pages ?? 1;
  return { width, height, pages, format, animated: pages > 1 };
}

export interface MadeVariant {
  localPath: string;
  mimeType: string;
  extension: string;
  width: number;
  height: number;
}

/**
 * The responsive sizes of an image, written to `workDir`: each width in `variantWidths` narrower than the
 * original, as WebP and, for JPEG, PNG and AVIF, in the original format too. Rotated upright by EXIF, and
 * (sharp's default) without the original's metadata, so a phone's GPS position does not travel with them.
 */
export async function makeVariants(file: string, info: ImageInfo, workDir: string): Promise<MadeVariant[]> {
  const originalFormat = ({ jpeg: 'jpeg', png: 'png', avif: 'avif' } as const)[
    info.format as 'jpeg' | 'png' | 'avif'
  ] as 'jpeg' | 'png' | 'avif' | undefined;
  const sharp = await loadSharp();
  const made: MadeVariant[] = [];
  for (const width of variantWidths.filter((w) => w < info.width)) {
    const formats: ('webp' | 'jpeg' | 'png' | 'avif')[] = originalFormat ? ['webp', originalFormat] : ['webp'];
    for (const format of formats) {
      const extension = format === 'jpeg' ? 'jpg' : format;
      const localPath = path.join(workDir, `variant-${width}.${extension}`);
      const output = await sharp(file, { limitInputPixels: maxInputPixels, animated: info.animated })
        .autoOrient()
        .resize({ width, withoutEnlargement: true })
        .toFormat(format, format === 'avif' ? { quality: 55 } : format === 'png' ? {} : { quality: 80 })
        .toFile(localPath);
      made.push({
        localPath,
        mimeType: `image/${format}`,
        extension,
        width: output.width,
        height: info.animated ? Math.round((info.height * output.width) / info.width) : output.height,
      });
    }
  }
  return made;
}

/**
 * The original without its metadata, animated or not: a phone photo's EXIF carries the GPS position, the
 * camera's serial number and the time, and XMP or a GIF comment can name the author, which can expose a
 * source or a reporter. Every format is re-encoded (sharp writes no metadata unless told to), which drops
 * whatever blocks the file carried, known or not; a still is turned upright first, an animation keeps its
 * frames, delays and loop count (a GIF its palette). Returns the path of the file to store.
 */
export async function withoutMetadata(file: string, info: ImageInfo, workDir: string): Promise<string> {
  const output = path.join(workDir, `original.${info.format}`);
  const sharp = await loadSharp();
  const input = sharp(file, { limitInputPixels: maxInputPixels, animated: info.animated });
  // Rotating would turn the whole strip of frames, not each frame; animations rarely carry an orientation.
  const image = info.animated ? input : input.rotate();
  switch (info.format) {
    case 'jpeg':
      await image.jpeg({ quality: 92, chromaSubsampling: '4:4:4' }).toFile(output);
      break;
    case 'png':
      await image.png().toFile(output);
      break;
    case 'webp':
      await image.webp({ quality: 92 }).toFile(output);
      break;
    case 'avif':
      await image.avif({ quality: 80 }).toFile(output);
      break;
    case 'gif':
      await image.gif().toFile(output);
      break;
    default:
      throw new Error(`no metadata-free encoding for ${info.format}`);
  }
  return output;
}

/** The aspect ratios Google asks for in an article's structured data, widest first, and the smallest width it takes. */
export const cropRatios = [
  { name: '16:9', width: 16, height: 9 },
  { name: '4:3', width: 4, height: 3 },
  { name: '1:1', width: 1, height: 1 },
] as const;
const minCropWidth = 1200;
/** Crops wider than this are scaled down to it: the largest responsive size, sharp enough for any card. */
const maxCropWidth = 1600;

/**
 * The crops of an image for structured data (Google: 16:9, 4:3 and 1:1, at least 1,200 px wide), written to
 * `workDir`: for each ratio, the largest region of that shape that sharp's attention strategy picks (the
 * busiest, most salient part), when it is at least 1,200 px wide, scaled to at most 1,600. JPEG, or PNG for
 * a PNG (it may be transparent); an animated image has none.
 */
export async function makeCrops(
  file: string,
  info: ImageInfo,
  workDir: string,
): Promise<(MadeVariant & { crop: string })[]> {
  if (info.animated) return [];
  const sharp = await loadSharp();
  const format = info.format === 'png' ? 'png' : 'jpeg';
  const extension = format === 'jpeg' ? 'jpg' : format;
  const made: (MadeVariant & { crop: string })[] = [];
  for (const ratio of cropRatios) {
    const regionWidth = Math.min(info.width, Math.floor((info.height * ratio.width) / ratio.height));
    if (regionWidth < minCropWidth) continue;
    const width = Math.min(regionWidth, maxCropWidth);
    const height = Math.round((width * ratio.height) / ratio.width);
    const localPath = path.join(workDir, `crop-${ratio.width}x${ratio.height}.${extension}`);
    await sharp(file, { limitInputPixels: maxInputPixels })
      .autoOrient()
      .resize({ width, height, fit: 'cover', position: sharp.strategy.attention })
      .toFormat(format, format === 'jpeg' ? { quality: 82 } : {})
      .toFile(localPath);
    made.push({ localPath, mimeType: `image/${format}`, extension, width, height, crop: ratio.name });
  }
  return made;
}
