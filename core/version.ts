/**
 * tally's own version, from package.json: the one place it is read. It goes into
 * results.json (`tallyVersion`), the User-Agent of every HTTP request tally makes, and the
 * instrumentation scope of the telemetry it generates.
 */
import packageJson from '../package.json' with { type: 'json' };

/** The version in package.json, e.g. `0.1.0`. */
export const TALLY_VERSION: string = packageJson.version;

/** The User-Agent tally sends: `tally/<version>`. */
export const USER_AGENT = `tally/${TALLY_VERSION}`;
