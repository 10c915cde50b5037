import type { DbOrTx } from '../database';
import type { PlanSlug, User } from '../types';

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

export async function findUser(db: DbOrTx, userId: string): Promise<User | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirst();
}

export async function findUserByStripeCustomer(db: DbOrTx, stripeCustomerId: string): Promise<User | undefined> {
  return db.selectFrom('users').selectAll().where('stripe_customer_id', '=', stripeCustomerId).executeTakeFirst();
}

/** The tier written on the user's row (a subscription's, raised by admin grants); throws for an unknown user. */
export async function getUserTier(db: DbOrTx, userId: string): Promise<PlanSlug> {
  const user = await db.selectFrom('users').select('subscription_tier').where('id', '=', userId).executeTakeFirstOrThrow();
  return user.subscription_tier as PlanSlug;
}
