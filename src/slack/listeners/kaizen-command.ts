/**
 * `/kaizen`: parse, check the caller, run the shared handler, answer ephemerally. Slack wants an
 * answer within 3 seconds and, with `processBeforeResponse`, the ack body is the HTTP answer: a
 * command that finishes within the budget is answered in the ack itself; a slower one is acked
 * with "working on it" and answered through `respond` when done, in the background.
 */
import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { runCommand } from '../../../commands/index.js';
import { parseCommand } from '../../../commands/parse.js';
import type { CommandResult } from '../../../commands/results.js';
import type { Caller } from '../../../commands/types.js';
import { ephemeral, type SlackReply, slackReply, WORKING_ON_IT } from '../../../views/commands/slack.js';
import { describeError } from '../../platform/errors.js';
import type { App } from '../app.js';
import type { SlackDeps } from '../deps.js';

type CommandArgs = SlackCommandMiddlewareArgs & AllMiddlewareArgs;

/** Time left for the command itself once Slack's 3 s, the admin check and the network are taken out. */
export const ANSWER_BUDGET_MS = 1_500;

export async function handleKaizenCommand(args: CommandArgs, deps: SlackDeps): Promise<void> {
  const { command, ack, respond, client, context } = args;
  const { log, inflight } = deps;
  const started = Date.now();
  const parsed = parseCommand(command.text);
  if (parsed.name === 'help') {
    await ack(ephemeral(slackReply({ kind: 'help', unknown: parsed.unknown })));
    return;
  }
  // The admin gate (src/slack/admin-gate.ts) asked already.
  const isAdmin = context.isAdmin as boolean | undefined;
  if (isAdmin === undefined) {
    await ack(
      ephemeral({
        text: `:x: Could not check whether you are an admin: ${String(context.adminCheckFailure ?? 'Slack did not answer.')} Try again in a moment.`,
      }),
    );
    return;
  }
  const caller: Caller = { via: 'slack', userId: command.user_id, isAdmin };
  const work = runCommand(deps.commands(client), caller, {
    name: parsed.name,
    words: parsed.args,
  }).catch((error: unknown): CommandResult => {
    log.error({ err: error, command: parsed.name }, '/kaizen failed');
    return { kind: 'failed', command: parsed.name, errorKind: 'internal', message: describeError(error) };
  });
  const quick = await within(work, ANSWER_BUDGET_MS - (Date.now() - started));
  if (quick !== undefined) {
    await ack(ephemeral(slackReply(quick)));
    return;
  }
  await ack(ephemeral(WORKING_ON_IT));
  void inflight.run(`/kaizen ${parsed.name}`, async () => {
    const reply: SlackReply = slackReply(await work);
    await respond({ response_type: 'ephemeral', ...reply });
  });
}

/** The result when `work` settles within `ms`, else undefined. */
async function within(work: Promise<CommandResult>, ms: number): Promise<CommandResult | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), Math.max(0, ms));
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

export function register(app: App, deps: SlackDeps): void {
  app.command('/kaizen', (args) => handleKaizenCommand(args, deps));
}
