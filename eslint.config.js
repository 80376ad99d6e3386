import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import layers from './tools/eslint/layers.js';

export default tseslint.config(
  { ignores: ['node_modules/', 'out/', 'dist/', 'coverage/', 'test-results/', 'playwright-report/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
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
