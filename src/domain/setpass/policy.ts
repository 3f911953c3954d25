/**
 * What a new password must be: long enough, not the user's name or email, and hard to guess as
 * estimated by zxcvbn (common and English dictionaries, keyboard patterns). The problems are
 * written for the person choosing the password.
 */
import { ZxcvbnFactory } from '@zxcvbn-ts/core';

export interface PasswordPolicyOptions {
  minLength: number;
  /** zxcvbn score 0–4. */
  minScore: number;
}

export interface PasswordVerdict {
  ok: boolean;
  /** What to fix, most important first; empty when `ok`. */
  problems: string[];
  /** zxcvbn's 0–4, for a strength meter. */
  score: number;
}

/** Who the password must not resemble. */
export interface PasswordOwner {
  username: string;
  email?: string;
}

let sharedEstimator: Promise<ZxcvbnFactory> | undefined;

/**
 * The dictionaries take ~60 MB and a moment to rank, so they load on the first check, once per
 * process: the `bot` role and an idle page never pay for them.
 */
function estimator(): Promise<ZxcvbnFactory> {
  sharedEstimator ??= (async () => {
    const [common, en] = await Promise.all([
      import('@zxcvbn-ts/language-common'),
      import('@zxcvbn-ts/language-en'),
    ]);
    return new ZxcvbnFactory({
      translations: en.translations,
      graphs: common.adjacencyGraphs,
      dictionary: { ...common.dictionary, ...en.dictionary },
      // Fuzzy matching against the whole dictionary costs about half a second of CPU per check, which
      // a web request cannot spend; exact, l33t and reversed matches stay on.
      useLevenshteinDistance: false,
    });
  })();
  return sharedEstimator;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

const SCORE_WORDS = ['very weak', 'weak', 'fair', 'strong', 'very strong'] as const;

export class PasswordPolicy {
  constructor(private readonly options: PasswordPolicyOptions) {}

  get minLength(): number {
    return this.options.minLength;
  }

  async check(password: string, owner: PasswordOwner): Promise<PasswordVerdict> {
    const problems: string[] = [];
    const { minLength, minScore } = this.options;
    const length = [...password].length;
    if (length < minLength) {
      problems.push(`Use at least ${minLength} characters (this one has ${length}).`);
    }
    // Keystone's bcrypt refuses NUL with an internal error, and no one can type the others reliably.
    if (CONTROL_CHARACTER.test(password)) {
      problems.push(
        'Use letters, digits, spaces and symbols only: this password contains a control character.',
      );
    }
    const lower = password.toLowerCase();
    const personal = personalWords(owner);
    if (personal.some((word) => lower.includes(word))) {
      problems.push('Do not use your user name or email address in your password.');
    }
    const result = (await estimator()).check(password, personal);
    if (result.score < minScore) {
      const said = [result.feedback.warning, ...result.feedback.suggestions].filter(
        (line): line is string => typeof line === 'string' && line !== '',
      );
      problems.push(
        `This password is too easy to guess (${SCORE_WORDS[result.score]}; it needs to be ${SCORE_WORDS[minScore]}).`,
        ...said,
      );
      if (said.length === 0) problems.push('Add a few more uncommon words, or make it longer.');
    }
    return { ok: problems.length === 0, problems: [...new Set(problems)], score: result.score };
  }
}

/** The name, the email, and the email's local part: the pieces a password must not contain. */
function personalWords(owner: PasswordOwner): string[] {
  const words = new Set<string>();
  for (const value of [owner.username, owner.email]) {
    const trimmed = value?.trim().toLowerCase();
    if (!trimmed) continue;
    words.add(trimmed);
    const local = trimmed.split('@')[0];
    if (local && local.length >= 3) words.add(local);
  }
  return [...words];
}
