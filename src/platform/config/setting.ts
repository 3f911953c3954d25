/**
 * One setting: its environment name, area, documentation, default and zod schema. The areas'
 * tables are in ./settings/, one file each; src/platform/config/config.ts puts them together.
 */
import { validate as validateCron } from 'node-cron';
import { z } from 'zod';
import { parseDuration } from '../duration.js';

export type Area =
  | 'General'
  | 'HTTP'
  | 'Slack'
  | 'Google'
  | 'Keystone'
  | 'Redis'
  | 'Mail'
  | 'Setpass'
  | 'Schedules'
  | 'Web';

export interface Setting<T> {
  env: string;
  area: Area;
  doc: string;
  /** The default as written in the environment; undefined means "not set". */
  fallback: string | undefined;
  secret: boolean;
  parse: (raw: string | undefined) => T;
}

type Parsed<T extends z.ZodType> = z.output<T>;

/**
 * One setting whose raw text is checked by a zod schema. `hint` says what is expected, for the
 * error list. A setting with a default always has a value, and its type says so.
 */
export function setting<S extends z.ZodType>(
  env: string,
  area: Area,
  doc: string,
  schema: S,
  hint: string,
  options: { fallback: string; secret?: boolean },
): Setting<Parsed<S>>;
export function setting<S extends z.ZodType>(
  env: string,
  area: Area,
  doc: string,
  schema: S,
  hint: string,
  options?: { secret?: boolean },
): Setting<Parsed<S> | undefined>;
export function setting<S extends z.ZodType>(
  env: string,
  area: Area,
  doc: string,
  schema: S,
  hint: string,
  options: { fallback?: string; secret?: boolean } = {},
): Setting<Parsed<S> | undefined> {
  return {
    env,
    area,
    doc,
    fallback: options.fallback,
    secret: options.secret ?? false,
    parse(raw) {
      const text = raw === undefined || raw.trim() === '' ? options.fallback : raw.trim();
      if (text === undefined) return undefined;
      const result = schema.safeParse(text);
      if (!result.success) throw new Error(hint);
      return result.data;
    },
  };
}

export const text = z.string().min(1);
export const url = z.url({ protocol: /^https?$/ });
export const wholeNumber = z.coerce.number().int();
export const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => ['true', '1', 'yes'].includes(v));
export const list = z.string().transform((v) =>
  v
    .split(/[\s,]+/)
    .map((item) => item.trim())
    .filter(Boolean),
);
export const duration = z.string().transform((v, ctx) => {
  const ms = parseDuration(v);
  if (ms === undefined) ctx.addIssue({ code: 'custom', message: 'not a duration' });
  return ms ?? 0;
});
export const cron = z.string().refine((v) => {
  const fields = v.trim().split(/\s+/).length;
  return (fields === 5 || fields === 6) && validateCron(v);
});
export const isTimeZone = (zone: string) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
};
export const secretKey = z.string().transform((v, ctx) => {
  const bytes = Buffer.from(v, 'base64');
  if (bytes.length < 32 || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(v))
    ctx.addIssue({ code: 'custom', message: 'short' });
  return bytes;
});
