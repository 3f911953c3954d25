/** The command core's deps (commands/deps.ts) for Slack and the CLI alike: only the surface differs. */
import { type CommandDeps, mailSettings, type SheetPoller, type Surface } from '../../../commands/deps.js';
import { AccountGuard, protectionPolicy } from '../../domain/accounts/protection.js';
import { ApplicationStore } from '../../domain/applications/store.js';
import { lastReminder } from '../../domain/reminders/user-reminders.js';
import { isEnabled } from '../../platform/config/config.js';
import type { Services } from '../services.js';

/**
 * The deps for these services. Slack and the CLI pass their own surface, and the sheet intake when
 * they built one themselves; everything else is the same clients the rest of the bot uses.
 */
export function commandDeps(
  services: Services,
  surface: Surface,
  parts: { sheet?: SheetPoller } = {},
): CommandDeps {
  const { config, redis } = services;
  return {
    log: services.log,
    redis,
    audit: services.audit,
    applications: services.applications ?? new ApplicationStore(redis),
    // OS_AUTH_URL alone gives a client without credentials: no use to a command.
    keystone: isEnabled(config, 'keystone') ? services.keystone : undefined,
    domainId: config.keystone.domain,
    accounts:
      services.keystone === undefined
        ? undefined
        : new AccountGuard(services.keystone, protectionPolicy(config)),
    links: services.setpass,
    outbox: services.mail,
    sheet: parts.sheet,
    reminders: { last: (userId) => lastReminder(redis, userId) },
    mail: mailSettings(config),
    surface,
    quotaPresets: services.quotaPresets,
    projectProtection: protectionPolicy(config),
  };
}
