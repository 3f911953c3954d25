/**
 * The layers of Kaizen Registration and the direction of their arrows, checked by `npm run lint`.
 *
 * - app (src/app/): composition only: main, start, wiring (services), schedules, the CLI entry.
 *   It builds every capability's dependencies once. Nothing imports it.
 * - surfaces: Slack listeners and middleware (src/slack/), the password page, /forgot and
 *   PUT /token (src/web/), the command core shared by Slack and the CLI (commands/), and the
 *   operator tools (src/ops/: doctor, init, manifest, config). They turn input into domain calls.
 * - views (views/): pure functions from data to Block Kit, HTML, email and terminal text. From the
 *   rest of the code they import types only, and the domain's vocabulary: the few leaf modules
 *   that hold its names and codes (an applicant's name, the quota keys, the page's paths) and
 *   import nothing themselves.
 * - domain (src/domain/<capability>/): applications, intake, provision, setpass, quotas, reminders,
 *   audit, accounts. What the product does; outcomes as codes. Never imports a surface, the app
 *   layer, views at run time, or @slack/*.
 * - adapters (src/keystone/, src/sheets/, src/mail/): the outside services' clients. They import
 *   the platform, and from the domain only the types of the ports they implement.
 * - platform (src/platform/): config, log, errors, keys, Redis, crypto, HTTP server and router,
 *   metrics, the scheduler. It imports nothing above it.
 * - dev (src/dev/): the stand-ins for Slack, Google, mail and the quota services, and the demo.
 *   Tests and `npm run demo` use them; the bot itself never imports them (and the build leaves
 *   them out).
 */
const DOMAIN = '^src/domain/';
const ADAPTERS = '^src/(keystone|sheets|mail)/';
const PLATFORM = '^src/platform/';
const SURFACES = '^(src/(slack|web|ops)/|commands/)';
const APP = '^src/app/';
const VOCABULARY = '^src/domain/(intake/applicant|quotas/types|setpass/paths)[.]ts$';

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'Import cycles hide which module is the base.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'nothing-imports-app',
      severity: 'error',
      comment: 'src/app/ is the composition root: it imports, nothing imports it.',
      from: { pathNot: APP },
      to: { path: APP },
    },
    {
      name: 'domain-imports-no-surface',
      severity: 'error',
      comment: 'The domain is called by surfaces; it never calls them.',
      from: { path: DOMAIN },
      to: { path: [SURFACES, APP] },
    },
    {
      name: 'domain-imports-no-slack',
      severity: 'error',
      comment: 'Slack is a surface: the domain knows nothing of @slack/*.',
      from: { path: DOMAIN },
      to: { path: '@slack/' },
    },
    {
      name: 'domain-has-no-words',
      severity: 'error',
      comment: 'The domain records outcomes as codes; views/ turns them into words (types only).',
      from: { path: DOMAIN },
      to: { path: '^views/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'views-import-types-only',
      severity: 'error',
      comment: 'Views are pure: from the rest of the code they take types only, and the vocabulary.',
      from: { path: '^views/' },
      to: { path: '^(src|commands)/', pathNot: VOCABULARY, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'vocabulary-is-a-leaf',
      severity: 'error',
      comment: 'What views may take at run time must bring nothing else with it.',
      from: { path: VOCABULARY },
      to: { dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'adapters-import-no-domain',
      severity: 'error',
      comment:
        'Adapters talk to outside services; from the domain they take only the types of the ports they implement.',
      from: { path: ADAPTERS },
      to: { path: DOMAIN, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'adapters-import-no-surface',
      severity: 'error',
      comment: 'Adapters never see a surface, the app layer or views.',
      from: { path: ADAPTERS },
      to: { path: [SURFACES, APP, '^views/'] },
    },
    {
      name: 'the-bot-imports-no-stand-in',
      severity: 'error',
      comment: 'src/dev/ holds the stand-ins and the demo: tests and the demo use them, the bot never does.',
      from: { pathNot: '^src/dev/' },
      to: { path: '^src/dev/' },
    },
    {
      name: 'platform-imports-nothing-above',
      severity: 'error',
      comment: 'The platform is the base: config, log, Redis, HTTP, metrics.',
      from: { path: PLATFORM },
      to: { path: [DOMAIN, ADAPTERS, SURFACES, APP, '^views/'] },
    },
    {
      name: 'commands-import-no-slack-surface',
      severity: 'error',
      comment: 'The command core serves Slack and the CLI alike.',
      from: { path: '^commands/' },
      to: { path: ['^src/(slack|web)/', '@slack/'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
      extensions: ['.ts', '.js'],
    },
    exclude: { path: '(^|/)node_modules/' },
  },
};
