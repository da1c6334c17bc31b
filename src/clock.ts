import { readFileSync } from 'node:fs';
import type { Config } from './config.ts';

/**
 * The process's clock, passed as `now` to whatever decides by the time (the app, the scheduled publisher).
 * The system's, unless a test set TEST_CLOCK_FILE (only allowed with NODE_ENV=test): then the system's plus
 * the milliseconds in that file, read at every call so that a test moves a running process's time by
 * rewriting it. A missing or empty file is no offset.
 */
export function processClock(config: Pick<Config, 'testClockFile'>): () => Date {
  const file = config.testClockFile;
  if (file === null) return () => new Date();
  return () => new Date(Date.now() + readOffset(file));
}

function readOffset(file: string): number {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch {
    return 0;
  }
  const offset = Number(text);
  if (!Number.isFinite(offset))
    throw new Error(`TEST_CLOCK_FILE ${file} holds “${text}”, not a number of milliseconds`);
  return offset;
}
