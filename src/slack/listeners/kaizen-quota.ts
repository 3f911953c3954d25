/**
 * The second half of `/kaizen quota <project> <change>`: the **Apply** and Cancel buttons on the
 * confirmation. Applying runs in the background (three services to call); its outcome replaces
 * the confirmation. The confirmation is single use, so a double click applies once.
 */

import type { AllMiddlewareArgs, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { runConfirmedQuota } from '../../../commands/index.js';
import { dropQuotaConfirmation } from '../../../commands/quota.js';
import {
  ephemeral,
  QUOTA_APPLY_ACTION,
  QUOTA_CANCEL_ACTION,
  slackReply,
} from '../../../views/commands/slack.js';
import type { App } from '../app.js';
import { slackCaller } from '../caller.js';
import type { SlackDeps } from '../deps.js';

type ButtonArgs = SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs;

export async function handleQuotaApply(args: ButtonArgs, deps: SlackDeps): Promise<void> {
  const { ack, body, action, respond, client } = args;
  await ack();
  const caller = await slackCaller(body.user.id, deps);
  if (!caller.isAdmin) {
    await respond({
      ...ephemeral(slackReply({ kind: 'denied', command: 'quota' })),
      replace_original: false,
    });
    return;
  }
  await respond({
    ...ephemeral({ text: ':hourglass_flowing_sand: Setting the quota…' }),
    replace_original: true,
  });
  const commandDeps = deps.commands(client);
  void deps.inflight.run('quota', async () => {
    const result = await runConfirmedQuota(commandDeps, caller, action.value ?? '');
    await respond({ ...ephemeral(slackReply(result)), replace_original: true });
  });
}

export async function handleQuotaCancel(args: ButtonArgs, deps: SlackDeps): Promise<void> {
  const { ack, action, respond } = args;
  await ack();
  await dropQuotaConfirmation(deps.redis, action.value ?? '');
  await respond({
    ...ephemeral({ text: 'Quota change cancelled: nothing was changed.' }),
    replace_original: true,
  });
}

export function register(app: App, deps: SlackDeps): void {
  app.action<BlockAction<ButtonAction>>(QUOTA_APPLY_ACTION, (args) => handleQuotaApply(args, deps));
  app.action<BlockAction<ButtonAction>>(QUOTA_CANCEL_ACTION, (args) => handleQuotaCancel(args, deps));
}
