/**
 * `tally compare <baseline>... <candidate>` and `tally report <run-dir>`: parse flags, call
 * the pipeline (pipeline/compare.ts, pipeline/report.ts), print, and return the exit code.
 */
import { parseArgs } from 'node:util';
import { ConfigError } from '../../core/errors.ts';
import type { TextOut } from '../../core/text-out.ts';
import { compareRunDirs, DEFAULT_COMPARE_OPTIONS } from '../../pipeline/compare.ts';
import { reportRun } from '../../pipeline/report.ts';
import { renderCompareMarkdown, renderCompareTerminal } from '../../reports/compare-render.ts';
import { EXIT_REGRESSION_FOUND } from '../exit-codes.ts';

/** Usage text of `tally compare`. */
export const COMPARE_USAGE = `usage: tally compare <baseline-run-dir>... <candidate-run-dir> [--json | --markdown] [--junit FILE] [--html FILE]
         [--min-effect RATIO] [--min-effect-us US] [--alpha P] [--count-tolerance RATIO]
  the last directory is the candidate; several baselines (e.g. the last nights) are pooled.
  --html FILE writes a self-contained page: the verdicts, then baselines and candidate overlaid on the same axes.
  defaults: --min-effect ${DEFAULT_COMPARE_OPTIONS.minEffectRatio}, --min-effect-us ${DEFAULT_COMPARE_OPTIONS.minEffectUs}, --alpha ${DEFAULT_COMPARE_OPTIONS.alpha}, --count-tolerance ${DEFAULT_COMPARE_OPTIONS.countToleranceRatio}
  exit codes: 0 no regression, ${EXIT_REGRESSION_FOUND} a figure regressed, 1 runtime failure, 2 bad input`;

/** Usage text of `tally report`. */
export const REPORT_USAGE = 'usage: tally report <run-dir> [--junit FILE] [--html]   re-render the terminal summary, summary.md and JUnit (default <run-dir>/junit.xml) from results.json; --html also <run-dir>/report.html';

function usage(message: string, text: string): ConfigError {
  return new ConfigError(`${message}\n${text}`, [], { code: 'TALLY_USAGE' });
}

function ratio(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (!Number.isFinite(v) || v < 0) throw new ConfigError(`--${flag} must be a number ≥ 0`, [{ pointer: `/${flag}`, message: 'must be a number ≥ 0' }], { code: 'TALLY_USAGE' });
  return v;
}

/**
 * Run `tally compare …`.
 * @returns 0, or {@link EXIT_REGRESSION_FOUND} when a figure regressed.
 * @throws ConfigError `TALLY_USAGE` (exit 2) for bad flags or fewer than two directories.
 */
export async function compareCommand(argv: string[], out: TextOut): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { json: { type: 'boolean' }, markdown: { type: 'boolean' }, junit: { type: 'string' }, html: { type: 'string' }, 'min-effect': { type: 'string' }, 'min-effect-us': { type: 'string' }, alpha: { type: 'string' }, 'count-tolerance': { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  } catch (err) {
    throw usage((err as Error).message, COMPARE_USAGE);
  }
  const v = parsed.values;
  if (v.help) {
    out.write(`${COMPARE_USAGE}\n`);
    return 0;
  }
  if (parsed.positionals.length < 2) throw usage('tally compare takes at least one baseline and a candidate run directory', COMPARE_USAGE);
  if (v.json && v.markdown) throw usage('--json and --markdown exclude each other', COMPARE_USAGE);
  const dirs = parsed.positionals;
  const options = Object.fromEntries(
    Object.entries({ minEffectRatio: ratio('min-effect', v['min-effect']), minEffectUs: ratio('min-effect-us', v['min-effect-us']), alpha: ratio('alpha', v.alpha), countToleranceRatio: ratio('count-tolerance', v['count-tolerance']) }).filter(([, x]) => x !== undefined),
  );
  const comparison = await compareRunDirs({ baselineDirs: dirs.slice(0, -1), candidateDir: dirs.at(-1)!, options, junitPath: v.junit, htmlPath: v.html });
  out.write(v.json ? `${JSON.stringify(comparison, null, 2)}\n` : v.markdown ? renderCompareMarkdown(comparison) : renderCompareTerminal(comparison));
  return comparison.regressed ? EXIT_REGRESSION_FOUND : 0;
}

/**
 * Run `tally report <run-dir> [--junit FILE] [--html]`.
 * @returns 0 (the run's own verdict was its exit code).
 * @throws ConfigError `TALLY_USAGE` for bad flags; `TALLY_CONFIG_UNREADABLE`/`TALLY_CONFIG_INVALID` for a directory without a valid results.json.
 */
export async function reportCommand(argv: string[], out: TextOut): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { junit: { type: 'string' }, html: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  } catch (err) {
    throw usage((err as Error).message, REPORT_USAGE);
  }
  if (parsed.values.help) {
    out.write(`${REPORT_USAGE}\n`);
    return 0;
  }
  if (parsed.positionals.length !== 1) throw usage('tally report takes exactly one run directory', REPORT_USAGE);
  await reportRun({ runDir: parsed.positionals[0], junitPath: parsed.values.junit, html: parsed.values.html, stdout: out });
  return 0;
}
