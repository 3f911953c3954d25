/**
 * The second half of `/kaizen reset`: the **Reset** and Cancel buttons on the confirmation, and
 * the PIN modal the Reset button opens when the user has no PIN on file. The reset itself runs in
 * the background (Keystone and the mail relay can be slow); its outcome replaces the confirmation.
 */

import type {
  AllMiddlewareArgs,
  BlockAction,
  ButtonAction,
  SlackActionMiddlewareArgs,
  SlackViewMiddlewareArgs,
  ViewSubmitAction,
} from '@slack/bolt';
import { peekConfirmation, takeConfirmation } from '../../../commands/confirmations.js';
import { runConfirmedReset } from '../../../commands/index.js';
import type { CommandResult } from '../../../commands/results.js';
import {
  RESET_PIN_BLOCK,
  RESET_PIN_CALLBACK,
  readResetPinMetadata,
  readResetPinModal,
  resetPinModal,
} from '../../../views/commands/reset-pin-modal.js';
import {
  ephemeral,
  RESET_CANCEL_ACTION,
  RESET_CONFIRM_ACTION,
  type SlackReply,
  slackReply,
} from '../../../views/commands/slack.js';
import { escapeMrkdwn } from '../../../views/mrkdwn.js';
import { isValidPin } from '../../domain/setpass/pin.js';
import { describeError } from '../../platform/errors.js';
import type { App } from '../app.js';
import { slackCaller } from '../caller.js';
import type { SlackDeps } from '../deps.js';

type ButtonArgs = SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs;
type ViewArgs = SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs;

const GONE: SlackReply = {
  text: 'This reset was already done or its confirmation expired (it lasts 15 minutes): run `/kaizen reset` again.',
};

export async function handleResetConfirm(args: ButtonArgs, deps: SlackDeps): Promise<void> {
  await args.ack();
  try {
    await confirmOrAskForPin(args, deps);
  } catch (error) {
    deps.log.error({ err: error }, 'the Reset button failed');
    await args.respond({ ...ephemeral({ text: `:x: The reset did not start: ${describeError(error)}` }) });
  }
}

async function confirmOrAskForPin(args: ButtonArgs, deps: SlackDeps): Promise<void> {
  const { body, action, respond, client } = args;
  const caller = await slackCaller(body.user.id, deps);
  if (!caller.isAdmin) {
    await respond({
      ...ephemeral(slackReply({ kind: 'denied', command: 'reset' })),
      replace_original: false,
    });
    return;
  }
  const commandDeps = deps.commands(client);
  const pending = await peekConfirmation(commandDeps.redis, action.value ?? '');
  if (pending === undefined) {
    await respond({ ...ephemeral(GONE), replace_original: true });
    return;
  }
  const pinOnFile =
    commandDeps.links === undefined
      ? true
      : (await commandDeps.links.pinOnFile(pending.userId)) !== undefined;
  if (!pinOnFile) {
    await client.views.open({
      trigger_id: body.trigger_id,
      view: resetPinModal(pending.username, {
        confirmation: action.value ?? '',
        responseUrl: body.response_url,
      }),
    });
    return;
  }
  await respond({
    ...ephemeral({
      text: `:hourglass_flowing_sand: Resetting the password of ${escapeMrkdwn(pending.username)}…`,
    }),
    replace_original: true,
  });
  void deps.inflight.run('reset', async () => {
    const result = await runConfirmedReset(commandDeps, caller, action.value ?? '');
    await respond({ ...ephemeral(slackReply(result)), replace_original: true });
  });
}

export async function handleResetCancel(args: ButtonArgs, deps: SlackDeps): Promise<void> {
  const { ack, action, respond } = args;
  await ack();
  await takeConfirmation(deps.redis, action.value ?? '');
  await respond({ ...ephemeral({ text: 'Reset cancelled: nothing was changed.' }), replace_original: true });
}

export async function handleResetPin(args: ViewArgs, deps: SlackDeps): Promise<void> {
  const { ack, view, body, client } = args;
  const pin = readResetPinModal(view.state.values);
  if (!isValidPin(pin)) {
    await ack({ response_action: 'errors', errors: { [RESET_PIN_BLOCK]: 'Enter exactly 4 digits.' } });
    return;
  }
  const metadata = readResetPinMetadata(view.private_metadata);
  const caller = await slackCaller(body.user.id, deps);
  if (metadata === undefined || !caller.isAdmin) {
    const reason = caller.isAdmin
      ? 'This form is out of date: run /kaizen reset again.'
      : 'Only Kaizen admins can reset passwords.';
    await ack({ response_action: 'errors', errors: { [RESET_PIN_BLOCK]: reason } });
    return;
  }
  await ack();
  const commandDeps = deps.commands(client);
  void deps.inflight.run('reset', async () => {
    const result: CommandResult = await runConfirmedReset(commandDeps, caller, metadata.confirmation, pin);
    if (metadata.responseUrl === undefined) {
      deps.log.warn({ outcome: result.kind }, 'reset done, but there is no response URL to tell the admin');
      return;
    }
    await postToResponseUrl(metadata.responseUrl, {
      ...ephemeral(slackReply(result)),
      replace_original: true,
    });
  });
}

/** A view submission carries no response URL of its own; the one of the message with the button is in the metadata. */
async function postToResponseUrl(url: string, body: object): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  if (!response.ok) throw new Error(`Slack's response URL answered HTTP ${response.status}`);
}

export function register(app: App, deps: SlackDeps): void {
  app.action<BlockAction<ButtonAction>>(RESET_CONFIRM_ACTION, (args) => handleResetConfirm(args, deps));
  app.action<BlockAction<ButtonAction>>(RESET_CANCEL_ACTION, (args) => handleResetCancel(args, deps));
  app.view<ViewSubmitAction>(RESET_PIN_CALLBACK, (args) => handleResetPin(args, deps));
}
