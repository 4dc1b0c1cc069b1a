/**
 * Header and gRPC metadata values a scenario may send (`telemetry.headers`,
 * `backends.prometheus.auth.headers`): the rules an HTTP client would otherwise enforce
 * mid-run. An undici request with a value holding a line break is refused by undici and
 * retried as a transport error until the retry budget runs out, so a run with such a
 * header exported nothing and went on for minutes; a `Host` or `Content-Length` given
 * here would fight the framing tally sets. Both are refused at load time, with pointers.
 * Messages never quote a value (it may be a secret).
 *
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-5.5 (field values)
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-7.6.1 (connection-specific fields)
 * @see https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md (reserved metadata)
 */
import type { InputProblem } from '../core/errors.ts';

/** Headers tally frames or sets itself, or that are connection-specific: never from a scenario. */
export const RESERVED_HEADERS: ReadonlySet<string> = new Set([
  'host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'proxy-connection', 'upgrade',
  'te', 'trailer', 'expect', 'content-type', 'content-encoding',
]);

/** A header value tally can send as written: visible ASCII, spaces and tabs inside, nothing else. */
const SENDABLE_VALUE = /^(?:[\x21-\x7e](?:[\x20-\x7e\t]*[\x21-\x7e])?)?$/;

function escapeToken(token: string): string {
  return token.replaceAll('~', '~0').replaceAll('/', '~1');
}

/**
 * Problems of one header map.
 * @param headers the map as written (schema-valid: names are HTTP tokens, values strings).
 * @param pointer JSON pointer of the map, e.g. `/telemetry/headers`.
 * @param grpc the map is also sent as gRPC metadata (names starting `grpc-` are reserved there).
 */
export function headerProblems(headers: Readonly<Record<string, string>> | undefined, pointer: string, grpc = false): InputProblem[] {
  const problems: InputProblem[] = [];
  for (const [name, value] of Object.entries(headers ?? {})) {
    const at = `${pointer}/${escapeToken(name)}`;
    const lower = name.toLowerCase();
    if (RESERVED_HEADERS.has(lower)) {
      problems.push({ pointer: at, message: `is a header tally sets or frames itself (or a connection-specific one); remove it` });
    } else if (grpc && lower.startsWith('grpc-')) {
      problems.push({ pointer: at, message: 'is reserved by gRPC (grpc-*); remove it' });
    } else if (typeof value === 'string' && !SENDABLE_VALUE.test(value)) {
      const hint = /[\r\n]$/.test(value) ? ' A YAML `|` block keeps its final line break: write the value on one line, quoted or with `|-`.' : '';
      problems.push({ pointer: at, message: `must be visible ASCII with no line break, control character or leading/trailing space (its value is not shown: it may be a secret).${hint}` });
    }
  }
  return problems;
}
