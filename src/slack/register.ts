import type { Services } from '../services.js';
import type { AdminDirectory } from './admins.js';
import type { App } from './app.js';
import { register as registerKaizenCommand } from './listeners/kaizen-command.js';

export interface SlackDeps {
  services: Services;
  admins: AdminDirectory;
}

/** Every Slack surface registers its listeners here, one module each. */
export function registerListeners(app: App, _deps: SlackDeps): void {
  registerKaizenCommand(app);
}
