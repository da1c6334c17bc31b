import { parseArgs } from 'node:util';
import { type CliCommand, UsageError, wantsHelp } from '../../cli-support.ts';
import { loadConfig } from '../../config.ts';
import { withMigratedDb } from '../../db/migrate.ts';
import { AppError } from '../../errors.ts';
import { minPasswordLength } from './passwords.ts';
import { roleSchema } from './users.schema.ts';
import { UserService } from './users.service.ts';
import { roles } from './users.table.ts';

const addUsage = `Usage: gazette user add <email> --role <${roles.join('|')}> [--name "<name>"] [--password-stdin]

Creates a newsroom user and prints a one-time sign-in link (valid 24 hours, usable once).
With --password-stdin, reads the password (at least ${minPasswordLength} characters) from standard input
instead, and prints no link. Roles: contributor (writes drafts), author (publishes own articles),
editor (edits and publishes all, sends newsletters), admin (users, settings, legal documents).`;

const linkUsage = `Usage: gazette user link <email>

Prints a new one-time sign-in link for an existing user (valid 24 hours, usable once).`;

const disableUsage = `Usage: gazette user disable <email> | gazette user enable <email>

disable: the user can no longer sign in (by password or link) and every session of theirs ends at once.
enable: undoes that; they sign in again with their password or a new link.`;

const listUsage = `Usage: gazette user list

Lists the newsroom users: email, role, name, and whether a password is set.`;

const usage = `Usage: gazette user <add|link|list|disable|enable> …\n\n${addUsage}\n\n${linkUsage}\n\n${listUsage}\n\n${disableUsage}`;

/** `gazette user add|link|list`: the first admin is made here. */
export const userCommand: CliCommand = {
  summary: 'Add a newsroom user (prints a one-time sign-in link), print a new link, list, disable or enable users.',
  usage:
    'gazette user add <email> --role <role> [--name "…"] [--password-stdin] | user link <email> | user list | user disable|enable <email>',
  run: async (args) => {
    const [action, ...rest] = args;
    if (action === 'add') return runAdd(rest);
    if (action === 'link') return runLink(rest);
    if (action === 'list') return runList(rest);
    if (action === 'disable' || action === 'enable') return runDisable(action, rest);
    if (action === undefined || wantsHelp(args)) {
      console.log(usage);
      return 0;
    }
    throw new UsageError(`Unknown user action '${action}'. Run 'gazette user --help'.`);
  },
};

async function withUsers<T>(work: (users: UserService) => Promise<T>): Promise<T> {
  const config = loadConfig();
  try {
    return await withMigratedDb(config.database, (db) =>
      work(new UserService({ db, siteUrl: config.siteUrl, now: () => new Date() })),
    );
  } catch (error) {
    // An expected refusal (duplicate, bad address, short password) is the operator's mistake: exit 2.
    if (error instanceof AppError && error.status < 500) throw new UsageError(error.message);
    throw error;
  }
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) throw new UsageError('--password-stdin reads the password from standard input; pipe it in.');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  // One trailing newline (from `echo` or a file) is not part of the password.
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

async function runAdd(args: string[]): Promise<number> {
  if (wantsHelp(args)) {
    console.log(addUsage);
    return 0;
  }
  const { values, positionals } = parseArgs({
    args,
    options: { role: { type: 'string' }, name: { type: 'string' }, 'password-stdin': { type: 'boolean' } },
    allowPositionals: true,
    strict: true,
  });
  const [email, extra] = positionals;
  if (!email || extra !== undefined) throw new UsageError(`Give one email address. Run 'gazette user add --help'.`);
  const role = roleSchema.safeParse(values.role);
  if (!role.success) throw new UsageError(`--role must be one of: ${roles.join(', ')}.`);
  const password = values['password-stdin'] ? await readStdin() : undefined;
  const { user, link } = await withUsers((users) =>
    users.createUser({ email, role: role.data, name: values.name, password }),
  );
  if (link) {
    console.log(`Added ${user.email} (${user.role}). This link signs them in once, within 24 hours:\n${link}`);
  } else {
    console.log(`Added ${user.email} (${user.role}) with the password given.`);
  }
  return 0;
}

async function runLink(args: string[]): Promise<number> {
  if (wantsHelp(args)) {
    console.log(linkUsage);
    return 0;
  }
  const { positionals } = parseArgs({ args, options: {}, allowPositionals: true, strict: true });
  const [email, extra] = positionals;
  if (!email || extra !== undefined) throw new UsageError(`Give one email address. Run 'gazette user link --help'.`);
  const link = await withUsers(async (users) => {
    const user = await users.findByEmail(email);
    if (!user) throw new UsageError(`There is no user with the address ${email}.`);
    return users.issueSignInLink(user.id);
  });
  console.log(link);
  return 0;
}

async function runList(args: string[]): Promise<number> {
  if (wantsHelp(args)) {
    console.log(listUsage);
    return 0;
  }
  const { positionals } = parseArgs({ args, options: {}, allowPositionals: true, strict: true });
  if (positionals.length > 0) throw new UsageError(`Unknown argument for 'user list': ${positionals[0] ?? ''}.`);
  const list = await withUsers((users) => users.listUsers());
  if (list.length === 0) console.log(`No users yet. Add the first admin: gazette user add <email> --role admin`);
  for (const u of list) {
    console.log(
      [u.email, u.role, u.name || '-', u.disabled_at ? 'disabled' : u.password_hash ? 'password' : 'link only'].join(
        '\t',
      ),
    );
  }
  return 0;
}

async function runDisable(action: 'disable' | 'enable', args: string[]): Promise<number> {
  if (wantsHelp(args)) {
    console.log(disableUsage);
    return 0;
  }
  const { positionals } = parseArgs({ args, options: {}, allowPositionals: true, strict: true });
  const [email, extra] = positionals;
  if (!email || extra !== undefined)
    throw new UsageError(`Give one email address. Run 'gazette user ${action} --help'.`);
  const address = await withUsers(async (users) => {
    const user = await users.findByEmail(email);
    if (!user) throw new UsageError(`There is no user with the address ${email}.`);
    if (action === 'disable') await users.disableUser(user.id);
    else await users.enableUser(user.id);
    return user.email;
  });
  console.log(action === 'disable' ? `Disabled ${address}; their sessions have ended.` : `Enabled ${address}.`);
  return 0;
}
