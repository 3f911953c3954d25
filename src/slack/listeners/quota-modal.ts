/**
 * The Quota modal's submission: checks every field (whole numbers, -1 for unlimited) and answers
 * mistakes in the modal itself; a good choice is saved on the application and the card redrawn.
 */

import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { ADMIN_CHECK_FAILED, APPLICATION_GONE, notAllowedText } from '../../../views/applicant-replies.js';
import {
  QUOTA_MODAL_CALLBACK,
  QUOTA_PRESET_BLOCK,
  quotaBlockId,
  readQuotaModal,
} from '../../../views/quota-modal.js';
import { setQuotaChoice } from '../../domain/provision/quota-choice.js';
import { adjustPorts, parseQuotaInput } from '../../domain/quotas/resolve.js';
import type { QuotaChoice, QuotaKey } from '../../domain/quotas/types.js';
import { describeError, isKaizenError } from '../../platform/errors.js';
import type { App } from '../app.js';
import { refreshApplicantCard } from '../applicant-cards.js';
import { type ApplicantSlackDeps, adminCheck } from '../applicant-deps.js';

type SubmitArgs = SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs;

/** Modal errors are plain text: no mentions or links. */
const errors = (args: SubmitArgs, byBlock: Record<string, string>) =>
  args.ack({ response_action: 'errors', errors: byBlock });

export async function handleQuotaSubmission(args: SubmitArgs, deps: ApplicantSlackDeps): Promise<void> {
  const { body, view } = args;
  const admin = await adminCheck(deps, body.user.id);
  if (admin !== true) {
    const message =
      admin === undefined ? ADMIN_CHECK_FAILED : stripMentions(notAllowedText(deps.adminChannel));
    await errors(args, { [QUOTA_PRESET_BLOCK]: message });
    return;
  }
  const decisions = deps.decisions;
  if (!decisions) {
    await errors(args, { [QUOTA_PRESET_BLOCK]: 'The approval workflow is not set up on this bot.' });
    return;
  }
  const { presets, defaultPreset } = deps.cards;
  const input = readQuotaModal(view.state.values);
  const preset = input.preset ?? defaultPreset;
  const base = presets[preset];
  if (!base) {
    await errors(args, { [QUOTA_PRESET_BLOCK]: `Choose one of ${Object.keys(presets).join(', ')}.` });
    return;
  }
  const parsed = parseQuotaInput(input.fields);
  if (!parsed.ok) {
    const byBlock: Record<string, string> = {};
    for (const [key, message] of Object.entries(parsed.errors)) {
      byBlock[quotaBlockId(key as QuotaKey)] = message ?? 'Enter a whole number, or -1 for unlimited';
    }
    await errors(args, byBlock);
    return;
  }
  // Overrides are laid over the chosen preset here, so the stored custom values are complete and
  // do not depend on which preset is the default later.
  const given = parsed.values;
  const choice: QuotaChoice =
    Object.keys(given).length === 0
      ? { kind: 'preset', preset }
      : { kind: 'custom', values: adjustPorts({ ...base, ...given }, given) };

  let outcome: Awaited<ReturnType<typeof setQuotaChoice>>;
  try {
    outcome = await setQuotaChoice(decisions, view.private_metadata, choice, body.user.id);
  } catch (error) {
    if (!isKaizenError(error)) deps.log.error({ err: error }, 'saving a quota choice failed');
    await errors(args, { [QUOTA_PRESET_BLOCK]: describeError(error) });
    return;
  }
  if (outcome.kind === 'not_found') {
    await errors(args, { [QUOTA_PRESET_BLOCK]: APPLICATION_GONE });
    return;
  }
  if (outcome.kind === 'locked') {
    await errors(args, {
      [QUOTA_PRESET_BLOCK]: `This applicant is ${outcome.record.state} already; the quota can no longer change.`,
    });
    await refreshApplicantCard(deps.cards, outcome.record);
    return;
  }
  await args.ack();
  await refreshApplicantCard(deps.cards, outcome.record);
}

function stripMentions(text: string): string {
  return text.replace(/<#[A-Z0-9]+>/g, 'the admin channel');
}

export function register(app: App, deps: ApplicantSlackDeps): void {
  app.view<ViewSubmitAction>(QUOTA_MODAL_CALLBACK, (args) => handleQuotaSubmission(args, deps));
}
