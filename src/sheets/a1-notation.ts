/** A1 notation: how a range of a tab is named in the Sheets API. */

/** A–Z, AA… from a 0-based column index, for A1 ranges. */
export function columnLetter(index: number): string {
  let name = '';
  for (let rest = index + 1; rest > 0; rest = Math.floor((rest - 1) / 26)) {
    name = String.fromCharCode(65 + ((rest - 1) % 26)) + name;
  }
  return name;
}

/** `'Form Responses 1'` — Sheets accepts a quoted title anywhere a tab name goes in a range. */
export function quoteTab(title: string): string {
  return `'${title.replaceAll("'", "''")}'`;
}
