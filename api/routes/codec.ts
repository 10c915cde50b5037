import { timingSafeEqual } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import cors from 'cors';
import express, { type RequestHandler, type Router } from 'express';
import { z } from 'zod';
import { createPayloadCodec, PayloadDecryptionError } from '../../lib/payload-codec';
import { loadPayloadKeyring } from '../../lib/secrets';
import type { ApiDeps } from '../deps';
import { HttpProblem } from '../problem';

/**
 * The codec server the Temporal Web UI and CLI (`--codec-endpoint`) call to show the payloads
 * lib/payload-codec.ts encrypted: POST /codec/decode and /codec/encode, in Temporal's codec-server
 * JSON ({ payloads: [{ metadata: { key: base64 }, data: base64 }] }). Not part of the public API
 * (no /v1, not in /openapi.json): it is an operator tool, served only when CODEC_TOKEN or
 * CODEC_UI_ORIGINS is set. A request is accepted with `Authorization: Bearer <CODEC_TOKEN>`, or
 * from a browser on one of CODEC_UI_ORIGINS (the dev server's UI sends no token).
 */

/** A history page of payloads; Temporal refuses single payloads above 2 MB. */
export const CODEC_BODY_LIMIT = '8mb';

const Base64 = z.base64();
const CodecBody = z.object({
  payloads: z.array(z.object({ metadata: z.record(z.string(), Base64).optional(), data: Base64.optional() })),
});

const fromJson = (p: z.infer<typeof CodecBody>['payloads'][number]): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data ?? '', 'base64'),
});

const toJson = (p: Payload) => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

const listOf = (setting: string | undefined): string[] =>
  (setting ?? '')
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);

function sameSecret(presented: string, expected: string): boolean {
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function codecAuth(token: string | undefined, origins: string[]): RequestHandler {
  return (req, _res, next) => {
    const bearer = /^Bearer +(\S+)$/i.exec(req.header('authorization')?.trim() ?? '')?.[1];
    const origin = req.header('origin');
    if ((token && bearer && sameSecret(bearer, token)) || (origin && origins.includes(origin))) return next();
    throw new HttpProblem(
      401,
      'unauthorized',
      'Unauthorized',
      'the codec server needs "Authorization: Bearer <CODEC_TOKEN>" or a request from a Temporal UI origin in CODEC_UI_ORIGINS',
      {},
      { 'WWW-Authenticate': 'Bearer realm="codec"' },
    );
  };
}

export function codecRoutes(deps: Pick<ApiDeps, 'config'>): Router {
  const router = express.Router();
  const token = deps.config.CODEC_TOKEN;
  const origins = listOf(deps.config.CODEC_UI_ORIGINS);
  if (!token && origins.length === 0) return router;
  let codec: PayloadCodec | undefined;
  const codecOf = () => (codec ??= createPayloadCodec(loadPayloadKeyring(deps.config)));

  router.use(
    '/codec',
    // Preflights are answered here, before authentication: browsers send them without credentials.
    cors({ origin: origins, methods: ['POST'], allowedHeaders: ['content-type', 'authorization', 'x-namespace'], maxAge: 600 }),
    codecAuth(token, origins),
    express.json({ limit: CODEC_BODY_LIMIT }),
  );
  for (const operation of ['encode', 'decode'] as const)
    router.post(`/codec/${operation}`, async (req, res) => {
      const { payloads } = CodecBody.parse(req.body);
      try {
        const result = await codecOf()[operation](payloads.map(fromJson));
        res.json({ payloads: result.map(toJson) });
      } catch (err) {
        if (!(err instanceof PayloadDecryptionError)) throw err;
        throw new HttpProblem(400, 'payload-decryption', 'Payload cannot be decrypted', err.message, {
          errors: [{ field: 'payloads', message: err.message }],
        });
      }
    });
  return router;
}
