/**
 * Resolve the target host for new connections, per connection or cached, and time the
 * lookup apart from the TCP connect.
 *
 * - IP literal: no lookup, dnsUs -1.
 * - `per-connection`: one `dns.lookup` per new connection (getaddrinfo, so /etc/hosts and
 *   nsswitch apply, as for any libc client); dnsUs is its duration.
 * - `cached`: one lookup per `ttlMs`; concurrent misses share the lookup in flight, and each
 *   waiter records how long it waited. A cache hit did no lookup and records dnsUs -1, so
 *   the DNS histogram holds lookup latency only and its count is the number of lookups.
 *   Failures are not cached.
 *
 * @see https://nodejs.org/api/dns.html#dnslookuphostname-options-callback
 */
import { lookup as dnsLookup } from 'node:dns';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';

/** The `dns.lookup` shape used here (injectable, so tests can count lookups). */
export type LookupFunction = (
  hostname: string,
  options: { family: 0 | 4 | 6; all: false },
  callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
) => void;

/** How a host name is resolved. */
export interface DnsOptions {
  mode: 'per-connection' | 'cached';
  /** How long a cached address is used (ms); ignored per connection. */
  ttlMs: number;
}

/** Called with the address to connect to and the lookup time (µs, -1 when no lookup was done). */
export type ResolveCallback = (err: NodeJS.ErrnoException | null, address: string, dnsUs: number) => void;

const LOOKUP_OPTIONS = { family: 0, all: false } as const;

/** Resolves one host. */
export class HostResolver {
  readonly host: string;
  /** The host is an IP literal: {@link HostResolver.resolve} answers synchronously with dnsUs -1. */
  readonly literal: boolean;
  readonly #options: DnsOptions;
  readonly #lookup: LookupFunction;
  #cachedAddress: string | undefined;
  #expiresAt = 0;
  #waiters: { cb: ResolveCallback; startedAt: number }[] | undefined;

  /**
   * @param host name or IP literal.
   * @param options mode and ttlMs; default per connection.
   * @param lookup defaults to node:dns `lookup`.
   */
  constructor(host: string, options: DnsOptions = { mode: 'per-connection', ttlMs: 0 }, lookup: LookupFunction = dnsLookup as LookupFunction) {
    this.host = host;
    this.literal = isIP(host) !== 0;
    this.#options = options;
    this.#lookup = lookup;
  }

  /**
   * Resolve for one new connection. Synchronous for IP literals and cache hits.
   * Errors are node:dns errors (`ENOTFOUND`, `EAI_AGAIN`, …).
   */
  resolve(cb: ResolveCallback): void {
    if (this.literal) return cb(null, this.host, -1);
    const startedAt = performance.now();
    if (this.#options.mode === 'per-connection') {
      this.#lookup(this.host, LOOKUP_OPTIONS, (err, address) => cb(err, address, (performance.now() - startedAt) * 1000));
      return;
    }
    if (this.#cachedAddress !== undefined && startedAt < this.#expiresAt) return cb(null, this.#cachedAddress, -1);
    if (this.#waiters !== undefined) {
      this.#waiters.push({ cb, startedAt });
      return;
    }
    this.#waiters = [{ cb, startedAt }];
    this.#lookup(this.host, LOOKUP_OPTIONS, (err, address) => {
      const now = performance.now();
      const waiters = this.#waiters ?? [];
      this.#waiters = undefined;
      if (err === null) {
        this.#cachedAddress = address;
        this.#expiresAt = now + this.#options.ttlMs;
      }
      for (const w of waiters) w.cb(err, address, (now - w.startedAt) * 1000);
    });
  }
}
