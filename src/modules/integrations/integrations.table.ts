import type { Generated, Selectable } from 'kysely';

export interface IntegrationsTable {
  id: Generated<number>;
  name: string;
  /** SHA-256 (hex) of the Content API key: the key itself is shown once and never stored. */
  content_key_hash: string;
  /** The Admin API key's id (24 hex characters), the `kid` of the JWTs it signs. */
  admin_key_id: string;
  /** The Admin API key's secret, sealed with the secret key: verifying a JWT needs it. */
  admin_secret_sealed: string;
  created_at: string;
  revoked_at: string | null;
}

export interface IntegrationsTables {
  integrations: IntegrationsTable;
}

export type IntegrationRow = Selectable<IntegrationsTable>;
