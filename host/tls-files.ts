/**
 * The PEM files a TLS setting names, read from this host: the OTLP exporter's
 * (`telemetry.tls`, read in each worker thread and once before the run so a bad path fails
 * before any traffic) and the embedded receiver's (`embedded.receiver.tls`).
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../core/errors.ts';

/** The file fields of a TLS setting. */
export interface TlsFileSpec {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

/** The files' contents; a field is absent when the setting names no file. */
export interface TlsFiles {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

/**
 * Read the PEM files of a TLS setting.
 * @param tls the setting, or undefined for none.
 * @param pointer the setting's JSON pointer in the scenario, e.g. `/telemetry/tls`.
 * @throws ConfigError `TALLY_CONFIG_INVALID` with the pointer of the unreadable file, or of
 * the setting when only one of certFile and keyFile is given.
 */
export function readTlsFiles(tls: TlsFileSpec | undefined, pointer = '/telemetry/tls'): TlsFiles {
  if (tls === undefined) return {};
  const field = pointer.slice(1).replaceAll('/', '.');
  const read = (path: string | undefined, name: string): Buffer | undefined => {
    if (path === undefined) return undefined;
    try {
      return readFileSync(path);
    } catch (cause) {
      throw new ConfigError(`${field}.${name}: cannot read ${path}`, [{ pointer: `${pointer}/${name}`, message: `cannot read ${path}: ${(cause as Error).message}` }], { cause });
    }
  };
  if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) {
    throw new ConfigError(`${field}: certFile and keyFile go together`, [{ pointer, message: 'give both certFile and keyFile, or neither' }]);
  }
  return { ca: read(tls.caFile, 'caFile'), cert: read(tls.certFile, 'certFile'), key: read(tls.keyFile, 'keyFile') };
}
