/**
 * The demo's web server: renders the page and turns what a person does on it into what Slack and
 * the form would send the bot — rows in the stand-in sheet, and signed slash commands,
 * `block_actions` and `view_submission` requests as the user chosen to act as.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { SheetField } from '../../domain/intake/columns.js';
import type { KeystoneClient } from '../../keystone/index.js';
import { closeNow, readBody } from '../local-http.js';
import {
  blockActionPayload,
  payloadBody,
  sendSigned,
  sendSlashCommand,
  viewSubmissionPayload,
} from '../slack-sign.js';
import { asRecord, asString } from './html.js';
import { mailPage } from './mail-view.js';
import { APPLICATION_FIELDS, demoPage, type KeystoneRow } from './page.js';
import { SlackScreen } from './slack-screen.js';
import { viewStateValues } from './view-state.js';
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

const ACTOR_COOKIE = 'demo-actor';

export class DemoSite {
  private server: Server | undefined;
  private baseUrl = '';
  private readonly applications: { email: string; project: string }[] = [];
  private readonly flashes = new Map<string, string>();
  private sampleTag = randomBytes(3).toString('hex');
  private changes = 0;

  private readonly screen: SlackScreen;

  constructor(private readonly options: DemoSiteOptions) {
    this.screen = new SlackScreen(options.world.slack, DEMO_ADMIN_CHANNEL, PEOPLE[0]?.id ?? '');
  }

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
        this.screen.close(form.get('view_id') ?? '');
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
    const result = await sendSlashCommand(this.options.eventsUrl, this.options.signingSecret, {
      text: text.trim(),
      user_id: actor,
      user_name: this.nameOf(actor)?.toLowerCase(),
      channel_id: DEMO_ADMIN_CHANNEL,
      channel_name: 'admin',
      response_url: this.screen.responseUrl(actor),
    });
    if (result.status === 200) this.screen.answered(actor, result);
    else this.flashes.set(actor, `/kaizen ${text.trim()}: the bot answered HTTP ${result.status}`);
  }

  private async act(form: URLSearchParams, actor: string): Promise<void> {
    const slack = this.options.world.slack;
    const channel = form.get('channel') ?? '';
    const ts = form.get('ts') ?? '';
    const ephemeral = form.get('ephemeral') === '1';
    const stored = ephemeral ? undefined : slack.message(channel, ts);
    const payload = blockActionPayload({
      user: { id: actor, name: this.nameOf(actor)?.toLowerCase() ?? actor },
      actionId: form.get('action_id') ?? '',
      value: form.get('value') ?? '',
      blockId: form.get('block_id') ?? 'actions',
      message: { channel, ts, text: stored?.text ?? '', blocks: stored?.blocks ?? [] },
      response_url: this.screen.responseUrl(actor, ephemeral ? { ephemeralTs: ts } : { channel, ts }),
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

  private async submit(form: URLSearchParams, actor: string): Promise<void> {
    const open = this.screen.dialog(actor);
    if (open === undefined || open.viewId !== form.get('view_id')) return;
    const blocks = Array.isArray(open.view.blocks) ? open.view.blocks : [];
    const values = viewStateValues(blocks, form);
    this.screen.actingAs(actor);
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
    this.screen.submitted(open, asRecord(result.json) ?? {}, form, actor);
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
    const open = this.screen.dialog(actor);
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
      items: this.screen.items(actor),
      dialog: this.screen.dialog(actor),
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
