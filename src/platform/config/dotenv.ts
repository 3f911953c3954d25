import { existsSync } from 'node:fs';
import { config as readDotenv } from 'dotenv';

/** Reads `.env` from the working directory when present; real environment variables win. */
export function loadDotenv(path = '.env'): void {
  if (existsSync(path)) readDotenv({ path, override: false, quiet: true });
}
