import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { CommandResult } from '../../commands/results.js';
import { type CliIo, runCli } from '../../src/app/cli.js';
import { ADMIN_1, type Harness, OUTSIDER, startHarness } from '../approval/harness.js';
import { kaizen, press, responseMatching } from '../commands/helpers.js';
import { newMember } from '../keystone/fixtures.js';
import { type TestBot, uniquePrefix } from '../support/bot.js';

let world: Harness;
let bot: TestBot;
let prefix: string;

beforeAll(async () => {
  world = await startHarness('quotacmd');
  prefix = uniquePrefix('quotacmd');
  bot = await world.start(prefix);
});
afterAll(async () => {
  await world?.close();
});

const puts = (projectId: string) =>
  world.recorder.calls.filter((call) => call.method === 'PUT' && call.projectId === projectId);

describe('/kaizen quota', () => {
  it('shows the project quota and usage per key', async () => {
    const { project } = await newMember(world.keystone);
    world.recorder.setUsage('compute', project.id, { instances: 4 });
    world.recorder.setUsage('network', project.id, { port: 9 });
    const reply = await kaizen(bot, world.slack, `quota ${project.name}`, ADMIN_1);
    expect(reply.text).toBe(`Quota of ${project.name}`);
    expect(reply.blocksText).toContain(`Quota of *${project.name}* (\`${project.id}\`)`);
    expect(reply.blocksText).toMatch(/Quota +Current +In use\n/);
    expect(reply.blocksText).toMatch(/Instances +10 +4\n/);
    expect(reply.blocksText).toMatch(/Ports +500 +9\n/);
    expect(reply.blocksText).not.toContain('Requested');
    expect(reply.buttons).toEqual([]);
    expect(puts(project.id)).toEqual([]);
  });

  it('with a change, shows it beside the current quota and applies it once on Apply', async () => {
    const { project } = await newMember(world.keystone);
    const reply = await kaizen(
      bot,
      world.slack,
      `quota ${project.name} small instances=20 ram_gib=64`,
      ADMIN_1,
    );
    expect(reply.blocksText).toContain(`Change the quota of *${project.name}*?`);
    expect(reply.blocksText).toMatch(/Instances +10 +0 +20\n/);
    expect(reply.blocksText).toMatch(/RAM \(GiB\) +50 GiB +0 GiB +64 GiB\n/);
    expect(reply.blocksText).toMatch(/Routers +10 +0 +3\n/);
    expect(reply.buttons.map((button) => button.text)).toEqual(['Apply', 'Cancel']);
    expect(puts(project.id)).toEqual([]);

    const apply = reply.buttons[0]!;
    const [first, second] = await Promise.all([
      press(bot, world.slack, apply, ADMIN_1),
      press(bot, world.slack, apply, ADMIN_1),
    ]);
    const answers = await Promise.all([
      responseMatching(world.slack, first.responseId, /Quota of .* set|already applied/),
      responseMatching(world.slack, second.responseId, /Quota of .* set|already applied/),
    ]);
    expect(answers.filter((body) => /Quota of .* set/.test(body.text ?? ''))).toHaveLength(1);
    expect(answers.filter((body) => /already applied/.test(body.text ?? ''))).toHaveLength(1);
    expect(puts(project.id).map((call) => call.service)).toEqual(['compute', 'volumev3', 'network']);
    expect(world.recorder.quota('compute', project.id)).toMatchObject({
      instances: 20,
      cores: 50,
      ram: 65536,
    });
    const audit = await bot.bot.services.audit.read({ subject: project.name });
    expect(audit[0]).toMatchObject({ action: 'quota_set', outcome: 'ok', actor: ADMIN_1 });
  });

  it('Cancel changes nothing; a bad change or project is answered, not applied; non-admins are refused', async () => {
    const { project } = await newMember(world.keystone);
    const reply = await kaizen(bot, world.slack, `quota ${project.name} medium`, ADMIN_1);
    const cancel = reply.buttons.find((button) => button.text === 'Cancel');
    if (cancel === undefined) throw new Error('no Cancel button');
    const cancelled = await press(bot, world.slack, cancel, ADMIN_1);
    await responseMatching(world.slack, cancelled.responseId, /cancelled: nothing was changed/);
    const late = await press(bot, world.slack, reply.buttons[0]!, ADMIN_1);
    await responseMatching(world.slack, late.responseId, /already applied or its confirmation expired/);
    expect(puts(project.id)).toEqual([]);

    const bad = await kaizen(bot, world.slack, `quota ${project.name} instances=many`, ADMIN_1);
    expect(bad.text).toContain(
      'Usage: `/kaizen quota <project> [preset | key=value …]` (instances: Enter a whole number',
    );
    const unknownKey = await kaizen(bot, world.slack, `quota ${project.name} disks=3`, ADMIN_1);
    expect(unknownKey.text).toContain('disks is not a quota key');
    const missing = await kaizen(bot, world.slack, 'quota no-such-project-anywhere', ADMIN_1);
    expect(missing.text).toBe('There is no project no-such-project-anywhere in Keystone.');
    const outsider = await kaizen(bot, world.slack, `quota ${project.name} large`, OUTSIDER);
    expect(outsider.text).toContain('`/kaizen quota` is not allowed for you');
    expect(puts(project.id)).toEqual([]);
  });

  it('shows the admin project, and never changes it', async () => {
    const adminProject = inject('keystone').projectName;
    const shown = await kaizen(bot, world.slack, `quota ${adminProject}`, ADMIN_1);
    expect(shown.text).toBe(`Quota of ${adminProject}`);
    const refused = await kaizen(bot, world.slack, `quota ${adminProject} large`, ADMIN_1);
    expect(refused.text).toBe(
      `:no_entry: The bot never changes the quota of ${adminProject}: it is the admin project (OS_PROJECT_NAME).`,
    );
    expect(refused.buttons).toEqual([]);
    const audit = await bot.bot.services.audit.read({ subject: adminProject });
    expect(audit[0]).toMatchObject({ action: 'quota_set', outcome: 'denied', actor: ADMIN_1 });
  });

  it('help names the command', async () => {
    const reply = await kaizen(bot, world.slack, 'help', OUTSIDER);
    expect(reply.text).toContain('`/kaizen quota atlas` — a project');
  });
});

describe('kaizen quota from a shell', () => {
  async function cli(...argv: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIo = { out: (t) => out.push(t), err: (t) => err.push(t) };
    const code = await runCli(argv, world.env(prefix), io);
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  it('prints the table; a change without --yes sets nothing; with --yes it is set', async () => {
    const { project } = await newMember(world.keystone);
    world.recorder.setUsage('volumev3', project.id, { gigabytes: 80 });
    const shown = await cli('quota', project.name, '--as', 'ops');
    expect(shown.code).toBe(0);
    expect(shown.out).toContain(`Quota of ${project.name} (${project.id})`);
    expect(shown.out).toMatch(/Volume storage \(GB\) +1000 +80/);

    const dry = await cli('quota', project.name, 'volumes=30', '--as', 'ops');
    expect(dry.code).toBe(0);
    expect(dry.out).toMatch(/Volumes +10 +0 +30/);
    expect(dry.out).toContain('Nothing changed: run again with --yes to apply.');
    expect(puts(project.id)).toEqual([]);

    const applied = await cli('quota', project.name, 'volumes=30', '--yes', '--as', 'ops', '--json');
    expect(applied.code).toBe(0);
    const result = JSON.parse(applied.out) as CommandResult;
    expect(result).toMatchObject({
      kind: 'quota_applied',
      project: { id: project.id },
      values: { volumes: 30 },
    });
    expect(puts(project.id).map((call) => call.body)).toEqual([{ quota_set: { volumes: 30 } }]);
    const audit = await bot.bot.services.audit.read({ subject: project.name });
    expect(audit[0]).toMatchObject({ action: 'quota_set', actor: 'cli:ops' });

    const unknown = await cli('quota', 'no-such-project-anywhere', '--as', 'ops');
    expect(unknown.code).toBe(1);
    expect(unknown.err).toBe('There is no project no-such-project-anywhere in Keystone.');
  });
});
