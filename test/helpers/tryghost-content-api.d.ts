// @tryghost/content-api ships no types; what the tests use of Ghost's official client.
declare module '@tryghost/content-api' {
  type Params = Record<string, string | number>;
  interface Resource {
    browse(options?: Params): Promise<unknown>;
    read(data: { id?: string; slug?: string }, options?: Params): Promise<unknown>;
  }
  export interface ContentApi {
    posts: Resource;
    pages: Resource;
    tags: Resource;
    authors: Resource;
    settings: Pick<Resource, 'browse'>;
    tiers: Pick<Resource, 'browse'>;
    newsletters: Pick<Resource, 'browse'>;
    offers: Pick<Resource, 'read'>;
  }
  export default function GhostContentAPI(options: { url: string; key: string; version: string | boolean }): ContentApi;
}
