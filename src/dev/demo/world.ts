/**
 * The stand-ins the demo's bot talks to instead of Slack, Google Sheets and a mail relay (the same
 * ones the tests use), the quota recorder in a Keystone region of the demo's own, and the people
 * one can act as.
 */
import { DEFAULT_HEADERS, SHEET_FIELDS, type SheetField } from '../../domain/intake/columns.js';
import { type KeystoneRegistration, type QuotaRecorder, startQuotaRecorder } from '../quota-recorder.js';
import { type SheetsFake, startSheetsFake } from '../sheets-fake.js';
import { type SlackFake, startSlackFake } from '../slack-fake.js';
import { type SmtpTestServer, startSmtpServer } from '../smtp.js';
import type { KeystoneAccess } from './services.js';

export const DEMO_ADMIN_CHANNEL = 'C0ADMINS';
export const APPLICATIONS_TAB = 'Form Responses 1';
export const ADMITTED_TAB = 'Current Users';
/** The quota recorder's endpoints live in this region, so a test Keystone's own catalog is untouched. */
export const DEMO_REGION = 'kaizen-demo';

export interface DemoPerson {
  id: string;
  name: string;
  admin: boolean;
}

export const PEOPLE: readonly DemoPerson[] = [
  { id: 'U0ADA', name: 'Ada (admin)', admin: true },
  { id: 'U0GRACE', name: 'Grace (admin)', admin: true },
  { id: 'U0NICK', name: 'Nick (not an admin)', admin: false },
];

export interface DemoWorld {
  slack: SlackFake;
  sheets: SheetsFake;
  smtp: SmtpTestServer;
  recorder: QuotaRecorder;
  registration: KeystoneRegistration;
  close(): Promise<void>;
}

export async function startWorld(keystone: KeystoneAccess): Promise<DemoWorld> {
  const slack = await startSlackFake();
  for (const person of PEOPLE) slack.addUser({ id: person.id, name: person.name, isAdmin: person.admin });
  const sheets = await startSheetsFake({
    spreadsheetId: 'kaizen-demo-sheet',
    title: 'Kaizen demo applications',
  });
  sheets.setTab(APPLICATIONS_TAB, [SHEET_FIELDS.filter((field) => field !== 'status').map(header)]);
  sheets.setTab(ADMITTED_TAB, []);
  const smtp = await startSmtpServer();
  const recorder = await startQuotaRecorder();
  const registration = await recorder.registerInKeystone({ ...keystone, region: DEMO_REGION });
  return {
    slack,
    sheets,
    smtp,
    recorder,
    registration,
    async close() {
      await registration.unregister().catch(() => undefined);
      await Promise.allSettled([slack.close(), sheets.close(), smtp.close(), recorder.close()]);
    },
  };
}

function header(field: SheetField): string {
  return DEFAULT_HEADERS[field];
}

/** Adds one application to the stand-in sheet, as the form would; `answers` by sheet field. */
export function addApplication(sheets: SheetsFake, answers: Partial<Record<SheetField, string>>): void {
  const rows = sheets.tab(APPLICATIONS_TAB) ?? [];
  const headers = rows[0] ?? [];
  const byHeader = new Map<string, string>();
  for (const field of SHEET_FIELDS) byHeader.set(DEFAULT_HEADERS[field], answers[field] ?? '');
  sheets.setTab(APPLICATIONS_TAB, [...rows, headers.map((name) => byHeader.get(name) ?? '')]);
}

/** Google Forms' timestamp, `M/D/YYYY H:MM:SS`, in UTC. */
export function formTimestamp(at: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${at.getUTCMonth() + 1}/${at.getUTCDate()}/${at.getUTCFullYear()} ${at.getUTCHours()}:${pad(
    at.getUTCMinutes(),
  )}:${pad(at.getUTCSeconds())}`;
}
