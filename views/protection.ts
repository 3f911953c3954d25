/**
 * Why the bot refuses to touch an account or let an application join a project, in words for Slack,
 * the terminal and the API. The rule and its reason codes are in src/domain/accounts/protection.ts.
 */
import type { AccountProtection, ProjectProtection } from '../src/domain/accounts/protection.js';

const ACCOUNT_REASONS: Record<AccountProtection, string> = {
  bot_account: "it is the bot's own Keystone account",
  listed_user: 'it is listed in KAIZEN_PROTECTED_USERS',
  other_domain: 'it is outside the domain the bot manages (KAIZEN_DOMAIN)',
  admin_role: 'it holds the cloud admin role (KAIZEN_ADMIN_ROLE)',
  admin_project: 'it has a role on the admin project (OS_PROJECT_NAME)',
  service_project: 'it is a member of the service project (KAIZEN_SERVICE_PROJECT)',
};

const PROJECT_REASONS: Record<ProjectProtection, string> = {
  admin_project: 'it is the admin project (OS_PROJECT_NAME)',
  service_project: 'it is the service project (KAIZEN_SERVICE_PROJECT)',
  listed_project: 'it is listed in KAIZEN_PROTECTED_PROJECTS',
};

export function accountProtectionReason(reason: AccountProtection): string {
  return ACCOUNT_REASONS[reason];
}

export function projectProtectionReason(reason: ProjectProtection): string {
  return PROJECT_REASONS[reason];
}

/** One sentence: what was refused, about whom, and why; plain text (callers escape for Slack). */
export function protectedAccountText(what: string, username: string, reason: AccountProtection): string {
  return `${what} refused for ${username}: ${ACCOUNT_REASONS[reason]}. The bot never changes or sends links to the cloud's operator and service accounts; do it with the OpenStack tools if it is really meant.`;
}

/** Why an application can never join this project. */
export function protectedProjectText(name: string, reason: ProjectProtection): string {
  return `The project ${name} can never be joined through an application: ${PROJECT_REASONS[reason]}.`;
}

/** Why the admin channel cannot decide who the admins are, and what to do about it. */
export function adminChannelProblemText(
  channel: string,
  problem: 'public' | 'shared' | 'unreadable',
  error?: string,
): string {
  const fix = 'make it private and unshared, or name the admins in SLACK_ADMINS';
  switch (problem) {
    case 'public':
      return `SLACK_ADMIN_CHANNEL ${channel} is a public channel: anyone could join it and become an admin; ${fix}.`;
    case 'shared':
      return `SLACK_ADMIN_CHANNEL ${channel} is shared with another organisation (Slack Connect), so people outside the workspace would be admins; ${fix}.`;
    case 'unreadable':
      return `SLACK_ADMIN_CHANNEL ${channel} could not be read (${error ?? 'no answer'}): invite the bot and give it the channels:read and groups:read scopes, or name the admins in SLACK_ADMINS.`;
  }
}
