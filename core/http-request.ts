/**
 * The HTTP/1.1 request a load iteration sends, shared by the planner (which builds it
 * once per shard) and the load client (and its tests).
 */

/**
 * Request line, `Host`, `User-Agent: tally`, `Accept: *\/*`, and no `Connection` header in
 * any reuse mode: HTTP/1.1 persists by default and the client decides when to close, so its
 * close mode (`fin` or `rst`) decides who holds TIME_WAIT. IPv6 hosts are bracketed.
 * @returns latin1 text, ending in CRLFCRLF.
 * @see https://www.rfc-editor.org/rfc/rfc9112#section-3.2 (Host), #section-9.3 (persistence)
 */
export function buildRequestText(options: { method: 'GET' | 'HEAD'; host: string; port: number; path: string }): string {
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return `${options.method} ${options.path} HTTP/1.1\r\nHost: ${host}:${options.port}\r\nUser-Agent: tally\r\nAccept: */*\r\n\r\n`;
}
