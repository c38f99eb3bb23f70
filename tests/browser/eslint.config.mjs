// ESLint (flat config) for the dispatch console in web/ (run by scripts/lint-web) and for these browser tests.
// Recommended rules only: it catches undefined names, unused variables and the like, not style.
import js from '@eslint/js';
import globals from 'globals';

export default [
  { ignores: ['web/vendor/**', '**/node_modules/**'] },
  js.configs.recommended,
  {
    // The console: ES modules in the browser; MapLibre comes as a classic script (the global maplibregl).
    files: ['web/**/*.js'],
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: { ...globals.browser, maplibregl: 'readonly' },
    },
    rules: {
      'no-unused-vars': ['error', { args: 'none', caughtErrors: 'none' }],
    },
  },
  {
    // The tests: Node scripts that also hand functions to the page (page.evaluate), so both sets of globals.
    files: ['tests/browser/*.mjs'],
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: { ...globals.node, ...globals.browser },
    },
    rules: {
      'no-unused-vars': ['error', { args: 'none', caughtErrors: 'none' }],
    },
  },
];
