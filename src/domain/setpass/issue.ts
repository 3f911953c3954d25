/**
 * Issuing password links. Only the first approval and an explicit reset set a password in Keystone
 * (`issueSetpassLink`, with the admin client). Sending a link again (a reminder, `/kaizen resend`,
 * a renewal once a link expired) never does (`resendSetpassLink`): the new link carries the
 * temporary password already in Keystone, and if that no longer works when the user redeems it,
 * the page says so and the admins are told. The setpass-compatible `PUT /token` API issues a link
 * for a password its caller has set. Each holds the user's claim (claim.ts) while it looks at the
 * link and talks to Keystone, so none of them overlaps a redemption; one that finds the claim held
 * does nothing and says so.
 */

import type { KeystoneClient } from '../../keystone/index.js';
import { KaizenError } from '../../platform/errors.js';
import type { UserClaims } from './claim.js';
import { newTemporaryPassword } from './crypto.js';
import type { IssuedToken, Lockout, NewToken, TokenStore } from './store.js';

/** A password link as it is handed out: the URL is a secret and goes into email only. */
export interface SetpassLink {
  url: string;
  expiresAt: Date;
}

/** What issuing and resending need of the setpass side (src/domain/setpass/service.ts has it all). */
export interface LinkDesk {
  readonly claims: UserClaims;
  readonly tokens: TokenStore;
  /** The setpass side's own client: the admin one on the bot side. */
  readonly keystone: KeystoneClient;
  hashPin(pin: string): string;
  linkUrl(token: string): string;
  issueToken(input: NewToken): Promise<IssuedToken>;
  current(userId: string): Promise<SetpassLink | undefined>;
  pinOnFile(userId: string): Promise<string | undefined>;
  storePinHash(userId: string, pinHash: string): Promise<void>;
  passwordSetAt(userId: string): Promise<Date | undefined>;
}

export interface IssueDeps {
  /** With admin credentials: the temporary password is set through it. */
  keystone?: KeystoneClient | undefined;
  setpass?: LinkDesk | undefined;
}

export interface LinkUser {
  userId: string;
  username: string;
}

/**
 * Gives the user a fresh temporary password in Keystone and a link to replace it. `pinHash` is the
 * applicant's PIN (hashed); without one, the PIN on file is kept. Any earlier link stops working.
 */
export async function issueSetpassLink(
  deps: IssueDeps,
  user: LinkUser,
  pinHash: string | undefined,
): Promise<SetpassLink> {
  const { keystone, setpass } = deps;
  if (setpass === undefined) {
    throw new KaizenError('config', 'Password links are switched off: set SETPASS_SECRET and PUBLIC_URL');
  }
  if (keystone === undefined) {
    throw new KaizenError(
      'config',
      'Password links need Keystone admin credentials (OS_USERNAME/OS_PASSWORD)',
    );
  }
  const claimed = await setpass.claims.run(user.userId, async () => {
    const pin = pinHash ?? (await setpass.pinOnFile(user.userId));
    if (pin === undefined) {
      throw new KaizenError(
        'invalid',
        `${user.username} has no PIN on file: give them one (a reset asks for it), then send the link`,
      );
    }
    if (pinHash !== undefined) await setpass.storePinHash(user.userId, pinHash);
    const temporaryPassword = newTemporaryPassword();
    await keystone.setUserPassword(user.userId, temporaryPassword);
    const issued = await setpass.issueToken({ ...user, pinHash: pin, temporaryPassword });
    return { url: setpass.linkUrl(issued.token), expiresAt: issued.expiresAt };
  });
  if (claimed.kind === 'busy') throw busy(user.username);
  return claimed.value;
}

export interface ResendOptions {
  /** The PIN hash to use when none is on file any more (the application's). */
  pinHash?: string | undefined;
  /** A user who ever set a password through a link gets nothing (reminders). */
  unlessRedeemed?: boolean;
  /** A link burned by wrong PINs is not replaced: unlocking is an admin's call (reminders). */
  unlessLockedOut?: boolean;
}

export type ResentLink<T> =
  /** `fresh`: the live link had expired (or was burned), and this one replaces it. */
  | { kind: 'sent'; link: SetpassLink; fresh: boolean; delivered: T }
  /** Someone is issuing or redeeming this user's link right now: try later. */
  | { kind: 'busy' }
  | { kind: 'redeemed'; at: Date }
  | { kind: 'locked_out'; lockout: Lockout }
  /** No live link and no temporary password kept to put in a new one: only a reset helps. */
  | { kind: 'no_temporary_password'; redeemedAt: Date | undefined }
  | { kind: 'no_pin' };

/**
 * The user's live link, or a new one carrying the temporary password Keystone already has, handed
 * to `deliver` while the claim is still held: a redemption cannot start between the checks and
 * the email. Never sets a password.
 */
export async function resendSetpassLink<T>(
  setpass: LinkDesk,
  user: LinkUser,
  options: ResendOptions,
  deliver: (link: SetpassLink, fresh: boolean) => Promise<T>,
): Promise<ResentLink<T>> {
  const { userId } = user;
  const claimed = await setpass.claims.run(userId, async (): Promise<ResentLink<T>> => {
    const redeemedAt = await setpass.passwordSetAt(userId);
    if (options.unlessRedeemed && redeemedAt !== undefined) return { kind: 'redeemed', at: redeemedAt };
    if (options.unlessLockedOut) {
      const lockout = await setpass.tokens.lockout(userId);
      if (lockout !== undefined) return { kind: 'locked_out', lockout };
    }
    const live = await setpass.tokens.current(userId);
    const link = live && (await setpass.current(userId));
    if (live !== undefined && link !== undefined) {
      // A link issued before temporary passwords were kept on their own: keep this one now.
      await setpass.tokens.keepTemporaryPassword(
        userId,
        live.temporaryPassword,
        setpass.tokens.keepUntil(live.expiresAt),
      );
      return { kind: 'sent', link, fresh: false, delivered: await deliver(link, false) };
    }
    const temporaryPassword = await setpass.tokens.temporaryPassword(userId);
    if (temporaryPassword === undefined) return { kind: 'no_temporary_password', redeemedAt };
    const onFile = await setpass.pinOnFile(userId);
    const pinHash = onFile ?? options.pinHash;
    if (pinHash === undefined) return { kind: 'no_pin' };
    if (onFile === undefined) await setpass.storePinHash(userId, pinHash);
    const issued = await setpass.issueToken({ ...user, pinHash, temporaryPassword });
    const fresh = { url: setpass.linkUrl(issued.token), expiresAt: issued.expiresAt };
    return { kind: 'sent', link: fresh, fresh: true, delivered: await deliver(fresh, true) };
  });
  return claimed.kind === 'busy' ? { kind: 'busy' } : claimed.value;
}

export interface TokenRequest {
  /** The user's current (temporary) password; absent to renew the current link. */
  password?: string | undefined;
  /** 4 digits; absent to keep the PIN of the current link or on file. */
  pin?: string | undefined;
}

/**
 * `PUT /token/:user_id`: a new token for the user, replacing any earlier one. A given password is
 * checked by logging in with it, which also tells the user's name; without one, the current link's
 * temporary password (or the one kept after it expired) is reused.
 */
export async function issueTokenForApi(
  setpass: LinkDesk,
  userId: string,
  request: TokenRequest,
): Promise<string> {
  const claimed = await setpass.claims.run(userId, async () => {
    const current = await setpass.tokens.current(userId);
    const newPinHash = request.pin === undefined ? undefined : setpass.hashPin(request.pin);
    const pinHash = newPinHash ?? current?.pinHash ?? (await setpass.pinOnFile(userId));
    if (pinHash === undefined) {
      throw new KaizenError('invalid', `User ${userId} has no PIN on file: send "pin" (4 digits)`, {
        status: 400,
      });
    }

    let username: string;
    let temporaryPassword: string | undefined;
    if (request.password !== undefined) {
      username = await usernameForPassword(setpass.keystone, userId, request.password);
      temporaryPassword = request.password;
    } else if (current !== undefined) {
      username = current.username;
      temporaryPassword = current.temporaryPassword;
    } else {
      temporaryPassword = await setpass.tokens.temporaryPassword(userId);
      if (temporaryPassword === undefined) {
        throw new KaizenError(
          'invalid',
          `User ${userId} has no live link to renew: send "password" (the password just set in Keystone)`,
          { status: 400 },
        );
      }
      username = await usernameForPassword(setpass.keystone, userId, temporaryPassword);
    }
    if (newPinHash !== undefined) await setpass.storePinHash(userId, newPinHash);
    const issued = await setpass.issueToken({ userId, username, pinHash, temporaryPassword });
    return issued.token;
  });
  if (claimed.kind === 'busy') throw busy(`User ${userId}`);
  return claimed.value;
}

function busy(who: string): KaizenError {
  return new KaizenError(
    'conflict',
    `${who}'s password link is being used or changed right now (a password change or another link is under way); nothing was done: try again in a minute`,
    { status: 409 },
  );
}

async function usernameForPassword(
  keystone: KeystoneClient,
  userId: string,
  password: string,
): Promise<string> {
  try {
    const login = await keystone.passwordLogin({ userId, password, scope: 'unscoped' });
    return login.info.user.name;
  } catch (error) {
    if (error instanceof KaizenError && error.kind === 'unauthorized') {
      throw new KaizenError(
        'invalid',
        `Keystone does not accept this password for user ${userId}: set the user's password first, then ask for a token`,
        { status: 400 },
      );
    }
    throw error;
  }
}
