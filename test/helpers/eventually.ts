import { setTimeout as delay } from 'node:timers/promises';

type Truthy<T> = Exclude<T, false | null | undefined | 0 | ''>;

/**
 * Resolves with the first truthy value `condition` returns, checking at once and then every `intervalMs`;
 * rejects naming `what` (a function is called then, e.g. to show a process's output) once `timeoutMs` have
 * passed. The one way tests wait for something to happen: no fixed sleeps.
 */
export async function eventually<T>(
  condition: () => T | Promise<T>,
  what: string | (() => string),
  timeoutMs = 15_000,
  intervalMs = 20,
): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value as Truthy<T>;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}`);
    await delay(intervalMs);
  }
}
