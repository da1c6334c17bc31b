import formbody from '@fastify/formbody';
import Fastify, {
  LogController,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { PostgresAdapter } from 'kysely';
import type { Config } from './config.ts';
import type { Db } from './db/index.ts';
import { AppError, errorCodes, type ErrorCode, isDiskFull } from './errors.ts';
import { echoRequestId, fastifyLogging, loggablePath, type Logger } from './logging.ts';
import { healthRoutes } from './modules/health/index.ts';
import { createReadinessCheck } from './modules/health/index.ts';
import { createMailTransport, type MailTransport } from './modules/mail/index.ts';
import { articleRoutes } from './modules/articles/index.ts';
import { ArchiveIndex, ArticleEditor } from './modules/articles/index.ts';
import { mediaRoutes } from './modules/media/index.ts';
import { createMediaStorage, type MediaStorage } from './modules/media/index.ts';
import { mediaNewsroomRoutes } from './modules/media/index.ts';
import { searchRoutes } from './site/search.routes.ts';
import { RateLimiter } from './modules/rate-limits/index.ts';
import { createSecretSealer, getOrCreateSecretKey } from './modules/settings/index.ts';
import { WebhookService, webhookNewsroomRoutes } from './modules/webhooks/index.ts';
import { IntegrationService } from './modules/integrations/index.ts';
import { ghostContentRoutes } from './api/ghost-content.routes.ts';
import { getSiteSettings } from './modules/settings/index.ts';
import { newsletterRoutes } from './modules/newsletters/index.ts';
import { subscriberRoutes } from './modules/subscribers/index.ts';
import { createSubscriberMailer } from './modules/subscribers/index.ts';
import { openEmailHasher, SignupRateLimiter, SubscriberService } from './modules/subscribers/index.ts';
import { createNewsroomAuth, type NewsroomAuth } from './modules/users/index.ts';
import { dashboardRoutes } from './newsroom/dashboard.routes.ts';
import { newsroomPlugin } from './newsroom/newsroom.plugin.ts';
import { userRoutes } from './modules/users/index.ts';
import { newsroomPageRenderer } from './newsroom/newsroom.render.ts';
import { legalRoutes } from './modules/legal/index.ts';
import { newsletterNewsroomRoutes } from './modules/newsletters/index.ts';
import { SubscriberImports } from './modules/subscribers/index.ts';
import { subscriberNewsroomRoutes } from './modules/subscribers/index.ts';
import { UserService } from './modules/users/index.ts';
import { type ContentChanges, createContentChanges } from './content-changes/content-changes.ts';
import { PageCache } from './http/page-cache.ts';
import { fallbackSiteContext, SiteContextSource } from './site/site-context.ts';
import { RedirectSignal, siteRoutes } from './site/site.routes.ts';
import { StaticAssets } from './ui/static-assets.ts';
import { errorPage } from './site/site.pages.ts';

export interface AppDeps {
  config: Config;
  db: Db;
  /** The clock; tests pass a fixed one. */
  now?: () => Date;
  /** The process's pino logger (src/logging.ts); false (the default) logs nothing, as in tests. */
  logger?: Logger | false;
  /** Where mail leaves; built from config.mail when not given (and then closed with the app). */
  mail?: MailTransport;
  /** Where media bytes live; built from config.media when not given (and then closed with the app). */
  storage?: MediaStorage;
  /**
   * Cross-process content changes (server.ts passes one that watches the other processes); without it,
   * changes are recorded and invalidate this process's pages only.
   */
  contentChanges?: ContentChanges;
}

export interface App {
  app: FastifyInstance;
  pages: PageCache;
  /** Sessions, roles and CSRF for newsroom routes (`auth.requireRole('editor')` as a preHandler). */
  auth: NewsroomAuth;
  /**
   * Call after any committed change readers can see (publish, edit, unpublish, legal or settings edits):
   * every process drops its cached pages, and the CDN is purged (CDN_PURGE_URL). Give it to the modules.
   */
  contentChanged: () => Promise<void>;
  /** From SIGTERM on: /readyz answers 503 while in-flight requests finish. */
  startDraining: () => void;
}

/**
 * `node:http` taken as the CommonJS module: an ESM `import` of it makes Node evaluate every export of its ESM
 * facade, including the lazy WebSocket getters that load undici — about 70 ms of start-up here for nothing.
 */
const { createServer } = process.getBuiltinModule('node:http');

/** Stands in for Fastify's schema compilers: a route that declares a JSON schema is a mistake here. */
function noJsonSchemas(): never {
  throw new Error('Gazette validates input with zod schemas, not Fastify JSON schemas');
}

/** Longest URL we answer (RFC 9110 §4.1 recommends supporting at least 8000 octets; pages need far less). */
const maxUrlLength = 2048;

const baseSecurityHeaders = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'strict-origin-when-cross-origin',
  'x-frame-options': 'DENY',
  'content-security-policy':
    "default-src 'self'; img-src 'self' data:; media-src 'self'; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), interest-cohort=()',
};

/** With MEDIA_PUBLIC_URL, /media/ redirects to another origin: pages must allow images and video from it. */
function withMediaOrigin(headers: typeof baseSecurityHeaders, publicUrl: string | null): typeof baseSecurityHeaders {
  if (publicUrl === null) return headers;
  const origin = new URL(publicUrl).origin;
  const csp = headers['content-security-policy']
    .replace("img-src 'self'", `img-src 'self' ${origin}`)
    .replace("media-src 'self'", `media-src 'self' ${origin}`);
  return { ...headers, 'content-security-policy': csp };
}

/** Builds the whole web application without listening; server.ts listens, tests use `app.inject()`. */
export async function buildApp(deps: AppDeps): Promise<App> {
  const { config, db } = deps;
  const securityHeaders = withMediaOrigin(baseSecurityHeaders, config.media.publicUrl);
  const now = deps.now ?? (() => new Date());
  const assets = new StaticAssets();
  const pages = new PageCache({ extraHeaders: securityHeaders, maxBytes: config.pageCacheBytes });
  const contentChanges =
    deps.contentChanges ??
    createContentChanges({ db, dialect: db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite' });
  contentChanges.subscribe(() => pages.invalidate());
  // The archive's page lists are made from the same content as the pages, and dropped with them.
  const archive = new ArchiveIndex(db);
  pages.onInvalidate(() => archive.invalidate());
  const contexts = new SiteContextSource(db, config.siteUrl, assets);
  pages.onInvalidate(() => contexts.invalidate());
  /** Give this to every module that changes what readers see (see App.contentChanged). */
  const contentChanged = () => contentChanges.contentChanged();
  const logger = deps.logger ?? false;
  let draining = false;
  let cachedAnswers = 0;
  // Fastify 5 ignores a numeric trustProxy (it fails closed, since a hop count trusts whoever connects), so a
  // TRUST_PROXY hop count is given as proxy-addr's (address, hop) function: the nearest `n` hops are believed.
  const hops = config.trustProxy;
  const trustProxy =
    typeof hops === 'number'
      ? (_address: string, hop: number) => hop < hops
      : typeof hops === 'object'
        ? [...hops]
        : hops;

  const app = Fastify({
    // Cached public pages are answered before routing (see PageCache.tryServeRaw); everything else,
    // including every first request for a page, goes through Fastify. The fast path is not access-logged
    // (docs/decisions/0004-access-logs-and-the-fast-path.md).
    serverFactory: (handler) =>
      createServer((req, res) => {
        // A proxy's request id round-trips (cheap); nothing is generated or logged per cached answer.
        if (logger) echoRequestId(req, res);
        if (pages.tryServeRaw(req, res)) cachedAnswers++;
        else handler(req, res);
      }),
    ...fastifyLogging(logger),
    // Fastify's own two lines per request are replaced by one access-log line (onResponse below).
    logController: new LogController({ disableRequestLogging: true }),
    // TRUST_PROXY: off by default, so a forged X-Forwarded-For cannot change request.ip (sign-up and sign-in
    // limits, the consent record). Nothing before routing (PageCache.tryServeRaw) reads the client address.
    trustProxy,
    // Input is validated with zod at each route (STYLE rule 3), never with Fastify's JSON schemas, so its
    // Ajv and fast-json-stringify compilers are never built: loading them cost ~70 ms of every start-up.
    schemaController: { compilersFactory: { buildValidator: noJsonSchemas, buildSerializer: noJsonSchemas } },
    bodyLimit: 1024 * 1024,
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, maxParamLength: 512 },
    // A URL that cannot be decoded (`%zz`, a lone surrogate) is the visitor's mistake: 400, in the site's look.
    frameworkErrors: (error, request, reply) => {
      const code: ErrorCode =
        error.code === 'FST_ERR_BAD_URL'
          ? 'request.bad_path'
          : error.code === 'FST_ERR_MAX_PARAM_LENGTH'
            ? 'request.uri_too_long'
            : 'request.bad_query';
      void sendError(request, reply, code);
    },
  });

  app.addHook('onRequest', async (request, reply) => {
    reply.headers(securityHeaders);
    if (logger) reply.header('x-request-id', request.id);
    const url = request.raw.url ?? '/';
    if (url.length > maxUrlLength) throw new AppError('request.uri_too_long');
    // NUL and other control characters have no place in a path, raw or percent-encoded.
    if (/[\x00-\x1f\x7f]|%[01][0-9a-f]|%7f/i.test(url.split('?')[0] ?? '')) throw new AppError('request.bad_path');
  });

  const renderErrorPage = async (status: number, message: string): Promise<string> => {
    try {
      return errorPage(await contexts.load(now()), status, message);
    } catch {
      return errorPage(fallbackSiteContext(config.siteUrl, assets), status, message);
    }
  };

  const sendError = async (
    request: FastifyRequest,
    reply: FastifyReply,
    code: ErrorCode,
    message?: string,
  ): Promise<FastifyReply> => {
    const { status } = errorCodes[code];
    const text = message ?? errorCodes[code].message;
    reply.code(status).header('cache-control', 'no-store').headers(securityHeaders);
    const accept = request.headers.accept ?? '';
    if (accept.includes('application/json') && !accept.includes('text/html')) {
      return reply.type('application/json; charset=utf-8').send({ error: { code, message: text } });
    }
    return reply.type('text/html; charset=utf-8').send(await renderErrorPage(status, text));
  };

  app.setErrorHandler(async (error: FastifyError | AppError | RedirectSignal, request, reply) => {
    if (error instanceof RedirectSignal) return reply.redirect(error.location, 301);
    if (error instanceof AppError) {
      // The cause of a full disk met while reading an upload is logged as itself (ENOSPC, SQLITE_FULL).
      if (error.code === 'storage.full') request.log.error({ err: error.cause }, 'disk full');
      return sendError(request, reply, error.code, error.message);
    }
    if (isDiskFull(error)) {
      request.log.error({ err: error }, 'disk full');
      return sendError(request, reply, 'storage.full');
    }
    const status = typeof error.statusCode === 'number' ? error.statusCode : 500;
    if (status >= 400 && status < 500) {
      // Fastify's own 4xx (body too large, bad content type…): keep the status, show our wording.
      reply.code(status);
      const accept = request.headers.accept ?? '';
      const message =
        status === 413
          ? 'The request is too large.'
          : status === 415
            ? 'That content type is not accepted here.'
            : 'The request could not be understood.';
      reply.header('cache-control', 'no-store');
      if (accept.includes('application/json') && !accept.includes('text/html')) {
        return reply.type('application/json; charset=utf-8').send({ error: { code: 'request.invalid', message } });
      }
      return reply.type('text/html; charset=utf-8').send(await renderErrorPage(status, message));
    }
    request.log.error({ err: error }, 'request failed');
    return sendError(request, reply, 'internal');
  });

  if (logger) {
    // One access-log line per request that reaches Fastify; the request id comes from the child logger.
    app.addHook('onResponse', async (request, reply) => {
      request.log.info(
        {
          method: request.method,
          path: loggablePath(request.url),
          status: reply.statusCode,
          ms: Math.round(reply.elapsedTime * 10) / 10,
        },
        'request',
      );
    });
    // Cached pages answered before routing are counted instead, one line a minute (decision 0004).
    const summary = setInterval(() => {
      if (cachedAnswers === 0) return;
      logger.info({ cachedAnswers, periodS: 60 }, 'cached pages answered before routing');
      cachedAnswers = 0;
    }, 60_000);
    summary.unref();
    app.addHook('onClose', (_instance, done) => {
      clearInterval(summary);
      done();
    });
  }

  app.setNotFoundHandler((request, reply) => sendError(request, reply, 'page.not_found'));

  /** The publication's settings, sections and assets, as every page (public or newsroom) is rendered with. */
  const site = () => contexts.load(now());
  await app.register(siteRoutes, { db, siteUrl: config.siteUrl, pages, archive, contexts, assets, now });
  await app.register(searchRoutes, { site, db });
  const storage = deps.storage ?? (await createMediaStorage(config));
  if (!deps.storage) app.addHook('onClose', () => storage.close?.());
  await app.register(mediaRoutes, { storage, publicUrl: config.media.publicUrl });

  await app.register(formbody);
  const mail = deps.mail ?? (await createMailTransport(config));
  const readiness = createReadinessCheck({
    db,
    mail: () => mail.description,
    ...(mail.verify ? { verifyMail: mail.verify } : {}),
    warn: (line) => app.log.warn(line),
    draining: () => draining,
  });
  await app.register(healthRoutes, { readiness });
  const secret = await getOrCreateSecretKey(db, config.secretKey);
  const emailHash = await openEmailHasher(db, secret);
  // Seals the secrets Gazette must read back (webhook signing secrets, Admin API key secrets).
  const sealer = createSecretSealer(secret);
  // Every web process sends the mails of the sign-ups it took at once, and retries whatever is due.
  const subscriberMailer = createSubscriberMailer({
    db,
    transport: mail,
    secret,
    siteUrl: config.siteUrl,
    concurrency: config.mail.concurrency,
    now,
    log: { info: (line) => app.log.info(line), warn: (line) => app.log.warn(line) },
    logConfirmationLinks: !config.mail.smtpUrl,
  });
  app.addHook('onReady', (done) => (subscriberMailer.start(), done()));
  // One hook, so that the mail in flight is sent and recorded before the transport closes.
  app.addHook('onClose', async () => {
    await subscriberMailer.stop();
    if (!deps.mail) mail.close();
  });
  // Sign-up and sign-in limits, counted in the database so that every process shares them.
  const limits = new RateLimiter(db);
  const subscribers = new SubscriberService({
    db,
    secret,
    config,
    now,
    mailer: subscriberMailer,
    limiter: new SignupRateLimiter(limits, {
      perIp: { limit: config.signupLimits.perIp, windowMs: 10 * 60_000 },
      perAddress: { limit: config.signupLimits.perAddress, windowMs: 60 * 60_000 },
    }),
  });
  await app.register(subscriberRoutes, { db, config, site, now, subscribers, pages });
  await app.register(newsletterRoutes, { db, siteUrl: config.siteUrl });

  // Ghost's Content API, for Ghost's clients, themes and integrations (keys: `gazette integration add`).
  const integrations = new IntegrationService({ db, sealer, now });
  await app.register(ghostContentRoutes, { prefix: '/ghost/api/content', db, siteUrl: config.siteUrl, integrations });

  const users = new UserService({ db, siteUrl: config.siteUrl, now, limits });
  const auth = createNewsroomAuth({ users, secret, secure: config.siteUrl.startsWith('https:') });
  // Every newsroom screen renders in its shell, with the same site context as the public pages.
  const render = newsroomPageRenderer({ site, auth });
  const imports = new SubscriberImports({
    db,
    now,
    emailHash,
    warn: (message, error) => app.log.error({ err: error }, message),
  });
  app.addHook('onClose', () => imports.close());
  // Media that articles show is changed under the article editor's rules (permissions, revisions, cache).
  const articles = new ArticleEditor({
    db,
    now,
    contentChanged,
    timeZone: async () => (await getSiteSettings(db)).timeZone,
  });
  await app.register(newsroomPlugin, {
    prefix: '/newsroom',
    auth,
    screens: async (newsroom) => {
      await newsroom.register(userRoutes, { db, config, site, now, users, auth, mail, render });
      await newsroom.register(dashboardRoutes, { db, users, auth, render });
      await newsroom.register(articleRoutes, { db, config, site, now, auth, contentChanged });
      await newsroom.register(subscriberNewsroomRoutes, { db, dataDir: config.dataDir, now, auth, render, imports });
      await newsroom.register(newsletterNewsroomRoutes, {
        db,
        siteUrl: config.siteUrl,
        now,
        mail,
        newsletters: { siteUrl: config.siteUrl, emailHash, now },
        auth,
        render,
      });
      await newsroom.register(legalRoutes, { db, now, auth, render, contentChanged });
      await newsroom.register(webhookNewsroomRoutes, {
        auth,
        render,
        webhooks: new WebhookService({ db, sealer, now }),
      });
      await newsroom.register(mediaNewsroomRoutes, {
        db,
        siteUrl: config.siteUrl,
        site,
        now,
        auth,
        storage,
        dataDir: config.dataDir,
        limits: config.uploadLimits,
        articles,
      });
    },
  });

  return { app, pages, auth, contentChanged, startDraining: () => void (draining = true) };
}
