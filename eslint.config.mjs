// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const workflowForbidden = [
  { group: ['node:*', 'fs', 'path', 'os', 'crypto', 'child_process', 'http', 'https', 'net', 'stream'], message: 'workflow code is deterministic: no Node built-ins' },
  { group: ['pg', 'kysely', 'stripe', 'googleapis', 'cloudinary', 'fluent-ffmpeg', '@anthropic-ai/sdk', 'express', 'pino'], message: 'workflow code does no I/O: call an activity' },
  { group: ['**/db/**', '**/db', '**/api/**', '**/worker/**', '**/sandbox/**'], message: 'workflows import schemas/ and activity types only' },
  { group: ['**/activities/**', '**/activities'], message: 'import activities with `import type` only', allowTypeImports: true },
];

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
  {
    files: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { patterns: workflowForbidden }],
      'no-restricted-globals': ['error', { name: 'setTimeout', message: 'use sleep() from @temporalio/workflow' }, { name: 'setInterval', message: 'use sleep() in a loop' }],
      'no-restricted-properties': ['error', { object: 'Math', property: 'random', message: 'Math.random is replaced in workflows; use uuid4() for ids' }],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
);
