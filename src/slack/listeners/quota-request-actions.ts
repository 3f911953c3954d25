/**
 * The quota request card's buttons (Approve, Retry, Adjust, Reject) and its two modals. Admins
 * only, as on the applicant card: the admin gate refuses anyone else before these run, and each
 * handler checks again. Approve acks at once and applies in the background, then redraws the card.
 */
import type {
  AllMiddlewareArgs,
  BlockAction,
  ButtonAction,
  SlackActionMiddlewareArgs,
  SlackViewMiddlewareArgs,
  ViewSubmitAction,
} from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { ADMIN_CHECK_FAILED, notAllowedText } from '../../../views/applicant-replies.js';
import { quotaBlockId, readQuotaModal } from '../../../views/quota-modal.js';
import { QUOTA_REQUEST_ACTIONS, quotaApproveReply } from '../../../views/quota-request-card.js';
import {
  QUOTA_ADJUST_CALLBACK,
  QUOTA_ADJUST_FIRST_BLOCK,
  QUOTA_REJECT_CALLBACK,
  quotaAdjustModal,
  quotaRejectModal,
} from '../../../views/quota-request-modals.js';
import { REJECT_REASON_BLOCK, REJECT_REASON_MAX, readRejectModal } from '../../../views/reject-modal.js';
import type { QuotaRequestRecord } from '../../domain/quotas/request-store.js';
import {
  adjustQuotaRequest,
  approveQuotaRequest,
  type QuotaRequestDeps,
  rejectQuotaRequest,
  revertQuotaRequest,
} from '../../domain/quotas/request-workflow.js';
import { parseQuotaInput } from '../../domain/quotas/resolve.js';
import type { QuotaKey } from '../../domain/quotas/types.js';
import { describeError } from '../../platform/errors.js';
import type { InFlight } from '../../platform/inflight.js';
import type { Logger } from '../../platform/log.js';
import type { AdminDirectory } from '../admins.js';
import type { App } from '../app.js';
import { adminCheck, tellUser } from '../applicant-deps.js';
import { type QuotaCardDeps, refreshQuotaRequestCard } from '../quota-request-cards.js';

type ButtonArgs = SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs;
type SubmitArgs = SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs;

export interface QuotaRequestSlackDeps {
  admins: Pick<AdminDirectory, 'isAdmin'>;
  adminChannel: string | undefined;
  cards: QuotaCardDeps;
  workflow: QuotaRequestDeps;
  inflight: InFlight;
  log: Logger;
}

interface Click {
  requestId: string;
  user: string;
  channel: string | undefined;
  message: { channel: string; ts: string } | undefined;
}

function clickOf({ body, action }: ButtonArgs, deps: QuotaRequestSlackDeps): Click {
  const channel = body.channel?.id ?? (body.container.channel_id as string | undefined);
  const ts = body.message?.ts ?? (body.container.message_ts as string | undefined);
  return {
    requestId: action.value ?? '',
    user: body.user.id,
    channel: channel ?? deps.adminChannel,
    message: channel && ts ? { channel, ts } : undefined,
  };
}

async function allowed(args: ButtonArgs, deps: QuotaRequestSlackDeps, click: Click): Promise<boolean> {
  if (await deps.admins.isAdmin(click.user)) return true;
  await tellUser(args.client, deps.log, click, notAllowedText(deps.adminChannel));
  return false;
}

/** A record whose card location was not saved (the post's reply was lost) learns it from the click. */
async function redraw(
  deps: QuotaRequestSlackDeps,
  record: QuotaRequestRecord,
  click: Pick<Click, 'message'>,
) {
  const withCard = record.card || !click.message ? record : { ...record, card: click.message };
  if (!record.card && click.message)
    await deps.cards.store.update(record.id, [record.state], { card: click.message });
  await refreshQuotaRequestCard(deps.cards, withCard);
}

/** Approve and Retry: one admin wins; a non-member's request is refused with the reason. */
export async function handleApprove(args: ButtonArgs, deps: QuotaRequestSlackDeps): Promise<void> {
  await args.ack();
  const click = clickOf(args, deps);
  if (!(await allowed(args, deps, click))) return;
  void deps.inflight.run(`quota request ${click.requestId}`, async () => {
    try {
      const outcome = await approveQuotaRequest(deps.workflow, click.requestId, click.user, {
        onStarted: (record) => redraw(deps, record, click),
      });
      const reply = quotaApproveReply(outcome);
      if (reply !== undefined) await tellUser(args.client, deps.log, click, reply);
      if (outcome.kind !== 'not_found') await redraw(deps, outcome.record, click);
    } catch (error) {
      deps.log.error({ err: error, request: click.requestId }, 'quota request: approve failed');
      await tellUser(args.client, deps.log, click, describeError(error));
    }
  });
}

/** Revert (a change applied by policy): sets the limits back, once; the card then says who reverted it. */
export async function handleRevert(args: ButtonArgs, deps: QuotaRequestSlackDeps): Promise<void> {
  await args.ack();
  const click = clickOf(args, deps);
  if (!(await allowed(args, deps, click))) return;
  void deps.inflight.run(`quota revert ${click.requestId}`, async () => {
    try {
      const outcome = await revertQuotaRequest(deps.workflow, click.requestId, click.user);
      if (outcome.kind === 'not_found') {
        await tellUser(args.client, deps.log, click, 'This quota request is no longer on file.');
        return;
      }
      if (outcome.kind === 'not_revertible') {
        await tellUser(
          args.client,
          deps.log,
          click,
          `This request is ${outcome.record.state}; there is nothing to revert.`,
        );
      }
      await redraw(deps, outcome.record, click);
    } catch (error) {
      deps.log.error({ err: error, request: click.requestId }, 'quota request: revert failed');
      await tellUser(args.client, deps.log, click, `Not reverted: ${describeError(error)}`);
    }
  });
}

/** The record while it can still change, else the clicker is told why and the card redrawn. */
async function openable(args: ButtonArgs, deps: QuotaRequestSlackDeps, click: Click) {
  const record = await deps.cards.store.get(click.requestId);
  if (record === undefined) {
    await tellUser(args.client, deps.log, click, 'This quota request is no longer on file.');
    return undefined;
  }
  if ((record.state === 'pending' || record.state === 'failed') && record.checkpoints.quotas === undefined) {
    return record;
  }
  await tellUser(
    args.client,
    deps.log,
    click,
    `This request is ${record.state} already; the card now shows it.`,
  );
  await redraw(deps, record, click);
  return undefined;
}

async function openModal(
  args: ButtonArgs,
  deps: QuotaRequestSlackDeps,
  click: Click,
  view: Parameters<WebClient['views']['open']>[0]['view'],
) {
  try {
    await args.client.views.open({ trigger_id: args.body.trigger_id, view });
  } catch (error) {
    deps.log.warn({ err: error, request: click.requestId }, 'could not open a modal');
    await tellUser(args.client, deps.log, click, 'Slack did not open the form in time; please click again.');
  }
}

export async function handleAdjust(args: ButtonArgs, deps: QuotaRequestSlackDeps): Promise<void> {
  await args.ack();
  const click = clickOf(args, deps);
  if (!(await allowed(args, deps, click))) return;
  const record = await openable(args, deps, click);
  if (record) await openModal(args, deps, click, quotaAdjustModal(record));
}

export async function handleReject(args: ButtonArgs, deps: QuotaRequestSlackDeps): Promise<void> {
  await args.ack();
  const click = clickOf(args, deps);
  if (!(await allowed(args, deps, click))) return;
  const record = await openable(args, deps, click);
  if (record) await openModal(args, deps, click, quotaRejectModal(record));
}

/** Modal errors are plain text: a channel mention would show as its raw id. */
async function refuseSubmission(
  args: SubmitArgs,
  deps: QuotaRequestSlackDeps,
  block: string,
): Promise<boolean> {
  const admin = await adminCheck(deps, args.body.user.id);
  if (admin === true) return false;
  const refusal = notAllowedText(deps.adminChannel).replace(/<#[A-Z0-9]+>/g, 'the admin channel');
  await args.ack({
    response_action: 'errors',
    errors: { [block]: admin === undefined ? ADMIN_CHECK_FAILED : refusal },
  });
  return true;
}

export async function handleAdjustSubmission(args: SubmitArgs, deps: QuotaRequestSlackDeps): Promise<void> {
  if (await refuseSubmission(args, deps, QUOTA_ADJUST_FIRST_BLOCK)) return;
  const { fields } = readQuotaModal(args.view.state.values);
  const parsed = parseQuotaInput(fields);
  if (!parsed.ok) {
    const errors: Record<string, string> = {};
    for (const [key, message] of Object.entries(parsed.errors)) {
      errors[quotaBlockId(key as QuotaKey)] = message ?? 'Enter a whole number, or -1 for unlimited';
    }
    await args.ack({ response_action: 'errors', errors });
    return;
  }
  if (Object.keys(parsed.values).length === 0) {
    await args.ack({
      response_action: 'errors',
      errors: { [QUOTA_ADJUST_FIRST_BLOCK]: 'Give at least one value.' },
    });
    return;
  }
  const outcome = await adjustQuotaRequest(
    deps.workflow,
    args.view.private_metadata,
    args.body.user.id,
    parsed.values,
  );
  if (outcome.kind === 'not_found') {
    await args.ack({
      response_action: 'errors',
      errors: { [QUOTA_ADJUST_FIRST_BLOCK]: 'This quota request is no longer on file.' },
    });
    return;
  }
  if (outcome.kind === 'locked') {
    await args.ack({
      response_action: 'errors',
      errors: {
        [QUOTA_ADJUST_FIRST_BLOCK]: `This request is ${outcome.record.state} already; it can no longer change.`,
      },
    });
    await refreshQuotaRequestCard(deps.cards, outcome.record);
    return;
  }
  await args.ack();
  await refreshQuotaRequestCard(deps.cards, outcome.record);
}

export async function handleRejectSubmission(args: SubmitArgs, deps: QuotaRequestSlackDeps): Promise<void> {
  if (await refuseSubmission(args, deps, REJECT_REASON_BLOCK)) return;
  const { reason, notifyApplicant } = readRejectModal(args.view.state.values);
  const reasonError = (message: string) =>
    args.ack({ response_action: 'errors', errors: { [REJECT_REASON_BLOCK]: message } });
  if (reason === '') {
    await reasonError('Give a reason: it is shown on the card, and emailed when you tick the box.');
    return;
  }
  if (reason.length > REJECT_REASON_MAX) {
    await reasonError(`Keep the reason under ${REJECT_REASON_MAX} characters.`);
    return;
  }
  const outcome = await rejectQuotaRequest(deps.workflow, args.view.private_metadata, args.body.user.id, {
    reason,
    notifyRequester: notifyApplicant,
  });
  if (outcome.kind === 'not_found') {
    await reasonError('This quota request is no longer on file.');
    return;
  }
  if (outcome.kind === 'decided') {
    await reasonError(`This request is ${outcome.record.state} already; it can no longer be rejected.`);
    await refreshQuotaRequestCard(deps.cards, outcome.record);
    return;
  }
  await args.ack();
  await refreshQuotaRequestCard(deps.cards, outcome.record);
}

function guarded(
  handler: (args: ButtonArgs, deps: QuotaRequestSlackDeps) => Promise<void>,
  deps: QuotaRequestSlackDeps,
): (args: ButtonArgs) => Promise<void> {
  return async (args) => {
    try {
      await handler(args, deps);
    } catch (error) {
      deps.log.error({ err: error, action: args.action.action_id }, 'quota request button failed');
      await tellUser(args.client, deps.log, clickOf(args, deps), describeError(error));
    }
  };
}

export function register(app: App, deps: QuotaRequestSlackDeps): void {
  app.action<BlockAction<ButtonAction>>(QUOTA_REQUEST_ACTIONS.approve, guarded(handleApprove, deps));
  app.action<BlockAction<ButtonAction>>(QUOTA_REQUEST_ACTIONS.retry, guarded(handleApprove, deps));
  app.action<BlockAction<ButtonAction>>(QUOTA_REQUEST_ACTIONS.adjust, guarded(handleAdjust, deps));
  app.action<BlockAction<ButtonAction>>(QUOTA_REQUEST_ACTIONS.reject, guarded(handleReject, deps));
  app.action<BlockAction<ButtonAction>>(QUOTA_REQUEST_ACTIONS.revert, guarded(handleRevert, deps));
  app.view<ViewSubmitAction>(QUOTA_ADJUST_CALLBACK, (args) => handleAdjustSubmission(args, deps));
  app.view<ViewSubmitAction>(QUOTA_REJECT_CALLBACK, (args) => handleRejectSubmission(args, deps));
}
