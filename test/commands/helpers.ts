/**
 * Shared by the /kaizen tests: signed slash commands whose reply is read from the ack or, when
 * the bot answered "working on it", from the later post to the response URL; applicants to seed.
 */

import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import type { Applicant } from '../../src/domain/intake/applicant.js';
import { sampleApplicant } from '../support/applicants.js';
import { TEST_SIGNING_SECRET, type TestBot } from '../support/bot.js';
import type { SlackFake } from '../support/slack-fake.js';
import { type SlackHttpResult, sendBlockAction, sendSlashCommand } from '../support/slack-sign.js';

export const ADMIN = 'U0ADMIN';
export const OUTSIDER = 'U0OUTSIDER';

export interface CommandReply {
  status: number;
  /** The ack's own text, or the text sent later through the response URL. */
  text: string;
  /** Every block's text, joined, so assertions can look at what a person sees. */
  blocksText: string;
  blocks: unknown[];
  /** Every button in the reply: action id and value. */
  buttons: { actionId: string; value: string; text: string }[];
  /** Whether the answer came later, through the response URL. */
  deferred: boolean;
  raw: SlackHttpResult;
}

interface ReplyBody {
  response_type?: string;
  text?: string;
  blocks?: unknown[];
}

export async function kaizen(
  running: TestBot,
  slack: SlackFake,
  text: string,
  user: string = ADMIN,
): Promise<CommandReply> {
  const id = randomBytes(6).toString('hex');
  const raw = await sendSlashCommand(running.eventsUrl, TEST_SIGNING_SECRET, {
    text,
    user_id: user,
    response_url: slack.responseUrl(id),
  });
  expect(raw.status).toBe(200);
  const ack = raw.json as ReplyBody | undefined;
  expect(ack?.response_type).toBe('ephemeral');
  if (!ack?.text?.includes('Working on it')) return toReply(raw, ack ?? {}, false);
  const post = await slack.waitFor(
    () => slack.responses.find((r) => r.id === id),
    10_000,
    `the answer to "/kaizen ${text}" on its response URL`,
  );
  const body = post.body as ReplyBody;
  expect(body.response_type).toBe('ephemeral');
  return toReply(raw, body, true);
}

/** Presses a button of an ephemeral reply; the answer comes through that reply's response URL. */
export async function press(
  running: TestBot,
  slack: SlackFake,
  button: { actionId: string; value: string },
  user: string = ADMIN,
): Promise<{ status: number; responseId: string }> {
  const responseId = randomBytes(6).toString('hex');
  const raw = await sendBlockAction(running.eventsUrl, TEST_SIGNING_SECRET, {
    user,
    actionId: button.actionId,
    value: button.value,
    blockId: 'kaizen_reset',
    response_url: slack.responseUrl(responseId),
  });
  return { status: raw.status, responseId };
}

/** The last post to a response URL whose text matches `pattern`, once it arrives. */
export async function responseMatching(
  slack: SlackFake,
  responseId: string,
  pattern: RegExp,
): Promise<ReplyBody> {
  const post = await slack.waitFor(
    () =>
      slack.responses
        .filter((r) => r.id === responseId)
        .map((r) => r.body as ReplyBody)
        .find((body) => pattern.test(`${body.text ?? ''}\n${blockTexts(body.blocks ?? []).join('\n')}`)),
    15_000,
    `a response matching ${pattern}`,
  );
  return post;
}

function toReply(raw: SlackHttpResult, body: ReplyBody, deferred: boolean): CommandReply {
  const blocks = body.blocks ?? [];
  return {
    status: raw.status,
    text: body.text ?? '',
    blocksText: blockTexts(blocks).join('\n'),
    blocks,
    buttons: buttonsOf(blocks),
    deferred,
    raw,
  };
}

export function blockTexts(blocks: unknown[]): string[] {
  const out: string[] = [];
  const visit = (node: unknown) => {
    if (Array.isArray(node)) node.forEach(visit);
    else if (node && typeof node === 'object') {
      const record = node as Record<string, unknown>;
      if (typeof record.text === 'string') out.push(record.text);
      for (const value of Object.values(record)) if (typeof value === 'object') visit(value);
    }
  };
  visit(blocks);
  return out;
}

function buttonsOf(blocks: unknown[]): CommandReply['buttons'] {
  const out: CommandReply['buttons'] = [];
  for (const block of blocks as { type?: string; elements?: Record<string, unknown>[] }[]) {
    if (block.type !== 'actions') continue;
    for (const element of block.elements ?? []) {
      if (element.type !== 'button') continue;
      out.push({
        actionId: String(element.action_id),
        value: String(element.value),
        text: String((element.text as { text?: string } | undefined)?.text ?? ''),
      });
    }
  }
  return out;
}

/** No stack frames, no internal error names, no source paths: only words meant for a person. */
export function expectReadable(text: string): void {
  expect(text.trim().length).toBeGreaterThan(0);
  expect(text).not.toMatch(/\n\s+at\s|\b(TypeError|ReferenceError|SyntaxError)\b|node_modules|\.[jt]s:\d+/);
  expect(text).not.toMatch(/undefined|\[object Object\]/);
}

export function applicant(overrides: Partial<Applicant> & { email: string }): Applicant {
  return sampleApplicant({
    project: { kind: 'new', name: 'Ann Lab', description: 'research' },
    ...overrides,
  });
}
