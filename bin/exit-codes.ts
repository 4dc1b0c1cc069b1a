/**
 * The CLI's exit codes, in one place (the README's "Commands" section lists them).
 * Bad input is 2 and a runtime failure 1 (core/errors.ts exitCodeFor); a run stopped by a
 * signal exits 128 + the signal's number.
 */

/** `tally run`: at least one threshold was breached (or could not be measured), as k6 exits. */
export const EXIT_THRESHOLDS_BREACHED = 99;
/** `tally compare`: at least one figure regressed. */
export const EXIT_REGRESSION_FOUND = 3;
/** Stopped by SIGTERM (128 + 15): what was measured is kept, marked incomplete. */
export const EXIT_SIGTERM = 143;
/** Stopped by SIGINT (128 + 2). */
export const EXIT_SIGINT = 130;
