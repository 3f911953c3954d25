/**
 * The import rules of .dependency-cruiser.cjs (run by `npm run lint`) catch what they are for: a
 * planted up-arrow, cycle or word in the domain fails them, and the real tree passes.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { cruise, type IConfiguration, type ICruiseResult } from 'dependency-cruiser';
import { afterAll, describe, expect, it } from 'vitest';

const rules = createRequire(import.meta.url)('../.dependency-cruiser.cjs') as IConfiguration;

async function cruiseTree(
  baseDir: string,
  roots: string[],
): Promise<{ modules: number; violations: string[] }> {
  const result = await cruise(roots, {
    validate: true,
    ruleSet: { forbidden: rules.forbidden },
    baseDir,
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  });
  const output = result.output as ICruiseResult;
  return {
    modules: output.modules.length,
    violations: output.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`),
  };
}

const planted = mkdtempSync(join(tmpdir(), 'kaizen-layers-'));
afterAll(() => rmSync(planted, { recursive: true, force: true }));

function plant(files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(planted, path)), { recursive: true });
    writeFileSync(join(planted, path), text);
  }
}

describe('the layer rules', () => {
  it('fail on planted up-arrows, a cycle and words in the domain', async () => {
    plant({
      'src/platform/log.ts': "import { card } from '../slack/card.js';\nexport const log = card;\n",
      'src/slack/card.ts': 'export const card = 1;\n',
      'src/domain/intake/poll.ts':
        "import { card } from '../../slack/card.js';\nimport { words } from '../../../views/words.js';\nimport { WebClient } from '@slack/web-api';\nexport const poll = [card, words, WebClient];\n",
      'views/words.ts': "import { poll } from '../src/domain/intake/poll.js';\nexport const words = poll;\n",
      'src/keystone/client.ts':
        "import { poll } from '../domain/intake/poll.js';\nexport const client = poll;\n",
      'src/domain/setpass/a.ts': "import { b } from './b.js';\nexport const a = b;\n",
      'src/domain/setpass/b.ts': "import { a } from './a.js';\nexport const b = a;\n",
      'src/app/start.ts': 'export const start = 1;\n',
      'commands/reset.ts': "import { start } from '../src/app/start.js';\nexport const reset = start;\n",
    });
    const found = (await cruiseTree(planted, ['src', 'commands', 'views'])).violations;
    expect(found).toEqual(
      expect.arrayContaining([
        'platform-imports-nothing-above: src/platform/log.ts -> src/slack/card.ts',
        'domain-imports-no-surface: src/domain/intake/poll.ts -> src/slack/card.ts',
        'domain-has-no-words: src/domain/intake/poll.ts -> views/words.ts',
        'views-import-types-only: views/words.ts -> src/domain/intake/poll.ts',
        'adapters-import-no-domain: src/keystone/client.ts -> src/domain/intake/poll.ts',
        'nothing-imports-app: commands/reset.ts -> src/app/start.ts',
      ]),
    );
    expect(found.some((line) => line.startsWith('domain-imports-no-slack: src/domain/intake/poll.ts'))).toBe(
      true,
    );
    expect(found.filter((line) => line.startsWith('no-cycles:')).length).toBeGreaterThan(0);
  });

  it('pass on the code as it is', async () => {
    const tree = await cruiseTree(process.cwd(), ['src', 'commands', 'views']);
    expect(tree.modules).toBeGreaterThan(100);
    expect(tree.violations).toEqual([]);
  }, 60_000);
});
