import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { simpleParser } from 'mailparser';
import { clientFor, csrfFrom, type NewsroomClient, signInAs } from '../../../test/helpers/newsroom.ts';
import { createTestSite, type TestSite } from '../../../test/helpers/site.ts';
import { startTestSmtpServer, type TestSmtpServer } from '../../../test/helpers/smtp.ts';

describe('newsroom users: invitations by email, roles, disabling', () => {
  let smtp: TestSmtpServer;
  let site: TestSite;
  let admin: NewsroomClient;

  before(async () => {
    smtp = await startTestSmtpServer({ keepRaw: true });
    site = await createTestSite({
      seed: false,
      env: { SMTP_URL: smtp.url, MAIL_FROM: 'Gazette <newsroom@gazette.test>' },
    });
    admin = await signInAs(site, 'admin', 'admin@example.com', 'Ada Admin');
  });
  after(async () => {
    await site.close();
    await smtp.close();
  });

  const userId = async (email: string) =>
    (await site.db.selectFrom('users').select('id').where('email_key', '=', email).executeTakeFirstOrThrow()).id;

  it('invites a person by email: the mail arrives with a one-time link that signs them in once, with the role given', async () => {
    const response = await admin.post('/newsroom/users/invite', {
      email: 'New.Editor@Example.org',
      name: 'Nia Editor',
      role: 'editor',
    });
    assert.equal(response.statusCode, 200);
    assert.match(response.body, /An invitation was mailed to New\.Editor@example\.org\./);
    assert.match(response.body, /<td>Nia Editor<\/td><td>New\.Editor@example\.org<\/td><td>editor<\/td>/);
    assert.doesNotMatch(response.body, /sign-in\/link\?token=/, 'the link is not shown when the mail went out');

    assert.equal(smtp.accepted.get('new.editor@example.org'), 1);
    const mail = await simpleParser(smtp.messages.find((m) => m.to === 'new.editor@example.org')!.raw);
    assert.match(mail.subject ?? '', /invitation to the .* newsroom/);
    assert.match(mail.text ?? '', /Ada Admin invited you to the newsroom of .* as an editor\./);
    const link = /http:\/\/gazette\.test(\/newsroom\/sign-in\/link\?token=[A-Za-z0-9_-]+)/.exec(mail.text ?? '')?.[1];
    assert.ok(link, 'the mail carries the sign-in link');
    assert.ok(mail.html && mail.html.includes(link), 'in both parts');

    const invitee = clientFor(site);
    const landing = await invitee.request({ method: 'GET', url: link });
    assert.equal(landing.statusCode, 200);
    const signIn = await invitee.request({
      method: 'POST',
      url: '/newsroom/sign-in/link',
      form: { _csrf: csrfFrom(landing.body), token: new URL(link, 'http://x').searchParams.get('token') ?? '' },
    });
    assert.equal(signIn.statusCode, 303);
    const dashboard = await invitee.request({ method: 'GET', url: '/newsroom' });
    assert.match(dashboard.body, /Signed in as <strong>Nia Editor<\/strong> \(New\.Editor@example\.org\) \(editor\)/);
    assert.match(dashboard.body, /Set a password/);
    assert.equal(
      (await invitee.request({ method: 'GET', url: '/newsroom/newsletters' })).statusCode,
      200,
      'an editor now',
    );

    const again = clientFor(site);
    assert.equal((await again.request({ method: 'GET', url: link })).statusCode, 410, 'the link works once');
  });

  it('refuses a bad or known address and a made-up role, keeping what was typed', async () => {
    const bad = await admin.post('/newsroom/users/invite', { email: 'not an address', name: 'X', role: 'editor' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /Please enter a valid email address/);
    assert.match(bad.body, /value="not an address"/);
    const known = await admin.post('/newsroom/users/invite', {
      email: 'new.editor@example.org',
      name: '',
      role: 'author',
    });
    assert.equal(known.statusCode, 409);
    const role = await admin.post('/newsroom/users/invite', { email: 'ok@example.org', name: '', role: 'owner' });
    assert.equal(role.statusCode, 400);
    assert.match(role.body, /Please choose a role/);
    assert.equal(smtp.accepted.has('ok@example.org'), false);
  });

  it('shows the link to pass on when the invitation mail cannot be sent', async () => {
    smtp.faults.permanent.add('bounce@example.org');
    try {
      const response = await admin.post('/newsroom/users/invite', {
        email: 'bounce@example.org',
        name: '',
        role: 'author',
      });
      assert.equal(response.statusCode, 502);
      assert.match(response.body, /was added, but the invitation mail could not be sent/);
      assert.match(response.body, /<code class="sign-in-link">http:\/\/gazette\.test\/newsroom\/sign-in\/link\?token=/);
    } finally {
      smtp.faults.permanent.clear();
    }
  });

  it('changes roles and disables and enables users, but never demotes or disables the last admin', async () => {
    const writer = await signInAs(site, 'author', 'writer@example.org');
    const id = await userId('writer@example.org');
    const promoted = await admin.post(`/newsroom/users/${id}/role`, { role: 'editor' });
    assert.equal(promoted.statusCode, 303);
    assert.match(
      (await admin.request({ method: 'GET', url: String(promoted.headers.location) })).body,
      /The role is changed\./,
    );
    assert.equal(
      (await writer.request({ method: 'GET', url: '/newsroom/newsletters' })).statusCode,
      200,
      'the new role applies at once',
    );

    assert.equal((await admin.post(`/newsroom/users/${id}/disable`, {})).statusCode, 303);
    assert.equal((await writer.request({ method: 'GET', url: '/newsroom' })).statusCode, 303, 'signed out everywhere');
    assert.equal((await admin.post(`/newsroom/users/${id}/enable`, {})).statusCode, 303);
    assert.equal(
      (await site.db.selectFrom('users').select('disabled_at').where('id', '=', id).executeTakeFirstOrThrow())
        .disabled_at,
      null,
    );

    const me = await userId('admin@example.com');
    const demote = await admin.post(`/newsroom/users/${me}/role`, { role: 'editor' });
    assert.equal(demote.statusCode, 409);
    assert.match(demote.body, /This is the last active admin/);
    assert.equal((await admin.post(`/newsroom/users/${me}/disable`, {})).statusCode, 409);
    assert.equal(
      (await admin.request({ method: 'GET', url: '/newsroom/users' })).statusCode,
      200,
      'still an admin, still signed in',
    );

    // With a second admin, the first may step down.
    await admin.post(`/newsroom/users/${id}/role`, { role: 'admin' });
    assert.equal((await admin.post(`/newsroom/users/${me}/role`, { role: 'editor' })).statusCode, 303);
    assert.equal((await admin.request({ method: 'GET', url: '/newsroom/users' })).statusCode, 403);
    const writerAgain = await signInAs(site, 'admin', 'writer@example.org');
    assert.equal(
      (await writerAgain.post(`/newsroom/users/${id}/role`, { role: 'editor' })).statusCode,
      409,
      'now the last admin in turn',
    );
    assert.equal((await writerAgain.post('/newsroom/users/999999/role', { role: 'editor' })).statusCode, 404);
  });

  it('is for admins only: an editor gets 403 on GET and POST; a POST without CSRF is refused', async () => {
    const editor = await signInAs(site, 'editor', 'plain.editor@example.org');
    assert.equal((await editor.request({ method: 'GET', url: '/newsroom/users' })).statusCode, 403);
    assert.equal(
      (await editor.post('/newsroom/users/invite', { email: 'friend@example.org', name: '', role: 'admin' }))
        .statusCode,
      403,
    );
    assert.equal(
      (await editor.post(`/newsroom/users/${await userId('plain.editor@example.org')}/role`, { role: 'admin' }))
        .statusCode,
      403,
    );
    const admin2 = await signInAs(site, 'admin', 'writer@example.org');
    const noCsrf = await admin2.request({
      method: 'POST',
      url: '/newsroom/users/invite',
      form: { email: 'friend@example.org', role: 'admin' },
    });
    assert.equal(noCsrf.statusCode, 403);
    assert.equal(smtp.accepted.has('friend@example.org'), false);
  });
});
