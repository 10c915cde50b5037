import type { DbOrTx } from '../database';

interface CreditPackSeed {
  slug: string;
  name: string;
  credits: number;
  amountCents: number;
}

export const CREDIT_PACK_SEEDS: readonly CreditPackSeed[] = [
  { slug: 'credits_100', name: '100 credits', credits: 100, amountCents: 999 },
  { slug: 'credits_500', name: '500 credits', credits: 500, amountCents: 3999 },
];

/** Placeholder Stripe price id the Stripe sandbox knows; production sets real ids on these rows. */
export const sandboxCreditPackPriceId = (slug: string): string => `price_sbx_${slug}`;

/** Seeded once: after that a pack (its real Stripe price, its credits) is business data a restart must not overwrite. */
export async function seedCreditPacks(db: DbOrTx): Promise<void> {
  for (const pack of CREDIT_PACK_SEEDS) {
    await db
      .insertInto('credit_packs')
      .values({
        slug: pack.slug,
        name: pack.name,
        credits: pack.credits,
        stripe_price_id: sandboxCreditPackPriceId(pack.slug),
        amount_cents: pack.amountCents,
      })
      .onConflict((oc) => oc.column('slug').doNothing())
      .execute();
  }
}
