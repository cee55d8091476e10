/**
 * Fault-matrix figures: printed as `[fault-matrix] <row>: {json}` lines, and appended to the file named by
 * `MCRELAY_FAULT_REPORT` when it is set, so a run's numbers can be collected for the closing note.
 */
import fs from 'node:fs';

export function reportFault(name: string, figures: Record<string, unknown>): void {
  const line = `[fault-matrix] ${name}: ${JSON.stringify(figures)}`;
  console.log(line);
  const out = process.env['MCRELAY_FAULT_REPORT'];
  if (out) fs.appendFileSync(out, `${line}\n`);
}
