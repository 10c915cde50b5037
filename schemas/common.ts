import { z } from 'zod';

/** RFC 9457 problem details, as every error response of the API is rendered. */
export const ProblemSchema = z
  .object({
    type: z.string().describe('URI naming the problem type'),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string().optional(),
    requestId: z.string().optional(),
    errors: z
      .array(z.object({ field: z.string(), message: z.string() }))
      .optional()
      .describe('validation problems, one per field'),
  })
  .meta({ id: 'Problem' });
export type Problem = z.infer<typeof ProblemSchema>;

export const PageLimitSchema = z.coerce.number().int().min(1).max(100).default(20);

/** Opaque cursor returned as `nextCursor` by list endpoints. */
export const CursorSchema = z.string().max(200).optional();

export const UuidParamSchema = z.object({ id: z.uuid() });

/**
 * An array whose items must not repeat: refused with `<label> must not repeat`, and published as
 * `uniqueItems` so the OpenAPI document states the rule the server applies.
 */
export const withoutRepeats = <S extends z.ZodArray>(schema: S, label: string): S =>
  schema.refine((items) => new Set(items).size === items.length, `${label} must not repeat`).meta({ uniqueItems: true });

/**
 * Text that is not blank once trimmed. The length limit applies to the text as sent, and the
 * document carries a `\S` pattern: `minLength` alone would promise that whitespace is accepted.
 */
export const nonBlankText = (maxLength: number) => z.string().max(maxLength).trim().min(1).meta({ pattern: '\\S' });

/** JSON Schema for a body that must carry exactly one of `keys` (the schema's refine enforces it). */
export const exactlyOneOf = (...keys: string[]) => ({ oneOf: keys.map((key) => ({ required: [key] })) });

/** The `Idempotency-Key` header every POST that starts work accepts. */
export const IdempotencyKeyHeaderSchema = z.object({
  'idempotency-key': z
    .string()
    .regex(/^[\x21-\x7e]{1,255}$/, 'printable ASCII, 1-255 characters')
    .optional()
    .describe('Same key + same body returns the first response; same key + different body is 422'),
});
