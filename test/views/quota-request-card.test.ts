import { describe, expect, it } from 'vitest';
import type { QuotaRequestRecord } from '../../src/domain/quotas/request-store.js';
import { invalidRowNotice } from '../../views/invalid-row-notice.js';
import {
  quotaRequestCard as buildCard,
  type CurrentQuota,
  quotaApproveReply,
  quotaTable,
} from '../../views/quota-request-card.js';
import { quotaAdjustModal, quotaRejectModal } from '../../views/quota-request-modals.js';
import { expectValidBlockKit } from '../support/block-kit.js';

function quotaRequestCard(input: Parameters<typeof buildCard>[0]) {
  const card = buildCard(input);
  expectValidBlockKit(card);
  return card;
}

function record(overrides: Partial<QuotaRequestRecord> = {}): QuotaRequestRecord {
  return {
    id: 'q1',
    state: 'pending',
    request: {
      id: 'q1',
      submittedAt: '12/01/2026 10:00:00',
      email: 'ann@example.org',
      project: 'atlas',
      preset: undefined,
      values: { instances: 40, ram: 131072 },
      requested: { instances: 40, ram: 131072 },
      justification: 'More *runs* <!channel>',
    },
    membership: { kind: 'member', projectId: 'p1', userId: 'u1' },
    toApply: { instances: 40, ram: 131072 },
    card: undefined,
    checkpoints: {},
    decidedBy: undefined,
    decidedAt: undefined,
    rejectReason: undefined,
    failure: undefined,
    createdAt: '2026-12-01T10:00:00.000Z',
    updatedAt: '2026-12-01T10:00:00.000Z',
    ...overrides,
  };
}

const READ: CurrentQuota = {
  kind: 'read',
  reading: { usage: { instances: { limit: 10, inUse: 7 }, ram: { limit: -1, inUse: 2048 } }, notes: [] },
};

describe('the quota request card', () => {
  it('is the project, the requester as a member, the justification escaped, the table and three buttons', () => {
    const card = quotaRequestCard({ record: record(), current: READ });
    expect(card.text).toBe('Quota request for atlas by ann@example.org');
    expect(card.blocks[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: 'Quota request: atlas', emoji: false },
    });
    expect(card.blocks[1]).toEqual({
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: '*Project*\natlas' },
        { type: 'mrkdwn', text: '*Requested by*\nann@example.org (member)' },
        { type: 'mrkdwn', text: '*Submitted*\n12/01/2026 10:00:00' },
      ],
    });
    expect(card.blocks[2]).toEqual({
      type: 'section',
      text: { type: 'mrkdwn', text: '*Justification*\nMore *runs* &lt;!channel&gt;' },
    });
    expect(card.blocks[3]).toEqual({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: [
          '```',
          'Quota        Current  In use  Requested',
          'Instances         10       7         40',
          'RAM (GiB)  unlimited   2 GiB    128 GiB',
          '```',
        ].join('\n'),
      },
    });
    const actions = card.blocks.at(-1);
    expect(actions).toMatchObject({
      type: 'actions',
      elements: [
        { action_id: 'quota_request_approve', value: 'q1', style: 'primary', text: { text: 'Approve' } },
        { action_id: 'quota_request_adjust', value: 'q1', text: { text: 'Adjust' } },
        { action_id: 'quota_request_reject', value: 'q1', style: 'danger', text: { text: 'Reject' } },
      ],
    });
  });

  it('marks a non-member and says why Approve is refused', () => {
    const card = quotaRequestCard({
      record: record({ membership: { kind: 'not_member', projectId: 'p1', userId: 'u2' } }),
      current: READ,
    });
    const text = JSON.stringify(card.blocks);
    expect(text).toContain('ann@example.org :warning: not a member');
    expect(text).toContain(
      ":no_entry: ann@example.org is not a member of atlas in Keystone: only a member's request can be approved.",
    );
    expect(
      quotaApproveReply({
        kind: 'refused',
        reason: 'not_member',
        record: record({ membership: { kind: 'not_member', projectId: 'p1', userId: 'u2' } }),
      }),
    ).toBe(
      "Not applied: ann@example.org is not a member of atlas in Keystone: only a member's request can be approved.",
    );
    expect(
      quotaApproveReply({
        kind: 'refused',
        reason: 'no_project',
        record: record({ membership: { kind: 'no_project' } }),
      }),
    ).toBe('Not applied: There is no project named atlas in Keystone.');
    expect(
      quotaApproveReply({
        kind: 'refused',
        reason: 'protected_project',
        protection: 'service_project',
        record: record(),
      }),
    ).toBe(
      'Not applied: the bot never changes the project atlas: it is the service project (KAIZEN_SERVICE_PROJECT).',
    );
  });

  it('shows a quota it could not read as dashes, with the reason', () => {
    const card = quotaRequestCard({
      record: record(),
      current: { kind: 'unreadable', reason: 'nova is down' },
    });
    const text = JSON.stringify(card.blocks);
    expect(quotaTable({ instances: 40 }, { kind: 'unreadable', reason: 'x' })).toBe(
      ['```', 'Quota      Current  In use  Requested', 'Instances        –       –         40', '```'].join(
        '\n',
      ),
    );
    expect(text).toContain(':warning: The current quota could not be read: nova is down');
  });

  it('says how each state ended, with Retry (and Adjust, Reject while nothing was set) after a failure', () => {
    const applied = quotaRequestCard({
      record: record({ state: 'applied', decidedBy: 'U1', decidedAt: '2026-12-01T11:00:00.000Z' }),
      current: READ,
    });
    expect(JSON.stringify(applied.blocks.at(-1))).toContain(':white_check_mark: Applied by <@U1> at <!date^');
    expect(applied.blocks.some((block) => block.type === 'actions')).toBe(false);

    const policy = quotaRequestCard({ record: record({ state: 'applied', byPolicy: true }), current: READ });
    expect(JSON.stringify(policy.blocks.at(-2))).toContain('Applied by policy (QUOTA_AUTO_APPROVE)');
    expect(policy.blocks.at(-1)).toMatchObject({
      type: 'actions',
      elements: [{ action_id: 'quota_request_revert', text: { text: 'Revert' } }],
    });
    const reverted = quotaRequestCard({
      record: record({
        state: 'reverted',
        byPolicy: true,
        revertedBy: 'U3',
        revertedAt: '2026-12-02T10:00:00.000Z',
      }),
      current: READ,
    });
    expect(JSON.stringify(reverted.blocks.at(-1))).toContain('then reverted by <@U3> at <!date^');
    expect(reverted.blocks.some((block) => block.type === 'actions')).toBe(false);

    const rejected = quotaRequestCard({
      record: record({ state: 'rejected', decidedBy: 'U2', rejectReason: 'not now <!here>' }),
      current: READ,
    });
    expect(JSON.stringify(rejected.blocks.at(-1))).toContain(':x: Rejected by <@U2>: not now &lt;!here&gt;');

    const failedEarly = quotaRequestCard({
      record: record({
        state: 'failed',
        decidedBy: 'U1',
        failure: { step: 'quotas', message: 'nova said 503' },
      }),
      current: READ,
    });
    expect(JSON.stringify(failedEarly.blocks)).toContain('stopped while setting the quotas: nova said 503');
    expect(failedEarly.blocks.at(-1)).toMatchObject({
      elements: [
        { action_id: 'quota_request_retry' },
        { action_id: 'quota_request_adjust' },
        { action_id: 'quota_request_reject' },
      ],
    });
    const failedLate = quotaRequestCard({
      record: record({
        state: 'failed',
        checkpoints: { quotas: 'done' },
        failure: { step: 'sheet_status', message: 'Sheets said no' },
      }),
      current: READ,
    });
    expect(failedLate.blocks.at(-1)).toMatchObject({ elements: [{ action_id: 'quota_request_retry' }] });
  });

  it('the Adjust modal is pre-filled with what will be applied (RAM in GiB); Reject asks a reason', () => {
    const adjust = quotaAdjustModal(record());
    expectValidBlockKit(adjust);
    expect(adjust).toMatchObject({ callback_id: 'quota_request_adjust_modal', private_metadata: 'q1' });
    const inputs = adjust.blocks.filter((block) => block.type === 'input');
    expect(inputs.find((block) => block.block_id === 'quota_instances')).toMatchObject({
      element: { type: 'number_input', initial_value: '40' },
    });
    expect(inputs.find((block) => block.block_id === 'quota_ram')).toMatchObject({
      element: { initial_value: '128', is_decimal_allowed: true },
    });
    expect(inputs.find((block) => block.block_id === 'quota_cores')).not.toHaveProperty(
      'element.initial_value',
    );
    const reject = quotaRejectModal(record());
    expectValidBlockKit(reject);
    expect(reject).toMatchObject({ callback_id: 'quota_request_reject_modal', private_metadata: 'q1' });
  });
});

describe('the notice about bad quota request rows', () => {
  it('names the quota requests tab and what its rows cannot become', () => {
    const notice = invalidRowNotice({
      kind: 'rows',
      tab: 'Quota Requests',
      about: 'quota_requests',
      rows: [{ rowNumber: 3, email: 'ann@example.org', reasons: ['Project is empty'] }],
    });
    expectValidBlockKit(notice);
    expect(notice.text).toBe('1 row of the quota requests tab need fixing');
    expect(JSON.stringify(notice.blocks)).toContain(
      '1 row of *Quota Requests* cannot become a quota request.',
    );
    expect(JSON.stringify(notice.blocks)).toContain('row 3 (ann@example.org): Project is empty');
    const sheet = invalidRowNotice({
      kind: 'sheet',
      tab: 'Quota Requests',
      about: 'quota_requests',
      message: 'no Project column',
    });
    expect(sheet.text).toBe('The quota requests tab needs attention: no Project column');
  });
});
