/**
 * Issuing password links: by the bot when it provisions, resets or reminds (it sets a fresh
 * temporary password with the admin client), and through the setpass-compatible `PUT /token` API
 * (the caller has already set the password, or renews the user's current link).
 */
import { KaizenError } from '../errors.js';
import type { KeystoneClient } from '../keystone/index.js';
import { newTemporaryPassword } from './crypto.js';
import { hashPin } from './pin.js';
import type { Setpass, SetpassLink } from './service.js';

export interface IssueDeps {
  /** With admin credentials: the temporary password is set through it. */
  keystone?: KeystoneClient | undefined;
  setpass?: Setpass | undefined;
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
 * temporary password is reused.
 */
export async function issueTokenForApi(
  setpass: Setpass,
  userId: string,
  request: TokenRequest,
): Promise<string> {
  const current = await setpass.tokens.current(userId);
  const newPinHash = request.pin === undefined ? undefined : await hashPin(request.pin);
  const pinHash = newPinHash ?? current?.pinHash ?? (await setpass.pinOnFile(userId));
  if (pinHash === undefined) {
    throw new KaizenError('invalid', `User ${userId} has no PIN on file: send "pin" (4 digits)`, {
      status: 400,
    });
  }

  let username: string;
  let temporaryPassword: string;
  if (request.password !== undefined) {
    username = await usernameForPassword(setpass.keystone, userId, request.password);
    temporaryPassword = request.password;
  } else if (current !== undefined) {
    username = current.username;
    temporaryPassword = current.temporaryPassword;
  } else {
    throw new KaizenError(
      'invalid',
      `User ${userId} has no live link to renew: send "password" (the password just set in Keystone)`,
      { status: 400 },
    );
  }
  if (newPinHash !== undefined) await setpass.storePinHash(userId, newPinHash);
  const issued = await setpass.issueToken({ userId, username, pinHash, temporaryPassword });
  return issued.token;
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
