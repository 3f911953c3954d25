/**
 * The App Home tab, redrawn each time someone opens it. Admins get the queue; everyone else a
 * short word on what the app is for. The view is built in the background (the health checks can
 * take seconds) so the event is acknowledged at once and Slack does not deliver it again.
 */
import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { appHomeView } from '../../../views/app-home.js';
import { ApplicationStore } from '../../domain/applications/store.js';
import type { ReminderLinks } from '../../domain/reminders/ports.js';
import { HealthCache, queueOverview } from '../../ops/overview.js';
import type { App } from '../app.js';
import type { SlackDeps } from '../register.js';

type HomeOpenedArgs = SlackEventMiddlewareArgs<'app_home_opened'> & AllMiddlewareArgs;

export interface AppHomeDeps extends SlackDeps {
  health: HealthCache;
  /** The setpass side, for the users who have not used their link; undefined when it is off. */
  links: ReminderLinks | undefined;
}

export async function handleAppHomeOpened(
  { event, client }: HomeOpenedArgs,
  deps: AppHomeDeps,
): Promise<void> {
  if (event.tab !== 'home') return;
  const { services } = deps;
  if (!services.inflight.accepting) return;
  void services.inflight.run('app home', () => publishHome(client, event.user, deps));
}

/** Builds and publishes the Home tab for one user. */
export async function publishHome(client: WebClient, userId: string, deps: AppHomeDeps): Promise<void> {
  const { services } = deps;
  const now = new Date();
  const isAdmin = await deps.admins.isAdmin(userId);
  const overview = isAdmin
    ? await queueOverview({
        redis: services.redis,
        store: new ApplicationStore(services.redis),
        audit: services.audit,
        links: deps.links,
        health: deps.health,
      })
    : { pending: [], decisions: [], unusedLinks: [], health: undefined };
  await client.views.publish({ user_id: userId, view: appHomeView({ ...overview, now, isAdmin }) });
}

export function register(app: App, deps: SlackDeps): void {
  const homeDeps: AppHomeDeps = {
    ...deps,
    health: new HealthCache(deps.services.config),
    links: deps.services.setpass,
  };
  app.event('app_home_opened', (args) => handleAppHomeOpened(args, homeDeps));
}
