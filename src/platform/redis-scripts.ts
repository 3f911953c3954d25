/**
 * Lua scripts sent by their SHA-1 (EVALSHA) instead of in full (EVAL). On the password page's hot
 * paths the script text was most of what went to Redis on every request: writing it cost the page
 * more CPU than reading the answer. Redis keeps scripts it has run; after a restart or a failover
 * it answers NOSCRIPT once, and the script is sent in full (EVAL, which caches it again). Keys are
 * declared as in EVAL, so a script still runs on the node of its keys' slot under Redis Cluster.
 */
import { createHash } from 'node:crypto';
import type { Redis } from './redis.js';

export class LuaScripts {
  private readonly shas = new Map<string, string>();

  constructor(private readonly redis: Redis) {}

  /** Runs `script` by its SHA-1 when Redis has it, in full otherwise. */
  async evalsha(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown> {
    let sha = this.shas.get(script);
    if (sha === undefined) {
      sha = createHash('sha1').update(script).digest('hex');
      this.shas.set(script, sha);
    }
    try {
      return await this.redis.evalsha(sha, numKeys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return this.redis.eval(script, numKeys, ...args);
    }
  }
}
