import type { Request } from 'express';
import type { DbOrTx } from '../db/database';

export interface AuditEntry {
  userId: string | null;
  action: string;
  entityType: string;
  entityId: string;
  newValues?: Record<string, unknown>;
}

/** Records who did what to which entity (never secrets) with the request's id, address and agent. */
export async function recordAudit(db: DbOrTx, req: Request, entry: AuditEntry): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({
      user_id: entry.userId,
      action: entry.action,
      entity_type: entry.entityType,
      entity_id: entry.entityId,
      new_values: entry.newValues === undefined ? null : JSON.stringify(entry.newValues),
      ip_address: req.socket.remoteAddress ?? null,
      user_agent: req.header('user-agent')?.slice(0, 500) ?? null,
      request_id: req.id ?? null,
    })
    .execute();
}
