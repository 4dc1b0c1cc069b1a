/**
 * Which header values are secrets: all of them, except those of a short list of headers
 * known to be harmless. A name pattern (`authorization|token|key|…`) missed `X-Tenant-Auth`
 * and `X-Auth`, whose values then reached plan.json and stderr; an allowlist cannot miss
 * a secret, only over-redact. Pure.
 */

/** Headers whose values are not secrets (compared lowercased): content negotiation, tracing ids, the Mimir/Cortex tenant. */
export const HARMLESS_HEADERS: ReadonlySet<string> = new Set([
  'accept', 'accept-language', 'user-agent', 'x-scope-orgid', 'x-request-id', 'x-correlation-id',
]);

/** The text that replaces a secret. */
export const REDACTED = '[REDACTED]';

/** Whether a header's value is treated as a secret (every header not in {@link HARMLESS_HEADERS}). */
export function isSecretHeader(name: string): boolean {
  return !HARMLESS_HEADERS.has(name.toLowerCase());
}

/** The secret values of a header map (the values of every header not known harmless). */
export function headerSecrets(headers: Readonly<Record<string, string>> | undefined): string[] {
  return Object.entries(headers ?? {}).filter(([name]) => isSecretHeader(name)).map(([, value]) => value);
}

/** Secrets shorter than this are not redacted from text (they would blank out ordinary words). */
const MIN_REDACTED_CHARS = 4;

/**
 * `text` with every secret in it replaced by {@link REDACTED} (longest first, so a secret
 * that contains another is replaced whole). For messages that quote a peer's answer, which
 * may echo the request's headers.
 */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of [...secrets].filter((v) => v.length >= MIN_REDACTED_CHARS).sort((a, b) => b.length - a.length)) if (out.includes(s)) out = out.replaceAll(s, REDACTED);
  return out;
}
