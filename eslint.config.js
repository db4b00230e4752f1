// ESLint keeps the architecture mechanical: pure core modules may not reach I/O, timers or the
// wall clock, and the keepalived-config package imports nothing else from src/.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const ioModules = [
  'node:net',
  'node:dgram',
  'node:child_process',
  'node:fs',
  'node:fs/promises',
  'node:tls',
  'node:http',
  'undici',
  'execa',
  'pino',
  'prom-client',
  'node-cron',
];

/** Files that hold pure logic: no sockets, processes, files, timers or Date. */
const coreFiles = [
  'src/keepalived-config/**/*.ts',
  'src/config/**/*.ts',
  'src/health/fsm.ts',
  'src/health/plan.ts',
  'src/health/quorum.ts',
  'src/health/slow-start.ts',
  'src/health/due-queue.ts',
  'src/health/deadlines.ts',
  'src/health/checkers/http-response.ts',
  'src/vrrp/fsm.ts',
  'src/vrrp/wire/**/*.ts',
  'src/admin/state.ts',
  'src/admin/codec.ts',
  'src/admin/resolve.ts',
  'src/admin/zone.ts',
  'src/admin/replication.ts',
  'src/control/routes.ts',
  'src/control/errors.ts',
  'src/control/types.ts',
  'src/control/constants.ts',
  'src/vrrp/sync-group.ts',
  'src/vrrp/tracking.ts',
  'src/ipvs/table.ts',
  'src/ipvs/desired.ts',
  'src/ipvs/diff.ts',
  'src/ipvs/ipvsadm-text.ts',
  'src/ipvs/ipvsadm-listing.ts',
  'src/ipvs/address.ts',
  'src/ipvs/op.ts',
  'src/ipvs/rules.ts',
  'src/ipvs/apply.ts',
  'src/ipvs/guard.ts',
  'src/ipvs/verify.ts',
  'src/vrrp/advert-socket.ts',
  'src/observe/event-ring.ts',
  'src/control/event-stream-policy.ts',
  'src/control/event-lines.ts',
  'src/hooks/fifo-line.ts',
  'src/hooks/hook-queue.ts',
  'src/hooks/notify-plan.ts',
  'src/hooks/sync-group-state.ts',
  'src/webhooks/backoff.ts',
  'src/webhooks/bounded-queue.ts',
  'src/webhooks/flap-detector.ts',
  'src/webhooks/alert-batch.ts',
  'src/webhooks/delivery.ts',
  'src/webhooks/signature.ts',
];
/** Shell files inside otherwise-pure folders (they implement a port). */
const coreExceptions = ['src/keepalived-config/node-source.ts', 'src/config/node-host.ts'];

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'bench/out/'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unnecessary-condition': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // Plain-JavaScript scripts (bench/, scripts/) run on Node: give them its globals.
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
        performance: 'readonly',
        AbortController: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
      },
    },
  },
  {
    files: coreFiles,
    ignores: coreExceptions,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ioModules.map((name) => ({
            name,
            message: 'core modules do no I/O: take a port',
          })),
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'time is an argument in core modules' },
        { name: 'setInterval', message: 'time is an argument in core modules' },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'time is an argument in core modules' },
        { object: 'process', property: 'hrtime', message: 'time is an argument in core modules' },
      ],
    },
  },
  {
    files: ['src/keepalived-config/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [{ group: ['../*', '!./*'], message: 'keepalived-config is self-contained' }],
          paths: ioModules
            .filter((m) => !m.startsWith('node:fs'))
            .map((name) => ({ name, message: 'keepalived-config does no network or process I/O' })),
        },
      ],
    },
  },
);
