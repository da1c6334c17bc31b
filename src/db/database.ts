import type { ArticlesTables } from '../modules/articles/articles.table.ts';
import type { BouncesTables } from '../modules/bounces/bounces.table.ts';
import type { LegalTables } from '../modules/legal/legal.table.ts';
import type { MediaTables } from '../modules/media/media.table.ts';
import type { NewslettersTables } from '../modules/newsletters/newsletters.table.ts';
import type { SettingsTables } from '../modules/settings/settings.table.ts';
import type { SubscribersTables } from '../modules/subscribers/subscribers.table.ts';
import type { RateLimitsTables } from '../modules/rate-limits/rate-limits.table.ts';
import type { UsersTables } from '../modules/users/users.table.ts';
import type { ContentVersionTables } from '../content-changes/content-changes.ts';
import type { WebhooksTables } from '../modules/webhooks/webhooks.table.ts';
import type { IntegrationsTables } from '../modules/integrations/integrations.table.ts';

/** Every table, as Kysely sees it; each module declares its own tables in its `*.table.ts`. */
export interface Database
  extends
    ArticlesTables,
    MediaTables,
    LegalTables,
    SettingsTables,
    SubscribersTables,
    NewslettersTables,
    UsersTables,
    RateLimitsTables,
    ContentVersionTables,
    BouncesTables,
    WebhooksTables,
    IntegrationsTables {}
