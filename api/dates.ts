/**
 * ISO string of a timestamptz column. db/types.ts types created_at/started_at as
 * Generated<ColumnType<Date,…>>, whose selected type is not `Date` although pg returns a Date.
 */
export const isoTimestamp = (value: unknown): string => (value as Date).toISOString();

/** ISO string of a nullable timestamp column; null stays null. */
export const isoOrNull = (value: Date | null | undefined): string | null => (value ? value.toISOString() : null);
