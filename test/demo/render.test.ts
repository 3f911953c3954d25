/** The demo page's Block Kit and mrkdwn rendering, and how a dialog's form becomes `view.state.values`. */
import { describe, expect, it } from 'vitest';
import { blocksToHtml } from '../../src/dev/demo/block-kit-html.js';
import { mrkdwnToHtml } from '../../src/dev/demo/mrkdwn-html.js';
import { demoPage, type PageModel } from '../../src/dev/demo/page.js';
import { typedValues, viewStateValues } from '../../src/dev/demo/view-state.js';
import { quotaModal } from '../../views/quota-modal.js';

const names = (id: string) => ({ U0ADA: 'Ada' })[id];

describe('mrkdwn as HTML', () => {
  it('renders bold, italic, strike, code, links, mentions, dates, emoji and quotes', () => {
    expect(mrkdwnToHtml('*Approved* by <@U0ADA> at <!date^1700000000^{date}|Nov 14>', names)).toBe(
      '<strong>Approved</strong> by <span class="mention">@Ada</span> at <time>Nov 14</time>',
    );
    expect(mrkdwnToHtml('_soon_ ~gone~ `id-1` :white_check_mark:')).toBe(
      '<em>soon</em> <s>gone</s> <code>id-1</code> <span class="emoji" style="color:#2eb67d" title=":white_check_mark:">✔</span>',
    );
    expect(mrkdwnToHtml('see <https://example.org/a?b=1&amp;c=2|the docs>')).toBe(
      'see <a href="https://example.org/a?b=1&amp;c=2" target="_blank" rel="noopener">the docs</a>',
    );
    expect(mrkdwnToHtml('*New project:* lab\n&gt; Thesis')).toBe(
      '<strong>New project:</strong> lab<br><q>Thesis</q>',
    );
  });

  it('escapes what the text carries, and never links a script URL', () => {
    expect(mrkdwnToHtml('&lt;script&gt;alert(1)&lt;/script&gt; "x"')).toBe(
      '&lt;script&gt;alert(1)&lt;/script&gt; &quot;x&quot;',
    );
    expect(mrkdwnToHtml('<javascript:alert(1)|click>')).toContain('href="#"');
  });

  it('leaves snake_case and lone asterisks alone', () => {
    expect(mrkdwnToHtml('quota_instances is 2 * 3')).toBe('quota_instances is 2 * 3');
  });
});

describe('Block Kit as HTML', () => {
  const interactive = (element: Record<string, unknown>) => `[button ${String(element.action_id)}]`;

  it('draws header, section fields, context, divider and actions', () => {
    const html = blocksToHtml(
      [
        { type: 'header', text: { type: 'plain_text', text: 'Ann <Lee>' } },
        { type: 'section', fields: [{ type: 'mrkdwn', text: '*Email*\nann@example.org' }] },
        { type: 'context', elements: [{ type: 'mrkdwn', text: 'by <@U0ADA>' }] },
        { type: 'divider' },
        {
          type: 'actions',
          elements: [
            { type: 'button', action_id: 'applicant_approve', text: { type: 'plain_text', text: 'Approve' } },
          ],
        },
      ],
      { nameOf: names, interactive },
    );
    expect(html).toContain('<h3 class="bk-header">Ann &lt;Lee&gt;</h3>');
    expect(html).toContain('<div class="bk-field"><strong>Email</strong><br>ann@example.org</div>');
    expect(html).toContain('<div class="bk-context"><span>by <span class="mention">@Ada</span></span></div>');
    expect(html).toContain('<hr class="bk-divider">');
    expect(html).toContain('<div class="bk-actions">[button applicant_approve]</div>');
  });

  it("draws the quota modal's inputs, with an error next to its field", () => {
    const modal = quotaModal({
      applicant: { id: 'a1', firstName: 'Ann', lastName: 'Lee', email: 'ann@example.org' },
      presets: { small: { instances: 10 }, medium: { instances: 30 } },
      current: { kind: 'preset', preset: 'small' },
      defaultPreset: 'small',
    });
    const html = blocksToHtml(modal.blocks, {
      nameOf: names,
      interactive,
      errors: { quota_instances: 'Enter a whole number, or -1 for unlimited' },
      values: { 'quota_instances/value': ['2.5'] },
    });
    expect(html).toMatch(
      /<select name="quota_preset\/preset"[^>]*><option value="small" selected>small<\/option><option value="medium">medium<\/option><\/select>/,
    );
    expect(html).toMatch(
      /data-block="quota_instances">.*<input type="number" step="1" min="-1" name="quota_instances\/value"[^>]* value="2.5">.*Enter a whole number, or -1 for unlimited/,
    );
  });

  it('draws radio buttons and checkboxes with their initial choices', () => {
    const html = blocksToHtml(
      [
        {
          type: 'input',
          block_id: 'notify',
          label: { type: 'plain_text', text: 'Tell them' },
          element: {
            type: 'checkboxes',
            action_id: 'email',
            options: [{ text: { type: 'plain_text', text: 'Email the applicant' }, value: 'yes' }],
            initial_options: [{ text: { type: 'plain_text', text: 'Email the applicant' }, value: 'yes' }],
          },
        },
      ],
      { nameOf: names, interactive },
    );
    expect(html).toContain(
      '<input type="checkbox" name="notify/email" value="yes" checked> Email the applicant',
    );
  });
});

describe("a dialog's form as view.state.values", () => {
  const blocks = [
    {
      type: 'input',
      block_id: 'preset',
      element: {
        type: 'static_select',
        action_id: 'p',
        options: [{ text: { type: 'plain_text', text: 'Medium' }, value: 'medium' }],
      },
    },
    {
      type: 'input',
      block_id: 'n',
      optional: true,
      element: { type: 'number_input', action_id: 'v', is_decimal_allowed: false },
    },
    { type: 'input', block_id: 'why', element: { type: 'plain_text_input', action_id: 'reason' } },
    {
      type: 'input',
      block_id: 'tell',
      element: {
        type: 'checkboxes',
        action_id: 'c',
        options: [{ text: { type: 'plain_text', text: 'Yes' }, value: 'yes' }],
      },
    },
    {
      type: 'input',
      block_id: 'how',
      element: {
        type: 'radio_buttons',
        action_id: 'r',
        options: [{ text: { type: 'plain_text', text: 'Fast' }, value: 'fast' }],
      },
    },
  ];

  it("answers each input in Slack's shape, null for an empty optional one", () => {
    const form = new URLSearchParams('preset/p=medium&n/v=&why/reason=No+sponsor&tell/c=yes&how/r=fast');
    expect(viewStateValues(blocks, form)).toEqual({
      preset: {
        p: {
          type: 'static_select',
          selected_option: { text: { type: 'plain_text', text: 'Medium', emoji: true }, value: 'medium' },
        },
      },
      n: { v: { type: 'number_input', value: null } },
      why: { reason: { type: 'plain_text_input', value: 'No sponsor' } },
      tell: {
        c: {
          type: 'checkboxes',
          selected_options: [{ text: { type: 'plain_text', text: 'Yes', emoji: true }, value: 'yes' }],
        },
      },
      how: {
        r: {
          type: 'radio_buttons',
          selected_option: { text: { type: 'plain_text', text: 'Fast', emoji: true }, value: 'fast' },
        },
      },
    });
    expect(typedValues(form)).toMatchObject({ 'why/reason': ['No sponsor'], 'n/v': [''] });
  });

  it('sends no option for a value the view does not offer', () => {
    const values = viewStateValues(blocks, new URLSearchParams('preset/p=huge&tell/c=maybe'));
    expect(values.preset?.p).toEqual({ type: 'static_select', selected_option: null });
    expect(values.tell?.c).toEqual({ type: 'checkboxes', selected_options: [] });
  });
});

describe('the demo page', () => {
  const model = (overrides: Partial<PageModel> = {}): PageModel => ({
    people: [
      { id: 'U0ADA', name: 'Ada (admin)', admin: true },
      { id: 'U0NICK', name: 'Nick (not an admin)', admin: false },
    ],
    actor: 'U0NICK',
    nameOf: names,
    flash: undefined,
    formDefaults: { email: 'ann@example.org', hasAccount: 'No' },
    channelName: 'admin',
    items: [],
    dialog: undefined,
    mails: [],
    keystone: { authUrl: 'http://127.0.0.1:5391/v3', rows: [], error: undefined },
    version: '1|',
    ...overrides,
  });

  it('shows thread replies under their message and marks what only you see', () => {
    const html = demoPage(
      model({
        items: [
          {
            kind: 'message',
            channel: 'C0ADMINS',
            ts: '1.000001',
            text: 'Reminders sent',
            blocks: undefined,
            edited: true,
            replies: [
              {
                kind: 'message',
                channel: 'C0ADMINS',
                ts: '1.000002',
                text: '2 mails *failed*',
                blocks: undefined,
                edited: false,
                replies: [],
              },
            ],
          },
          {
            kind: 'ephemeral',
            channel: 'C0ADMINS',
            ts: '1.000003',
            text: 'Only for Nick',
            blocks: undefined,
            edited: false,
            replies: [],
          },
        ],
      }),
    );
    expect(html).toMatch(
      /Reminders sent<\/div><div class="thread"><div class="thread-count">1 reply<\/div><article class="msg message" data-ts="1.000002">.*2 mails <strong>failed<\/strong>/,
    );
    expect(html).toContain('(edited)');
    expect(html).toMatch(
      /<article class="msg ephemeral"[^>]*><div class="msg-head">.*Only visible to you.*Only for Nick/,
    );
  });

  it('keeps the chosen person selected, and the form filled with its defaults', () => {
    const html = demoPage(model());
    expect(html).toContain('<option value="U0NICK" selected>Nick (not an admin)</option>');
    expect(html).toContain('<input id="f-email" name="email" value="ann@example.org" required>');
    expect(html).toContain('<input type="radio" name="hasAccount" value="No" checked>');
  });

  it('draws an open modal as a dialog that submits its view id', () => {
    const html = demoPage(
      model({
        dialog: {
          viewId: 'V123',
          view: {
            title: { type: 'plain_text', text: 'Reject' },
            submit: { type: 'plain_text', text: 'Reject' },
            blocks: [
              {
                type: 'input',
                block_id: 'reason',
                label: { type: 'plain_text', text: 'Reason' },
                element: { type: 'plain_text_input', action_id: 'text', multiline: true },
              },
            ],
          },
          errors: { reason: 'Say why.' },
          values: {},
        },
      }),
    );
    expect(html).toContain('<input type="hidden" name="view_id" value="V123">');
    expect(html).toMatch(
      /<textarea name="reason\/text" id="in-reason_text" required rows="3"><\/textarea>.*Say why\./,
    );
    expect(html).toContain(
      'formaction="/close" formnovalidate>Cancel</button><button type="submit" class="btn primary">Reject</button>',
    );
  });
});
