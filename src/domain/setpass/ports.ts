/**
 * The password link as the rest of the bot sees it: one port, on the bot side (issuing), where the
 * admin credentials are. The page side (changing the password) is `Setpass` itself, in the
 * `setpass` role. Callers take the part they use (`Pick`), so every method has one name.
 */
import type { LinkUser, ResendOptions, ResentLink, SetpassLink } from './issue.js';
import type { LinkStatus } from './store.js';

export interface PasswordLinkIssuer {
  /**
   * Sets a fresh random temporary password in Keystone and issues a link for it; the previous
   * link dies. Without `pinHash`, the PIN on file is kept.
   */
  issue(user: LinkUser, pinHash: string | undefined): Promise<SetpassLink>;
  /**
   * The live link, or a new one carrying the temporary password Keystone already has; never sets
   * a password. `deliver` runs while no one can redeem or issue the user's link.
   */
  resend<T>(
    user: LinkUser,
    options: ResendOptions,
    deliver: (link: SetpassLink, fresh: boolean) => Promise<T>,
  ): Promise<ResentLink<T>>;
  /** Kills the user's live link, if any; true when there was one. */
  revoke(userId: string): Promise<boolean>;
  /** The user's live link, undefined when none (never issued, used, expired, replaced, burned). */
  current(userId: string): Promise<SetpassLink | undefined>;
  /** Whether a link is live and since when; `lockedOut` when wrong PINs burned the last one. */
  status(userId: string): Promise<LinkStatus>;
  /** The keyed hash of a PIN, as it is kept on file. */
  hashPin(pin: string): string;
  /** The PIN hash kept for the user, so a fresh link takes the PIN they chose. */
  pinOnFile(userId: string): Promise<string | undefined>;
  storePinHash(userId: string, pinHash: string): Promise<void>;
  /** When the user last set a password through a link. */
  passwordSetAt(userId: string): Promise<Date | undefined>;
}
