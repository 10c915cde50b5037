// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Who may import whom (../shared/ARCHITECTURE.md). A specifier names one of our top-level folders
 * when it climbs out to it (`../db/x`, `../../api`), so packages such as `@temporalio/worker` never
 * match; `except` lists the paths inside that folder which stay allowed.
 */
function banned(folders, message, { except, allowTypeImports = false } = {}) {
  const exception = except ? `(?!/(${except})$)` : '';
  return { regex: `^(\\.\\./)+(${folders.join('|')})${exception}(/|$)`, caseSensitive: true, message, allowTypeImports };
}

/** What the API, the composition root and other starters may see of workflows/. */
const WORKFLOW_CONTRACTS = '[\\w-]+/contract|common/(progress|run-definition|provider-job-signal)';

const importRules = {
  schemas: [
    banned(
      ['workflows', 'activities', 'providers', 'db', 'api', 'platform', 'worker', 'lib'],
      'schemas/ import nothing of ours but schemas/',
    ),
  ],
  db: [banned(['workflows', 'activities', 'providers', 'api', 'platform', 'worker', 'lib'], 'db/ imports only schemas/')],
  lib: [
    banned(
      ['workflows', 'activities', 'providers', 'db', 'api', 'platform', 'worker'],
      'lib/ is shared infrastructure: it imports only lib/ and schemas/',
    ),
  ],
  providers: [banned(['workflows', 'activities', 'api', 'platform', 'worker'], 'providers/ import only db/, schemas/ and lib/')],
  activities: [
    banned(['api', 'platform', 'worker'], 'activities never import api/ or the composition root'),
    banned(['workflows'], 'activities import workflow contracts with `import type` only', { allowTypeImports: true }),
  ],
  api: [
    banned(
      ['activities', 'platform', 'worker'],
      'api/ never imports activities/ or the composition root: it starts work through workflow contracts',
    ),
    banned(['workflows'], 'api/ imports only workflow contracts (<process>/contract, common/progress, common/run-definition)', {
      except: WORKFLOW_CONTRACTS,
    }),
  ],
  worker: [banned(['api', 'platform'], 'worker factories never import api/ or the composition root')],
  platform: [],
  workflows: [
    {
      group: ['node:*', 'fs', 'path', 'os', 'crypto', 'child_process', 'http', 'https', 'net', 'stream'],
      message: 'workflow code is deterministic: no Node built-ins',
    },
    {
      group: ['pg', 'kysely', 'stripe', 'googleapis', 'cloudinary', 'fluent-ffmpeg', '@anthropic-ai/sdk', 'express', 'pino'],
      message: 'workflow code does no I/O: call an activity',
    },
    banned(['providers', 'db', 'api', 'platform', 'worker', 'lib'], 'workflows import schemas/, contracts and activity types only'),
    banned(['activities'], 'import activities with `import type` only', { allowTypeImports: true }),
  ],
  // Dev and test emulators, not production code; the Stripe sandbox sells the prices our reference data (db/seed) writes.
  sandbox: [
    banned(
      ['workflows', 'activities', 'providers', 'api', 'platform', 'worker', 'test', 'bench', 'scripts'],
      'sandbox/ imports only lib/, schemas/ and reference data (db/seed)',
    ),
    banned(['db'], 'sandbox/ imports only lib/, schemas/ and reference data (db/seed)', { except: 'seed/[\\w-]+' }),
  ],
};
const notProduction = banned(['sandbox', 'test', 'bench', 'scripts'], 'production code never imports sandbox/, test/, bench/ or scripts/');
const importBoundaries = Object.entries(importRules).map(([folder, patterns]) => ({
  files: [`${folder}/**/*.ts`],
  rules: {
    '@typescript-eslint/no-restricted-imports': ['error', { patterns: folder === 'sandbox' ? patterns : [...patterns, notProduction] }],
  },
}));

export default tseslint.config(
  { ignores: ['node_modules/', 'data/', '.tools/', 'dist/', 'coverage/', 'scratch/', 'bench/results/', '**/*.mjs', '**/*.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-require-imports': 'off',
      '@typescript-eslint/require-await': 'off',
    },
  },
  ...importBoundaries,
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'use sleep() from @temporalio/workflow' },
        { name: 'setInterval', message: 'use sleep() in a loop' },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Math', property: 'random', message: 'Math.random is replaced in workflows; use uuid4() for ids' },
      ],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
);
