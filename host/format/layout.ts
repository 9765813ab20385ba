// Where a weight matrix's element (r, c) lies in DATA under layout 1 (panels,
// docs/format.md "Weight layout"). The writer scatters logical elements to these
// indices, the host reader (read.ts) gathers them back.

import * as F from "../../assembly/format/constants.ts";

// Stored element index of logical (r, c) for a [rows, cols] matrix in panels.
// int8 panels are P = 8 rows with the columns in pairs; f32 / f16 panels are 16 rows.
export function panelIndex(r: number, c: number, rows: number, cols: number, int8: boolean): number {
  const P = int8 ? F.PANEL_ROWS_INT8 : F.PANEL_ROWS_F32;
  const j = r % P, base = (r - j) * cols; // panel start: full panels of P rows precede it
  if (r >= P * Math.floor(rows / P)) return r * cols + c; // the rows after the last full panel
  if (!int8) return base + c * P + j;
  if (c < (cols & ~1)) return base + (c & ~1) * P + 2 * j + (c & 1);
  return base + (cols - 1) * P + j; // the odd last column
}

// index[i] = stored index of logical flat index i (r * cols + c).
export function panelPermutation(rows: number, cols: number, int8: boolean): Uint32Array {
  const index = new Uint32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) index[r * cols + c] = panelIndex(r, c, rows, cols, int8);
  return index;
}
