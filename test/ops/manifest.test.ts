import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AppsManifestCreateArguments } from '@slack/web-api';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

/** The Web API's own manifest type, as `apps.manifest.create` takes it. */
type Manifest = AppsManifestCreateArguments['manifest'];

const manifest = parse(readFileSync('manifest.yml', 'utf8')) as Manifest;

/** The bot scopes Slack knows, read from the Web API package's own `BotScope` type. */
function knownBotScopes(): Set<string> {
  const path = createRequire(import.meta.url).resolve('@slack/web-api/dist/types/request/manifest.d.ts');
  const source = readFileSync(path, 'utf8');
  const union = /type BotScope =([^;]+);/.exec(source)?.[1] ?? '';
  return new Set([...union.matchAll(/'([^']+)'/g)].map((m) => m[1]!));
}

describe('manifest.yml', () => {
  it('declares /kaizen, interactivity and App Home on the bot endpoint', () => {
    const command = manifest.features?.slash_commands?.find((c) => c.command === '/kaizen');
    expect(command?.url).toMatch(/\/slack\/events$/);
    expect(command?.should_escape).toBe(true);
    const settings = manifest.settings as {
      interactivity?: { is_enabled?: boolean; request_url?: string };
      event_subscriptions?: { request_url?: string; bot_events?: string[] };
      socket_mode_enabled?: boolean;
    };
    expect(settings.interactivity).toMatchObject({ is_enabled: true });
    expect(settings.interactivity?.request_url).toMatch(/\/slack\/events$/);
    expect(settings.event_subscriptions?.bot_events).toContain('app_home_opened');
    expect(manifest.features?.app_home?.home_tab_enabled).toBe(true);
    expect(typeof settings.socket_mode_enabled).toBe('boolean');
  });

  it('asks only for bot scopes Slack knows, and for the ones the bot uses', () => {
    const scopes = manifest.oauth_config?.scopes?.bot ?? [];
    const known = knownBotScopes();
    expect(known.size).toBeGreaterThan(50);
    expect(scopes.filter((scope) => !known.has(scope))).toEqual([]);
    for (const needed of ['commands', 'chat:write', 'channels:read', 'users:read', 'users:read.email']) {
      expect(scopes).toContain(needed);
    }
  });

  it('keeps the display texts within Slack limits', () => {
    expect(manifest.display_information.name.length).toBeLessThanOrEqual(35);
    expect((manifest.display_information.description ?? '').length).toBeLessThanOrEqual(140);
    expect((manifest.display_information.long_description ?? '').length).toBeGreaterThanOrEqual(175);
  });
});
