/** A cell of a Google sheet as the API gives it (unformatted): text, a number or a boolean. */
export type SheetCell = string | number | boolean;

/** A cell as the sheet shows it. */
export function cellText(cell: SheetCell): string {
  if (typeof cell === 'boolean') return cell ? 'TRUE' : 'FALSE';
  return String(cell);
}
