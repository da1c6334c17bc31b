import { randomBytes } from 'node:crypto';
import { escapeHtml } from '../../ui/html.ts';
import type { MailTransport } from '../mail/index.ts';
import type { UserService } from './users.service.ts';
import type { Role, UserRow } from './users.table.ts';

export interface InviteResult {
  user: UserRow;
  /** The one-time sign-in link (also mailed). */
  link: string;
  /** Whether the mail server accepted the invitation; when not, the admin can pass the link on. */
  mailed: boolean;
  error: string | null;
}

/**
 * Invites a person to the newsroom: a user with the role and no password, and a mail (through the one mail
 * transport) carrying a one-time sign-in link valid 24 hours. The link's GET only shows a button, so a mail
 * scanner following it signs nobody in.
 */
export async function inviteUser(
  users: UserService,
  mail: MailTransport,
  input: { email: string; name: string; role: Role; publicationName: string; siteUrl: string; invitedBy: string },
): Promise<InviteResult> {
  const { user, link } = await users.createUser({ email: input.email, role: input.role, name: input.name });
  if (!link) throw new Error('an invited user has no password, so a link is always issued');
  const greeting = user.name ? `Hello ${user.name},` : 'Hello,';
  const intro = `${input.invitedBy} invited you to the newsroom of ${input.publicationName} as ${/^[aeiou]/.test(input.role) ? 'an' : 'a'} ${input.role}.`;
  const outro = 'The link signs you in once and expires in 24 hours. Once signed in, set a password on the dashboard.';
  const outcome = await mail.send({
    to: user.email,
    subject: `Your invitation to the ${input.publicationName} newsroom`,
    text: `${greeting}\n\n${intro}\n\nSign in here:\n${link}\n\n${outro}\n`,
    html: `<p>${escapeHtml(greeting)}</p><p>${escapeHtml(intro)}</p><p><a href="${escapeHtml(link)}">Sign in to the newsroom</a></p><p>${escapeHtml(outro)}</p>`,
    messageId: `<gazette.invite.${randomBytes(9).toString('hex')}@${new URL(input.siteUrl).hostname}>`,
  });
  return { user, link, mailed: outcome.kind === 'accepted', error: outcome.kind === 'accepted' ? null : outcome.error };
}
