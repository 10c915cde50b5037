import type { DbOrTx } from '../database';

export interface AuditRecord {
  userId: string | null;
  action: string;
  entityType: string;
  entityId: string;
  /** Never secrets. */
  newValues?: Record<string, unknown>;
  ipAddress: string | null;
  userAgent: string | null;
  requestId: string | null;
}

export async function insertAuditEntry(db: DbOrTx, entry: AuditRecord): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({
      user_id: entry.userId,
      action: entry.action,
      entity_type: entry.entityType,
      entity_id: entry.entityId,
      new_values: entry.newValues === undefined ? null : JSON.stringify(entry.newValues),
      ip_address: entry.ipAddress,
      user_agent: entry.userAgent,
      request_id: entry.requestId,
    })
    .execute();
}
