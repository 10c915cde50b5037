import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import ts from 'typescript';
import { createTestDatabase, type TestDatabase } from '../helpers/database';

interface ColumnShape {
  nullable: boolean;
  /** An insert may omit it: the database supplies a default or generates it. */
  defaulted: boolean;
}
type Schema = Record<string, Record<string, ColumnShape>>;

const TYPES_FILE = join(__dirname, '../../db/types.ts');

/** kysely's wrappers whose insert type is optional (`Generated`) or forbidden (`GeneratedAlways`). */
const KYSELY_DEFAULTED = new Set(['Generated', 'GeneratedAlways']);

/**
 * Reads db/types.ts syntactically (fast: no kysely type checking): each Database table, each
 * column, whether its type has a top-level `| null`, and whether an insert may omit it — a
 * Generated<>/GeneratedAlways<> wrapper, or a local alias `ColumnType<S, I, U>` whose I admits
 * `undefined` or is `never`.
 */
function declaredSchema(): Schema {
  const source = ts.createSourceFile(TYPES_FILE, readFileSync(TYPES_FILE, 'utf8'), ts.ScriptTarget.ES2022, true);
  const interfaces = new Map<string, ts.InterfaceDeclaration>();
  const defaultedAliases = new Set<string>();
  for (const statement of source.statements) {
    if (ts.isInterfaceDeclaration(statement)) interfaces.set(statement.name.text, statement);
    if (
      ts.isTypeAliasDeclaration(statement) &&
      ts.isTypeReferenceNode(statement.type) &&
      statement.type.typeName.getText(source) === 'ColumnType'
    ) {
      const insert = statement.type.typeArguments?.[1];
      const parts = insert && ts.isUnionTypeNode(insert) ? insert.types : insert ? [insert] : [];
      if (parts.some((t) => t.kind === ts.SyntaxKind.UndefinedKeyword || t.kind === ts.SyntaxKind.NeverKeyword))
        defaultedAliases.add(statement.name.text);
    }
  }

  const schema: Schema = {};
  for (const table of interfaces.get('Database')!.members) {
    if (!ts.isPropertySignature(table) || !table.type || !ts.isTypeReferenceNode(table.type))
      throw new Error(`unexpected Database member ${table.getText(source)}`);
    const columns: Record<string, ColumnShape> = {};
    for (const column of interfaces.get(table.type.typeName.getText(source))!.members) {
      if (!ts.isPropertySignature(column) || !column.type) continue;
      const members = ts.isUnionTypeNode(column.type) ? [...column.type.types] : [column.type];
      const nullable = members.some((t) => ts.isLiteralTypeNode(t) && t.literal.kind === ts.SyntaxKind.NullKeyword);
      const wrapper = members.find(ts.isTypeReferenceNode)?.typeName.getText(source);
      const defaulted = !nullable && wrapper !== undefined && (KYSELY_DEFAULTED.has(wrapper) || defaultedAliases.has(wrapper));
      columns[column.name.getText(source)] = { nullable, defaulted };
    }
    schema[table.name.getText(source)] = columns;
  }
  return schema;
}

async function liveSchema(database: TestDatabase): Promise<Schema> {
  const { rows } = await sql<{
    table_name: string;
    column_name: string;
    is_nullable: 'YES' | 'NO';
    column_default: string | null;
    is_generated: string;
  }>`
    select table_name, column_name, is_nullable, column_default, is_generated
    from information_schema.columns
    where table_schema = 'public' and table_name not like 'kysely_migration%'`.execute(database.db);
  const schema: Schema = {};
  for (const r of rows) {
    const nullable = r.is_nullable === 'YES';
    (schema[r.table_name] ??= {})[r.column_name] = {
      nullable,
      defaulted: !nullable && (r.column_default !== null || r.is_generated === 'ALWAYS'),
    };
  }
  return schema;
}

describe('db/types.ts matches the migrated schema', () => {
  let database: TestDatabase;
  let declared: Schema;
  let live: Schema;
  beforeAll(async () => {
    database = await createTestDatabase();
    live = await liveSchema(database);
    declared = declaredSchema();
  });
  afterAll(() => database?.drop());

  it('declares exactly the tables that exist', () => {
    expect(Object.keys(declared).sort()).toEqual(Object.keys(live).sort());
  });

  it('declares exactly the columns of each table', () => {
    for (const table of Object.keys(live)) {
      expect({ table, columns: Object.keys(declared[table] ?? {}).sort() }).toEqual({ table, columns: Object.keys(live[table]!).sort() });
    }
  });

  it('types a column nullable exactly when it is, and optional on insert exactly when the database fills it', () => {
    const mismatches: string[] = [];
    for (const [table, columns] of Object.entries(live)) {
      for (const [column, shape] of Object.entries(columns)) {
        const typed = declared[table]?.[column];
        if (typed && (typed.nullable !== shape.nullable || typed.defaulted !== shape.defaulted)) {
          mismatches.push(`${table}.${column}: database ${JSON.stringify(shape)}, db/types.ts ${JSON.stringify(typed)}`);
        }
      }
    }
    expect(mismatches).toEqual([]);
  });
});
