/**
 * The composition root: settings → clients → HTTP routes + Slack app + schedules. `startKaizen`
 * is what `npm start` runs and what component tests start on port 0.
 */

import type { RequestListener } from 'node:http';
import { commandDeps } from '../commands/deps.js';
import { selfServiceReset } from '../commands/reset.js';
import { adminChannelProblemText } from '../views/protection.js';
import { cliSurface } from './cli-commands.js';
import { type Config, capabilities } from './config.js';
import { KaizenError } from './errors.js';
import { type HealthCheck, healthRoutes, metricsRoutes } from './http/health.js';
import type { Route } from './http/router.js';
import { createHttpServer, type HttpServer } from './http/server.js';
import type { JobScheduler } from './jobs/scheduler.js';
import { protectionPolicy } from './keystone/index.js';
import type { Logger } from './log.js';
import { sharedStateSources } from './metric-sources.js';
import { ApprovalResumer } from './provision/resumer.js';
import { pingRedis } from './redis.js';
import { inRequest, newRequestId, withRequestId } from './request-context.js';
import { startSchedules } from './schedules.js';
import { closeServices, createServices, type Services } from './services.js';
import { auditSetpassEvent, SetpassEventConsumer } from './setpass/events.js';
import { setpassRoutes, setpassSite } from './setpass/routes.js';
import { AdminDirectory } from './slack/admins.js';
import { createSlackApp, type SlackApp, type SlackAppOptions } from './slack/app.js';
import { cardDepsFrom, cardRedrawer } from './slack/applicant-cards.js';
import { slackJobNotices } from './slack/job-notices.js';
import { countRefusals, observedFetch } from './slack/observe.js';
import { registerListeners } from './slack/register.js';
import { SeenRequests } from './slack/replay.js';
import { setpassNoticePoster } from './slack/setpass-notices.js';
import { slackSheetIntake } from './slack/sheet-intake.js';
import { VERSION } from './version.js';

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
  /** Redraws an applicant card from its record; undefined without Slack. */
  let redrawCard: ReturnType<typeof cardRedrawer> | undefined;
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
    const { sheets, applications, quotaPresets } = services;
    if (sheets && applications && quotaPresets && config.slack.adminChannel) {
      services.intake = slackSheetIntake(services, {
        client: slack.app.client,
        adminChannel: config.slack.adminChannel,
        sheet: sheets,
        store: applications,
        presets: quotaPresets,
        quotaRequests: services.quotaRequests,
      });
    }
    registerListeners(slack.app, { services, admins });
    const cards = cardDepsFrom(slack.app.client, services);
    redrawCard = cards && cardRedrawer(cards);
    // A welcome email delivered or given up after the approval changes the card too.
    if (redrawCard) services.recordChanges.subscribe(redrawCard);
    slack.app.error(async (error) => {
      log.error({ err: error }, 'slack listener failed');
    });
  }

  const slackListener =
    slack?.httpListener &&
    countRefusals(inNewRequest(slack.httpListener), (reason) => metrics.refused(reason));
  const http = createHttpServer({
    routes: routes.map(eachInNewRequest),
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
  // Mail queued before a restart goes out now; approvals whose run died are picked up again.
  if (botSide) services.mail?.start();
  const resumer =
    botSide && services.provision
      ? new ApprovalResumer(services.provision, {
          progress: redrawCard,
          track: (name, work) => inflight.run(name, work),
        })
      : undefined;
  resumer?.start();
  // Lockouts and password changes reported by the page (here or on a setpass host). Slack first: a
  // failed post leaves the event to be retried whole, without a second audit line.
  const notifyAdmins =
    slack && config.slack.adminChannel
      ? setpassNoticePoster(slack.app.client, config.slack.adminChannel)
      : undefined;
  // A reset asked for on /forgot runs here, where the admin credentials are, as `/kaizen reset` does.
  const forgotDeps = commandDeps(services, cliSurface(slack?.app.client, config, log));
  const setpassEvents = botSide
    ? new SetpassEventConsumer(
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
      )
    : undefined;
  setpassEvents?.start();
  // Started last, so a start-up that fails earlier leaves no timers behind.
  const scheduler: JobScheduler | undefined =
    config.role === 'setpass'
      ? undefined
      : startSchedules(services, {
          notices: slack ? slackJobNotices(slack.app.client, config.slack.adminChannel) : undefined,
          links: services.setpass,
          outbox: services.mail,
          pollSheet: services.intake?.poll,
        });
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
      resumer?.stop();
      await setpassEvents?.stop();
      // No new ticks; a run already going is in-flight work and is waited for below.
      await scheduler?.stop();
      const drained = await inflight.drain(options.drainMs ?? 20_000);
      if (!drained) log.warn({ running: inflight.size }, 'shutdown timed out with work still running');
      await services.mail?.stop();
      await slack?.stop();
      await closing;
      await redis.quit().catch(() => redis.disconnect());
    })();
    return stopping;
  };

  return { port, metricsPort, url: `${scheme}://127.0.0.1:${port}`, services, slack, http, stop };
}

/** A listener whose every request (and the work it starts) runs under a request id of its own. */
function inNewRequest(listener: RequestListener): RequestListener {
  return (req, res) => withRequestId(newRequestId(), () => listener(req, res));
}

function eachInNewRequest(route: Route): Route {
  return { ...route, handler: (ctx) => withRequestId(newRequestId(), () => route.handler(ctx)) };
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
