import { describe, expect, it } from 'vitest';
import type { ApplicationRecord } from '../../src/domain/applications/store.js';
import type { Applicant } from '../../src/domain/intake/applicant.js';
import { BUILT_IN_PRESETS } from '../../src/domain/quotas/presets.js';
import {
  APPLICANT_ACTIONS,
  applicantCard as buildApplicantCard,
  type CardQuota,
  progressLine,
} from '../../views/applicant-card.js';
import { escapeAndClip, escapeMrkdwn } from '../../views/mrkdwn.js';
import { expectValidBlockKit } from '../support/block-kit.js';

/** Every card built here is also one Slack accepts. */
function applicantCard(input: Parameters<typeof buildApplicantCard>[0]) {
  const card = buildApplicantCard(input);
  expectValidBlockKit(card);
  return card;
}

const SMALL: CardQuota = { label: 'small', values: BUILT_IN_PRESETS.small ?? {} };

function applicant(overrides: Partial<Applicant> = {}): Applicant {
  return {
    id: 'k1',
    submittedAt: '11/02/2026 10:00:00',
    email: 'ann@example.org',
    firstName: 'Ann',
    lastName: 'Lee',
    hasAccount: false,
    organization: 'Boston University',
    role: 'Student',
    phone: '+1 617 555 0100',
    sponsor: 'Prof. Smith',
    comment: 'For my thesis.',
    project: { kind: 'new', name: 'ann-lab', description: 'Thesis experiments' },
    extraUsers: [],
    row: [],
    ...overrides,
  };
}

function record(overrides: Partial<ApplicationRecord> = {}, who: Partial<Applicant> = {}): ApplicationRecord {
  return {
    id: 'k1',
    state: 'pending',
    applicant: applicant(who),
    pinHash: 'scrypt$x$y',
    quota: { kind: 'preset', preset: 'small' },
    card: undefined,
    notes: [],
    checkpoints: {},
    decidedBy: undefined,
    decidedAt: undefined,
    rejectReason: undefined,
    failure: undefined,
    createdAt: '2026-11-02T10:00:00.000Z',
    updatedAt: '2026-11-02T10:00:00.000Z',
    ...overrides,
  };
}

type Block = Record<string, unknown>;
const blocksOf = (message: { blocks: unknown[] }) => message.blocks as Block[];
const json = (value: unknown) => JSON.stringify(value);
const actions = (blocks: Block[]) => blocks.filter((block) => block.type === 'actions');
const texts = (blocks: Block[]): string[] =>
  blocks.flatMap((block) => {
    const out: string[] = [];
    const text = block.text as { text?: string } | undefined;
    if (text?.text) out.push(text.text);
    for (const field of (block.fields as { text: string }[] | undefined) ?? []) out.push(field.text);
    for (const element of (block.elements as { text?: unknown }[] | undefined) ?? []) {
      if (typeof element.text === 'string') out.push(element.text);
    }
    return out;
  });

describe('the applicant card', () => {
  it('pending: name, details, project, comment, quota, and the three buttons carrying the applicant id', () => {
    const card = applicantCard({ record: record(), quota: SMALL });
    const blocks = blocksOf(card);
    expect(blocks[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: 'Ann Lee', emoji: false },
    });
    expect(blocks[1]).toEqual({
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: '*Email*\nann@example.org' },
        { type: 'mrkdwn', text: '*Organization*\nBoston University' },
        { type: 'mrkdwn', text: '*Role*\nStudent' },
        { type: 'mrkdwn', text: '*Sponsor*\nProf. Smith' },
        { type: 'mrkdwn', text: '*Phone*\n+1 617 555 0100' },
        { type: 'mrkdwn', text: '*Has an account*\nNo' },
        { type: 'mrkdwn', text: '*Submitted*\n11/02/2026 10:00:00' },
      ],
    });
    expect(texts(blocks)).toContain('*New project:* ann-lab\n> Thesis experiments');
    expect(texts(blocks)).toContain('*Comment*\nFor my thesis.');
    expect(texts(blocks)).toContain(
      '*Quota:* small — 10 instances · 50 vCPUs · 64 GiB RAM · 500 GB volumes · 2 floating IPs',
    );
    expect(actions(blocks)).toEqual([
      {
        type: 'actions',
        block_id: 'applicant_actions',
        elements: [
          {
            type: 'button',
            action_id: 'applicant_approve',
            text: { type: 'plain_text', text: 'Approve' },
            value: 'k1',
            style: 'primary',
          },
          {
            type: 'button',
            action_id: 'applicant_quota',
            text: { type: 'plain_text', text: 'Quota' },
            value: 'k1',
          },
          {
            type: 'button',
            action_id: 'applicant_reject',
            text: { type: 'plain_text', text: 'Reject' },
            value: 'k1',
            style: 'danger',
          },
        ],
      },
    ]);
    expect(card.text).toBe('New applicant: Ann Lee (ann@example.org)');
  });

  it('an existing project with its contact, extra users, notes, and a custom quota with RAM in GiB', () => {
    const card = applicantCard({
      record: record(
        {
          notes: [
            { code: 'possible_duplicate', email: 'ann@example.org', project: 'Physics', since: '11/02/2026' },
          ],
        },
        {
          project: { kind: 'existing', name: 'Physics', contactName: 'Dr. P', contactEmail: 'p@uni.edu' },
          extraUsers: ['bob@x.org', 'carol'],
        },
      ),
      quota: { label: 'custom', values: { instances: 40, cores: -1, ram: 1536 } },
    });
    const all = texts(blocksOf(card));
    expect(all).toContain(
      '*Existing project:* Physics\nProject contact: Dr. P, p@uni.edu\nAlso add: bob@x.org, carol',
    );
    expect(all).toContain('*Quota:* custom — 40 instances · unlimited vCPUs · 1.5 GiB RAM');
    expect(all).toContain(
      ':warning: Possible duplicate: ann@example.org applied for "Physics" before (11/02/2026) and that application is still pending.',
    );
  });

  it('shows <!channel> and links from the sheet as text, never as a mention or a link', () => {
    const evil = {
      firstName: '<!channel>',
      lastName: '<https://evil.example|click me>',
      organization: 'A & B <!here>',
      comment: 'see <https://evil|x> & <@U123>',
      email: 'ann@example.org',
      project: { kind: 'new' as const, name: '<!everyone>', description: '<https://evil|x>' },
    };
    const card = applicantCard({
      record: record({ notes: [{ code: 'legacy', text: '<!channel> note' }] }, evil),
      quota: SMALL,
    });
    // Everything but the header (plain text, which Slack never parses for mentions) is mrkdwn.
    const serialized = json({ text: card.text, blocks: card.blocks.slice(1) });
    expect(serialized).not.toMatch(/<!channel>|<!here>|<!everyone>|<https:\/\/evil|<@U123>/);
    const all = texts(blocksOf(card));
    expect(all).toContain('*Organization*\nA &amp; B &lt;!here&gt;');
    expect(all).toContain('*Comment*\nsee &lt;https://evil|x&gt; &amp; &lt;@U123&gt;');
    expect(all.some((text) => text.includes('*New project:* &lt;!everyone&gt;'))).toBe(true);
    expect(card.text).toBe(
      'New applicant: &lt;!channel&gt; &lt;https://evil.example|click me&gt; (ann@example.org)',
    );
    expect((card.blocks[0] as { text: { text: string } }).text.text).toBe(
      '<!channel> <https://evil.example|click me>',
    );
  });

  it('stays within Block Kit limits with 10,000-character fields', () => {
    const long = 'word '.repeat(2000);
    const angles = '<'.repeat(10_000);
    const card = applicantCard({
      record: record(
        {
          notes: Array.from({ length: 30 }, () => ({ code: 'legacy' as const, text: long })),
          state: 'rejected',
          decidedBy: 'U0ADMIN',
          rejectReason: angles,
        },
        {
          firstName: long,
          lastName: long,
          organization: angles,
          role: long,
          sponsor: long,
          phone: long,
          comment: long,
          email: `${'a'.repeat(10_000)}@example.org`,
          project: { kind: 'new', name: long, description: angles },
          extraUsers: Array.from({ length: 3000 }, (_, i) => `user${i}`),
        },
      ),
      quota: SMALL,
    });
    const blocks = blocksOf(card);
    expect(blocks.length).toBeLessThanOrEqual(50);
    const header = blocks[0] as { text: { text: string } };
    expect(header.text.text.length).toBeLessThanOrEqual(150);
    expect(header.text.text.endsWith('…')).toBe(true);
    for (const block of blocks) {
      const text = block.text as { text?: string } | undefined;
      if (text?.text && block.type === 'section') expect(text.text.length).toBeLessThanOrEqual(3000);
      const fields = (block.fields as { text: string }[] | undefined) ?? [];
      expect(fields.length).toBeLessThanOrEqual(10);
      for (const field of fields) expect(field.text.length).toBeLessThanOrEqual(2000);
      for (const element of (block.elements as { text?: unknown }[] | undefined) ?? []) {
        if (typeof element.text === 'string') expect(element.text.length).toBeLessThanOrEqual(3000);
      }
    }
    // Cutting never leaves half an entity behind.
    for (const text of texts(blocks)) expect(text).not.toMatch(/&(?:l|lt|g|gt|a|am|amp)?…/);
    expect(card.text.length).toBeLessThanOrEqual(400);
  });

  it('cuts a long comment cleanly at a word, with …', () => {
    const comment = `${'alpha beta '.repeat(300)}END`;
    const card = applicantCard({ record: record({}, { comment }), quota: SMALL });
    const text = texts(blocksOf(card)).find((t) => t.startsWith('*Comment*')) ?? '';
    expect(text).toMatch(/^\*Comment\*\n(?:(?:alpha|beta) )+(?:alpha|beta)…$/);
    expect(text.length).toBeLessThanOrEqual(1500 + 10);
  });

  it('approving: who is approving and the progress, no buttons', () => {
    const card = applicantCard({
      record: record({
        state: 'approving',
        decidedBy: 'U0ADMIN',
        checkpoints: { project: 'p-1', user: 'u-1' },
      }),
      quota: SMALL,
    });
    const blocks = blocksOf(card);
    expect(actions(blocks)).toEqual([]);
    expect(texts(blocks)).toContain(':hourglass_flowing_sand: Being approved by <@U0ADMIN>');
    expect(texts(blocks)).toContain('project ✓ · user ✓ · role … · quotas · password link · email · sheet');
  });

  it('shows a queued email and skipped steps as such, and extra users only when there are some', () => {
    const line = progressLine(
      record(
        {
          state: 'approving',
          checkpoints: {
            project: 'p',
            user: 'u',
            role: 'done',
            extra_users: 'done',
            quotas: 'skipped',
            setpass: 'done',
            email: 'queued',
          },
        },
        { extraUsers: ['bob'] },
      ),
    );
    expect(line).toBe(
      'project ✓ · user ✓ · role ✓ · extra users ✓ · quotas skipped · password link ✓ · email queued · sheet …',
    );
  });

  it('an email the outbox gave up is crossed out, and the note says why and what to do', () => {
    const reason = 'The mail relay at smtp.example.org:587 refused the message (SMTP 550) (after 1 attempt)';
    const note = `welcome email could not be delivered: ${reason}; use /kaizen resend ann@example.org`;
    const card = applicantCard({
      record: record({
        state: 'provisioned',
        decidedBy: 'U0ADMIN',
        notes: [{ code: 'welcome_undelivered', email: 'ann@example.org', reason, newUser: true }],
        checkpoints: {
          project: 'p-1',
          user: 'u-1',
          role: 'done',
          quotas: 'done',
          setpass: 'issued',
          email: 'undelivered',
          admitted_sheet: 'done',
        },
      }),
      quota: SMALL,
    });
    const blocks = blocksOf(card);
    expect(texts(blocks)).toContain(`:warning: ${note}`);
    expect(texts(blocks)).toContain(
      'project ✓ · user ✓ · role ✓ · quotas ✓ · password link ✓ · email ✗ · sheet ✓\nproject id `p-1` · user id `u-1`',
    );
  });

  it('approved: who and when, the ids, and no buttons', () => {
    const card = applicantCard({
      record: record({
        state: 'notified',
        decidedBy: 'U0ADMIN',
        decidedAt: '2026-11-28T10:00:00.000Z',
        checkpoints: {
          project: 'p-1',
          user: 'u-1',
          role: 'done',
          quotas: 'done',
          setpass: 'done',
          email: 'sent',
          admitted_sheet: 'done',
        },
      }),
      quota: SMALL,
    });
    const blocks = blocksOf(card);
    expect(actions(blocks)).toEqual([]);
    expect(texts(blocks)).toContain(
      ':white_check_mark: Approved by <@U0ADMIN> at <!date^1795860000^{date_short_pretty} at {time}|2026-11-28 10:00 UTC>',
    );
    expect(texts(blocks)).toContain(
      'project ✓ · user ✓ · role ✓ · quotas ✓ · password link ✓ · email ✓ · sheet ✓\nproject id `p-1` · user id `u-1`',
    );
    expect(card.text).toBe('Applicant Ann Lee (ann@example.org) was approved');
  });

  it('rejected: who and why, escaped, and no buttons', () => {
    const card = applicantCard({
      record: record({
        state: 'rejected',
        decidedBy: 'U0ADMIN',
        decidedAt: '2026-11-28T10:00:00.000Z',
        rejectReason: 'No sponsor <!channel>',
      }),
      quota: SMALL,
    });
    const blocks = blocksOf(card);
    expect(actions(blocks)).toEqual([]);
    expect(texts(blocks)).toContain(
      ':no_entry_sign: Rejected by <@U0ADMIN> at <!date^1795860000^{date_short_pretty} at {time}|2026-11-28 10:00 UTC>: No sponsor &lt;!channel&gt;',
    );
  });

  it('failed: the step, the reason, and a Retry button', () => {
    const card = applicantCard({
      record: record({
        state: 'failed',
        decidedBy: 'U0ADMIN',
        checkpoints: { project: 'p-1' },
        failure: { step: 'user', message: 'Keystone at http://k:5000/v3 did not answer; try again later' },
      }),
      quota: SMALL,
    });
    const blocks = blocksOf(card);
    expect(texts(blocks)).toContain(
      ':warning: Approval by <@U0ADMIN> stopped at the *user* step: Keystone at http://k:5000/v3 did not answer; try again later\n' +
        'Fix the cause and press *Retry*: finished steps are not repeated.',
    );
    expect(texts(blocks)).toContain('project ✓ · user ✗ · role · quotas · password link · email · sheet');
    expect(actions(blocks)).toEqual([
      {
        type: 'actions',
        block_id: 'applicant_actions',
        elements: [
          {
            type: 'button',
            action_id: APPLICANT_ACTIONS.retry,
            text: { type: 'plain_text', text: 'Retry' },
            value: 'k1',
            style: 'primary',
          },
        ],
      },
    ]);
  });

  it('pending with a taken project name: the card says so, and keeps Approve, Quota, Reject', () => {
    const card = applicantCard({
      record: record({ projectClash: { id: 'p-9', name: 'Ann-Lab' } }),
      quota: SMALL,
    });
    const blocks = blocksOf(card);
    expect(texts(blocks)).toContain(
      '*New project:* ann-lab\n> Thesis experiments\n:warning: a project named *Ann-Lab* already exists',
    );
    const labels = (actions(blocks)[0]!.elements as { text: { text: string } }[]).map((e) => e.text.text);
    expect(labels).toEqual(['Approve', 'Quota', 'Reject']);
  });

  it('stopped at a taken name: Join existing X (named) or Rename, and no Retry', () => {
    const stopped = record({
      state: 'failed',
      decidedBy: 'U0ADMIN',
      projectClash: { id: 'p-9', name: 'Ann-Lab' },
      failure: { step: 'project', message: 'taken', code: 'project_exists' },
    });
    const blocks = blocksOf(applicantCard({ record: stopped, quota: SMALL }));
    expect(texts(blocks)).toContain(
      ':raised_hand: Approval by <@U0ADMIN> stopped before any change: a project named *Ann-Lab* already exists.\n' +
        'Choose: *Join existing Ann-Lab* (the applicant becomes a member of that project), or *Rename* the new project.',
    );
    const elements = actions(blocks)[0]?.elements as {
      action_id: string;
      text: { text: string };
      value: string;
    }[];
    expect(elements.map((e) => [e.action_id, e.text.text, e.value])).toEqual([
      [APPLICANT_ACTIONS.join, 'Join existing Ann-Lab', 'k1'],
      [APPLICANT_ACTIONS.rename, 'Rename', 'k1'],
      [APPLICANT_ACTIONS.reject, 'Reject', 'k1'],
    ]);
    expect(json(blocks)).not.toContain(APPLICANT_ACTIONS.retry);
  });

  it('a protected project is never offered to join: no Join button, and the card says why', () => {
    const clash = { id: 'p-1', name: 'admin', protection: 'admin_project' } as const;
    const pending = blocksOf(applicantCard({ record: record({ projectClash: clash }), quota: SMALL }));
    expect(json(pending)).toContain(
      'it can never be joined through an application: it is the admin project (OS_PROJECT_NAME)',
    );
    const stopped = record({
      state: 'failed',
      projectClash: clash,
      failure: { step: 'project', message: 'taken', code: 'project_exists' },
    });
    const blocks = blocksOf(applicantCard({ record: stopped, quota: SMALL }));
    expect(json(blocks)).not.toContain(APPLICANT_ACTIONS.join);
    expect(texts(blocks).join('\n')).toContain(
      'It cannot be joined (it is the admin project (OS_PROJECT_NAME))',
    );
    const labels = (actions(blocks)[0]!.elements as { text: { text: string } }[]).map((e) => e.text.text);
    expect(labels).toEqual(['Rename', 'Reject']);
  });

  it('after Join: the project it joins and who chose it', () => {
    const joined = record({
      state: 'approving',
      decidedBy: 'U0ADMIN',
      projectClash: { id: 'p-9', name: 'Ann-Lab' },
      joinProject: { id: 'p-9', name: 'Ann-Lab', by: 'U0ADMIN2', at: '2026-11-02T11:00:00.000Z' },
    });
    expect(texts(blocksOf(applicantCard({ record: joined, quota: SMALL })))).toContain(
      '*Joins existing project:* Ann-Lab (asked for as new: ann-lab; <@U0ADMIN2> chose to join it)',
    );
  });

  it('names a failed step as the progress line does', () => {
    const card = applicantCard({
      record: record({
        state: 'failed',
        failure: { step: 'setpass', message: 'Password links are off here' },
      }),
      quota: SMALL,
    });
    expect(texts(blocksOf(card)).find((text) => text.startsWith(':warning:'))).toMatch(
      /^:warning: Approval by an admin stopped at the \*password link\* step: Password links are off here\n/,
    );
  });

  it('says so when the quota cannot be worked out', () => {
    const card = applicantCard({ record: record(), quota: undefined });
    expect(texts(blocksOf(card))).toContain('*Quota:* could not be worked out; use *Quota* to choose one');
  });
});

describe('mrkdwn escaping', () => {
  it('escapes the three control characters', () => {
    expect(escapeMrkdwn('a & <b> <!channel>')).toBe('a &amp; &lt;b&gt; &lt;!channel&gt;');
  });

  it('measures the limit after escaping', () => {
    const clipped = escapeAndClip('<'.repeat(100), 41);
    expect(clipped).toBe(`${'&lt;'.repeat(10)}…`);
    expect(clipped.length).toBeLessThanOrEqual(41);
  });
});

describe('the local-account choice of federated mode', () => {
  const stopped = (localAccount: ApplicationRecord['localAccount']) =>
    record({
      state: 'failed',
      decidedBy: 'U0ADMIN',
      failure: {
        step: 'user',
        message: 'a local account has that name',

        code: 'local_account_exists',
      },
      localAccount,
    });

  it('says a password account signs in with a password', () => {
    const card = applicantCard({ record: stopped({ id: 'u-1', name: 'ann@example.org' }), quota: SMALL });
    const all = texts(blocksOf(card)).join('\n');
    expect(all).toContain('already exists as a local account that signs in with a password');
    expect(all).toContain('its password stops working');
  });

  it('names the other identity provider of an account federated elsewhere, and says nothing of a password', () => {
    const card = applicantCard({
      record: stopped({ id: 'u-1', name: 'ann@example.org', otherIdps: ['other-university'] }),
      quota: SMALL,
    });
    const all = texts(blocksOf(card)).join('\n');
    expect(all).toContain('signs in through another identity provider (other-university)');
    expect(all).not.toContain('password');
  });
});
