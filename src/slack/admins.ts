import type { WebClient } from '@slack/web-api';

const MEMBER_CACHE_MS = 60_000;

/**
 * Who may act: exactly SLACK_ADMINS when set, otherwise the members of the admin channel
 * (read with conversations.members and cached for a minute so a burst of clicks is one call).
 */
export class AdminDirectory {
  private cached: { members: Set<string>; at: number } | undefined;

  constructor(
    private readonly client: WebClient,
    private readonly admins: string[] | undefined,
    private readonly adminChannel: string | undefined,
  ) {}

  async isAdmin(userId: string): Promise<boolean> {
    if (this.admins) return this.admins.includes(userId);
    if (!this.adminChannel) return false;
    return (await this.channelMembers()).has(userId);
  }

  async list(): Promise<string[]> {
    if (this.admins) return [...this.admins];
    return [...(await this.channelMembers())];
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
