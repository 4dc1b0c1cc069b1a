/**
 * The churn client's socket: a libuv TCP handle driven directly, without net.Socket's
 * stream machinery, and the same contract over net.Socket where the handle cannot be had.
 *
 * Why: a new connection per request is the workload, and per connection net.Socket builds
 * a Duplex stream (its readable and writable states, event emitters, a deferred connect on
 * the tick queue, a destroy chain). Measured against nginx on this machine (closed loop, 64
 * connections, one thread): about 9–10 µs of user CPU per connection with a minimal
 * net.Socket client, 5–7 µs with the handle; the kernel's share (connect, write, close,
 * about 20 µs) is the same for both and for wrk. The handle is the floor of Node's socket
 * layer: below it are libuv and the kernel.
 *
 * The handle comes from Node's internal `tcp_wrap` and `stream_wrap` bindings
 * (`process.binding`, a documentation-only deprecation, DEP0111). They have kept these
 * shapes since Node 12; if they are missing or change, {@link tcpTransport} falls back to
 * net.Socket, with the same owner callbacks. `TALLY_TCP_TRANSPORT=net` forces the fallback.
 *
 * @see https://nodejs.org/api/deprecations.html#DEP0111
 * @see https://docs.libuv.org/en/v1.x/tcp.html (uv_tcp_connect, uv_tcp_close_reset)
 */
import { isIPv6, Socket } from 'node:net';
import { getSystemErrorName } from 'node:util';

/** What a client handle reports, through methods (no closures per connection). */
export interface HandleOwner {
  /** The connect completed (`errorCode` undefined) or failed (its errno name: `ECONNREFUSED`, …). */
  handleConnected(errorCode: string | undefined): void;
  /** `n` bytes arrived in `buf` (the thread's shared read buffer: consume before returning). */
  handleRead(buf: Buffer, n: number): void;
  /** The peer closed its side (FIN). */
  handleEnded(): void;
  /** A read or write failed: the errno name (`ECONNRESET`, `EPIPE`, …). */
  handleFailed(code: string): void;
  /** The handle closed; called once. */
  handleClosed(): void;
}

/** One client connection's socket. */
export interface ClientHandle {
  /** Whether the connect has not completed yet. */
  readonly connecting: boolean;
  /**
   * Write the request. A write that fails at once is returned as its errno name; a failure
   * that comes later is reported through `handleFailed`.
   * @returns undefined, or the errno name of an immediate failure.
   */
  write(data: Buffer): string | undefined;
  /** Close: FIN, or RST (SO_LINGER 0) once connected. `handleClosed` follows. Idempotent. */
  close(rst: boolean): void;
}

/** Opens client handles. */
export interface TcpTransport {
  /** `raw` (the libuv handle) or `net` (net.Socket). */
  readonly kind: 'raw' | 'net';
  /**
   * Start a connection. `timing.connectCallUs` is set to the connect call's own duration
   * (the kernel's port search) once it ran: at once for `raw`, after the tick queue for `net`.
   * @returns the handle; a connect that fails at once is reported through `handleConnected` on the next tick.
   */
  open(owner: HandleOwner, address: string, port: number, localAddress: string | undefined, timing: { connectCallUs: number }): ClientHandle;
}

/** One read buffer for every socket of the thread: each read is consumed before the next can arrive. */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

interface RawBindings {
  TCP: new (type: number) => RawTcp;
  TCPConnectWrap: new () => { oncomplete: unknown; address?: string; port?: number };
  WriteWrap: new () => { handle: unknown; oncomplete: unknown; async: boolean };
  SOCKET: number;
  streamBaseState: Int32Array;
  kReadBytesOrError: number;
  UV_EOF: number;
}

interface RawTcp {
  owner: RawHandle;
  onread: (this: RawTcp) => void;
  connect(req: unknown, address: string, port: number): number;
  connect6(req: unknown, address: string, port: number): number;
  bind(address: string, port: number): number;
  bind6(address: string, port: number, flags: number): number;
  useUserBuffer(buf: Buffer): void;
  readStart(): number;
  writeBuffer(req: unknown, buf: Buffer): number;
  close(cb: () => void): void;
  reset(cb: () => void): number;
}

function loadBindings(): RawBindings | undefined {
  if (process.env.TALLY_TCP_TRANSPORT === 'net') return undefined;
  try {
    const binding = (process as unknown as { binding(name: string): Record<string, any> }).binding;
    const tcp = binding('tcp_wrap');
    const stream = binding('stream_wrap');
    const uv = binding('uv');
    const b: RawBindings = {
      TCP: tcp.TCP,
      TCPConnectWrap: tcp.TCPConnectWrap,
      WriteWrap: stream.WriteWrap,
      SOCKET: tcp.constants?.SOCKET,
      streamBaseState: stream.streamBaseState,
      kReadBytesOrError: stream.kReadBytesOrError,
      UV_EOF: uv.UV_EOF,
    };
    const proto = b.TCP?.prototype as Record<string, unknown> | undefined;
    const methods = ['connect', 'connect6', 'bind', 'bind6', 'useUserBuffer', 'readStart', 'writeBuffer', 'close', 'reset'];
    if (typeof b.TCPConnectWrap !== 'function' || typeof b.WriteWrap !== 'function' || typeof b.SOCKET !== 'number' || !(b.streamBaseState instanceof Int32Array) || typeof b.kReadBytesOrError !== 'number' || typeof b.UV_EOF !== 'number' || proto === undefined || !methods.every((m) => typeof proto[m] === 'function')) return undefined;
    return b;
  } catch {
    return undefined;
  }
}

const B = loadBindings();

// The target address rarely changes: its family is remembered, not parsed per connection.
let lastAddress = '';
let lastIsV6 = false;
function isV6(address: string): boolean {
  if (address !== lastAddress) {
    lastAddress = address;
    lastIsV6 = isIPv6(address);
  }
  return lastIsV6;
}

function errnoName(err: number): string {
  try {
    return getSystemErrorName(err);
  } catch {
    return 'UNKNOWN';
  }
}

// Module-level callbacks: `this` (or the argument) leads to the connection; nothing is allocated per connection for them.
function onRawConnect(status: number, tcp: RawTcp): void {
  tcp.owner.connected(status);
}
function onRawRead(this: RawTcp): void {
  this.owner.readable(B!.streamBaseState[B!.kReadBytesOrError]);
}
function onRawWrite(this: { handle: RawTcp }, status: number): void {
  if (status < 0) this.handle.owner.writeFailed(status);
}
// close() and reset() call back with the handle as `this`: no bound function per connection.
function onRawClose(this: RawTcp): void {
  this.owner.closedHandle();
}
function reportFailedConnect(h: RawHandle, status: number): void {
  h.connected(status);
}

/** A client connection on a libuv TCP handle. */
class RawHandle implements ClientHandle {
  readonly #owner: HandleOwner;
  readonly #tcp: RawTcp;
  connecting = true;
  #closing = false;

  constructor(owner: HandleOwner, address: string, port: number, localAddress: string | undefined, timing: { connectCallUs: number }) {
    const b = B!;
    this.#owner = owner;
    const tcp = new b.TCP(b.SOCKET);
    this.#tcp = tcp;
    tcp.owner = this;
    tcp.onread = onRawRead;
    const v6 = isV6(address);
    const req = new b.TCPConnectWrap();
    req.oncomplete = onRawConnect;
    const startedAt = performance.now();
    let err = localAddress === undefined ? 0 : v6 ? tcp.bind6(localAddress, 0, 0) : tcp.bind(localAddress, 0);
    if (err === 0) err = v6 ? tcp.connect6(req, address, port) : tcp.connect(req, address, port);
    timing.connectCallUs = (performance.now() - startedAt) * 1000;
    // A connect that fails at once is told as the asynchronous one would be, after the caller returns.
    if (err !== 0) process.nextTick(reportFailedConnect, this, err);
  }

  connected(status: number): void {
    if (!this.connecting || this.#closing) return;
    this.connecting = false;
    if (status === 0) {
      this.#tcp.useUserBuffer(READ_BUFFER);
      const err = this.#tcp.readStart();
      if (err !== 0) {
        this.#owner.handleFailed(errnoName(err));
        return;
      }
    }
    this.#owner.handleConnected(status === 0 ? undefined : errnoName(status));
  }

  readable(nread: number): void {
    if (this.#closing) return;
    if (nread > 0) this.#owner.handleRead(READ_BUFFER, nread);
    else if (nread === B!.UV_EOF) this.#owner.handleEnded();
    else if (nread < 0) this.#owner.handleFailed(errnoName(nread));
  }

  writeFailed(status: number): void {
    if (!this.#closing) this.#owner.handleFailed(errnoName(status));
  }

  closedHandle(): void {
    this.#owner.handleClosed();
  }

  write(data: Buffer): string | undefined {
    const req = new B!.WriteWrap();
    req.handle = this.#tcp;
    req.oncomplete = onRawWrite;
    req.async = false;
    const err = this.#tcp.writeBuffer(req, data);
    return err < 0 ? errnoName(err) : undefined;
  }

  close(rst: boolean): void {
    if (this.#closing) return;
    this.#closing = true;
    const tcp = this.#tcp;
    // uv_tcp_close_reset sets SO_LINGER 0 and closes: an RST, and no TIME_WAIT.
    if (rst && !this.connecting && tcp.reset(onRawClose) === 0) return;
    tcp.close(onRawClose);
  }
}

const rawTransport: TcpTransport = {
  kind: 'raw',
  open: (owner, address, port, localAddress, timing) => new RawHandle(owner, address, port, localAddress, timing),
};

// ---- the fallback: net.Socket ----

class OwnedSocket extends Socket {
  handleOwner!: HandleOwner;
}
function onSocketConnect(this: OwnedSocket): void {
  this.handleOwner.handleConnected(undefined);
}
function onSocketRead(this: OwnedSocket, nread: number, buf: Buffer): boolean {
  this.handleOwner.handleRead(buf, nread);
  return true;
}
function onSocketEnd(this: OwnedSocket): void {
  this.handleOwner.handleEnded();
}
function onSocketError(this: OwnedSocket, err: NodeJS.ErrnoException): void {
  // A failed connect comes here too (net.Socket has cleared `connecting` by then): a failure either way.
  this.handleOwner.handleFailed(err.code ?? 'UNKNOWN');
}
function onSocketClose(this: OwnedSocket): void {
  this.handleOwner.handleClosed();
}
// net.Socket calls connect(2) on the tick queue (lookupAndConnect defers it for an IP
// literal): ticks queued just before and after it time the call alone.
function beforeConnectCall(timing: { connectCallUs: number; startedAt?: number }): void {
  timing.startedAt = performance.now();
}
function afterConnectCall(timing: { connectCallUs: number; startedAt?: number }): void {
  if (timing.startedAt !== undefined) timing.connectCallUs = (performance.now() - timing.startedAt) * 1000;
}

class NetHandle implements ClientHandle {
  readonly #socket: OwnedSocket;

  constructor(owner: HandleOwner, address: string, port: number, localAddress: string | undefined, timing: { connectCallUs: number }) {
    const socket = new OwnedSocket({ onread: { buffer: READ_BUFFER, callback: onSocketRead } });
    socket.handleOwner = owner;
    this.#socket = socket;
    socket.on('connect', onSocketConnect);
    socket.on('end', onSocketEnd);
    socket.on('error', onSocketError);
    socket.on('close', onSocketClose);
    process.nextTick(beforeConnectCall, timing);
    if (localAddress === undefined) socket.connect(port, address);
    else socket.connect({ port, host: address, localAddress });
    process.nextTick(afterConnectCall, timing);
  }

  get connecting(): boolean {
    return this.#socket.connecting;
  }

  write(data: Buffer): string | undefined {
    this.#socket.write(data);
    return undefined;
  }

  close(rst: boolean): void {
    const s = this.#socket;
    if (s.destroyed) return;
    // destroy(): close(2) with nothing unread sends FIN; resetAndDestroy() sets SO_LINGER 0 and sends RST.
    if (rst && !s.connecting) s.resetAndDestroy();
    else s.destroy();
  }
}

const netTransport: TcpTransport = {
  kind: 'net',
  open: (owner, address, port, localAddress, timing) => new NetHandle(owner, address, port, localAddress, timing),
};

/** The thread's transport: the libuv handle when Node's bindings offer it, else net.Socket. */
export function tcpTransport(): TcpTransport {
  return B !== undefined ? rawTransport : netTransport;
}

/** The net.Socket transport, for tests that hold both to the same contract. */
export const NET_TRANSPORT: TcpTransport = netTransport;
