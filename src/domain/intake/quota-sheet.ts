/**
 * The quota requests tab (SHEET_QUOTA_REQUESTS): read by the same poll as the applications tab,
 * status written back to a request's row. Many sheets never get this tab: whether it exists is
 * asked once (the tab titles, no cells) and again an hour later while it is missing, so such a
 * sheet costs no read per poll but the applications tab's.
 */
import { KaizenError } from '../../platform/errors.js';
import { cellText } from '../../sheets/cells.js';
import type { SheetsClient } from '../../sheets/sheets.js';
import { ApplicationsSheet } from './applications-sheet.js';
import type { HeaderNames } from './columns.js';

const LOOK_AGAIN_MS = 60 * 60_000;

export class QuotaRequestsSheet {
  /** Until when the tab is known to be missing; 0 when it was found (or never looked for). */
  private missingUntil = 0;
  private found = false;
  /** Writing a status is the applications tab's write, on this tab: same row key, same Status column. */
  private readonly statusWriter: ApplicationsSheet;

  constructor(
    readonly client: SheetsClient,
    readonly tab: string,
    readonly names: HeaderNames,
    private readonly now: () => number = Date.now,
  ) {
    this.statusWriter = new ApplicationsSheet(client, { applicationsTab: tab, admittedTab: tab, names });
  }

  /** The tab, header row first (one request), or undefined when the spreadsheet has no such tab. */
  async readRequests(): Promise<string[][] | undefined> {
    if (!this.found) {
      if (this.now() < this.missingUntil) return undefined;
      this.found = (await this.client.tabTitles()).includes(this.tab);
      if (!this.found) {
        this.missingUntil = this.now() + LOOK_AGAIN_MS;
        return undefined;
      }
    }
    try {
      // Typed: a number cell reads as its digits whatever format the sheet shows it in ("1,000").
      const cells = await this.client.readTypedTab(this.tab);
      return cells.map((row) => row.map(cellText));
    } catch (error) {
      // Deleted since it was found: looked for again an hour later.
      if (error instanceof KaizenError && error.kind === 'not_found' && error.status === 400) {
        this.found = false;
        this.missingUntil = this.now() + LOOK_AGAIN_MS;
        return undefined;
      }
      throw error;
    }
  }

  /** Writes `status` into the request's row (found again by Timestamp + Email); false when the row is gone. */
  async writeStatus(request: { submittedAt: string; email: string }, status: string): Promise<boolean> {
    return this.statusWriter.writeStatusIfFound(request, status);
  }
}
