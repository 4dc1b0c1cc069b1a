/**
 * Credentials for the Prometheus HTTP API client, and the redactor that keeps them out
 * of every error, result and log line.
 *
 * Decision: a bearer token file is read on every request, as Prometheus's own
 * `authorization.credentials_file` does (its HTTP client configuration re-reads files
 * per request so a rotated Kubernetes projected token is picked up at once). The cost is
 * one small file read per query, nothing next to a query's latency; caching with a
 * re-read on 401 would send one failing request after each rotation.
 *
 * @see https://prometheus.io/docs/prometheus/latest/configuration/configuration/#http_config
 * @see https://prometheus.io/docs/prometheus/latest/configuration/promtool/ ("The file is read upon every http request")
 */
import { isSecretHeader } from '../../core/header-secrets.ts';
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../../core/errors.ts';

/** How the client authenticates. At most one of `bearerTokenFile` and `basic`. */
export interface PrometheusAuth {
  /** File holding a bearer token (surrounding whitespace trimmed); read per request. */
  bearerTokenFile?: string;
  /** HTTP basic authentication (RFC 7617); the password from a file (read per request) or an environment variable. */
  basic?: { username: string; passwordFile?: string; passwordEnv?: string };
  /**
   * Extra request headers, e.g. `X-Scope-OrgID` for Mimir/Cortex tenants. Every value is
   * treated as a secret and redacted, except those of core/header-secrets.ts's harmless headers.
   */
  headers?: Readonly<Record<string, string>>;
}

const REDACTED = '[REDACTED]';
// Tokens rotate; remember the few latest so an old one echoed in a late reply is still hidden.
const SECRETS_KEPT = 16;
// Shorter secrets would redact ordinary words out of error text; refuse them instead.
const MIN_SECRET_CHARS = 4;

/** Replaces every known secret in text with `[REDACTED]`. */
export class Redactor {
  readonly #secrets: string[] = [];

  /** Remember a secret (and nothing shorter than 4 characters, which is refused upstream). */
  add(secret: string): void {
    if (secret.length < MIN_SECRET_CHARS || this.#secrets.includes(secret)) return;
    this.#secrets.push(secret);
    if (this.#secrets.length > SECRETS_KEPT) this.#secrets.shift();
    // Longest first, so a secret that contains another is replaced whole.
    this.#secrets.sort((a, b) => b.length - a.length);
  }

  /** The text with every remembered secret replaced. */
  redact(text: string): string {
    let out = text;
    for (const s of this.#secrets) if (out.includes(s)) out = out.replaceAll(s, REDACTED);
    return out;
  }
}

/** Builds the per-request auth headers and feeds the redactor. */
export class Credentials {
  readonly #auth: PrometheusAuth;
  readonly #pointer: string;
  readonly redactor = new Redactor();
  readonly #staticHeaders: Record<string, string> = {};

  /**
   * @param auth the configuration.
   * @param pointer JSON pointer of `auth` in the scenario, for error messages (e.g. `/backends/prometheus/auth`).
   * @throws ConfigError `TALLY_CONFIG_INVALID` for both bearer and basic, a basic password with
   * neither or both sources, or an empty username.
   */
  constructor(auth: PrometheusAuth = {}, pointer = '/backends/prometheus/auth') {
    this.#auth = auth;
    this.#pointer = pointer;
    const problems = [];
    if (auth.bearerTokenFile !== undefined && auth.basic !== undefined) {
      problems.push({ pointer, message: 'set one of bearerTokenFile and basic, not both' });
    }
    if (auth.basic !== undefined) {
      if (auth.basic.username === '') problems.push({ pointer: `${pointer}/basic/username`, message: 'a non-empty username is expected' });
      if ((auth.basic.passwordFile === undefined) === (auth.basic.passwordEnv === undefined)) {
        problems.push({ pointer: `${pointer}/basic`, message: 'exactly one of passwordFile and passwordEnv is expected' });
      }
    }
    if (problems.length > 0) throw new ConfigError('invalid Prometheus API credentials', problems);
    for (const [name, value] of Object.entries(auth.headers ?? {})) {
      this.#staticHeaders[name.toLowerCase()] = value;
      if (isSecretHeader(name)) this.redactor.add(value);
    }
  }

  async #readSecretFile(file: string, pointer: string): Promise<string> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (cause) {
      // The path is configuration, not a secret; the content never reaches the message.
      throw new ConfigError(`cannot read ${file}`, [{ pointer, message: `a readable file is expected (${(cause as NodeJS.ErrnoException).code ?? 'error'})` }], {
        code: 'TALLY_CONFIG_UNREADABLE',
      });
    }
    const secret = text.trim();
    if (secret.length < MIN_SECRET_CHARS) throw new ConfigError(`${file} holds no usable secret`, [{ pointer, message: `at least ${MIN_SECRET_CHARS} characters are expected` }]);
    return secret;
  }

  /**
   * The headers for one request: custom headers, then `authorization` from the current
   * token or password. Every secret used is registered with the redactor first.
   * @throws ConfigError `TALLY_CONFIG_UNREADABLE` when a credential file cannot be read,
   * `TALLY_CONFIG_INVALID` when it (or the environment variable) is empty or too short.
   */
  async headers(): Promise<Record<string, string>> {
    const out = { ...this.#staticHeaders };
    const { bearerTokenFile, basic } = this.#auth;
    if (bearerTokenFile !== undefined) {
      const token = await this.#readSecretFile(bearerTokenFile, `${this.#pointer}/bearerTokenFile`);
      this.redactor.add(token);
      out.authorization = `Bearer ${token}`;
    } else if (basic !== undefined) {
      let password: string;
      if (basic.passwordFile !== undefined) password = await this.#readSecretFile(basic.passwordFile, `${this.#pointer}/basic/passwordFile`);
      else {
        password = process.env[basic.passwordEnv as string] ?? '';
        if (password.length < MIN_SECRET_CHARS) {
          throw new ConfigError(`environment variable ${basic.passwordEnv} holds no usable password`, [
            { pointer: `${this.#pointer}/basic/passwordEnv`, message: `a variable with at least ${MIN_SECRET_CHARS} characters is expected` },
          ]);
        }
      }
      const encoded = Buffer.from(`${basic.username}:${password}`).toString('base64');
      this.redactor.add(password);
      this.redactor.add(encoded);
      out.authorization = `Basic ${encoded}`;
    }
    return out;
  }
}
