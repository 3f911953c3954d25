/**
 * The App Home tab, redrawn each time someone opens it. Admins get the queue; everyone else a
 * short word on what the app is for. The view is built in the background (the health checks can
 * take seconds) so the event is acknowledged at once and Slack does not deliver it again.
 */
import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { appHomeView } from '../../../views/app-home.js';
import { queueOverview } from '../../ops/overview.js';
import type { App } from '../app.js';
import type { SlackDeps } from '../deps.js';

type HomeOpenedArgs = SlackEventMiddlewareArgs<'app_home_opened'> & AllMiddlewareArgs;

type AppHomeDeps = Pick<SlackDeps, 'admins' | 'inflight' | 'home'>;

export async function handleAppHomeOpened(
  { event, client }: HomeOpenedArgs,
  deps: AppHomeDeps,
): Promise<void> {
  if (event.tab !== 'home') return;
  if (!deps.inflight.accepting) return;
  void deps.inflight.run('app home', () => publishHome(client, event.user, deps));
}

/** Builds and publishes the Home tab for one user. */
export async function publishHome(client: WebClient, userId: string, deps: AppHomeDeps): Promise<void> {
  const now = new Date();
  const isAdmin = await deps.admins.isAdmin(userId);
  const overview = isAdmin
    ? await queueOverview(deps.home)
    : { pending: [], decisions: [], unusedLinks: [], health: undefined };
  await client.views.publish({ user_id: userId, view: appHomeView({ ...overview, now, isAdmin }) });
}

export function register(app: App, deps: SlackDeps): void {
  app.event('app_home_opened', (args) => handleAppHomeOpened(args, deps));
}
