import { describe, expect, it } from 'vitest';
import {
  BLOCK_KIT_LIMITS,
  blockKitProblems,
  describeProblem,
  expectValidBlockKit,
  viewProblems,
  webApiRefusal,
} from './support/block-kit.js';

type Json = Record<string, unknown>;

const plain = (text: string) => ({ type: 'plain_text', text, emoji: true });
const mrkdwn = (text: string) => ({ type: 'mrkdwn', text });
const button = (text: string, value = 'click_me_123', extra: Json = {}) => ({
  type: 'button',
  text: plain(text),
  value,
  ...extra,
});
const option = (text: string, value: string) => ({ text: plain(text), value });

/** The "approval" message from Slack's Block Kit templates. */
const APPROVAL_MESSAGE = [
  {
    type: 'section',
    text: mrkdwn(
      'You have a new request:\n*<fakeLink.toEmployeeProfile.com|Fred Enriquez - New device request>*',
    ),
  },
  {
    type: 'section',
    fields: [
      mrkdwn('*Type:*\nComputer (laptop)'),
      mrkdwn('*When:*\nSubmitted Aut 10'),
      mrkdwn('*Last Update:*\nMar 10, 2015 (3 years, 5 months)'),
      mrkdwn("*Reason:*\nAll vowel keys aren't working."),
      mrkdwn('*Specs:*\n"Cheetah Pro 15" - Fast, really fast"'),
    ],
  },
  {
    type: 'actions',
    elements: [
      button('Approve', 'click_me_123', { style: 'primary' }),
      button('Deny', 'click_me_123', { style: 'danger' }),
    ],
  },
];

/** The modal from Slack's views.open example, with an input, a select and a context line. */
const EXAMPLE_MODAL = {
  type: 'modal',
  callback_id: 'modal-identifier',
  title: plain('Just a modal'),
  submit: plain('Submit'),
  close: plain('Cancel'),
  private_metadata: 'shhh-its-secret',
  blocks: [
    { type: 'header', text: plain('A header') },
    {
      type: 'section',
      block_id: 'section-identifier',
      text: mrkdwn('*Welcome* to ~my~ Block Kit _modal_!'),
      accessory: button('Just a button', 'x', { action_id: 'button-identifier' }),
    },
    {
      type: 'input',
      block_id: 'reason',
      label: plain('Reason'),
      hint: plain('Say why'),
      element: { type: 'plain_text_input', action_id: 'text', multiline: true, max_length: 3000 },
    },
    {
      type: 'input',
      block_id: 'size',
      label: plain('Size'),
      element: {
        type: 'static_select',
        action_id: 'choice',
        placeholder: plain('Pick one'),
        options: [option('Small', 'small'), option('Large', 'large')],
        initial_option: option('Small', 'small'),
      },
    },
    {
      type: 'input',
      block_id: 'notify',
      optional: true,
      label: plain('Notify'),
      element: { type: 'checkboxes', action_id: 'yes', options: [option('Email them', 'email')] },
    },
    {
      type: 'input',
      block_id: 'cores',
      label: plain('Cores'),
      element: { type: 'number_input', is_decimal_allowed: false },
    },
    { type: 'context', elements: [mrkdwn('Shown to admins only')] },
    { type: 'divider' },
  ],
};

function pointers(problems: readonly { pointer: string }[]): string[] {
  return problems.map((problem) => problem.pointer);
}

describe('Block Kit validator on Slack-style examples', () => {
  it('accepts the approval message, the example modal and a Home tab', () => {
    expect(blockKitProblems(APPROVAL_MESSAGE, 'message')).toEqual([]);
    expect(viewProblems(EXAMPLE_MODAL)).toEqual([]);
    expect(viewProblems({ type: 'home', blocks: APPROVAL_MESSAGE })).toEqual([]);
    expect(
      webApiRefusal('chat.postMessage', { channel: 'C1', text: 'x', blocks: APPROVAL_MESSAGE }),
    ).toBeUndefined();
    expect(webApiRefusal('views.open', { trigger_id: 't', view: EXAMPLE_MODAL })).toBeUndefined();
    expect(() => expectValidBlockKit({ blocks: APPROVAL_MESSAGE })).not.toThrow();
    expect(() => expectValidBlockKit(EXAMPLE_MODAL)).not.toThrow();
  });

  it('accepts every limit exactly, and refuses one past it, naming the pointer', () => {
    const L = BLOCK_KIT_LIMITS;
    const cases: { build: (n: number) => unknown[]; limit: number; pointer: string }[] = [
      { build: (n) => Array(n).fill({ type: 'divider' }), limit: L.messageBlocks, pointer: '/blocks' },
      {
        build: (n) => [{ type: 'section', text: mrkdwn('s'.repeat(n)) }],
        limit: L.sectionText,
        pointer: '/blocks/0/text/text',
      },
      {
        build: (n) => [{ type: 'section', fields: Array(n).fill(mrkdwn('f')) }],
        limit: L.sectionFields,
        pointer: '/blocks/0/fields',
      },
      {
        build: (n) => [{ type: 'section', fields: [mrkdwn('f'.repeat(n))] }],
        limit: L.sectionFieldText,
        pointer: '/blocks/0/fields/0/text',
      },
      {
        build: (n) => [{ type: 'header', text: plain('h'.repeat(n)) }],
        limit: L.headerText,
        pointer: '/blocks/0/text/text',
      },
      {
        build: (n) => [{ type: 'actions', elements: [button('b'.repeat(n))] }],
        limit: L.buttonText,
        pointer: '/blocks/0/elements/0/text/text',
      },
      {
        build: (n) => [{ type: 'actions', elements: [button('b', 'v'.repeat(n))] }],
        limit: L.buttonValue,
        pointer: '/blocks/0/elements/0/value',
      },
      {
        build: (n) => [{ type: 'actions', elements: [button('b', 'v', { action_id: 'a'.repeat(n) })] }],
        limit: L.actionId,
        pointer: '/blocks/0/elements/0/action_id',
      },
      {
        build: (n) => [{ type: 'divider', block_id: 'i'.repeat(n) }],
        limit: L.blockId,
        pointer: '/blocks/0/block_id',
      },
      {
        build: (n) => [
          {
            type: 'actions',
            elements: Array.from({ length: n }, (_, i) => button('b', 'v', { action_id: `a${i}` })),
          },
        ],
        limit: L.actionsElements,
        pointer: '/blocks/0/elements',
      },
      {
        build: (n) => [{ type: 'context', elements: Array(n).fill(mrkdwn('c')) }],
        limit: L.contextElements,
        pointer: '/blocks/0/elements',
      },
    ];
    for (const { build, limit, pointer } of cases) {
      expect(blockKitProblems(build(limit), 'message'), pointer).toEqual([]);
      expect(pointers(blockKitProblems(build(limit + 1), 'message')), pointer).toEqual([pointer]);
    }
  });

  it('holds modals to their limits: title, submit, close, metadata, blocks, label, input and select', () => {
    const L = BLOCK_KIT_LIMITS;
    const modal = (patch: Json) => ({ ...EXAMPLE_MODAL, ...patch });
    const input = (element: Json, label = 'Label') => ({
      type: 'input',
      block_id: 'b',
      label: plain(label),
      element,
    });
    const cases: { view: Json; pointer: string }[] = [
      { view: modal({ title: plain('t'.repeat(L.viewTitle + 1)) }), pointer: '/view/title/text' },
      { view: modal({ submit: plain('s'.repeat(L.viewSubmit + 1)) }), pointer: '/view/submit/text' },
      { view: modal({ close: plain('c'.repeat(L.viewClose + 1)) }), pointer: '/view/close/text' },
      {
        view: modal({ private_metadata: 'm'.repeat(L.privateMetadata + 1) }),
        pointer: '/view/private_metadata',
      },
      { view: modal({ blocks: Array(L.viewBlocks + 1).fill({ type: 'divider' }) }), pointer: '/view/blocks' },
      {
        view: modal({
          blocks: [input({ type: 'plain_text_input', action_id: 'a' }, 'l'.repeat(L.inputLabel + 1))],
        }),
        pointer: '/view/blocks/0/label/text',
      },
      {
        view: modal({
          blocks: [
            input({ type: 'plain_text_input', action_id: 'a', max_length: L.plainTextInputMaxLength + 1 }),
          ],
        }),
        pointer: '/view/blocks/0/element/max_length',
      },
      {
        view: modal({
          blocks: [
            input({
              type: 'static_select',
              options: Array.from({ length: L.selectOptions + 1 }, (_, i) => option('o', `v${i}`)),
            }),
          ],
        }),
        pointer: '/view/blocks/0/element/options',
      },
      {
        view: modal({
          blocks: [input({ type: 'static_select', options: [option('o'.repeat(L.optionText + 1), 'v')] })],
        }),
        pointer: '/view/blocks/0/element/options/0/text/text',
      },
      {
        view: modal({
          blocks: [input({ type: 'static_select', options: [option('o', 'v'.repeat(L.optionValue + 1))] })],
        }),
        pointer: '/view/blocks/0/element/options/0/value',
      },
      {
        view: modal({
          blocks: [
            input({ type: 'static_select', options: [option('a', 'a')], initial_option: option('b', 'b') }),
          ],
        }),
        pointer: '/view/blocks/0/element/initial_option',
      },
      { view: modal({ submit: undefined }), pointer: '/view/submit' },
    ];
    for (const { view, pointer } of cases) {
      const refusal = webApiRefusal('views.open', { trigger_id: 't', view });
      expect(refusal?.error, pointer).toBe('invalid_arguments');
      expect(refusal?.response_metadata?.messages, pointer).toEqual([
        expect.stringContaining(`[json-pointer:${pointer}]`),
      ]);
    }
  });

  it('refuses malformed blocks as Slack does: missing text, wrong text type, input in a message, unknown type', () => {
    const problems = blockKitProblems(
      [
        { type: 'section' },
        { type: 'header', text: mrkdwn('*bold*') },
        { type: 'input', label: plain('In a message'), element: { type: 'plain_text_input' } },
        { type: 'carousel' },
        { type: 'section', text: mrkdwn('') },
        { type: 'divider', block_id: 'same' },
        { type: 'divider', block_id: 'same' },
      ],
      'message',
    );
    expect(problems.map(describeProblem)).toEqual([
      'must provide text or fields [json-pointer:/blocks/0]',
      'must be one of plain_text [json-pointer:/blocks/1/text/type]',
      'input blocks are not allowed in messages [json-pointer:/blocks/2/type]',
      'unsupported block type: carousel [json-pointer:/blocks/3/type]',
      'must be more than 0 characters [json-pointer:/blocks/4/text/text]',
      'duplicate block_id: same [json-pointer:/blocks/6/block_id]',
    ]);
    expect(() => expectValidBlockKit({ blocks: [{ type: 'section' }] })).toThrow(/json-pointer:\/blocks\/0/);
  });

  it('answers messages with invalid_blocks and both errors and response_metadata, and a long text with msg_too_long', () => {
    const refusal = webApiRefusal('chat.update', {
      channel: 'C1',
      ts: '1.1',
      blocks: [{ type: 'section', fields: Array(11).fill(mrkdwn('f')) }],
    });
    expect(refusal).toEqual({
      ok: false,
      error: 'invalid_blocks',
      errors: ['no more than 10 items allowed [json-pointer:/blocks/0/fields]'],
      response_metadata: {
        messages: ['[ERROR] no more than 10 items allowed [json-pointer:/blocks/0/fields]'],
      },
    });
    expect(
      webApiRefusal('chat.postMessage', { channel: 'C1', text: 'x'.repeat(BLOCK_KIT_LIMITS.messageText) }),
    ).toBeUndefined();
    expect(
      webApiRefusal('chat.postMessage', { channel: 'C1', text: 'x'.repeat(BLOCK_KIT_LIMITS.messageText + 1) })
        ?.error,
    ).toBe('msg_too_long');
    expect(
      webApiRefusal('views.publish', { user_id: 'U1', view: EXAMPLE_MODAL })?.response_metadata?.messages,
    ).toEqual(['[ERROR] must be home [json-pointer:/view/type]']);
  });
});
