/**
 * The composition root: settings → clients → HTTP routes + Slack app + schedules. `startKaizen`
 * is what `npm start` runs and what component tests start on port 0.
 */
import { adminChannelProblemText } from '../views/protection.js';
import { type Config, capabilities } from './config.js';
import { KaizenError } from './errors.js';
import { type HealthCheck, healthRoutes } from './http/health.js';
import type { Route } from './http/router.js';
import { createHttpServer, type HttpServer } from './http/server.js';
import type { JobScheduler } from './jobs/scheduler.js';
import { protectionPolicy } from './keystone/index.js';
import type { Logger } from './log.js';
import { ApprovalResumer } from './provision/resumer.js';
import { pingRedis } from './redis.js';
import { startSchedules } from './schedules.js';
import { closeServices, createServices, type Services } from './services.js';
import { auditSetpassEvent, SetpassEventConsumer } from './setpass/events.js';
import { setpassRoutes, setpassSite } from './setpass/routes.js';
import { AdminDirectory } from './slack/admins.js';
import { createSlackApp, type SlackApp, type SlackAppOptions } from './slack/app.js';
import { cardDepsFrom, cardRedrawer } from './slack/applicant-cards.js';
import { slackJobNotices } from './slack/job-notices.js';
import { registerListeners } from './slack/register.js';
import { setpassNoticePoster } from './slack/setpass-notices.js';
import { slackSheetIntake } from './slack/sheet-intake.js';

export interface StartOptions {
  log: Logger;
  slack?: SlackAppOptions;
  /** How long shutdown waits for in-flight work. */
  drainMs?: number;
}

export interface RunningKaizen {
  port: number;
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
  if (keystone) checks.push({ name: 'keystone', check: () => keystone.ping() });
  const routes: Route[] = [...healthRoutes(checks, metrics)];
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
    slack = await createSlackApp(config, log, options.slack);
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

  const http = createHttpServer({
    routes,
    log,
    metrics,
    trustedProxies: config.http.trustedProxies,
    tls: config.http.tls,
    slackListener: slack?.httpListener,
  });
  const port = await http.listen(config.http.port, config.http.host);
  await slack?.start();
  // Mail queued before a restart goes out now; approvals whose run died are picked up again.
  const botSide = config.role !== 'setpass';
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
  const setpassEvents = botSide
    ? new SetpassEventConsumer(
        redis,
        async (event) => {
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
  log.info({ port, role: config.role, slack: slack?.mode ?? 'off' }, 'kaizen is listening');

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      log.info('shutting down: no new work; finishing what is in flight');
      const closing = http.close();
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

  return { port, url: `${scheme}://127.0.0.1:${port}`, services, slack, http, stop };
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
