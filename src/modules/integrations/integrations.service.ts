import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../../db/index.ts';
import { AppError } from '../../errors.ts';
import type { SecretSealer } from '../settings/index.ts';
import {
  findLiveByAdminKeyId,
  findLiveByContentKeyHash,
  insertIntegration,
  listIntegrations,
  revokeIntegration,
} from './integrations.repository.ts';

/** A key as Ghost's clients expect it: the Content API key is 26 hex characters. */
const contentKeyPattern = /^[0-9a-f]{26}$/;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export interface IntegrationView {
  id: number;
  name: string;
  adminKeyId: string;
  createdAt: string;
  revokedAt: string | null;
}

export interface IntegrationServiceDeps {
  db: Db;
  sealer: SecretSealer;
  now: () => Date;
}

/**
 * Integrations: each is a pair of Ghost-style keys for another program. The Content API key (26 hex
 * characters, read-only and public by Ghost's design) is stored as its SHA-256 only. The Admin API key is
 * `<id>:<secret>` (24 and 64 hex characters), the secret signing the program's JWTs: it must be read back to
 * verify them, so it is stored sealed with the secret key (AES-256-GCM), where Ghost keeps it in the clear.
 */
export class IntegrationService {
  readonly #deps: IntegrationServiceDeps;

  constructor(deps: IntegrationServiceDeps) {
    this.#deps = deps;
  }

  /** Creates an integration; resolves with its two keys, shown this once. */
  async add(name: string): Promise<{ id: number; contentKey: string; adminKey: string }> {
    const trimmed = name.trim();
    if (trimmed === '' || trimmed.length > 100 || /[\x00-\x1f\x7f]/.test(trimmed))
      throw new AppError('integration.invalid_name');
    const contentKey = randomBytes(13).toString('hex');
    const adminKeyId = randomBytes(12).toString('hex');
    const adminSecret = randomBytes(32).toString('hex');
    const id = await insertIntegration(this.#deps.db, {
      name: trimmed,
      content_key_hash: sha256(contentKey),
      admin_key_id: adminKeyId,
      admin_secret_sealed: this.#deps.sealer.seal(adminSecret),
      created_at: this.#deps.now().toISOString(),
    });
    return { id, contentKey, adminKey: `${adminKeyId}:${adminSecret}` };
  }

  async list(): Promise<IntegrationView[]> {
    return (await listIntegrations(this.#deps.db)).map((r) => ({
      id: Number(r.id),
      name: r.name,
      adminKeyId: r.admin_key_id,
      createdAt: r.created_at,
      revokedAt: r.revoked_at,
    }));
  }

  /** Both keys stop working at once, in every process (each request looks its key up). */
  async revoke(id: number): Promise<void> {
    if (!(await revokeIntegration(this.#deps.db, id, this.#deps.now().toISOString())))
      throw new AppError('integration.not_found');
  }

  /** The live integration a Content API key belongs to, or undefined. */
  async forContentKey(key: string): Promise<{ id: number; name: string } | undefined> {
    if (!contentKeyPattern.test(key)) return undefined;
    const row = await findLiveByContentKeyHash(this.#deps.db, sha256(key));
    return row ? { id: Number(row.id), name: row.name } : undefined;
  }

  /** The Admin API secret (bytes) of a live key id, to verify a JWT it signed; undefined if unknown or revoked. */
  async adminSecretFor(keyId: string): Promise<{ integrationId: number; secret: Buffer } | undefined> {
    if (!/^[0-9a-f]{24}$/.test(keyId)) return undefined;
    const row = await findLiveByAdminKeyId(this.#deps.db, keyId);
    if (!row) return undefined;
    return {
      integrationId: Number(row.id),
      secret: Buffer.from(this.#deps.sealer.open(row.admin_secret_sealed), 'hex'),
    };
  }
}
