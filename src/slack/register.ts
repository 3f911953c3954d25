import type { Services } from '../services.js';
import type { AdminDirectory } from './admins.js';
import type { App } from './app.js';
import { register as registerAppHome } from './listeners/app-home.js';
import { register as registerKaizenCommand } from './listeners/kaizen-command.js';
import { register as registerKaizenReset } from './listeners/kaizen-reset.js';

export interface SlackDeps {
  services: Services;
  admins: AdminDirectory;
}

/** Every Slack surface registers its listeners here, one module each. */
export function registerListeners(app: App, deps: SlackDeps): void {
  registerKaizenCommand(app, deps);
  registerAppHome(app, deps);
  registerKaizenReset(app, deps);
}
