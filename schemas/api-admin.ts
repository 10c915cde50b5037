import { z } from 'zod';

export const PLAN_SLUGS = ['free', 'basic', 'premium', 'creator', 'enterprise'] as const;
export const PlanSlugSchema = z.enum(PLAN_SLUGS);
export type PlanSlug = z.infer<typeof PlanSlugSchema>;

export const AdminCreateUserBodySchema = z
  .object({
    // zod's email check as a plain pattern: the document then states exactly that rule, where
    // `format: email` would promise RFC 5322 addresses (zod is stricter on characters, looser on lengths).
    email: z
      .string()
      .regex(z.regexes.email, 'Invalid email address')
      .max(255)
      .transform((e) => e.toLowerCase()),
    plan: PlanSlugSchema.default('free'),
    role: z.enum(['user', 'admin']).default('user'),
  })
  .strict()
  .meta({ id: 'AdminCreateUserBody' });

export const AdminCreatedUserSchema = z
  .object({
    userId: z.uuid(),
    email: z.string(),
    plan: z.string(),
    role: z.enum(['user', 'admin']),
    apiKey: z.string().describe('plaintext key for the new user: shown once'),
  })
  .meta({ id: 'AdminCreatedUser' });
