// The import rules of the one-way data flow (docs/architecture.md): `npm run lint:imports`, run by `npm test`.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'fitting-is-pure',
      comment: 'The fitting code (path driver, λ solvers, kernels) takes arrays and returns arrays: no I/O, no stores, no threads.',
      severity: 'error',
      from: { path: '^src/fitting/' },
      to: {
        path: [
          '^src/(store|pool|report|serve|results|config|cli)',
          '^workers/',
          '^node:(fs|v8|child_process|worker_threads|net|http)$',
          '^(fs|v8|child_process|worker_threads)$',
          'better-sqlite3|piscina|node_modules/pg/',
        ],
      },
    },
    {
      name: 'domain-stands-alone',
      comment: 'The vocabulary every stage imports imports nothing of theirs.',
      severity: 'error',
      from: { path: '^src/domain\\.ts$' },
      to: { path: '^src/' },
    },
    {
      name: 'store-below-pool',
      comment: 'The store is used by the coordinator, not the other way round.',
      severity: 'error',
      from: { path: '^src/store/' },
      to: { path: '^src/(pool|report|serve|results|model|select|fitting|plan|cli)' },
    },
    {
      name: 'select-is-pure',
      comment: 'Cross-validation figures are computed from trials, not from storage rows.',
      severity: 'error',
      from: { path: '^src/select/' },
      to: { path: ['^src/(store|pool|report|serve|results|model|fitting)', 'better-sqlite3'] },
    },
    {
      name: 'readers-use-the-contract',
      comment: 'query, export, predict, compare, report and the live server read a store through its contract (store/contract.ts, store/open.ts) only.',
      severity: 'error',
      from: { path: '^src/(report|serve|results|model)/' },
      to: { path: ['^src/store/(sqlite|postgres)/', 'better-sqlite3', 'node_modules/pg/', '^src/(pool|fitting|plan)/'] },
    },
    {
      name: 'plan-is-pure',
      comment: 'Planning turns a config and a data shape into tasks, before any store or worker exists.',
      severity: 'error',
      from: { path: '^src/plan/' },
      to: { path: ['^src/(store|pool|report|serve|results|cli)', '^workers/'] },
    },
    {
      name: 'no-cycles',
      severity: 'error',
      from: { path: '^(src|workers)/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js'] },
  },
};
