/**
 * Where a command or a pipeline stage writes text for people: `process.stdout` fits, and
 * tests pass an object that collects the text. `isTTY` decides between a live progress
 * line and periodic plain lines.
 */
export interface TextOut {
  write(text: string): unknown;
  isTTY?: boolean;
}
