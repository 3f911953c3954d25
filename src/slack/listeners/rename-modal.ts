/**
 * The Rename modal's submission: the new project name is checked again (taken in any case, or a
 * protected project's) and answered in the modal; a good name goes on the application, and the
 * approval that stopped at the taken name goes on.
 */

import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { APPLICATION_GONE } from '../../../views/applicant-replies.js';
import {
  badNameText,
  RENAME_MODAL_CALLBACK,
  RENAME_NAME_BLOCK,
  readRenameModal,
  renameRefusal,
} from '../../../views/rename-modal.js';
import { renameNewProject } from '../../domain/provision/project-choice.js';
import { describeError, isKaizenError } from '../../platform/errors.js';
import type { App } from '../app.js';
import { refreshApplicantCard } from '../applicant-cards.js';
import type { ApplicantSlackDeps } from '../applicant-deps.js';
import { provisionInBackground } from './applicant-actions.js';

type SubmitArgs = SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs;

const nameError = (args: SubmitArgs, message: string) =>
  args.ack({ response_action: 'errors', errors: { [RENAME_NAME_BLOCK]: message } });

export async function handleRenameSubmission(args: SubmitArgs, deps: ApplicantSlackDeps): Promise<void> {
  const { body, view } = args;
  const provision = deps.provision;
  if (!provision) {
    await nameError(args, 'Approving needs Keystone: set OS_AUTH_URL and the admin credentials.');
    return;
  }
  let outcome: Awaited<ReturnType<typeof renameNewProject>>;
  try {
    outcome = await renameNewProject(
      provision,
      view.private_metadata,
      readRenameModal(view.state.values),
      body.user.id,
    );
  } catch (error) {
    if (!isKaizenError(error)) deps.log.error({ err: error }, 'renaming a project failed');
    await nameError(args, describeError(error));
    return;
  }
  switch (outcome.kind) {
    case 'started':
      await args.ack();
      provisionInBackground(deps, provision, outcome.record, { message: outcome.record.card });
      return;
    case 'name_taken':
      await nameError(args, renameRefusal(outcome.clash));
      return;
    case 'invalid_name':
      await nameError(args, badNameText(outcome.max));
      return;
    case 'not_found':
      await nameError(args, APPLICATION_GONE);
      return;
    default:
      await nameError(args, 'This application is not waiting for a new project name any more.');
      await refreshApplicantCard(deps.cards, outcome.record);
  }
}

export function register(app: App, deps: ApplicantSlackDeps): void {
  app.view<ViewSubmitAction>(RENAME_MODAL_CALLBACK, (args) => handleRenameSubmission(args, deps));
}
