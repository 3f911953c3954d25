/** A dialog's HTML form answers as Slack's `view.state.values`, typed by each input's element. */
import { inputElements } from './block-kit-html.js';

type StateValue = { type: string } & Record<string, unknown>;

export function viewStateValues(
  blocks: readonly unknown[],
  form: URLSearchParams,
): Record<string, Record<string, StateValue>> {
  const values: Record<string, Record<string, StateValue>> = {};
  for (const input of inputElements(blocks)) {
    const answers = form.getAll(`${input.blockId}/${input.actionId}`).filter((answer) => answer !== '');
    const option = (value: string | undefined) => {
      const found = input.options.find((candidate) => candidate.value === value);
      return found
        ? { text: { type: 'plain_text', text: found.label, emoji: true }, value: found.value }
        : null;
    };
    let state: StateValue;
    switch (input.type) {
      case 'static_select':
      case 'radio_buttons':
        state = { type: input.type, selected_option: option(answers[0]) };
        break;
      case 'checkboxes':
        state = { type: input.type, selected_options: answers.map(option).filter((found) => found !== null) };
        break;
      default:
        // Slack sends null for an optional text or number input left empty.
        state = { type: input.type, value: answers[0] ?? null };
    }
    values[input.blockId] = { ...values[input.blockId], [input.actionId]: state };
  }
  return values;
}

/** What was typed, by `block/action`, to fill the dialog again when the submit comes back with errors. */
export function typedValues(form: URLSearchParams): Record<string, string[]> {
  const typed: Record<string, string[]> = {};
  for (const name of new Set(form.keys())) if (name.includes('/')) typed[name] = form.getAll(name);
  return typed;
}
