/**
 * The quota requests tab (SHEET_QUOTA_REQUESTS): read by the same poll as the applications tab,
 * status written back to a request's row. Many sheets never get this tab: when it is missing the
 * poll skips it and looks for it again an hour later, so such a sheet costs one read per poll, not two.
 */
import { KaizenError } from '../errors.js';
import type { HeaderNames } from './columns.js';
import { cellText } from './parse.js';
import { ApplicationsSheet, type SheetsClient } from './sheets.js';

const LOOK_AGAIN_MS = 60 * 60_000;

export class QuotaRequestsSheet {
  private missingUntil = 0;
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
    if (this.now() < this.missingUntil) return undefined;
    try {
      // Typed: a number cell reads as its digits whatever format the sheet shows it in ("1,000").
      const cells = await this.client.readTypedTab(this.tab);
      return cells.map((row) => row.map(cellText));
    } catch (error) {
      if (error instanceof KaizenError && error.kind === 'not_found' && error.status === 400) {
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
