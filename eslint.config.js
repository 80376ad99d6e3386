import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import svelte from 'eslint-plugin-svelte';
import layers from './tools/eslint/layers.js';

export default tseslint.config(
  { ignores: ['node_modules/', 'out/', 'dist/', 'coverage/', 'test-results/', 'playwright-report/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs.recommended,
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'] } },
    rules: {
      // Anything a peer sent is rendered as text (ARCHITECTURE.md §8).
      'svelte/no-at-html-tags': 'error',
      // svelte-check (TypeScript) resolves globals; ESLint's no-undef does not know the DOM types.
      'no-undef': 'off',
    },
  },
  {
    plugins: { parley: { rules: { layers } } },
    rules: {
      'parley/layers': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      eqeqeq: ['error', 'always'],
    },
  },
  {
    files: ['src/crypto/**/*.ts'],
    ignores: ['src/crypto/**/*.test.ts'],
    rules: {
      // No logging in the crypto library: nothing there may print key bytes or plaintext.
      'no-console': 'error',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', 'scripts/**', 'bench/**', 'tools/**'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
