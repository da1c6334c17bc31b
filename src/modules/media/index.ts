// What other parts of Gazette may use of the media module (docs/ARCHITECTURE.md, "Modules and borders").
export { createClipWorker } from './media.clips.ts';
export { mediaNewsroomRoutes } from './media.newsroom.routes.ts';
export { MediaNewsroomService } from './media.newsroom.service.ts';
export { mediaRoutes } from './media.routes.ts';
export {
  findMediaByFileNames,
  findMediaByIds,
  findVariantsOfMedia,
  insertMedia,
  mediaUrl,
  toMediaView,
  toVideoView,
} from './media.service.ts';
export type { MediaView, VideoView } from './media.service.ts';
export { createMediaStorage, FileSystemMediaStorage, mediaDirectory } from './media.storage.ts';
export type { MediaStorage } from './media.storage.ts';
export type { MediaKind } from './media.table.ts';
