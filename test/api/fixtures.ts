import { createApiKey } from '../../db/repositories/api-keys';
import { createUser } from '../../db/repositories/users';
import type { Db } from '../../db/database';
import { USER_SCOPES, type ApiScope } from '../../schemas/api-keys';

export interface TestCaller {
  userId: string;
  key: string;
  keyId: string;
  auth: { authorization: string };
}

let counter = 0;

/** A user with one API key, made through the same repositories the API uses. */
export async function createCaller(
  db: Db,
  options: { plan?: string; role?: 'user' | 'admin'; scopes?: readonly ApiScope[]; rateLimit?: number; expiresAt?: Date } = {},
): Promise<TestCaller> {
  const user = await createUser(db, {
    email: `caller${++counter}-${Date.now()}@example.test`,
    plan: options.plan ?? 'enterprise',
    role: options.role ?? 'user',
  });
  const { key, plaintext } = await createApiKey(db, {
    userId: user.id,
    name: 'test',
    scopes: options.scopes ?? USER_SCOPES,
    rateLimit: options.rateLimit,
    expiresAt: options.expiresAt,
  });
  return { userId: user.id, key: plaintext, keyId: key.id, auth: { authorization: `Bearer ${plaintext}` } };
}
