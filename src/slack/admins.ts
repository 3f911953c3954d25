import type { WebClient } from '@slack/web-api';

const MEMBER_CACHE_MS = 60_000;
/** Someone made a guest or deactivated stops being an admin within this long. */
const ACCOUNT_CACHE_MS = 60_000;

/** Why the admin channel cannot stand for the list of admins; views/protection.ts words it. */
export type AdminChannelProblem = 'public' | 'shared' | 'unreadable';

export type AdminChannelVerdict = { ok: true } | { ok: false; problem: AdminChannelProblem; error?: string };

/** Whether a Slack account may be an admin at all, whichever list names it. */
type AccountStanding = 'member' | 'guest' | 'deleted' | 'unknown';

/**
 * Who may act: exactly SLACK_ADMINS when set, otherwise the members of the admin channel — which
 * then must be private and not shared outside the workspace, or nobody is an admin. Guests and
 * deactivated accounts are never admins, whichever list names them. Slack's answers are cached
 * for a minute so a burst of clicks costs one call each.
 */
export class AdminDirectory {
  private cached: { members: Set<string>; at: number } | undefined;
  private channel: { verdict: AdminChannelVerdict; at: number } | undefined;
  private readonly accounts = new Map<string, { standing: AccountStanding; at: number }>();

  constructor(
    private readonly client: WebClient,
    private readonly admins: string[] | undefined,
    private readonly adminChannel: string | undefined,
  ) {}

  async isAdmin(userId: string): Promise<boolean> {
    if (!(await this.listed(userId))) return false;
    return (await this.standing(userId)) === 'member';
  }

  async list(): Promise<string[]> {
    const listed = this.admins ? [...this.admins] : [...(await this.channelMembers())];
    const standings = await Promise.all(listed.map((id) => this.standing(id)));
    return listed.filter((_, index) => standings[index] === 'member');
  }

  /**
   * Whether the admin channel may stand for the list of admins: private and not shared with
   * another organisation (or about to be). Always ok when SLACK_ADMINS names the admins.
   */
  async checkChannel(): Promise<AdminChannelVerdict> {
    if (this.admins) return { ok: true };
    if (!this.adminChannel) return { ok: false, problem: 'unreadable', error: 'no admin channel is set' };
    try {
      return await this.readChannel(this.adminChannel);
    } catch (error) {
      const code = (error as { data?: { error?: string } }).data?.error;
      return { ok: false, problem: 'unreadable', error: code ?? (error as Error).message };
    }
  }

  private async readChannel(id: string): Promise<AdminChannelVerdict> {
    const { channel } = await this.client.conversations.info({ channel: id });
    if (channel?.is_private !== true) return { ok: false, problem: 'public' };
    if (channel.is_ext_shared || channel.is_shared || channel.is_pending_ext_shared) {
      return { ok: false, problem: 'shared' };
    }
    return { ok: true };
  }

  private async listed(userId: string): Promise<boolean> {
    if (this.admins) return this.admins.includes(userId);
    if (!this.adminChannel) return false;
    if (!(await this.channelIsSafe(this.adminChannel))) return false;
    return (await this.channelMembers()).has(userId);
  }

  /**
   * The channel checked again every minute: made public or shared later, it stops naming admins.
   * Slack not answering throws, as the member list does: the caller says it could not check.
   */
  private async channelIsSafe(id: string): Promise<boolean> {
    if (!this.channel || Date.now() - this.channel.at >= MEMBER_CACHE_MS) {
      this.channel = { verdict: await this.readChannel(id), at: Date.now() };
    }
    return this.channel.verdict.ok;
  }

  private async standing(userId: string): Promise<AccountStanding> {
    const cached = this.accounts.get(userId);
    if (cached && Date.now() - cached.at < ACCOUNT_CACHE_MS) return cached.standing;
    let standing: AccountStanding;
    try {
      const { user } = await this.client.users.info({ user: userId });
      if (user === undefined) standing = 'unknown';
      else if (user.deleted) standing = 'deleted';
      else if (user.is_restricted || user.is_ultra_restricted) standing = 'guest';
      else standing = 'member';
    } catch (error) {
      if ((error as { data?: { error?: string } }).data?.error !== 'user_not_found') throw error;
      standing = 'unknown';
    }
    this.accounts.set(userId, { standing, at: Date.now() });
    return standing;
  }

  private async channelMembers(): Promise<Set<string>> {
    if (this.cached && Date.now() - this.cached.at < MEMBER_CACHE_MS) return this.cached.members;
    const members = new Set<string>();
    let cursor: string | undefined;
    do {
      const page = await this.client.conversations.members({
        channel: this.adminChannel!,
        limit: 1000,
        cursor,
      });
      for (const id of page.members ?? []) members.add(id);
      cursor = page.response_metadata?.next_cursor || undefined;
    } while (cursor);
    this.cached = { members, at: Date.now() };
    return members;
  }
}
