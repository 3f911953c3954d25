import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { parseCommand } from '../../../commands/parse.js';
import { helpText } from '../../../views/help.js';
import type { App } from '../app.js';

type CommandArgs = SlackCommandMiddlewareArgs & AllMiddlewareArgs;

export async function handleKaizenCommand({ command, ack }: CommandArgs): Promise<void> {
  const parsed = parseCommand(command.text);
  const prefix = parsed.unknown ? `I don't know \`${parsed.unknown}\`.\n\n` : '';
  await ack({ response_type: 'ephemeral', text: prefix + helpText(command.command || '/kaizen') });
}

export function register(app: App): void {
  app.command('/kaizen', handleKaizenCommand);
}
