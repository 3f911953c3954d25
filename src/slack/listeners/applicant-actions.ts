/**
 * The applicant card's buttons: Approve (and Retry, which is Approve from `failed`), Quota and
 * Reject. Only admins may act; a decision already taken answers the clicker and redraws the card.
 * Approve acks at once and runs provisioning in the background, redrawing the card as steps finish.
 */

import type { AllMiddlewareArgs, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { APPLICANT_ACTIONS, localAccountNotWaitingText } from '../../../views/applicant-card.js';
import { APPLICATION_GONE, alreadyDecidedText, notAllowedText } from '../../../views/applicant-replies.js';
import { escapeMrkdwn } from '../../../views/mrkdwn.js';
import { protectedProjectText } from '../../../views/protection.js';
import { quotaModal } from '../../../views/quota-modal.js';
import { rejectModal } from '../../../views/reject-modal.js';
import { renameModal } from '../../../views/rename-modal.js';
import type { ApplicationRecord, LocalAccountChoice } from '../../domain/applications/store.js';
import { runProvisioning, startApproval } from '../../domain/provision/approve.js';
import type { ProvisionDeps } from '../../domain/provision/deps.js';
import { chooseLocalAccount } from '../../domain/provision/local-account-choice.js';
import { joinExistingProject } from '../../domain/provision/project-choice.js';
import { describeError } from '../../platform/errors.js';
import type { App } from '../app.js';
import { refreshApplicantCard } from '../applicant-cards.js';
import { type ApplicantSlackDeps, tellUser } from '../applicant-deps.js';

type ButtonArgs = SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs;

interface Click {
  applicantId: string;
  user: string;
  channel: string | undefined;
  /** The message that was clicked, when the click came from one. */
  message: { channel: string; ts: string } | undefined;
}

/** A click on the card in a channel, or on the same buttons in App Home (no channel: replies go to the admin channel). */
function clickOf({ body, action }: ButtonArgs, deps: ApplicantSlackDeps): Click {
  const channel = body.channel?.id ?? (body.container.channel_id as string | undefined);
  const ts = body.message?.ts ?? (body.container.message_ts as string | undefined);
  return {
    applicantId: action.value ?? '',
    user: body.user.id,
    channel: channel ?? deps.adminChannel,
    message: channel && ts ? { channel, ts } : undefined,
  };
}

/** Admins only; anyone else is told so and nothing changes. */
async function allowed(args: ButtonArgs, deps: ApplicantSlackDeps, click: Click): Promise<boolean> {
  if (await deps.admins.isAdmin(click.user)) return true;
  await tellUser(args.client, deps.log, click, notAllowedText(deps.adminChannel));
  return false;
}

/** A record posted before its card location was saved learns it from the click. */
async function withCard(
  deps: ApplicantSlackDeps,
  record: ApplicationRecord,
  click: Pick<Click, 'message'>,
): Promise<ApplicationRecord> {
  if (record.card || !click.message) return record;
  const saved = await deps.cards.store.update(record.id, [record.state], { card: click.message });
  return saved.ok ? saved.record : { ...record, card: click.message };
}

/** Approve and Retry: one admin wins; the card shows the progress and, at the end, who approved. */
export async function handleApprove(args: ButtonArgs, deps: ApplicantSlackDeps): Promise<void> {
  await args.ack();
  const click = clickOf(args, deps);
  if (!(await allowed(args, deps, click))) return;
  const provision = deps.provision;
  if (!provision) {
    await tellUser(
      args.client,
      deps.log,
      click,
      'Approving needs Keystone: set OS_AUTH_URL and the admin credentials (see `kaizen doctor`).',
    );
    return;
  }
  const started = await startApproval(provision, click.applicantId, click.user);
  switch (started.kind) {
    case 'started':
      provisionInBackground(deps, provision, started.record, click, started.retry);
      return;
    case 'busy':
      await tellUser(
        args.client,
        deps.log,
        click,
        `This applicant is already being approved by ${started.by ? `<@${started.by}>` : 'another admin'}.`,
      );
      return;
    case 'done':
    case 'rejected':
      await alreadyDecided(args, deps, click, started.record);
      return;
    case 'not_found':
      await tellUser(args.client, deps.log, click, APPLICATION_GONE);
      return;
  }
}

/**
 * The click is answered first; the first redraw ("approving by …") and the run follow in order in
 * the background, so a burst of clicks does not wait on Slack's chat.update round trips. The steps'
 * redraws go on beside the run through the card's redraw queue; the run's work is done when its
 * last state is drawn.
 */
export function provisionInBackground(
  deps: ApplicantSlackDeps,
  provision: ProvisionDeps,
  record: ApplicationRecord,
  click: Pick<Click, 'message'>,
  retry = false,
): void {
  // Each redraw waits until no Slack request is being answered (requestsFirst, bounded): in a
  // burst of clicks, answering them comes before the work they started.
  const redraw = async (current: ApplicationRecord) => {
    await deps.requestsFirst?.idle();
    await refreshApplicantCard(deps.cards, await withCard(deps, current, click));
  };
  // The steps' redraws share the card's one queue with the outbox's (card-redraws.ts): they go
  // beside the run, one at a time and the record as it is then.
  const queue = deps.cards.redraws;
  let lastStep: Promise<void> = Promise.resolve();
  const step = async (current: ApplicationRecord) => {
    const withLocation = await withCard(deps, current, click);
    if (queue) lastStep = queue.redraw(withLocation);
    else await redraw(withLocation);
  };
  // With processBeforeResponse, Bolt writes the HTTP answer once this listener's promise settles,
  // a chain of microtasks. Waiting for the event loop's next turn (setImmediate) keeps the redraw's
  // work (rendering the card, preparing chat.update) behind that answer instead of before it.
  void deps.inflight.run(`provision ${record.id}`, async () => {
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (deps.firstRedraws) await deps.firstRedraws.run(() => redraw(record));
    else await redraw(record);
    try {
      return await runProvisioning(provision, record.id, step, { retry });
    } finally {
      await lastStep;
    }
  });
}

/** Join existing X: named on the button, by an admin, audited; then the approval goes on. */
export async function handleJoin(args: ButtonArgs, deps: ApplicantSlackDeps): Promise<void> {
  await args.ack();
  const click = clickOf(args, deps);
  if (!(await allowed(args, deps, click))) return;
  const provision = deps.provision;
  if (!provision) return;
  const outcome = await joinExistingProject(provision, click.applicantId, click.user);
  switch (outcome.kind) {
    case 'started':
      provisionInBackground(deps, provision, outcome.record, click);
      return;
    case 'protected': {
      const text = protectedProjectText(outcome.record.projectClash?.name ?? 'this project', outcome.reason);
      await tellUser(args.client, deps.log, click, escapeMrkdwn(text));
      await refreshApplicantCard(
        deps.cards,
        (await deps.cards.store.get(click.applicantId)) ?? outcome.record,
      );
      return;
    }
    case 'not_found':
      await tellUser(args.client, deps.log, click, APPLICATION_GONE);
      return;
    default:
      await tellUser(
        args.client,
        deps.log,
        click,
        'This application is not waiting for a choice of project any more.',
      );
      await refreshApplicantCard(deps.cards, outcome.record);
  }
}

/** Make it federated / Keep it local: federated mode found a local account; the admin's choice goes on. */
function handleLocalAccount(choice: LocalAccountChoice) {
  return async (args: ButtonArgs, deps: ApplicantSlackDeps): Promise<void> => {
    await args.ack();
    const click = clickOf(args, deps);
    if (!(await allowed(args, deps, click))) return;
    const provision = deps.provision;
    if (!provision) return;
    const outcome = await chooseLocalAccount(provision, click.applicantId, choice, click.user);
    switch (outcome.kind) {
      case 'started':
        provisionInBackground(deps, provision, outcome.record, click);
        return;
      case 'not_found':
        await tellUser(args.client, deps.log, click, 'This application is no longer on file.');
        return;
      case 'not_waiting':
        await tellUser(args.client, deps.log, click, localAccountNotWaitingText);
        await refreshApplicantCard(deps.cards, outcome.record);
    }
  };
}

/** Rename: opens the modal; its submission is checked again (src/slack/listeners/rename-modal.ts). */
export async function handleRename(args: ButtonArgs, deps: ApplicantSlackDeps): Promise<void> {
  await args.ack();
  const click = clickOf(args, deps);
  if (!(await allowed(args, deps, click))) return;
  const record = await openable(args, deps, click);
  if (!record) return;
  await openModal(args, deps, click, renameModal(record.applicant));
}

/** Quota: opens the modal while the applicant can still change. */
export async function handleQuota(args: ButtonArgs, deps: ApplicantSlackDeps): Promise<void> {
  await args.ack();
  const click = clickOf(args, deps);
  if (!(await allowed(args, deps, click))) return;
  const record = await openable(args, deps, click);
  if (!record) return;
  const view = quotaModal({
    applicant: record.applicant,
    presets: deps.cards.presets,
    current: record.quota,
    defaultPreset: deps.cards.defaultPreset,
  });
  await openModal(args, deps, click, view);
}

/** Reject: opens the modal asking for a reason. */
export async function handleReject(args: ButtonArgs, deps: ApplicantSlackDeps): Promise<void> {
  await args.ack();
  const click = clickOf(args, deps);
  if (!(await allowed(args, deps, click))) return;
  const record = await openable(args, deps, click);
  if (!record) return;
  await openModal(args, deps, click, rejectModal(record.applicant));
}

/** The record when it can still be decided; otherwise the clicker is told and the card redrawn. */
async function openable(
  args: ButtonArgs,
  deps: ApplicantSlackDeps,
  click: Click,
): Promise<ApplicationRecord | undefined> {
  const record = await deps.cards.store.get(click.applicantId);
  if (!record) {
    await tellUser(args.client, deps.log, click, APPLICATION_GONE);
    return undefined;
  }
  if (record.state === 'pending' || record.state === 'failed') return record;
  if (record.state === 'approving') {
    const by = record.decidedBy ? `<@${record.decidedBy}>` : 'another admin';
    await tellUser(args.client, deps.log, click, `This applicant is already being approved by ${by}.`);
    return undefined;
  }
  await alreadyDecided(args, deps, click, record);
  return undefined;
}

async function openModal(
  args: ButtonArgs,
  deps: ApplicantSlackDeps,
  click: Click,
  view: Parameters<ButtonArgs['client']['views']['open']>[0]['view'],
): Promise<void> {
  try {
    await args.client.views.open({ trigger_id: args.body.trigger_id, view });
  } catch (error) {
    deps.log.warn({ err: error, applicant: click.applicantId }, 'could not open a modal');
    await tellUser(args.client, deps.log, click, 'Slack did not open the form in time; please click again.');
  }
}

async function alreadyDecided(
  args: ButtonArgs,
  deps: ApplicantSlackDeps,
  click: Click,
  record: ApplicationRecord,
): Promise<void> {
  await tellUser(args.client, deps.log, click, alreadyDecidedText(record));
  await refreshApplicantCard(deps.cards, await withCard(deps, record, click));
}

/** Wraps a handler so an unexpected failure answers the clicker with a readable line, and is logged. */
function guarded(
  handler: (args: ButtonArgs, deps: ApplicantSlackDeps) => Promise<void>,
  deps: ApplicantSlackDeps,
): (args: ButtonArgs) => Promise<void> {
  return async (args) => {
    try {
      await handler(args, deps);
    } catch (error) {
      deps.log.error({ err: error, action: args.action.action_id }, 'applicant button failed');
      await tellUser(args.client, deps.log, clickOf(args, deps), describeError(error));
    }
  };
}

export function register(app: App, deps: ApplicantSlackDeps): void {
  app.action<BlockAction<ButtonAction>>(APPLICANT_ACTIONS.approve, guarded(handleApprove, deps));
  app.action<BlockAction<ButtonAction>>(APPLICANT_ACTIONS.retry, guarded(handleApprove, deps));
  app.action<BlockAction<ButtonAction>>(APPLICANT_ACTIONS.quota, guarded(handleQuota, deps));
  app.action<BlockAction<ButtonAction>>(APPLICANT_ACTIONS.reject, guarded(handleReject, deps));
  app.action<BlockAction<ButtonAction>>(APPLICANT_ACTIONS.join, guarded(handleJoin, deps));
  app.action<BlockAction<ButtonAction>>(APPLICANT_ACTIONS.rename, guarded(handleRename, deps));
  app.action<BlockAction<ButtonAction>>(
    APPLICANT_ACTIONS.convertAccount,
    guarded(handleLocalAccount('convert'), deps),
  );
  app.action<BlockAction<ButtonAction>>(
    APPLICANT_ACTIONS.keepLocalAccount,
    guarded(handleLocalAccount('keep_local'), deps),
  );
}
