// What other parts of Gazette may use of the mail module (docs/ARCHITECTURE.md, "Modules and borders").
export { createMessageIds, prepareMime, renderMimeChunks } from './mail.mime.ts';
export type { PreparedMime, Slot } from './mail.mime.ts';
export { createMailTransport, serverTroubleLine } from './mail.transport.ts';
export type { MailTransport, SendOutcome, SessionCheck } from './mail.transport.ts';
export { createVerpSender, messageIdDeliveriesIn, verpDeliveriesIn } from './mail.verp.ts';
