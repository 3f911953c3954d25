/**
 * The one admin check in front of every Slack listener: each button (on a card, an ephemeral
 * reply or App Home), each modal submission and each slash command passes through here first.
 * Buttons and modals of anyone who is not an admin are answered here and go no further.
 * `/kaizen` goes on with `context.isAdmin` set (undefined when Slack could not tell, with
 * `context.adminCheckFailure` saying why), because `help` is for everyone and a refused command is
 * audited by the command router.
 */

import type { AllMiddlewareArgs, AnyMiddlewareArgs } from '@slack/bolt';
import { ADMIN_CHECK_FAILED, notAllowedText } from '../../views/applicant-replies.js';
import { describeError } from '../platform/errors.js';
import type { Logger } from '../platform/log.js';
import type { AdminDirectory } from './admins.js';

type GateArgs = AnyMiddlewareArgs & AllMiddlewareArgs;

/** What the gate reads of any interaction payload; everything else is ignored. */
interface Interaction {
  type?: string;
  command?: string;
  user_id?: string;
  user?: { id?: string };
  response_url?: string;
  channel?: { id?: string };
  container?: { channel_id?: string; is_ephemeral?: boolean };
  view?: { blocks?: { type?: string; block_id?: string }[]; state?: { values?: Record<string, unknown> } };
}

export interface AdminGateDeps {
  admins: Pick<AdminDirectory, 'isAdmin'>;
  adminChannel: string | undefined;
  log: Logger;
}

export function adminGate(deps: AdminGateDeps): (args: GateArgs) => Promise<void> {
  return async (args) => {
    const body = args.body as Interaction;
    const kind = body.command !== undefined ? 'command' : body.type;
    if (kind !== 'command' && kind !== 'block_actions' && kind !== 'view_submission') {
      await args.next();
      return;
    }
    const user = (kind === 'command' ? body.user_id : body.user?.id) ?? '';
    let isAdmin: boolean | undefined;
    try {
      isAdmin = user !== '' && (await deps.admins.isAdmin(user));
    } catch (error) {
      deps.log.error({ err: error, user }, 'could not check whether the user is an admin');
      args.context.adminCheckFailure = describeError(error);
    }
    args.context.isAdmin = isAdmin;
    if (kind === 'command') {
      await args.next();
      return;
    }
    if (isAdmin === true) {
      await args.next();
      return;
    }
    const text = isAdmin === undefined ? ADMIN_CHECK_FAILED : notAllowedText(deps.adminChannel);
    deps.log.warn({ user, kind }, 'refused a Slack interaction from someone who is not an admin');
    if (kind === 'view_submission') await refuseSubmission(args, body, text);
    else await refuseClick(args, body, user, text, deps);
  };
}

async function ackWith(args: GateArgs, answer?: object): Promise<void> {
  if ('ack' in args && typeof args.ack === 'function') {
    await (args.ack as (answer?: object) => Promise<void>)(answer);
  }
}

/** Modal errors are plain text, shown under the first input: a channel mention would show its raw id. */
async function refuseSubmission(args: GateArgs, body: Interaction, text: string): Promise<void> {
  const block =
    body.view?.blocks?.find((b) => b.type === 'input' && b.block_id)?.block_id ??
    Object.keys(body.view?.state?.values ?? {})[0];
  const plain = text.replace(/<#[A-Z0-9]+>/g, 'the admin channel');
  await ackWith(args, block ? { response_action: 'errors', errors: { [block]: plain } } : undefined);
}

/**
 * A click: the refusal goes where the click came from. An ephemeral reply (the reset confirmation)
 * is answered through its response URL; a card in a channel, or App Home (whose replies go to the
 * admin channel), with an ephemeral message.
 */
async function refuseClick(
  args: GateArgs,
  body: Interaction,
  user: string,
  text: string,
  deps: AdminGateDeps,
): Promise<void> {
  await ackWith(args);
  const channel = body.channel?.id ?? body.container?.channel_id;
  const respond = 'respond' in args ? args.respond : undefined;
  try {
    if (respond && body.response_url && (body.container?.is_ephemeral || channel === undefined)) {
      await respond({ response_type: 'ephemeral', replace_original: false, text });
      return;
    }
    const where = channel ?? deps.adminChannel;
    if (where) await args.client.chat.postEphemeral({ channel: where, user, text });
  } catch (error) {
    deps.log.warn({ err: error, user }, 'could not tell a non-admin that they may not do that');
  }
}
