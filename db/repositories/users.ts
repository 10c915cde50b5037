import type { DbOrTx } from '../database';
import type { User } from '../types';

export interface NewUserInput {
  email: string;
  plan?: string;
  role?: 'user' | 'admin';
}

export async function createUser(db: DbOrTx, input: NewUserInput): Promise<User> {
  return db
    .insertInto('users')
    .values({ email: input.email.toLowerCase(), subscription_tier: input.plan ?? 'free', role: input.role ?? 'user' })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Creates the user or brings plan and role to the given values (seeds run on every start). */
export async function upsertUserByEmail(db: DbOrTx, input: Required<NewUserInput>): Promise<User> {
  return db
    .insertInto('users')
    .values({ email: input.email.toLowerCase(), subscription_tier: input.plan, role: input.role })
    .onConflict((oc) => oc.column('email').doUpdateSet({ subscription_tier: input.plan, role: input.role }))
    .returningAll()
    .executeTakeFirstOrThrow();
}
