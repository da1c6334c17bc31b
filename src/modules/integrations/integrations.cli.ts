import { type CliCommand, UsageError, wantsHelp } from '../../cli-support.ts';
import { loadConfig } from '../../config.ts';
import { withMigratedDb } from '../../db/migrate.ts';
import { AppError } from '../../errors.ts';
import { createSecretSealer, getOrCreateSecretKey } from '../settings/index.ts';
import { IntegrationService } from './integrations.service.ts';

const usage = `Usage: gazette integration add <name> | integration list | integration revoke <id>

add: creates an integration and prints its Content API key (read-only, for @tryghost/content-api and Ghost
themes: /ghost/api/content/) and its Admin API key (id:secret), each shown only this once.
list: every integration, live or revoked. revoke: both keys stop working at once.`;

/** `gazette integration add|list|revoke` */
export const integrationCommand: CliCommand = {
  summary: 'Create an integration (prints its Ghost Content and Admin API keys), list or revoke them.',
  usage: 'gazette integration add <name> | integration list | integration revoke <id>',
  run: async (args) => {
    const [action, ...rest] = args;
    if (action === undefined || wantsHelp(args)) {
      console.log(usage);
      return 0;
    }
    if (action === 'add') {
      const name = rest.join(' ');
      if (name.trim() === '') throw new UsageError(`Give the integration a name.\n\n${usage}`);
      const keys = await withIntegrations((s) => s.add(name));
      console.log(`Integration ${keys.id} (${name.trim()}) created. Keys, shown only this once:`);
      console.log(`Content API key: ${keys.contentKey}`);
      console.log(`Admin API key: ${keys.adminKey}`);
      return 0;
    }
    if (action === 'list') {
      if (rest.length > 0) throw new UsageError(`Unknown argument for 'integration list': ${rest[0] ?? ''}.`);
      const list = await withIntegrations((s) => s.list());
      if (list.length === 0) console.log('No integrations.');
      for (const i of list)
        console.log(
          `${i.id}\t${i.name}\tadmin key ${i.adminKeyId}\t${i.revokedAt ? `revoked ${i.revokedAt}` : 'live'}`,
        );
      return 0;
    }
    if (action === 'revoke') {
      const [text, extra] = rest;
      const id = Number(text);
      if (text === undefined || extra !== undefined || !Number.isSafeInteger(id) || id <= 0)
        throw new UsageError(`Give the integration's number (see 'gazette integration list').`);
      await withIntegrations((s) => s.revoke(id));
      console.log(`Integration ${id} revoked: its keys no longer work.`);
      return 0;
    }
    throw new UsageError(`Unknown integration action '${action}'. Run 'gazette integration --help'.`);
  },
};

async function withIntegrations<T>(work: (service: IntegrationService) => Promise<T>): Promise<T> {
  const config = loadConfig();
  try {
    return await withMigratedDb(config.database, async (db) =>
      work(
        new IntegrationService({
          db,
          sealer: createSecretSealer(await getOrCreateSecretKey(db, config.secretKey)),
          now: () => new Date(),
        }),
      ),
    );
  } catch (error) {
    if (error instanceof AppError && error.status < 500) throw new UsageError(error.message);
    throw error;
  }
}
