import { describe, expect, it } from 'vitest';
import { BUILT_IN_PRESETS } from '../../src/domain/quotas/presets.js';
import { invalidRowNotice as buildInvalidRowNotice } from '../../views/invalid-row-notice.js';
import {
  quotaModal as buildQuotaModal,
  QUOTA_MODAL_CALLBACK,
  readQuotaModal,
} from '../../views/quota-modal.js';
import {
  rejectModal as buildRejectModal,
  REJECT_MODAL_CALLBACK,
  readRejectModal,
} from '../../views/reject-modal.js';
import {
  renameModal as buildRenameModal,
  RENAME_MODAL_CALLBACK,
  readRenameModal,
  renameRefusal,
} from '../../views/rename-modal.js';
import { expectValidBlockKit } from '../support/block-kit.js';

/** Every view and notice built here is also one Slack accepts. */
function valid<T extends { blocks?: unknown }>(payload: T): T {
  expectValidBlockKit({ blocks: payload.blocks, ...payload });
  return payload;
}
const quotaModal = (...args: Parameters<typeof buildQuotaModal>) => valid(buildQuotaModal(...args));
const rejectModal = (...args: Parameters<typeof buildRejectModal>) => valid(buildRejectModal(...args));
const invalidRowNotice = (...args: Parameters<typeof buildInvalidRowNotice>) =>
  valid(buildInvalidRowNotice(...args));
const renameModal = (...args: Parameters<typeof buildRenameModal>) => valid(buildRenameModal(...args));

const ann = { id: 'k1', firstName: 'Ann', lastName: '<!channel>', email: 'ann@example.org' };

type Block = Record<string, unknown> & { block_id?: string; element?: Record<string, unknown> };
const blocksOf = (view: { blocks: unknown[] }) => view.blocks as Block[];

describe('the quota modal', () => {
  it('offers the presets with the current one selected, an optional input per key, and the applicant id', () => {
    const view = quotaModal({
      applicant: ann,
      presets: BUILT_IN_PRESETS,
      current: { kind: 'preset', preset: 'medium' },
      defaultPreset: 'small',
    });
    expect(view).toMatchObject({
      type: 'modal',
      callback_id: QUOTA_MODAL_CALLBACK,
      private_metadata: 'k1',
      title: { type: 'plain_text', text: 'Quota' },
      submit: { type: 'plain_text', text: 'Save' },
    });
    const blocks = blocksOf(view);
    expect(JSON.stringify(blocks[0]?.text)).toContain('*Ann &lt;!channel&gt;*');
    const preset = blocks.find((block) => block.block_id === 'quota_preset');
    expect(preset?.element).toMatchObject({
      type: 'static_select',
      initial_option: { value: 'medium' },
    });
    expect(((preset?.element?.options ?? []) as { value: string }[]).map((option) => option.value)).toEqual([
      'small',
      'medium',
      'large',
    ]);
    const inputs = blocks.filter((block) => block.type === 'input' && block.block_id !== 'quota_preset');
    expect(inputs).toHaveLength(20);
    expect(inputs.every((block) => block.optional === true)).toBe(true);
    expect(inputs.find((block) => block.block_id === 'quota_ram')).toMatchObject({
      label: { text: 'RAM (GiB)' },
      element: { type: 'number_input', is_decimal_allowed: true, min_value: '-1' },
    });
    expect(inputs.find((block) => block.block_id === 'quota_instances')).toMatchObject({
      element: { type: 'number_input', is_decimal_allowed: false, min_value: '-1' },
    });
    expect(view.blocks.length).toBeLessThanOrEqual(100);
    expect(view.title.text.length).toBeLessThanOrEqual(24);
  });

  it('fills in custom values, RAM shown in GiB', () => {
    const view = quotaModal({
      applicant: ann,
      presets: BUILT_IN_PRESETS,
      current: { kind: 'custom', values: { instances: 40, ram: 131072, cores: -1 } },
      defaultPreset: 'small',
    });
    const blocks = blocksOf(view);
    const initial = (id: string) => blocks.find((block) => block.block_id === id)?.element?.initial_value;
    expect(initial('quota_instances')).toBe('40');
    expect(initial('quota_ram')).toBe('128');
    expect(initial('quota_cores')).toBe('-1');
    expect(initial('quota_port')).toBeUndefined();
    expect(blocks.find((block) => block.block_id === 'quota_preset')?.element).toMatchObject({
      initial_option: { value: 'small' },
    });
  });

  it('reads a submission: the preset, and the filled fields with RAM turned into MiB', () => {
    expect(
      readQuotaModal({
        quota_preset: { preset: { selected_option: { value: 'large' } } },
        quota_ram: { value: { value: '64' } },
        quota_instances: { value: { value: ' 12 ' } },
        quota_cores: { value: { value: '' } },
        quota_port: { value: { value: null } },
        quota_volumes: { value: { value: 'ten' } },
      }),
    ).toEqual({ preset: 'large', fields: { ram: '65536', instances: '12', volumes: 'ten' } });
    expect(readQuotaModal({ quota_ram: { value: { value: '-1' } } })).toEqual({
      preset: undefined,
      fields: { ram: '-1' },
    });
    expect(readQuotaModal({ quota_ram: { value: { value: '1.5' } } }).fields).toEqual({ ram: '1536' });
    expect(readQuotaModal({ quota_ram: { value: { value: '-2' } } }).fields).toEqual({ ram: '-2048' });
  });
});

describe('the reject modal', () => {
  it('asks for a required reason and offers to email the applicant', () => {
    const view = rejectModal(ann);
    expect(view).toMatchObject({ callback_id: REJECT_MODAL_CALLBACK, private_metadata: 'k1' });
    const blocks = blocksOf(view);
    expect(blocks.find((block) => block.block_id === 'reject_reason')).toMatchObject({
      type: 'input',
      label: { text: 'Reason' },
      element: { type: 'plain_text_input', multiline: true },
    });
    expect(blocks.find((block) => block.block_id === 'reject_reason')?.optional).toBeUndefined();
    expect(blocks.find((block) => block.block_id === 'reject_notify')).toMatchObject({
      optional: true,
      element: { type: 'checkboxes', options: [{ text: { text: 'Email the applicant' }, value: 'email' }] },
    });
    expect(JSON.stringify(blocks[0]?.text)).toContain('&lt;!channel&gt;');
  });

  it('reads the reason, trimmed, and the checkbox', () => {
    expect(
      readRejectModal({
        reject_reason: { reason: { value: '  No sponsor. ' } },
        reject_notify: { notify: { selected_options: [{ value: 'email' }] } },
      }),
    ).toEqual({ reason: 'No sponsor.', notifyApplicant: true });
    expect(
      readRejectModal({
        reject_reason: { reason: { value: 'x' } },
        reject_notify: { notify: { selected_options: [] } },
      }),
    ).toEqual({
      reason: 'x',
      notifyApplicant: false,
    });
  });
});

describe('the invalid-row notice', () => {
  it('lists each bad row with its reason, escaped', () => {
    const notice = invalidRowNotice({
      kind: 'rows',
      tab: 'Form Responses 1',
      rows: [
        { rowNumber: 7, email: 'ann@x.org', reasons: ['PIN must be 4 digits'] },
        {
          rowNumber: 9,
          email: '<!channel>',
          reasons: ['Email is not a valid email address', 'Last name is empty'],
        },
      ],
    });
    expect(notice.blocks).toEqual([
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: ':warning: 2 rows of *Form Responses 1* cannot become applications. Fix them in the sheet and the next read takes them in.',
        },
      },
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text:
            '• row 7 (ann@x.org): PIN must be 4 digits\n' +
            '• row 9 (&lt;!channel&gt;): Email is not a valid email address; Last name is empty',
        },
      },
    ]);
    expect(notice.text).toBe('2 rows of the applications sheet need fixing');
  });

  it('keeps a long list within Block Kit limits', () => {
    const rows = Array.from({ length: 200 }, (_, i) => ({
      rowNumber: i + 2,
      email: `${'x'.repeat(300)}@x.org`,
      reasons: ['Last name is too long (at most 64 characters)'],
    }));
    const notice = invalidRowNotice({ kind: 'rows', tab: 'T', rows });
    expect(notice.blocks.length).toBeLessThanOrEqual(50);
    for (const block of notice.blocks) {
      expect((block as { text: { text: string } }).text.text.length).toBeLessThanOrEqual(3000);
    }
    expect(JSON.stringify(notice.blocks)).toContain('…and 175 more');
  });

  it('says what is wrong with the sheet itself', () => {
    const notice = invalidRowNotice({
      kind: 'sheet',
      tab: 'T',
      message: 'The applications tab "T" has no column for PIN.',
    });
    expect(notice.blocks).toEqual([
      {
        type: 'section',
        text: { type: 'mrkdwn', text: ':warning: The applications tab "T" has no column for PIN.' },
      },
    ]);
  });
});

describe('the rename modal', () => {
  it('names the taken project, escaped, and offers its name to edit; a submission is read trimmed', () => {
    const view = renameModal({
      id: 'k1',
      project: { kind: 'new', name: 'Lab <!here>', description: '' },
    });
    expect(view).toMatchObject({
      callback_id: RENAME_MODAL_CALLBACK,
      private_metadata: 'k1',
      submit: { type: 'plain_text', text: 'Rename and approve' },
    });
    const blocks = blocksOf(view);
    expect(JSON.stringify(blocks[0]?.text)).toContain('*Lab &lt;!here&gt;* already exists');
    expect(blocks[1]?.element).toMatchObject({ max_length: 64, initial_value: 'Lab <!here>' });
    expect(readRenameModal({ project_name: { name: { value: '  Lab Two ' } } })).toBe('Lab Two');
    expect(readRenameModal({})).toBe('');
  });

  it('says why a name is refused, in plain text', () => {
    expect(renameRefusal({ id: 'p', name: 'Lab' })).toBe(
      'A project named Lab already exists too; choose another name.',
    );
    expect(renameRefusal({ id: '', name: 'SERVICE', protection: 'service_project' })).toBe(
      'SERVICE can never be used: it is the service project (KAIZEN_SERVICE_PROJECT); choose another name.',
    );
  });
});
