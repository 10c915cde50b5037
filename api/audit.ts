import type { Request } from 'express';
import type { DbOrTx } from '../db/database';
import { insertAuditEntry, type AuditRecord } from '../db/repositories/audit';

export type AuditEntry = Omit<AuditRecord, 'ipAddress' | 'userAgent' | 'requestId'>;

/** Records who did what to which entity (never secrets) with the request's id, address and agent. */
export async function recordAudit(db: DbOrTx, req: Request, entry: AuditEntry): Promise<void> {
  await insertAuditEntry(db, {
    ...entry,
    ipAddress: req.socket.remoteAddress ?? null,
    userAgent: req.header('user-agent')?.slice(0, 500) ?? null,
    requestId: req.id ?? null,
  });
}
