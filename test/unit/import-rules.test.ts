import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const RULE = '@typescript-eslint/no-restricted-imports';

/**
 * Lints snippets as files at the given paths with the project's eslint.config.mjs, reporting only
 * the import rule (it needs no type information, so no TypeScript program is built). A child
 * process, because ESLint loads its config with import(), which jest's module sandbox refuses.
 */
const LINT_SNIPPETS = `
import { ESLint } from 'eslint';
const eslint = new ESLint({
  overrideConfig: { languageOptions: { parserOptions: { projectService: false } } },
  ruleFilter: ({ ruleId }) => ruleId === '${RULE}',
});
const results = [];
for (const { filePath, code } of JSON.parse(process.argv[1])) {
  const [result] = await eslint.lintText(code, { filePath });
  results.push(result.messages.map(({ ruleId, message }) => ({ ruleId, message })));
}
process.stdout.write(JSON.stringify(results));
`;

type Snippet = [file: string, clause: string, source: string];
type LintMessage = { ruleId: string | null; message: string };

const FORBIDDEN: Snippet[] = [
  ['api/routes/fixture.ts', '{ createActivities }', '../../activities'],
  ['api/fixture.ts', 'type { ActivityDeps }', '../activities/deps'],
  ['api/routes/fixture.ts', '{ smokeWorkflow }', '../../workflows/smoke/workflow'],
  ['api/fixture.ts', '{ startPlatform }', '../platform/platform'],
  ['workflows/smoke/fixture.ts', 'pg', 'pg'],
  ['workflows/smoke/fixture.ts', '{ createSmokeActivities }', '../../activities/smoke'],
  ['workflows/common/fixture.ts', '{ createDb }', '../../db/database'],
  ['workflows/fixture.ts', '{ loadConfig }', '../lib/config'],
  ['db/repositories/fixture.ts', '{ createApp }', '../../api/app'],
  ['db/seed/fixture.ts', 'type { Config }', '../../lib/config'],
  ['schemas/fixture.ts', 'type { Db }', '../db/database'],
  ['activities/fixture.ts', '{ createApp }', '../api/app'],
  ['activities/clips/fixture.ts', '{ postWorkflowId }', '../../workflows/posts/contract'],
  ['providers/youtube/fixture.ts', '{ createActivities }', '../../activities'],
  ['lib/runtime/fixture.ts', '{ createDb }', '../../db/database'],
  ['worker/fixture.ts', '{ createApp }', '../api/app'],
  ['platform/fixture.ts', '{ startSandboxes }', '../sandbox'],
  ['api/routes/fixture.ts', '{ startStripeSandbox }', '../../sandbox/stripe'],
  ['lib/fixture.ts', '{ createTestDatabase }', '../test/helpers/database'],
  ['sandbox/fixture.ts', '{ createProviders }', '../providers'],
];

const ALLOWED: Snippet[] = [
  ['api/routes/fixture.ts', '{ smokeWorkflowId }', '../../workflows/smoke/contract'],
  ['api/fixture.ts', '{ progressQuery }', '../workflows/common/progress'],
  ['api/routes/fixture.ts', '{ createDb }', '../../db/database'],
  ['api/routes/fixture.ts', '{ createProviders }', '../../providers'],
  ['api/fixture.ts', '{ Worker }', '@temporalio/worker'],
  ['workflows/smoke/fixture.ts', 'type { createSmokeActivities }', '../../activities/smoke'],
  ['workflows/smoke/fixture.ts', '{ SmokeInputSchema }', '../../schemas/smoke'],
  ['activities/fixture.ts', 'type { PostWorkflowState }', '../workflows/posts/contract'],
  ['activities/fixture.ts', '{ createDb }', '../db/database'],
  ['providers/fixture.ts', '{ createDb }', '../db/database'],
  ['db/repositories/fixture.ts', '{ PLAN_SLUGS }', '../../schemas/billing'],
  ['worker/fixture.ts', '{ createActivities }', '../activities'],
  ['platform/fixture.ts', '{ createApp }', '../api/app'],
  ['sandbox/fixture.ts', '{ PLAN_SEEDS }', '../db/seed/plans'],
  ['scripts/fixture.ts', '{ startSandboxes }', '../sandbox'],
  ['test/fixture.ts', '{ startSandboxes }', '../sandbox'],
];

let results: LintMessage[][];

beforeAll(() => {
  const snippets = [...FORBIDDEN, ...ALLOWED].map(([file, clause, source]) => ({
    filePath: join(ROOT, file),
    code: `import ${clause} from '${source}';\n`,
  }));
  const output = execFileSync(process.execPath, ['--input-type=module', '-e', LINT_SNIPPETS, JSON.stringify(snippets)], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  results = JSON.parse(output) as LintMessage[][];
}, 120_000);

describe('lint enforces the import rules of ARCHITECTURE.md', () => {
  it.each(FORBIDDEN.map((snippet, index) => [...snippet, index] as const))(
    '%s may not import %s from %s',
    (_file, _clause, source, index) => {
      expect(results[index]).toEqual([{ ruleId: RULE, message: expect.stringContaining(`'${source}' import is restricted`) as string }]);
    },
  );

  it.each(ALLOWED.map((snippet, index) => [...snippet, FORBIDDEN.length + index] as const))(
    '%s may import %s from %s',
    (_file, _clause, _source, index) => {
      expect(results[index]).toEqual([]);
    },
  );
});
