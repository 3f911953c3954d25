/**
 * The version of this build, from package.json: shown by `kaizen --version`, the start-up log
 * line, /healthz and the kaizen_build_info metric. The file is found from this module's place
 * (src/platform/ when run with tsx, dist/src/platform/ when built), so no build step has to copy it.
 */
import { readFileSync } from 'node:fs';

function readVersion(): string {
  for (const relative of ['../../package.json', '../../../package.json']) {
    try {
      const parsed = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (parsed.name === 'kaizen-registration' && typeof parsed.version === 'string') return parsed.version;
    } catch {
      // Not at this level; try the next one up.
    }
  }
  return 'unknown';
}

export const VERSION = readVersion();
