// The layering of Tributary, checked by `npm run lint:deps` (part of `npm test`).
// README.md, "Architecture", says the same in words: keep both in step.
//
//   core/  ←  jobs/  ←  api/        web/ talks to the API over HTTP only
//
// core/   enums, domain errors, config, paging, the data layer (entities, migrations,
//         repositories, SQL helpers). Imports nothing of ours but core/.
// jobs/   scheduler, run lifecycle, runners, sandbox, warehouse, job store. Imports core/.
// api/    GraphQL (api/graphql, api/resolvers), services, lineage, HTTP server. Imports both.
const GRAPHQL_PACKAGES = '(^|/)node_modules/(type-graphql|graphql|graphql-scalars|@apollo|@as-integrations|@escape\\.tech)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'Import cycles make load order matter and hide layering mistakes: none at all.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'core-imports-only-core',
      severity: 'error',
      comment: 'core/ is the base layer: it may not import jobs/, api/, web/, tests or benches.',
      from: { path: '^core/' },
      to: { path: '^(api|jobs|web|test|bench|scripts)/' },
    },
    {
      name: 'jobs-never-import-api',
      severity: 'error',
      comment: 'jobs/ runs in worker processes that have no GraphQL server: what both need lives in core/.',
      from: { path: '^jobs/' },
      to: { path: '^(api|web|test|bench)/' },
    },
    {
      name: 'no-graphql-below-api',
      severity: 'error',
      comment: 'core/ and jobs/ are transport-free: no GraphQL packages (a worker never loads them).',
      from: { path: '^(core|jobs)/' },
      to: { path: GRAPHQL_PACKAGES },
    },
    {
      name: 'graphql-only-at-the-edge',
      severity: 'error',
      comment:
        'Services and the lineage engine hold rules, not transport: only api/graphql, api/resolvers, api/server.ts and the CLI touch GraphQL.',
      from: { path: '^api/(services|lineage|demo)/' },
      to: { path: ['^api/(graphql|resolvers)/', GRAPHQL_PACKAGES] },
    },
    {
      name: 'worker-loads-no-graphql',
      severity: 'error',
      comment: 'Nothing reachable from the worker entry point may load a GraphQL package.',
      from: { path: '^jobs/worker\\.ts$' },
      to: { path: GRAPHQL_PACKAGES, reachable: true },
    },
    {
      name: 'web-over-http-only',
      severity: 'error',
      comment: 'The web UI talks to the API over HTTP only.',
      from: { path: '^web/' },
      to: { path: '^(api|jobs|core)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)dist/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'] },
  },
};
