/**
 * Checks Block Kit payloads and Web API arguments against the limits Slack documents, and answers
 * with the error Slack sends when they are broken: `invalid_blocks` (messages) or
 * `invalid_arguments` (views), each problem named with a JSON pointer into the request, as in
 * `must be less than 3001 characters [json-pointer:/blocks/0/text/text]`.
 *
 * The Slack fake runs every call through `webApiRefusal`; view tests call `blockKitProblems` /
 * `expectValidBlockKit` on a builder's output directly.
 */

/** Slack's documented limits (Block Kit reference, chat.postMessage and views.* method pages). */
export const BLOCK_KIT_LIMITS = {
  messageBlocks: 50,
  viewBlocks: 100,
  messageText: 40_000,
  blockId: 255,
  actionId: 255,
  sectionText: 3_000,
  sectionFields: 10,
  sectionFieldText: 2_000,
  headerText: 150,
  buttonText: 75,
  buttonValue: 2_000,
  buttonUrl: 3_000,
  actionsElements: 25,
  contextElements: 10,
  contextText: 3_000,
  viewTitle: 24,
  viewSubmit: 24,
  viewClose: 24,
  privateMetadata: 3_000,
  callbackId: 255,
  externalId: 255,
  inputLabel: 2_000,
  inputHint: 2_000,
  plainTextInputMaxLength: 3_000,
  placeholder: 150,
  selectOptions: 100,
  optionText: 75,
  optionValue: 150,
  optionDescription: 75,
  checkboxOptions: 10,
  radioOptions: 10,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
  imageUrl: 3_000,
  imageAltText: 2_000,
} as const;

export type Surface = 'message' | 'modal' | 'home';

export interface BlockKitProblem {
  /** RFC 6901 pointer into the request's arguments, e.g. `/view/blocks/3/label/text`. */
  pointer: string;
  message: string;
}

/** What the fake answers instead of `ok: true`, in Slack's shape. */
export type SlackRefusal = {
  ok: false;
  error: string;
  errors?: string[];
  response_metadata?: { messages: string[] };
};

type Json = Record<string, unknown>;

const LAYOUT_BLOCKS = new Set([
  'section',
  'divider',
  'header',
  'context',
  'actions',
  'input',
  'image',
  'rich_text',
  'video',
  'file',
]);
const INPUT_ELEMENTS = new Set([
  'plain_text_input',
  'number_input',
  'email_text_input',
  'url_text_input',
  'static_select',
  'multi_static_select',
  'users_select',
  'multi_users_select',
  'conversations_select',
  'channels_select',
  'external_select',
  'checkboxes',
  'radio_buttons',
  'datepicker',
  'timepicker',
  'datetimepicker',
]);
const SECTION_ACCESSORIES = new Set([
  'button',
  'image',
  'overflow',
  'static_select',
  'multi_static_select',
  'users_select',
  'conversations_select',
  'channels_select',
  'external_select',
  'checkboxes',
  'radio_buttons',
  'datepicker',
  'timepicker',
]);
const ACTIONS_ELEMENTS = new Set([
  'button',
  'overflow',
  'static_select',
  'multi_static_select',
  'users_select',
  'conversations_select',
  'channels_select',
  'external_select',
  'checkboxes',
  'radio_buttons',
  'datepicker',
  'timepicker',
  'datetimepicker',
]);

/** Collects problems while walking a payload; each check names the pointer of what it looked at. */
class Walker {
  readonly problems: BlockKitProblem[] = [];

  add(pointer: string, message: string): void {
    this.problems.push({ pointer, message });
  }

  object(value: unknown, pointer: string): Json | undefined {
    if (isJson(value)) return value;
    this.add(pointer, value === undefined ? 'missing required field' : 'must provide an object');
    return undefined;
  }

  /** A required (or, with `optional`, an absent-is-fine) string of at most `max` characters. */
  string(
    value: unknown,
    pointer: string,
    max: number,
    options: { optional?: boolean; min?: number } = {},
  ): void {
    if (value === undefined && options.optional) return;
    if (typeof value !== 'string') {
      this.add(pointer, value === undefined ? 'missing required field' : 'must be a string');
      return;
    }
    if (value.length > max) this.add(pointer, `must be less than ${max + 1} characters`);
    const min = options.min ?? 0;
    if (value.length < min) this.add(pointer, `must be more than ${min - 1} characters`);
  }

  array(
    value: unknown,
    pointer: string,
    max: number,
    options: { optional?: boolean; min?: number } = {},
  ): unknown[] {
    if (value === undefined && options.optional) return [];
    if (!Array.isArray(value)) {
      this.add(pointer, value === undefined ? 'missing required field' : 'must provide an array');
      return [];
    }
    if (value.length > max) this.add(pointer, `no more than ${max} items allowed`);
    const min = options.min ?? 0;
    if (value.length < min) this.add(pointer, `must provide at least ${min} items`);
    return value;
  }

  /** A text object: `plain_text` or (unless `plainOnly`) `mrkdwn`, its text 1..max characters. */
  text(value: unknown, pointer: string, max: number, plainOnly = false): void {
    const text = this.object(value, pointer);
    if (text === undefined) return;
    const allowed = plainOnly ? ['plain_text'] : ['plain_text', 'mrkdwn'];
    if (typeof text.type !== 'string' || !allowed.includes(text.type)) {
      this.add(`${pointer}/type`, `must be one of ${allowed.join(', ')}`);
    }
    this.string(text.text, `${pointer}/text`, max, { min: 1 });
    if (text.type === 'mrkdwn' && text.emoji !== undefined) {
      this.add(`${pointer}/emoji`, 'invalid additional property: emoji');
    }
  }

  blocks(value: unknown, pointer: string, surface: Surface): void {
    const max = surface === 'message' ? BLOCK_KIT_LIMITS.messageBlocks : BLOCK_KIT_LIMITS.viewBlocks;
    const blocks = this.array(value, pointer, max);
    const seenIds = new Map<string, number>();
    blocks.forEach((block, index) => {
      const at = `${pointer}/${index}`;
      const object = this.object(block, at);
      if (object === undefined) return;
      const blockId = object.block_id;
      if (blockId !== undefined) {
        this.string(blockId, `${at}/block_id`, BLOCK_KIT_LIMITS.blockId, { min: 1 });
        if (typeof blockId === 'string') {
          if (seenIds.has(blockId)) this.add(`${at}/block_id`, `duplicate block_id: ${blockId}`);
          seenIds.set(blockId, index);
        }
      }
      this.block(object, at, surface);
    });
  }

  private block(block: Json, at: string, surface: Surface): void {
    const type = block.type;
    if (typeof type !== 'string' || !LAYOUT_BLOCKS.has(type)) {
      this.add(`${at}/type`, `unsupported block type: ${String(type)}`);
      return;
    }
    switch (type) {
      case 'section':
        this.section(block, at);
        break;
      case 'header':
        this.text(block.text, `${at}/text`, BLOCK_KIT_LIMITS.headerText, true);
        break;
      case 'context': {
        const elements = this.array(block.elements, `${at}/elements`, BLOCK_KIT_LIMITS.contextElements, {
          min: 1,
        });
        elements.forEach((element, index) => {
          const where = `${at}/elements/${index}`;
          const object = this.object(element, where);
          if (object === undefined) return;
          if (object.type === 'image') this.image(object, where, false);
          else this.text(object, where, BLOCK_KIT_LIMITS.contextText);
        });
        break;
      }
      case 'actions': {
        const elements = this.array(block.elements, `${at}/elements`, BLOCK_KIT_LIMITS.actionsElements, {
          min: 1,
        });
        elements.forEach((element, index) => {
          this.element(element, `${at}/elements/${index}`, ACTIONS_ELEMENTS);
        });
        break;
      }
      case 'input':
        if (surface === 'message') this.add(`${at}/type`, 'input blocks are not allowed in messages');
        this.text(block.label, `${at}/label`, BLOCK_KIT_LIMITS.inputLabel, true);
        if (block.hint !== undefined) this.text(block.hint, `${at}/hint`, BLOCK_KIT_LIMITS.inputHint, true);
        this.element(block.element, `${at}/element`, INPUT_ELEMENTS);
        break;
      case 'image':
        this.image(block, at, true);
        break;
      default:
        break;
    }
  }

  private section(block: Json, at: string): void {
    if (block.text === undefined && block.fields === undefined) {
      this.add(`${at}`, 'must provide text or fields');
    }
    if (block.text !== undefined) this.text(block.text, `${at}/text`, BLOCK_KIT_LIMITS.sectionText);
    if (block.fields !== undefined) {
      const fields = this.array(block.fields, `${at}/fields`, BLOCK_KIT_LIMITS.sectionFields, { min: 1 });
      fields.forEach((field, index) => {
        this.text(field, `${at}/fields/${index}`, BLOCK_KIT_LIMITS.sectionFieldText);
      });
    }
    if (block.accessory !== undefined) this.element(block.accessory, `${at}/accessory`, SECTION_ACCESSORIES);
  }

  private image(image: Json, at: string, isBlock: boolean): void {
    this.string(image.image_url, `${at}/image_url`, BLOCK_KIT_LIMITS.imageUrl, { min: 1 });
    this.string(image.alt_text, `${at}/alt_text`, BLOCK_KIT_LIMITS.imageAltText, { min: 1 });
    if (isBlock && image.title !== undefined) this.text(image.title, `${at}/title`, 2_000, true);
  }

  private element(value: unknown, at: string, allowed: ReadonlySet<string>): void {
    const element = this.object(value, at);
    if (element === undefined) return;
    const type = element.type;
    if (typeof type !== 'string' || !allowed.has(type)) {
      this.add(`${at}/type`, `unsupported element type here: ${String(type)}`);
      return;
    }
    if (type !== 'image') {
      this.string(element.action_id, `${at}/action_id`, BLOCK_KIT_LIMITS.actionId, {
        optional: true,
        min: 1,
      });
    }
    if (element.placeholder !== undefined) {
      this.text(element.placeholder, `${at}/placeholder`, BLOCK_KIT_LIMITS.placeholder, true);
    }
    if (element.confirm !== undefined) this.confirm(element.confirm, `${at}/confirm`);
    switch (type) {
      case 'button':
        this.text(element.text, `${at}/text`, BLOCK_KIT_LIMITS.buttonText, true);
        this.string(element.value, `${at}/value`, BLOCK_KIT_LIMITS.buttonValue, { optional: true });
        this.string(element.url, `${at}/url`, BLOCK_KIT_LIMITS.buttonUrl, { optional: true });
        if (element.style !== undefined && element.style !== 'primary' && element.style !== 'danger') {
          this.add(`${at}/style`, 'must be one of primary, danger');
        }
        break;
      case 'plain_text_input': {
        const maxLength = element.max_length;
        if (maxLength !== undefined) {
          if (typeof maxLength !== 'number' || !Number.isInteger(maxLength) || maxLength < 1) {
            this.add(`${at}/max_length`, 'must be a positive integer');
          } else if (maxLength > BLOCK_KIT_LIMITS.plainTextInputMaxLength) {
            this.add(`${at}/max_length`, `must be less than ${BLOCK_KIT_LIMITS.plainTextInputMaxLength + 1}`);
          }
        }
        const limit =
          typeof maxLength === 'number'
            ? Math.min(maxLength, BLOCK_KIT_LIMITS.plainTextInputMaxLength)
            : 3000;
        this.string(element.initial_value, `${at}/initial_value`, limit, { optional: true });
        break;
      }
      case 'number_input':
        if (typeof element.is_decimal_allowed !== 'boolean') {
          this.add(`${at}/is_decimal_allowed`, 'missing required field');
        }
        this.string(element.initial_value, `${at}/initial_value`, 3000, { optional: true });
        break;
      case 'static_select':
      case 'multi_static_select':
        this.optionsOrGroups(element, at);
        break;
      case 'checkboxes':
        this.options(element.options, `${at}/options`, BLOCK_KIT_LIMITS.checkboxOptions, 1);
        this.initialOptions(element, at, true);
        break;
      case 'radio_buttons':
        this.options(element.options, `${at}/options`, BLOCK_KIT_LIMITS.radioOptions, 1);
        this.initialOptions(element, at, false);
        break;
      case 'overflow':
        this.options(element.options, `${at}/options`, 5, 1);
        break;
      default:
        break;
    }
  }

  private optionsOrGroups(element: Json, at: string): void {
    if (element.options !== undefined && element.option_groups !== undefined) {
      this.add(at, 'must provide only one of options, option_groups');
    }
    if (element.option_groups !== undefined) {
      const groups = this.array(element.option_groups, `${at}/option_groups`, 100, { min: 1 });
      groups.forEach((group, index) => {
        const where = `${at}/option_groups/${index}`;
        const object = this.object(group, where);
        if (object === undefined) return;
        this.text(object.label, `${where}/label`, BLOCK_KIT_LIMITS.optionText, true);
        this.options(object.options, `${where}/options`, BLOCK_KIT_LIMITS.selectOptions, 1);
      });
    } else {
      this.options(element.options, `${at}/options`, BLOCK_KIT_LIMITS.selectOptions, 1);
    }
    this.initialOptions(element, at, element.type === 'multi_static_select');
  }

  private options(value: unknown, at: string, max: number, min: number): void {
    const options = this.array(value, at, max, { min });
    const values = new Set<string>();
    options.forEach((option, index) => {
      const where = `${at}/${index}`;
      const object = this.object(option, where);
      if (object === undefined) return;
      this.text(object.text, `${where}/text`, BLOCK_KIT_LIMITS.optionText);
      this.string(object.value, `${where}/value`, BLOCK_KIT_LIMITS.optionValue, { min: 1 });
      if (object.description !== undefined) {
        this.text(object.description, `${where}/description`, BLOCK_KIT_LIMITS.optionDescription);
      }
      if (typeof object.value === 'string') {
        if (values.has(object.value)) this.add(`${where}/value`, `duplicate option value: ${object.value}`);
        values.add(object.value);
      }
    });
  }

  /** Slack refuses an initial option that is not one of the options, compared as whole objects. */
  private initialOptions(element: Json, at: string, many: boolean): void {
    const key = many ? 'initial_options' : 'initial_option';
    const initial = element[key];
    if (initial === undefined) return;
    const all = [
      ...(Array.isArray(element.options) ? element.options : []),
      ...(Array.isArray(element.option_groups)
        ? element.option_groups.flatMap((group: unknown) =>
            isJson(group) && Array.isArray(group.options) ? group.options : [],
          )
        : []),
    ].map((option) => JSON.stringify(option));
    const chosen = many ? (Array.isArray(initial) ? initial : [initial]) : [initial];
    chosen.forEach((option, index) => {
      const where = many ? `${at}/${key}/${index}` : `${at}/${key}`;
      if (!all.includes(JSON.stringify(option))) this.add(where, 'must match one of the provided options');
    });
  }

  private confirm(value: unknown, at: string): void {
    const confirm = this.object(value, at);
    if (confirm === undefined) return;
    this.text(confirm.title, `${at}/title`, BLOCK_KIT_LIMITS.confirmTitle, true);
    this.text(confirm.text, `${at}/text`, BLOCK_KIT_LIMITS.confirmText);
    this.text(confirm.confirm, `${at}/confirm`, BLOCK_KIT_LIMITS.confirmButton, true);
    this.text(confirm.deny, `${at}/deny`, BLOCK_KIT_LIMITS.confirmButton, true);
  }

  view(value: unknown, pointer: string, expected?: 'modal' | 'home'): void {
    const view = this.object(value, pointer);
    if (view === undefined) return;
    const type = view.type;
    if (type !== 'modal' && type !== 'home') {
      this.add(`${pointer}/type`, 'must be one of modal, home');
      return;
    }
    if (expected !== undefined && type !== expected) this.add(`${pointer}/type`, `must be ${expected}`);
    if (type === 'modal') {
      this.text(view.title, `${pointer}/title`, BLOCK_KIT_LIMITS.viewTitle, true);
      if (view.submit !== undefined)
        this.text(view.submit, `${pointer}/submit`, BLOCK_KIT_LIMITS.viewSubmit, true);
      if (view.close !== undefined)
        this.text(view.close, `${pointer}/close`, BLOCK_KIT_LIMITS.viewClose, true);
      const hasInput =
        Array.isArray(view.blocks) && view.blocks.some((block) => isJson(block) && block.type === 'input');
      // Slack: a modal with an input block must say what its submit button reads.
      if (hasInput && view.submit === undefined) this.add(`${pointer}/submit`, 'missing required field');
    }
    this.string(view.private_metadata, `${pointer}/private_metadata`, BLOCK_KIT_LIMITS.privateMetadata, {
      optional: true,
    });
    this.string(view.callback_id, `${pointer}/callback_id`, BLOCK_KIT_LIMITS.callbackId, { optional: true });
    this.string(view.external_id, `${pointer}/external_id`, BLOCK_KIT_LIMITS.externalId, { optional: true });
    this.blocks(view.blocks, `${pointer}/blocks`, type);
  }
}

/** Problems with a list of blocks for one surface; pointers start at `pointer`. */
export function blockKitProblems(blocks: unknown, surface: Surface, pointer = '/blocks'): BlockKitProblem[] {
  const walker = new Walker();
  walker.blocks(blocks, pointer, surface);
  return walker.problems;
}

/** Problems with a modal or Home tab view; pointers start at `pointer`. */
export function viewProblems(view: unknown, pointer = '/view'): BlockKitProblem[] {
  const walker = new Walker();
  walker.view(view, pointer);
  return walker.problems;
}

/** Slack's wording of one problem: the message, then the pointer. */
export function describeProblem(problem: BlockKitProblem): string {
  return `${problem.message} [json-pointer:${problem.pointer}]`;
}

/** For view tests: throws, naming each problem, when a message's blocks or a view break a limit. */
export function expectValidBlockKit(payload: { blocks: unknown } | { type: string; blocks: unknown }): void {
  const problems =
    'type' in payload && (payload.type === 'modal' || payload.type === 'home')
      ? viewProblems(payload, '')
      : blockKitProblems(payload.blocks, 'message');
  if (problems.length > 0) {
    throw new Error(`Slack would refuse these blocks:\n${problems.map(describeProblem).join('\n')}`);
  }
}

function refusal(error: string, problems: readonly BlockKitProblem[], withErrors: boolean): SlackRefusal {
  const described = problems.map(describeProblem);
  return {
    ok: false,
    error,
    ...(withErrors ? { errors: described } : {}),
    response_metadata: { messages: described.map((message) => `[ERROR] ${message}`) },
  };
}

/**
 * Slack's answer to arguments it refuses before acting, or undefined when the arguments are well
 * formed. State-dependent answers (`not_found`, `user_not_in_channel`, trigger expiry) are the
 * fake's, which knows the workspace.
 */
export function webApiRefusal(method: string, args: Record<string, unknown>): SlackRefusal | undefined {
  switch (method) {
    case 'chat.postMessage':
    case 'chat.postEphemeral':
    case 'chat.update':
      return messageRefusal(args);
    case 'views.open':
    case 'views.push':
    case 'views.update':
    case 'views.publish': {
      if (args.view === undefined) return undefined;
      const walker = new Walker();
      walker.view(args.view, '/view', method === 'views.publish' ? 'home' : 'modal');
      return walker.problems.length > 0 ? refusal('invalid_arguments', walker.problems, false) : undefined;
    }
    default:
      return undefined;
  }
}

function messageRefusal(args: Record<string, unknown>): SlackRefusal | undefined {
  if (typeof args.text === 'string' && args.text.length > BLOCK_KIT_LIMITS.messageText) {
    return { ok: false, error: 'msg_too_long' };
  }
  if (args.blocks === undefined) return undefined;
  // A blocks field that was not JSON reaches here as the string the client sent.
  if (typeof args.blocks === 'string') return { ok: false, error: 'invalid_blocks_format' };
  const problems = blockKitProblems(args.blocks, 'message');
  return problems.length > 0 ? refusal('invalid_blocks', problems, true) : undefined;
}

function isJson(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
