/**
 * What Slack would show the person acting in the demo, built from the Slack stand-in: the #admin
 * channel with threads, the messages only they see (posted ephemerals, replies in a command's
 * answer, posts to the response URLs of their actions) and the modal open for them. Slack keeps
 * this per user on its side; the stand-in records only API calls, so the demo keeps the rest here.
 */
import { randomBytes } from 'node:crypto';
import type { SlackFake, SlackStoredMessage, SlackStoredView } from '../slack-fake.js';
import { asRecord, asString } from './html.js';
import type { ChannelItem, OpenDialog } from './page.js';
import { typedValues } from './view-state.js';

interface AckReply {
  user: string;
  ts: string;
  text: string | undefined;
  blocks: unknown[] | undefined;
}

/** Slack's `ts`: seconds with microseconds, as a string. */
const tsOf = (at: Date) => (at.getTime() / 1000).toFixed(6);
const isTrue = (value: unknown) => value === true || value === 'true';

export class SlackScreen {
  private readonly viewOwners = new Map<string, string>();
  private readonly closedViews = new Set<string>();
  private readonly viewErrors = new Map<
    string,
    { errors: Record<string, string>; values: Record<string, string[]> }
  >();
  private readonly viewReplacements = new Map<string, { view: Record<string, unknown>; hash: string }>();
  private readonly responseOwners = new Map<string, string>();
  /** Response URLs of clicks on ephemeral messages: `replace_original` there changes that message. */
  private readonly ephemeralTargets = new Map<string, string>();
  private readonly ackReplies: AckReply[] = [];
  /** Slack tells which user a view was opened for; the stand-in does not: it is whoever acted last. */
  private lastActor: string;

  constructor(
    private readonly slack: SlackFake,
    private readonly channel: string,
    firstActor: string,
  ) {
    this.lastActor = firstActor;
  }

  /**
   * A response URL for something `actor` does now; `message` is the channel message acted on, or
   * the ts of an ephemeral one.
   */
  responseUrl(actor: string, message?: { channel: string; ts: string } | { ephemeralTs: string }): string {
    this.actingAs(actor);
    const id = randomBytes(8).toString('hex');
    this.responseOwners.set(id, actor);
    if (message !== undefined && 'ephemeralTs' in message) {
      this.ephemeralTargets.set(id, message.ephemeralTs);
      return this.slack.responseUrl(id);
    }
    return this.slack.responseUrl(id, message);
  }

  /** Views the bot opens from now on are for `actor` (what they do next may open one). */
  actingAs(actor: string): void {
    this.lastActor = actor;
  }

  /** A reply in the HTTP answer itself (a command's ack) is shown to the sender alone, as Slack does. */
  answered(actor: string, result: { json?: unknown; text: string }): void {
    const body = asRecord(result.json);
    const text = body ? asString(body.text) : result.text.trim() || undefined;
    const blocks = Array.isArray(body?.blocks) ? body.blocks : undefined;
    if (text !== undefined || blocks !== undefined) {
      this.ackReplies.push({ user: actor, ts: tsOf(new Date()), text, blocks });
    }
  }

  private modalsOf(actor: string): SlackStoredView[] {
    const modals = this.slack.modals();
    for (const modal of modals) {
      if (!this.viewOwners.has(modal.id)) this.viewOwners.set(modal.id, this.lastActor);
    }
    return modals.filter(
      (modal) => this.viewOwners.get(modal.id) === actor && !this.closedViews.has(modal.id),
    );
  }

  /** The modal on top for `actor`, with the errors of its last submit. */
  dialog(actor: string): (OpenDialog & { hash: string }) | undefined {
    const stored = this.modalsOf(actor).at(-1);
    if (stored === undefined) return undefined;
    const replaced = this.viewReplacements.get(stored.id);
    const view = replaced && replaced.hash === stored.hash ? replaced.view : stored.view;
    const errors = this.viewErrors.get(stored.id);
    return {
      viewId: stored.id,
      view,
      hash: stored.hash,
      errors: errors?.errors ?? {},
      values: errors?.values ?? {},
    };
  }

  close(viewId: string): void {
    this.closedViews.add(viewId);
  }

  /** What the bot's answer to a `view_submission` does to the dialog, as Slack applies it. */
  submitted(
    open: OpenDialog & { hash: string },
    answer: Record<string, unknown>,
    form: URLSearchParams,
    actor: string,
  ): void {
    switch (answer.response_action) {
      case 'errors': {
        const errors: Record<string, string> = {};
        for (const [block, message] of Object.entries(asRecord(answer.errors) ?? {}))
          errors[block] = String(message);
        this.viewErrors.set(open.viewId, { errors, values: typedValues(form) });
        return;
      }
      // A pushed view is shown in place of the submitted one: the demo keeps no stack of its own.
      case 'update':
      case 'push': {
        const view = asRecord(answer.view);
        if (view) this.viewReplacements.set(open.viewId, { view, hash: open.hash });
        this.viewErrors.delete(open.viewId);
        return;
      }
      case 'clear':
        for (const modal of this.modalsOf(actor)) this.closedViews.add(modal.id);
        return;
      default:
        this.closedViews.add(open.viewId);
    }
  }

  /** The channel as `actor` sees it, oldest first: messages with their threads, and what only they see. */
  items(actor: string): ChannelItem[] {
    const top = new Map<string, ChannelItem>();
    const items: ChannelItem[] = [];
    for (const message of this.slack.messages(this.channel).filter((one) => !one.deleted)) {
      const parent = message.threadTs === undefined ? undefined : top.get(message.threadTs);
      const item = messageItem(message);
      if (parent && message.threadTs !== message.ts) parent.replies.push(item);
      else {
        top.set(message.ts, item);
        items.push(item);
      }
    }
    const ephemeral = (ts: string, text: string | undefined, blocks: unknown[] | undefined): ChannelItem => ({
      kind: 'ephemeral',
      channel: this.channel,
      ts,
      text,
      blocks,
      edited: false,
      replies: [],
    });
    for (const posted of this.slack.ephemerals(actor))
      items.push(ephemeral(posted.messageTs, posted.text, posted.blocks));
    for (const reply of this.ackReplies) {
      if (reply.user === actor) items.push(ephemeral(reply.ts, reply.text, reply.blocks));
    }
    for (const posted of this.slack.responses) {
      const body = asRecord(posted.body);
      if (this.responseOwners.get(posted.id) !== actor || body === undefined) continue;
      const text = asString(body.text);
      const blocks = Array.isArray(body.blocks) ? body.blocks : undefined;
      if (isTrue(body.replace_original) || isTrue(body.delete_original)) {
        // The stand-in changes a replaced channel message itself; an ephemeral one only the demo shows.
        const target = this.ephemeralTargets.get(posted.id);
        const at = items.findIndex((item) => item.kind === 'ephemeral' && item.ts === target);
        const found = items[at];
        if (found === undefined) continue;
        if (isTrue(body.delete_original)) items.splice(at, 1);
        else items[at] = { ...found, text, blocks, edited: true };
        continue;
      }
      if (body.response_type === 'in_channel') continue;
      items.push(ephemeral(tsOf(posted.at), text, blocks));
    }
    return items.sort((a, b) => Number(a.ts) - Number(b.ts));
  }
}

function messageItem(message: SlackStoredMessage): ChannelItem {
  return {
    kind: 'message',
    channel: message.channel,
    ts: message.ts,
    text: message.text,
    blocks: message.blocks,
    edited: message.updates > 0,
    replies: [],
  };
}
