/**
 * The composition root: settings → clients → HTTP routes + Slack app + schedules. `startKaizen`
 * is what `npm start` runs and what component tests start on port 0.
 */

import type { RequestListener } from 'node:http';
import { selfServiceReset } from '../../commands/reset.js';
import { adminChannelProblemText } from '../../views/protection.js';
import { protectionPolicy } from '../domain/accounts/protection.js';
import type { ApplicationRecord } from '../domain/applications/store.js';
import type { SheetIntake } from '../domain/intake/poll.js';
import { ApprovalResumer } from '../domain/provision/resumer.js';
import { auditSetpassEvent, SetpassEventConsumer } from '../domain/setpass/events.js';
import { type Config, capabilities } from '../platform/config/config.js';
import { KaizenError } from '../platform/errors.js';
import { type HealthCheck, healthRoutes, metricsRoutes } from '../platform/http/health.js';
import type { Route } from '../platform/http/router.js';
import { createHttpServer, type HttpServer } from '../platform/http/server.js';
import type { JobScheduler } from '../platform/jobs/scheduler.js';
import type { Logger } from '../platform/log.js';
import { pingRedis } from '../platform/redis.js';
import { inRequest, newRequestId, withRequestId } from '../platform/request-context.js';
import { VERSION } from '../platform/version.js';
import { AdminDirectory } from '../slack/admins.js';
import { createSlackApp, type SlackApp, type SlackAppOptions } from '../slack/app.js';
import { refreshApplicantCard } from '../slack/applicant-cards.js';
import { slackJobNotices } from '../slack/job-notices.js';
import { countRefusals, observedFetch } from '../slack/observe.js';
import { registerListeners } from '../slack/register.js';
import { SeenRequests } from '../slack/replay.js';
import { setpassNoticePoster } from '../slack/setpass-notices.js';
import { setpassRoutes, setpassSite } from '../web/routes.js';
import { type BackgroundLoop, startLoops, stopLoops } from './background.js';
import { cliSurface } from './cli-commands.js';
import { sharedStateSources } from './metric-sources.js';
import { startSchedules } from './schedules.js';
import { closeServices, createServices, type Services } from './services.js';
import { commandDeps } from './wiring/commands.js';
import { sheetIntakeFor } from './wiring/sheet-intake.js';
import { cardDepsFrom, slackDeps } from './wiring/slack.js';

export interface StartOptions {
  log: Logger;
  slack?: SlackAppOptions;
  /** How long shutdown waits for in-flight work. */
  drainMs?: number;
}

export interface RunningKaizen {
  port: number;
  /** The /metrics-only listener's port, when METRICS_PORT is set. */
  metricsPort: number | undefined;
  url: string;
  services: Services;
  /** The sheet intake with its Slack side; undefined without Slack, Sheets or an admin channel. */
  intake: SheetIntake | undefined;
  slack: SlackApp | undefined;
  http: HttpServer;
  stop(): Promise<void>;
}

export async function startKaizen(config: Config, options: StartOptions): Promise<RunningKaizen> {
  const { log } = options;
  const enabled = new Map(capabilities(config).map((c) => [c.name, c]));
  for (const capability of enabled.values()) {
    if (!capability.enabled) {
      log.info(`${capability.name}: off (set ${capability.missing.join(', ')} to turn it on)`);
    }
  }

  const services = createServices(config, log);
  const { redis, metrics, inflight } = services;

  const checks: HealthCheck[] = [{ name: 'redis', check: () => pingRedis(redis) }];
  const { keystone } = services;
  // Keystone is probed only when a part that uses it is on, as the start-up lines above say.
  const usesKeystone = enabled.get('keystone')?.enabled || enabled.get('setpass')?.enabled;
  if (keystone && usesKeystone) checks.push({ name: 'keystone', check: () => keystone.ping() });
  const routes: Route[] = [...healthRoutes(checks, VERSION)];
  // The setpass role faces the internet: its /metrics is only on METRICS_PORT (see below).
  if (config.role !== 'setpass') routes.push(...metricsRoutes(metrics));
  const botSide = config.role !== 'setpass';
  metrics.readFrom(
    sharedStateSources({
      redis,
      // The setpass role's Redis user may read only the setpass keys.
      applications: botSide ? services.applications : undefined,
      mail: botSide && services.mail !== undefined,
      sheets: botSide && services.sheets !== undefined,
      checks,
    }),
  );
  // The password page faces the internet: the bot role leaves it to a separate setpass host.
  if (config.role !== 'bot' && services.setpass) {
    routes.push(
      ...setpassRoutes({
        setpass: services.setpass,
        site: setpassSite(config),
        trustedProxies: config.http.trustedProxies,
        audit: services.audit,
        log,
        metrics,
        protection: protectionPolicy(config),
      }),
    );
  }

  let slack: SlackApp | undefined;
  let intake: SheetIntake | undefined;
  /** Redraws an applicant card from its record; undefined without Slack. */
  let redrawCard: ((record: ApplicationRecord) => Promise<void>) | undefined;
  if (config.role !== 'setpass' && enabled.get('slack')?.enabled) {
    slack = await createSlackApp(config, log, new SeenRequests(redis, log, () => metrics.refused('replay')), {
      ...options.slack,
      fetch: observedFetch((method, outcome, seconds) => metrics.slackCall(method, outcome, seconds)),
    });
    // Each Slack payload (HTTP or Socket Mode) is a request: its log lines and the work it starts share an id.
    slack.app.use(async ({ next }) => {
      await inRequest(next);
    });
    const admins = new AdminDirectory(slack.app.client, config.slack.admins, config.slack.adminChannel);
    await refuseUnsafeAdminChannel(admins, config, log, services);
    intake = sheetIntakeFor(services, slack.app.client);
    const cards = cardDepsFrom(slack.app.client, services);
    registerListeners(slack.app, slackDeps(slack.app.client, services, admins, intake, cards));
    // Work no click started (a resumed approval, a welcome email delivered later) redraws the card too.
    redrawCard = cards && ((record) => cards.redraws?.redraw(record) ?? refreshApplicantCard(cards, record));
    // A welcome email delivered or given up after the approval changes the card too.
    if (redrawCard) services.recordChanges.subscribe(redrawCard);
    slack.app.error(async (error) => {
      log.error({ err: error }, 'slack listener failed');
    });
  }

  const slackListener =
    slack?.httpListener &&
    services.slackRequests.counted(
      countRefusals(inNewRequest(slack.httpListener), (reason) => metrics.refused(reason)),
    );
  const http = createHttpServer({
    routes,
    log,
    metrics,
    trustedProxies: config.http.trustedProxies,
    tls: config.http.tls,
    slackListener,
  });
  const port = await http.listen(config.http.port, config.http.host);
  const metricsHttp = config.http.metrics && createHttpServer({ routes: metricsRoutes(metrics), log });
  const metricsPort =
    config.http.metrics && (await metricsHttp?.listen(config.http.metrics.port, config.http.metrics.host));
  await slack?.start();
  // Lockouts and password changes reported by the page (here or on a setpass host). Slack first: a
  // failed post leaves the event to be retried whole, without a second audit line.
  const notifyAdmins =
    slack && config.slack.adminChannel
      ? setpassNoticePoster(slack.app.client, config.slack.adminChannel)
      : undefined;
  // A reset asked for on /forgot runs here, where the admin credentials are, as `/kaizen reset` does.
  const forgotDeps = commandDeps(services, cliSurface(slack?.app.client, config, log), { sheet: intake });
  const loops: BackgroundLoop[] = [];
  if (botSide) {
    // Mail queued before a restart goes out now; approvals whose run died are picked up again.
    const { mail, provision } = services;
    if (mail)
      loops.push({ name: 'outbox', start: () => mail.start(), stop: () => mail.close(), afterDrain: true });
    if (provision) {
      const resumer = new ApprovalResumer(provision, {
        progress: redrawCard,
        track: (name, work) => inflight.run(name, work),
      });
      loops.push({ name: 'resumer', start: () => resumer.start(), stop: () => resumer.stop() });
    }
    const setpassEvents = new SetpassEventConsumer(
      redis,
      async (event) => {
        if (event.type === 'forgot_requested') {
          // The reset audits itself and tells the admins what it did (nothing, for a refusal).
          await auditSetpassEvent(services.audit, event);
          await selfServiceReset(forgotDeps, event.userId, {
            purpose: `forgot:${event.userId}:${event.at.getTime()}`,
          });
          return;
        }
        await notifyAdmins?.(event);
        await auditSetpassEvent(services.audit, event);
      },
      log.child({ component: 'setpass-events' }),
    );
    loops.push({
      name: 'setpass events',
      start: () => setpassEvents.start(),
      stop: () => setpassEvents.stop(),
    });
    // Last, so a start-up that fails earlier leaves no timers behind.
    let scheduler: JobScheduler | undefined;
    loops.push({
      name: 'scheduler',
      start: () => {
        scheduler = startSchedules(services, {
          notices: slack ? slackJobNotices(slack.app.client, config.slack.adminChannel) : undefined,
          links: services.setpass,
          outbox: services.mail,
          pollSheet: intake?.poll,
        });
      },
      // No new ticks; a run already going is in-flight work and is waited for in the drain.
      stop: () => scheduler?.stop(),
    });
  }
  startLoops(loops);
  const scheme = config.http.tls ? 'https' : 'http';
  log.info(
    { port, metricsPort, role: config.role, version: VERSION, slack: slack?.mode ?? 'off' },
    'kaizen is listening',
  );

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      log.info('shutting down: no new work; finishing what is in flight');
      const closing = Promise.all([http.close(), metricsHttp?.close()]);
      await stopLoops(loops, 'before_drain');
      const drained = await inflight.drain(options.drainMs ?? 20_000);
      if (!drained) log.warn({ running: inflight.size }, 'shutdown timed out with work still running');
      await stopLoops(loops, 'after_drain');
      await slack?.stop();
      await closing;
      await redis.quit().catch(() => redis.disconnect());
    })();
    return stopping;
  };

  return { port, metricsPort, url: `${scheme}://127.0.0.1:${port}`, services, intake, slack, http, stop };
}

/** A listener whose every request (and the work it starts) runs under a request id of its own. */
function inNewRequest(listener: RequestListener): RequestListener {
  return (req, res) => withRequestId(newRequestId(), () => listener(req, res));
}

/**
 * Without SLACK_ADMINS the admin channel's members are the admins, so a public or shared channel
 * would make anyone who joins it an admin: the bot refuses to start. A channel Slack does not
 * describe right now only gets a warning; every admin check asks again and refuses until it does.
 */
async function refuseUnsafeAdminChannel(
  admins: AdminDirectory,
  config: Config,
  log: Logger,
  services: Services,
): Promise<void> {
  const verdict = await admins.checkChannel();
  if (verdict.ok) return;
  const text = adminChannelProblemText(config.slack.adminChannel ?? '', verdict.problem, verdict.error);
  if (verdict.problem === 'unreadable') {
    log.warn(`${text} Until then nobody is an admin.`);
    return;
  }
  await closeServices(services, 0);
  throw new KaizenError('config', text, { service: 'slack' });
}
