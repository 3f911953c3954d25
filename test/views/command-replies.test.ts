import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../commands/parse.js';
import type { CommandResult, KeystoneUserSummary } from '../../commands/results.js';
import {
  readResetPinMetadata,
  readResetPinModal,
  resetPinModal,
} from '../../views/commands/reset-pin-modal.js';
import {
  slackReply as buildSlackReply,
  RESET_CANCEL_ACTION,
  RESET_CONFIRM_ACTION,
} from '../../views/commands/slack.js';
import { textReply } from '../../views/commands/text.js';
import { passwordLinkEmail } from '../../views/emails/password-link.js';
import { expectValidBlockKit } from '../support/block-kit.js';

/** Every reply built here is also one Slack accepts. */
function slackReply(...args: Parameters<typeof buildSlackReply>) {
  const reply = buildSlackReply(...args);
  expectValidBlockKit({ blocks: reply.blocks ?? [] });
  return reply;
}

const ann: KeystoneUserSummary = {
  id: 'u1',
  name: 'ann@example.org',
  email: 'ann@example.org',
  enabled: true,
};

describe('parsing /kaizen text as Slack sends it', () => {
  it('unwraps mailto links and user mentions, ignores case and extra spaces', () => {
    expect(parseCommand('  STATUS   <mailto:Ann@Example.org|Ann@Example.org>  ')).toEqual({
      name: 'status',
      args: ['Ann@Example.org'],
    });
    expect(parseCommand('reset <@U0ANN|ann>')).toEqual({ name: 'reset', args: ['<@U0ANN>'] });
    expect(parseCommand('status <http://ann.lee|ann.lee>')).toEqual({ name: 'status', args: ['ann.lee'] });
  });

  it('keeps channel mentions and special mentions as typed, so they are refused as users', () => {
    expect(parseCommand('status <#C0123|general>')).toEqual({ name: 'status', args: ['<#C0123|general>'] });
    expect(parseCommand('status <!here>')).toEqual({ name: 'status', args: ['<!here>'] });
  });

  it('turns an unknown word into help, remembering the word', () => {
    expect(parseCommand('approve ann')).toEqual({ name: 'help', args: [], unknown: 'approve' });
  });
});

describe('command replies in Slack', () => {
  it('asks to confirm a reset with a Reset button carrying only the confirmation', () => {
    const reply = slackReply({
      kind: 'reset_confirm',
      user: ann,
      projects: [{ projectId: 'p1', projectName: 'Ann <Lab>', roles: ['member'] }],
      pinOnFile: true,
      confirmation: 'c'.repeat(22),
      expiresAt: '2026-11-28T12:00:00.000Z',
    });
    expect(reply.text).toBe('Reset the password of ann@example.org?');
    expect(reply.blocks).toEqual([
      { type: 'section', text: { type: 'mrkdwn', text: 'Reset the password of *ann@example.org*?' } },
      { type: 'section', text: { type: 'mrkdwn', text: '*Projects:* Ann &lt;Lab&gt; (member)' } },
      {
        type: 'context',
        elements: [
          {
            type: 'mrkdwn',
            text: ":warning: The old password stops working at once: Keystone gets a new random temporary password, the user's old link dies, and a new link is emailed to the address Keystone holds. The user keeps the PIN on file.",
          },
        ],
      },
      {
        type: 'actions',
        block_id: 'kaizen_reset',
        elements: [
          {
            type: 'button',
            action_id: RESET_CONFIRM_ACTION,
            text: { type: 'plain_text', text: 'Reset' },
            style: 'danger',
            value: 'c'.repeat(22),
          },
          {
            type: 'button',
            action_id: RESET_CANCEL_ACTION,
            text: { type: 'plain_text', text: 'Cancel' },
            value: 'c'.repeat(22),
          },
        ],
      },
    ]);
  });

  it('says a PIN will be asked for when none is on file', () => {
    const reply = slackReply({
      kind: 'reset_confirm',
      user: ann,
      projects: [],
      pinOnFile: false,
      confirmation: 'c'.repeat(22),
      expiresAt: '2026-11-28T12:00:00.000Z',
    });
    expect(JSON.stringify(reply.blocks)).toContain('you will be asked for one (4 digits)');
  });

  it('escapes what came from outside and never shows undefined', () => {
    const result: CommandResult = {
      kind: 'status',
      query: 'ann@example.org',
      applications: [
        {
          id: 'k1',
          state: 'rejected',
          project: '<!channel> lab',
          submittedAt: '2026-11-01T10:00:00.000Z',
          decidedBy: 'U0ADMIN',
          decidedAt: '2026-11-02T10:00:00.000Z',
          rejectReason: 'no <sponsor>',
          failure: undefined,
          cardLink: undefined,
        },
      ],
      user: undefined,
      projects: [],
      link: undefined,
      lastReminder: undefined,
      audit: [],
    };
    const text = JSON.stringify(slackReply(result));
    expect(text).toContain('&lt;!channel&gt; lab');
    expect(text).toContain('no &lt;sponsor&gt;');
    expect(text).toContain('by <@U0ADMIN>');
    expect(text).not.toContain('undefined');
  });

  it('reports a sync in one sentence', () => {
    const reply = slackReply({
      kind: 'synced',
      counts: { read: 12, new: 2, invalid: 1, duplicates: 1, problem: undefined },
    });
    expect(reply.text).toBe(
      'Read the sheet: 2 new applicants and 1 invalid row found (12 rows in all). One of them looks like a duplicate.',
    );
  });

  it('adds the quota requests tab to the sync sentence when the sheet has one', () => {
    const reply = slackReply({
      kind: 'synced',
      counts: {
        read: 3,
        new: 1,
        invalid: 0,
        duplicates: 0,
        problem: undefined,
        quotaRequests: { new: 2, invalid: 1, problem: undefined },
      },
    });
    expect(reply.text).toBe(
      'Read the sheet: 1 new applicant and 0 invalid rows found (3 rows in all). Quota requests: 2 new, 1 invalid row.',
    );
  });

  it('lists at most 45 pending applicants and says how many more wait', () => {
    const applicants = Array.from({ length: 50 }, (_, i) => ({
      id: `k${i}`,
      name: `Person ${i}`,
      email: `p${i}@example.org`,
      project: 'lab',
      submittedAt: '2026-11-01T10:00:00.000Z',
      waitingSince: '2026-11-01T10:00:00.000Z',
      cardLink: undefined,
    }));
    const reply = slackReply({ kind: 'pending', applicants });
    expect(reply.blocks).toHaveLength(47);
    expect(JSON.stringify(reply.blocks?.at(-1))).toContain('…and 5 more.');
  });
});

describe('command replies in a terminal', () => {
  it('says the same things in plain words', () => {
    expect(
      textReply({
        kind: 'usage',
        command: 'status',
        problem: 'missing user',
        usage: 'status <email|username>',
      }),
    ).toBe('usage: kaizen status <email|username> (missing user)');
    expect(
      textReply({
        kind: 'reset_done',
        user: ann,
        emailedTo: 'ann@example.org',
        mail: 'sent',
        linkExpiresAt: '2026-12-05T09:30:00.000Z',
      }),
    ).toBe(
      'Password reset for ann@example.org: the old password no longer works. An email went to ann@example.org with a new link, valid until 2026-12-05 09:30 UTC.',
    );
    expect(textReply({ kind: 'help', unknown: undefined })).not.toMatch(/[*`]/);
  });
});

describe('the PIN modal', () => {
  it('carries the confirmation and the response URL, and reads the PIN back', () => {
    const view = resetPinModal('ann@example.org', {
      confirmation: 'c'.repeat(22),
      responseUrl: 'https://hooks.example/r',
    });
    expect(readResetPinMetadata(view.private_metadata ?? '')).toEqual({
      confirmation: 'c'.repeat(22),
      responseUrl: 'https://hooks.example/r',
    });
    expect(readResetPinModal({ reset_pin: { pin: { value: ' 1234 ' } } })).toBe('1234');
    expect(readResetPinMetadata('not json')).toBeUndefined();
    expect(JSON.stringify(view)).not.toMatch(/\d{4}/);
  });
});

describe('the password link emails', () => {
  it('says why the link came, what is needed, and until when', () => {
    const email = passwordLinkEmail('reset', {
      username: 'ann@example.org',
      name: 'Ann Lee',
      link: 'https://register.example.org/?token=T',
      expiresAt: new Date('2026-12-05T09:30:00Z'),
      supportEmail: 'help@example.org',
    });
    expect(email.subject).toBe('Your OpenStack password was reset: choose a new one');
    expect(email.text).toContain('Your old password no longer works.');
    expect(email.text).toContain('https://register.example.org/?token=T');
    expect(email.text).toContain('until 2026-12-05 09:30 UTC');
    expect(email.text).toContain('4-digit PIN');
    expect(email.html).toContain('href="https://register.example.org/?token=T"');
  });
});
