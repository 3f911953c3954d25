/**
 * deploy/prometheus/ is part of the product: the alert rules pass `promtool test rules` (series that
 * fire and series that do not), the scrape config loads, the exposition of a running bot passes
 * `promtool check metrics`, and every kaizen_* metric the rules and the dashboard use exists.
 * Under CI=true a machine without promtool fails here instead of skipping (.ci/run installs it).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { keystoneEnv, startTestBot, type TestBot, testEnv } from '../support/bot.js';
import { type SlackFake, startSlackFake } from '../support/slack-fake.js';

const DIR = 'deploy/prometheus';
const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
const havePromtool = promtool.status === 0;

function run(args: string[], input?: string) {
  const result = spawnSync('promtool', args, { encoding: 'utf8', input });
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

/** The kaizen_* metric families an expression text names (histogram suffixes taken off). */
function kaizenMetrics(text: string): Set<string> {
  return new Set(
    [...text.matchAll(/\bkaizen_[a-z_]+/g)].map((m) => m[0].replace(/_(bucket|count|sum)$/, '')),
  );
}

it('promtool is installed where CI runs', () => {
  if (process.env.CI === 'true') expect(havePromtool, 'promtool is missing: .ci/run installs it').toBe(true);
});

describe.skipIf(!havePromtool && process.env.CI !== 'true')('the Prometheus files', () => {
  let slack: SlackFake;
  let bot: TestBot;
  let exposition: string;

  beforeAll(async () => {
    slack = await startSlackFake();
    bot = await startTestBot(
      testEnv({ SLACK_API_URL: `${slack.url}/api/`, ...keystoneEnv(inject('keystone')) }),
    );
    await fetch(`${bot.url}/healthz`);
    exposition = await (await fetch(`${bot.url}/metrics`)).text();
  });
  afterAll(async () => {
    await bot?.stop();
    await slack?.close();
  });

  it('the alert rules pass their unit tests', () => {
    const checked = run(['check', 'rules', `${DIR}/kaizen.rules.yml`]);
    expect(checked.code, checked.output).toBe(0);
    const tested = run(['test', 'rules', `${DIR}/kaizen.rules.test.yml`]);
    expect(tested.code, tested.output).toBe(0);
    expect(tested.output).toContain('SUCCESS');
  });

  it('every alert has a test that fires it and one that does not', () => {
    const rules = readFileSync(`${DIR}/kaizen.rules.yml`, 'utf8');
    const tests = readFileSync(`${DIR}/kaizen.rules.test.yml`, 'utf8');
    const alerts = [...rules.matchAll(/- alert: (\w+)/g)].map((m) => m[1]!);
    expect(alerts.length).toBeGreaterThanOrEqual(8);
    for (const alert of alerts) {
      const cases = [...tests.matchAll(new RegExp(`alertname: ${alert}\\n\\s+exp_alerts:(.*)`, 'g'))];
      expect(
        cases.some((m) => m[1]!.trim() === '[]'),
        `${alert}: a case that does not fire`,
      ).toBe(true);
      expect(
        cases.some((m) => m[1]!.trim() === ''),
        `${alert}: a case that fires`,
      ).toBe(true);
    }
  });

  it('the scrape config loads with its rules', () => {
    const checked = run(['check', 'config', `${DIR}/prometheus.yml`]);
    expect(checked.code, checked.output).toBe(0);
  });

  it('the live exposition of a running bot passes promtool check metrics', () => {
    expect(exposition).toContain('# TYPE kaizen_build_info gauge');
    expect(exposition).toContain('# TYPE process_start_time_seconds gauge');
    expect(exposition).toMatch(
      /kaizen_http_request_duration_seconds_count\{route="\/healthz",status="200"\} \d+/,
    );
    expect(exposition).toMatch(
      /kaizen_slack_api_request_duration_seconds_count\{method="auth.test",outcome="ok"\} 1/,
    );
    const checked = run(['check', 'metrics'], exposition);
    expect(checked.code, checked.output).toBe(0);
    expect(checked.output).toBe('');
  });

  it('the rules and the dashboard use only metrics the bot exposes', () => {
    const exposed = new Set([...exposition.matchAll(/^# TYPE (\w+)/gm)].map((m) => m[1]!));
    const dashboard = readFileSync(`${DIR}/grafana-dashboard.json`, 'utf8');
    const parsed = JSON.parse(dashboard) as { panels: { targets?: { expr: string }[] }[] };
    const exprs = parsed.panels.flatMap((panel) => panel.targets ?? []).map((target) => target.expr);
    expect(exprs.length).toBeGreaterThan(20);
    const used = kaizenMetrics(`${readFileSync(`${DIR}/kaizen.rules.yml`, 'utf8')}\n${exprs.join('\n')}`);
    expect(used.size).toBeGreaterThan(15);
    expect([...used].filter((name) => !exposed.has(name))).toEqual([]);
  });
});
