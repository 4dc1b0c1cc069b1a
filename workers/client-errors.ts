/**
 * Error classes of load requests: errno codes mapped onto core/messages.ts ERROR_CLASSES,
 * and which of them are the generator's own fault rather than the target's.
 */
import { ERROR_CLASSES, type ErrorClass } from '../core/messages.ts';

const KNOWN: ReadonlySet<string> = new Set<string>(ERROR_CLASSES);

/**
 * Map a Node error to its errno class (DNS failures included: `ENOTFOUND`, `EAI_AGAIN`);
 * unknown codes are `other`.
 * @see https://nodejs.org/api/errors.html#common-system-errors
 */
export function classifyError(err: NodeJS.ErrnoException | undefined): ErrorClass {
  const code = err?.code;
  return code !== undefined && KNOWN.has(code) ? (code as ErrorClass) : 'other';
}

/**
 * Errors caused on the load generator's side (no local address or port to bind, out of
 * file descriptors, a stall of its own that let a deadline pass before it wrote the
 * request), as opposed to the target or the datapath refusing, resetting or dropping.
 * Reports split errors on this set.
 */
export const GENERATOR_SIDE_ERRORS: ReadonlySet<ErrorClass> = new Set<ErrorClass>(['EADDRNOTAVAIL', 'EADDRINUSE', 'EMFILE', 'generator_stall']);
