/**
 * The Reject modal's submission: a reason is required; the applicant is rejected (emailed when
 * the box is ticked, the sheet row marked) and the card says who rejected and why.
 */

import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import {
  ADMIN_CHECK_FAILED,
  APPLICATION_GONE,
  alreadyDecidedText,
  notAllowedText,
} from '../../../views/applicant-replies.js';
import {
  REJECT_MODAL_CALLBACK,
  REJECT_REASON_BLOCK,
  REJECT_REASON_MAX,
  readRejectModal,
} from '../../../views/reject-modal.js';
import { rejectApplicant } from '../../domain/provision/reject.js';
import { describeError, isKaizenError } from '../../platform/errors.js';
import type { App } from '../app.js';
import { refreshApplicantCard } from '../applicant-cards.js';
import { type ApplicantSlackDeps, adminCheck, tellUser } from '../applicant-deps.js';

type SubmitArgs = SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs;

const reasonError = (args: SubmitArgs, message: string) =>
  args.ack({ response_action: 'errors', errors: { [REJECT_REASON_BLOCK]: message } });

export async function handleRejectSubmission(args: SubmitArgs, deps: ApplicantSlackDeps): Promise<void> {
  const { body, view } = args;
  const user = body.user.id;
  const admin = await adminCheck(deps, user);
  if (admin !== true) {
    // Modal errors are plain text: a channel mention would show as its raw id.
    const refusal = notAllowedText(deps.adminChannel).replace(/<#[A-Z0-9]+>/g, 'the admin channel');
    await reasonError(args, admin === undefined ? ADMIN_CHECK_FAILED : refusal);
    return;
  }
  if (!deps.decisions) {
    await reasonError(args, 'The approval workflow is not set up on this bot.');
    return;
  }
  const { reason, notifyApplicant } = readRejectModal(view.state.values);
  if (reason === '') {
    await reasonError(args, 'Give a reason: it is shown on the card, and emailed when you tick the box.');
    return;
  }
  if (reason.length > REJECT_REASON_MAX) {
    await reasonError(args, `Keep the reason under ${REJECT_REASON_MAX} characters.`);
    return;
  }
  let outcome: Awaited<ReturnType<typeof rejectApplicant>>;
  try {
    outcome = await rejectApplicant(deps.decisions, view.private_metadata, user, { reason, notifyApplicant });
  } catch (error) {
    if (!isKaizenError(error)) deps.log.error({ err: error }, 'rejecting failed');
    await reasonError(args, describeError(error));
    return;
  }
  switch (outcome.kind) {
    case 'not_found':
      await reasonError(args, APPLICATION_GONE);
      return;
    case 'busy':
      await reasonError(
        args,
        'Another admin is approving this applicant right now; it can no longer be rejected.',
      );
      return;
    case 'rejected':
      await args.ack();
      await refreshApplicantCard(deps.cards, outcome.record);
      return;
    case 'already_rejected':
    case 'approved': {
      await args.ack();
      const card = outcome.record.card;
      await tellUser(
        args.client,
        deps.log,
        { channel: card?.channel ?? deps.adminChannel, user },
        alreadyDecidedText(outcome.record),
      );
      await refreshApplicantCard(deps.cards, outcome.record);
      return;
    }
  }
}

export function register(app: App, deps: ApplicantSlackDeps): void {
  app.view<ViewSubmitAction>(REJECT_MODAL_CALLBACK, (args) => handleRejectSubmission(args, deps));
}
