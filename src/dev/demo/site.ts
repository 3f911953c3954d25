/**
 * The demo's web server: renders the page and turns what a person does on it into what Slack and
 * the form would send the bot — rows in the stand-in sheet, and signed slash commands,
 * `block_actions` and `view_submission` requests as the user chosen to act as.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { SheetField } from '../../intake/columns.js';
import type { KeystoneClient } from '../../keystone/index.js';
import { closeNow, readBody } from '../local-http.js';
import type { SlackStoredView } from '../slack-fake.js';
import {
  blockActionPayload,
  payloadBody,
  sendSigned,
  sendSlashCommand,
  viewSubmissionPayload,
} from '../slack-sign.js';
import { asRecord, asString } from './html.js';
import { mailPage } from './mail-view.js';
import { APPLICATION_FIELDS, type ChannelItem, demoPage, type KeystoneRow, type OpenDialog } from './page.js';
import { typedValues, viewStateValues } from './view-state.js';
import { addApplication, DEMO_ADMIN_CHANNEL, type DemoWorld, formTimestamp, PEOPLE } from './world.js';

export interface DemoSiteOptions {
  world: DemoWorld;
  eventsUrl: string;
  signingSecret: string;
  keystone: KeystoneClient;
  keystoneUrl: string;
  /** Keystone domain id of the users and projects the bot creates. */
  domainId: string;
}

interface AckReply {
  user: string;
  ts: string;
  text: string | undefined;
  blocks: unknown[] | undefined;
}

const ACTOR_COOKIE = 'demo-actor';

/** Slack's `ts`: seconds with microseconds, as a string. */
const tsOf = (at: Date) => (at.getTime() / 1000).toFixed(6);

export class DemoSite {
  private server: Server | undefined;
  private baseUrl = '';
  private readonly applications: { email: string; project: string }[] = [];
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
  private readonly flashes = new Map<string, string>();
  private lastActor: string = PEOPLE[0]?.id ?? '';
  private sampleTag = randomBytes(3).toString('hex');
  private changes = 0;

  constructor(private readonly options: DemoSiteOptions) {}

  async listen(port: number): Promise<string> {
    const server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        response.end(`The demo failed: ${String(error)}`);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    const address = server.address();
    this.baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : port}`;
    return this.baseUrl;
  }

  async close(): Promise<void> {
    if (this.server) await closeNow(this.server);
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const actor = this.actorOf(request);
    if (request.method === 'GET') {
      if (url.pathname === '/') return this.sendPage(response, actor);
      if (url.pathname === '/version') return send(response, 200, 'text/plain', this.version(actor));
      const mail = /^\/mail\/(\d+)$/.exec(url.pathname);
      if (mail) return this.sendMail(response, Number(mail[1]));
      return send(response, 404, 'text/plain', 'Not found');
    }
    if (request.method !== 'POST') return send(response, 405, 'text/plain', 'Method not allowed');
    const form = new URLSearchParams(await readBody(request));
    // A note about the last thing done stays (the page reloads often) until the next thing is done.
    this.flashes.delete(actor);
    switch (url.pathname) {
      case '/as': {
        const chosen = PEOPLE.find((person) => person.id === form.get('actor'));
        if (chosen) response.setHeader('set-cookie', `${ACTOR_COOKIE}=${chosen.id}; Path=/; SameSite=Strict`);
        break;
      }
      case '/apply':
        this.apply(form, actor);
        break;
      case '/command':
        await this.command(form.get('text') ?? '', actor);
        break;
      case '/act':
        await this.act(form, actor);
        break;
      case '/submit':
        await this.submit(form, actor);
        break;
      case '/close':
        this.closedViews.add(form.get('view_id') ?? '');
        break;
      default:
        return send(response, 404, 'text/plain', 'Not found');
    }
    this.changes += 1;
    response.writeHead(303, { location: '/' });
    response.end();
  }

  private actorOf(request: IncomingMessage): string {
    const cookie = /(?:^|;\s*)demo-actor=(\w+)/.exec(request.headers.cookie ?? '')?.[1];
    return PEOPLE.find((person) => person.id === cookie)?.id ?? PEOPLE[0]?.id ?? '';
  }

  private nameOf = (id: string): string | undefined =>
    PEOPLE.find((person) => person.id === id)?.name.replace(/ \(.*\)$/, '') ??
    (id === this.options.world.slack.botUserId ? 'Kaizen' : undefined);

  private apply(form: URLSearchParams, actor: string): void {
    const answers: Partial<Record<SheetField, string>> = { timestamp: formTimestamp(new Date()) };
    for (const field of APPLICATION_FIELDS) answers[field as SheetField] = (form.get(field) ?? '').trim();
    addApplication(this.options.world.sheets, answers);
    const email = answers.email ?? '';
    this.applications.push({ email, project: answers.newProjectName || answers.existingProjectName || '' });
    this.sampleTag = randomBytes(3).toString('hex');
    this.flashes.set(
      actor,
      `Added ${email}'s application to the sheet. The bot reads it at its next poll (every minute), or now with Sync now.`,
    );
  }

  private async command(text: string, actor: string): Promise<void> {
    const responseId = randomBytes(8).toString('hex');
    this.responseOwners.set(responseId, actor);
    this.lastActor = actor;
    const result = await sendSlashCommand(this.options.eventsUrl, this.options.signingSecret, {
      text: text.trim(),
      user_id: actor,
      user_name: this.nameOf(actor)?.toLowerCase(),
      channel_id: DEMO_ADMIN_CHANNEL,
      channel_name: 'admin',
      response_url: this.options.world.slack.responseUrl(responseId),
    });
    this.note(actor, `/kaizen ${text.trim()}`, result);
  }

  /** A reply in the HTTP answer itself (a command's ack) is shown to the sender alone, as Slack does. */
  private note(actor: string, what: string, result: { status: number; json?: unknown; text: string }): void {
    if (result.status !== 200) {
      this.flashes.set(actor, `${what}: the bot answered HTTP ${result.status}`);
      return;
    }
    const body = asRecord(result.json);
    const text = body ? asString(body.text) : result.text.trim() || undefined;
    const blocks = Array.isArray(body?.blocks) ? body.blocks : undefined;
    if (text !== undefined || blocks !== undefined) {
      this.ackReplies.push({ user: actor, ts: tsOf(new Date()), text, blocks });
    }
  }

  private async act(form: URLSearchParams, actor: string): Promise<void> {
    const slack = this.options.world.slack;
    const channel = form.get('channel') ?? '';
    const ts = form.get('ts') ?? '';
    const ephemeral = form.get('ephemeral') === '1';
    const stored = ephemeral ? undefined : slack.message(channel, ts);
    const responseId = randomBytes(8).toString('hex');
    this.responseOwners.set(responseId, actor);
    if (ephemeral) this.ephemeralTargets.set(responseId, ts);
    this.lastActor = actor;
    const payload = blockActionPayload({
      user: { id: actor, name: this.nameOf(actor)?.toLowerCase() ?? actor },
      actionId: form.get('action_id') ?? '',
      value: form.get('value') ?? '',
      blockId: form.get('block_id') ?? 'actions',
      message: { channel, ts, text: stored?.text ?? '', blocks: stored?.blocks ?? [] },
      response_url: slack.responseUrl(responseId, ephemeral ? undefined : { channel, ts }),
    });
    const actions = payload.actions;
    const first = Array.isArray(actions) ? asRecord(actions[0]) : undefined;
    if (first) first.text = { type: 'plain_text', text: form.get('label') ?? '', emoji: true };
    const container = asRecord(payload.container);
    if (container) container.is_ephemeral = ephemeral;
    const result = await sendSigned(
      this.options.eventsUrl,
      this.options.signingSecret,
      payloadBody(payload),
      'application/x-www-form-urlencoded',
    );
    if (result.status !== 200)
      this.flashes.set(actor, `The bot answered the click with HTTP ${result.status}`);
  }

  /** Views opened since the last look belong to whoever acted last. */
  private modalsOf(actor: string): SlackStoredView[] {
    const modals = this.options.world.slack.modals();
    for (const modal of modals)
      if (!this.viewOwners.has(modal.id)) this.viewOwners.set(modal.id, this.lastActor);
    return modals.filter(
      (modal) => this.viewOwners.get(modal.id) === actor && !this.closedViews.has(modal.id),
    );
  }

  private openDialog(actor: string): (OpenDialog & { hash: string }) | undefined {
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

  private async submit(form: URLSearchParams, actor: string): Promise<void> {
    const open = this.openDialog(actor);
    if (open === undefined || open.viewId !== form.get('view_id')) return;
    const blocks = Array.isArray(open.view.blocks) ? open.view.blocks : [];
    const values = viewStateValues(blocks, form);
    this.lastActor = actor;
    const payload = viewSubmissionPayload({
      user: { id: actor, name: this.nameOf(actor)?.toLowerCase() ?? actor },
      callbackId: asString(open.view.callback_id) ?? '',
      privateMetadata: asString(open.view.private_metadata) ?? '',
      values,
      viewId: open.viewId,
    });
    payload.view = {
      ...asRecord(payload.view),
      ...open.view,
      id: open.viewId,
      hash: open.hash,
      state: { values },
    };
    const result = await sendSigned(
      this.options.eventsUrl,
      this.options.signingSecret,
      payloadBody(payload),
      'application/x-www-form-urlencoded',
    );
    if (result.status !== 200) {
      this.flashes.set(actor, `The bot answered the submit with HTTP ${result.status}`);
      return;
    }
    const answer = asRecord(result.json) ?? {};
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

  private channelItems(actor: string): ChannelItem[] {
    const slack = this.options.world.slack;
    const messages = slack.messages(DEMO_ADMIN_CHANNEL).filter((message) => !message.deleted);
    const toItem = (message: (typeof messages)[number]): ChannelItem => ({
      kind: 'message',
      channel: message.channel,
      ts: message.ts,
      text: message.text,
      blocks: message.blocks,
      edited: message.updates > 0,
      replies: [],
    });
    const top = new Map<string, ChannelItem>();
    const items: ChannelItem[] = [];
    for (const message of messages) {
      const parent = message.threadTs === undefined ? undefined : top.get(message.threadTs);
      const item = toItem(message);
      if (parent && message.threadTs !== message.ts) parent.replies.push(item);
      else {
        top.set(message.ts, item);
        items.push(item);
      }
    }
    const ephemeral = (ts: string, text: string | undefined, blocks: unknown[] | undefined): ChannelItem => ({
      kind: 'ephemeral',
      channel: DEMO_ADMIN_CHANNEL,
      ts,
      text,
      blocks,
      edited: false,
      replies: [],
    });
    for (const posted of slack.ephemerals(actor))
      items.push(ephemeral(posted.messageTs, posted.text, posted.blocks));
    for (const reply of this.ackReplies)
      if (reply.user === actor) items.push(ephemeral(reply.ts, reply.text, reply.blocks));
    for (const posted of slack.responses) {
      const body = asRecord(posted.body);
      if (this.responseOwners.get(posted.id) !== actor || body === undefined) continue;
      const text = asString(body.text);
      const blocks = Array.isArray(body.blocks) ? body.blocks : undefined;
      const isTrue = (value: unknown) => value === true || value === 'true';
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

  private async keystoneRows(): Promise<{ rows: KeystoneRow[]; error: string | undefined }> {
    const { keystone, domainId } = this.options;
    try {
      const rows = await Promise.all(
        this.applications.map(async (application): Promise<KeystoneRow> => {
          const [project, user] = await Promise.all([
            application.project ? keystone.findProjectByName(application.project, domainId) : undefined,
            keystone.findUserByName(application.email.toLowerCase(), domainId),
          ]);
          const roles =
            project && user
              ? await keystone.listRoleAssignments({ userId: user.id, projectId: project.id })
              : [];
          return {
            application: application.email,
            project: application.project,
            projectId: project?.id,
            user: application.email.toLowerCase(),
            userId: user?.id,
            roles: roles.flatMap((role) => (role.roleName ? [role.roleName] : [])),
          };
        }),
      );
      return { rows, error: undefined };
    } catch (error) {
      return { rows: [], error: error instanceof Error ? error.message : String(error) };
    }
  }

  private version(actor: string): string {
    const { slack, smtp, sheets } = this.options.world;
    const open = this.openDialog(actor);
    return `${this.changes}.${slack.calls().length}.${slack.responses.length}.${smtp.messages.length}.${sheets.calls.length}|${open ? `${open.viewId}.${open.hash}` : ''}`;
  }

  private async sendPage(response: ServerResponse, actor: string): Promise<void> {
    const flash = this.flashes.get(actor);
    const tag = this.sampleTag;
    const keystone = await this.keystoneRows();
    const html = demoPage({
      people: PEOPLE,
      actor,
      nameOf: this.nameOf,
      flash,
      formDefaults: {
        email: `ann-${tag}@example.org`,
        firstName: 'Ann',
        lastName: 'Lee',
        hasAccount: 'No',
        organization: 'Boston University',
        role: 'Student',
        phone: '+1 617 555 0100',
        sponsor: 'Prof. Smith',
        pin: '',
        comment: 'For my thesis.',
        projectKind: 'New project',
        newProjectName: `ann-lab-${tag}`,
        newProjectDescription: 'Thesis experiments',
      },
      channelName: 'admin',
      items: this.channelItems(actor),
      dialog: this.openDialog(actor),
      mails: this.options.world.smtp.messages
        .map((mail, index) => ({ index, to: mail.to.join(', '), subject: mail.subject, at: mail.at }))
        .reverse(),
      keystone: { authUrl: this.options.keystoneUrl, ...keystone },
      version: this.version(actor),
    });
    send(response, 200, 'text/html; charset=utf-8', html);
  }

  private sendMail(response: ServerResponse, index: number): void {
    const mail = this.options.world.smtp.messages[index];
    if (mail === undefined) {
      send(response, 404, 'text/plain', 'No such mail');
      return;
    }
    // No script runs and nothing is fetched from elsewhere, in the page or in the message's frame.
    response.setHeader(
      'content-security-policy',
      "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-src 'self'",
    );
    send(response, 200, 'text/html; charset=utf-8', mailPage(mail));
  }
}

function send(response: ServerResponse, status: number, type: string, body: string): void {
  response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  response.end(body);
}
