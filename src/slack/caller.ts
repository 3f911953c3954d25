/** Who clicked, as the command core takes it. */
import type { Caller } from '../../commands/types.js';
import type { SlackDeps } from './deps.js';

/** The Slack user as a command caller; not an admin when that cannot be told right now. */
export async function slackCaller(userId: string, deps: Pick<SlackDeps, 'admins' | 'log'>): Promise<Caller> {
  try {
    return { via: 'slack', userId, isAdmin: await deps.admins.isAdmin(userId) };
  } catch (error) {
    deps.log.error({ err: error, user: userId }, 'could not check whether the caller is an admin');
    return { via: 'slack', userId, isAdmin: false };
  }
}
