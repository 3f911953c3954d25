/**
 * Records the keys of every command the ioredis clients of this test process send, grouped the
 * way a Redis Cluster sees them: one command (a script with its declared keys, MGET, DEL…), one
 * pipeline, or one MULTI/EXEC transaction together with the keys WATCHed before it. Each group
 * names the line of our code that sent it.
 */
import { Redis } from 'ioredis';
import { slotsOf } from './key-slot.js';

export interface RecordedBatch {
  kind: 'command' | 'pipeline' | 'transaction';
  commands: string[];
  keys: string[];
  /** `src/…/file.ts:line` of the caller, when the stack shows one. */
  site: string | undefined;
}

interface CommandLike {
  name: string;
  getKeys(): (string | Buffer)[];
}

type SendCommand = (this: Redis, command: CommandLike, stream?: unknown, node?: unknown) => unknown;

export interface RedisRecorder {
  batches: RecordedBatch[];
  /** Groups whose keys do not all hash to one slot. */
  crossSlot(): RecordedBatch[];
  /** Groups with more than one key. */
  multiKey(): RecordedBatch[];
  stop(): void;
}

function callerSite(): string | undefined {
  const frames = new Error().stack?.split('\n').slice(1) ?? [];
  for (const frame of frames) {
    const found = /\/((?:src|commands|views)\/[^\s:)]+\.ts):(\d+)/.exec(frame);
    if (found && !frame.includes('node_modules')) return `${found[1]}:${found[2]}`;
  }
  return undefined;
}

export function recordRedisKeys(): RedisRecorder {
  const prototype = Redis.prototype as unknown as { sendCommand: SendCommand };
  const original = prototype.sendCommand;
  const batches: RecordedBatch[] = [];
  const seen = new WeakSet<object>();
  const pipelines = new WeakMap<object, RecordedBatch>();
  const watched = new WeakMap<Redis, string[]>();

  prototype.sendCommand = function (this: Redis, command, stream, node) {
    // A command queued while disconnected is sent again on connect: count it once.
    if (!seen.has(command)) {
      seen.add(command);
      const name = command.name.toLowerCase();
      const keys = command.getKeys().map((key) => key.toString());
      const isPipeline = typeof stream === 'object' && stream !== null && 'isPipeline' in stream;
      if (name === 'watch') {
        watched.set(this, [...(watched.get(this) ?? []), ...keys]);
      } else if (name === 'unwatch') {
        watched.delete(this);
      } else if (isPipeline) {
        let batch = pipelines.get(stream);
        if (!batch) {
          batch = { kind: 'pipeline', commands: [], keys: [], site: callerSite() };
          pipelines.set(stream, batch);
          batches.push(batch);
        }
        batch.commands.push(name);
        batch.keys.push(...keys);
        if (name === 'multi') {
          batch.kind = 'transaction';
          batch.keys.push(...(watched.get(this) ?? []));
          watched.delete(this);
        }
      } else {
        batches.push({ kind: 'command', commands: [name], keys, site: callerSite() });
      }
    }
    return original.call(this, command, stream, node);
  };

  return {
    batches,
    crossSlot: () => batches.filter((batch) => slotsOf(batch.keys).size > 1),
    multiKey: () => batches.filter((batch) => batch.keys.length > 1),
    stop() {
      prototype.sendCommand = original;
    },
  };
}
