/**
 * Block Kit as HTML for the demo's #admin channel and dialogs: header, section (text, fields,
 * accessory), context, divider, actions, image, rich text, and the inputs a modal asks for (plain
 * text, number, static select, radio buttons, checkboxes). Buttons are drawn by the caller, which
 * knows where a click must go.
 */
import { asArray, asRecord, asString, escapeHtml } from './html.js';
import { type NameOf, textObjectToHtml } from './mrkdwn-html.js';

export interface BlockRenderContext {
  nameOf: NameOf;
  /** The HTML of one interactive element outside an input block (a button, a menu). */
  interactive(element: Record<string, unknown>, blockId: string): string;
  /** `response_action: errors` of the last submit, by block id. */
  errors?: Record<string, string>;
  /** What was typed in each input before the submit came back with errors, by `block/action`. */
  values?: Record<string, string[]>;
}

export function blocksToHtml(blocks: readonly unknown[], ctx: BlockRenderContext): string {
  return blocks.map((block, index) => blockToHtml(asRecord(block) ?? {}, index, ctx)).join('\n');
}

function blockToHtml(block: Record<string, unknown>, index: number, ctx: BlockRenderContext): string {
  const blockId = asString(block.block_id) ?? `block-${index}`;
  switch (block.type) {
    case 'header':
      return `<h3 class="bk-header">${textObjectToHtml(block.text, ctx.nameOf)}</h3>`;
    case 'divider':
      return '<hr class="bk-divider">';
    case 'section': {
      const fields = asArray(block.fields)
        .map((field) => `<div class="bk-field">${textObjectToHtml(field, ctx.nameOf)}</div>`)
        .join('');
      const accessory = asRecord(block.accessory);
      return [
        '<div class="bk-section">',
        '<div class="bk-section-body">',
        block.text === undefined
          ? ''
          : `<div class="bk-text">${textObjectToHtml(block.text, ctx.nameOf)}</div>`,
        fields === '' ? '' : `<div class="bk-fields">${fields}</div>`,
        '</div>',
        accessory ? `<div class="bk-accessory">${ctx.interactive(accessory, blockId)}</div>` : '',
        '</div>',
      ].join('');
    }
    case 'context': {
      const parts = asArray(block.elements).map((element) => {
        const record = asRecord(element) ?? {};
        return record.type === 'image'
          ? `<span class="bk-image-alt">[${escapeHtml(asString(record.alt_text) ?? 'image')}]</span>`
          : `<span>${textObjectToHtml(record, ctx.nameOf)}</span>`;
      });
      return `<div class="bk-context">${parts.join(' ')}</div>`;
    }
    case 'actions': {
      const elements = asArray(block.elements).map((element) =>
        ctx.interactive(asRecord(element) ?? {}, blockId),
      );
      return `<div class="bk-actions">${elements.join('')}</div>`;
    }
    case 'image':
      return `<div class="bk-image-alt">[image: ${escapeHtml(asString(block.alt_text) ?? '')}]</div>`;
    case 'rich_text':
      return `<div class="bk-text">${escapeHtml(richTextPlain(block))}</div>`;
    case 'input':
      return inputToHtml(block, blockId, ctx);
    default:
      return `<div class="bk-unknown">[${escapeHtml(String(block.type))} block]</div>`;
  }
}

/** The words of a rich_text block, without its styling. */
function richTextPlain(value: unknown): string {
  const record = asRecord(value);
  if (record === undefined) return '';
  if (typeof record.text === 'string') return record.text;
  if (record.type === 'user') return `@${asString(record.user_id) ?? ''}`;
  if (record.type === 'link') return asString(record.url) ?? '';
  return asArray(record.elements).map(richTextPlain).join('');
}

function optionsOf(element: Record<string, unknown>): { value: string; label: string }[] {
  const groups = asArray(element.option_groups).flatMap((group) => asArray(asRecord(group)?.options));
  return [...asArray(element.options), ...groups].map((option) => {
    const record = asRecord(option) ?? {};
    return { value: asString(record.value) ?? '', label: asString(asRecord(record.text)?.text) ?? '' };
  });
}

function initialValues(element: Record<string, unknown>): string[] {
  const single = asString(asRecord(element.initial_option)?.value);
  if (single !== undefined) return [single];
  const many = asArray(element.initial_options).map((option) => asString(asRecord(option)?.value) ?? '');
  if (many.length > 0) return many;
  const value = element.initial_value;
  return typeof value === 'string' || typeof value === 'number' ? [String(value)] : [];
}

/** A modal's input block; form fields are named `block_id/action_id`. */
function inputToHtml(block: Record<string, unknown>, blockId: string, ctx: BlockRenderContext): string {
  const element = asRecord(block.element) ?? {};
  const actionId = asString(element.action_id) ?? 'value';
  const name = `${blockId}/${actionId}`;
  const id = `in-${name.replace(/[^\w-]/g, '_')}`;
  const chosen = ctx.values?.[name] ?? initialValues(element);
  const optional = block.optional === true;
  const placeholder = asString(asRecord(element.placeholder)?.text);
  const common = `name="${escapeHtml(name)}" id="${escapeHtml(id)}"${optional ? '' : ' required'}${
    placeholder ? ` placeholder="${escapeHtml(placeholder)}"` : ''
  }`;
  let control: string;
  switch (element.type) {
    case 'plain_text_input':
      control =
        element.multiline === true
          ? `<textarea ${common} rows="3">${escapeHtml(chosen[0] ?? '')}</textarea>`
          : `<input type="text" ${common} value="${escapeHtml(chosen[0] ?? '')}">`;
      break;
    case 'number_input': {
      const step = element.is_decimal_allowed === true ? 'any' : '1';
      const min = asString(element.min_value);
      const max = asString(element.max_value);
      control = `<input type="number" step="${step}"${min ? ` min="${escapeHtml(min)}"` : ''}${
        max ? ` max="${escapeHtml(max)}"` : ''
      } ${common} value="${escapeHtml(chosen[0] ?? '')}">`;
      break;
    }
    case 'email_text_input':
    case 'url_text_input':
      control = `<input type="${element.type === 'email_text_input' ? 'email' : 'url'}" ${common} value="${escapeHtml(chosen[0] ?? '')}">`;
      break;
    case 'static_select': {
      const options = optionsOf(element)
        .map(
          (option) =>
            `<option value="${escapeHtml(option.value)}"${chosen.includes(option.value) ? ' selected' : ''}>${escapeHtml(option.label)}</option>`,
        )
        .join('');
      control = `<select ${common}>${chosen.length === 0 ? '<option value="">Choose…</option>' : ''}${options}</select>`;
      break;
    }
    case 'radio_buttons':
    case 'checkboxes': {
      const kind = element.type === 'radio_buttons' ? 'radio' : 'checkbox';
      control = `<div class="bk-choices" id="${escapeHtml(id)}">${optionsOf(element)
        .map(
          (option) =>
            `<label><input type="${kind}" name="${escapeHtml(name)}" value="${escapeHtml(option.value)}"${
              chosen.includes(option.value) ? ' checked' : ''
            }> ${escapeHtml(option.label)}</label>`,
        )
        .join('')}</div>`;
      break;
    }
    default:
      control = `<span class="bk-unknown">[${escapeHtml(String(element.type))}]</span>`;
  }
  const error = ctx.errors?.[blockId];
  const hint =
    block.hint === undefined ? '' : `<div class="bk-hint">${textObjectToHtml(block.hint, ctx.nameOf)}</div>`;
  return [
    `<div class="bk-input${error ? ' has-error' : ''}" data-block="${escapeHtml(blockId)}">`,
    `<label for="${escapeHtml(id)}">${textObjectToHtml(block.label, ctx.nameOf)}${optional ? ' <small>(optional)</small>' : ''}</label>`,
    control,
    hint,
    error ? `<div class="bk-error" role="alert">${escapeHtml(error)}</div>` : '',
    '</div>',
  ].join('');
}

/** Which kind of state value a modal's input sends in `view.state.values`, by element type. */
export function inputElements(
  blocks: readonly unknown[],
): { blockId: string; actionId: string; type: string; options: { value: string; label: string }[] }[] {
  return blocks.flatMap((block, index) => {
    const record = asRecord(block) ?? {};
    if (record.type !== 'input') return [];
    const element = asRecord(record.element) ?? {};
    return [
      {
        blockId: asString(record.block_id) ?? `block-${index}`,
        actionId: asString(element.action_id) ?? 'value',
        type: asString(element.type) ?? 'plain_text_input',
        options: optionsOf(element),
      },
    ];
  });
}
