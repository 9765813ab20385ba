// The HTML report of an optimize run: one self-contained file (inline CSS and SVG,
// no script, no network) showing what was removed per layer, the val loss after
// each accepted step, size and speed before and after, and for every rejected
// candidate how close it came to the test.

import type { Summary } from "./index.ts";
import type { CandidateRecord } from "./search.ts";
import { FFN_GROUPS } from "./transforms.ts";

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
const num = (x: number, d = 4) => (Number.isFinite(x) ? x.toFixed(d) : "n/a");
const mib = (b: number) => `${(b / 1024 / 1024).toFixed(2)} MiB`;

const KEPT = "#4c78a8", GONE = "#e45756", HARD = "#f58518", BLOCK = "#bab0ac", INT8 = "#54a24b";

// One row per layer: the attention block's heads, then the FFN's 12 neuron groups.
function layerPicture(s: Summary): string {
  const L = s.decisions.hard_attention.length;
  const cell = 18, gap = 3, labelW = 70, rowH = 30;
  const headsX = labelW, headsW = Math.max(s.num_heads * (cell + gap), 100);
  const hardX = headsX + headsW + 8;
  const ffnX = hardX + 90, ffnW = FFN_GROUPS * (cell + gap); // room for the "hard / int8" heading
  const width = Math.max(ffnX + ffnW + 10, labelW + 5 * 150), height = 40 + L * rowH + 30;
  const parts: string[] = [];
  parts.push(`<text x="${headsX}" y="16" class="axis">attention heads</text>`);
  parts.push(`<text x="${hardX}" y="16" class="axis">hard / int8</text>`);
  parts.push(`<text x="${ffnX}" y="16" class="axis">FFN neuron groups (of ${s.intermediate_size})</text>`);
  for (let i = 0; i < L; i++) {
    const y = 30 + i * rowH;
    const d = s.decisions;
    parts.push(`<text x="4" y="${y + 13}" class="axis">layer ${i}</text>`);
    if (d.attention_block_removed[i]) {
      parts.push(`<rect x="${headsX}" y="${y}" width="${headsW - gap}" height="${cell}" fill="${BLOCK}"><title>layer ${i}: attention block removed (LayerNorm only)</title></rect>`);
      parts.push(`<text x="${headsX + 4}" y="${y + 13}" class="inbar">block removed</text>`);
    } else {
      for (let h = 0; h < s.num_heads; h++) {
        const gone = d.heads_removed[i].includes(h);
        parts.push(`<rect x="${headsX + h * (cell + gap)}" y="${y}" width="${cell}" height="${cell}" fill="${gone ? GONE : KEPT}"><title>layer ${i} head ${h}: ${gone ? "removed" : "kept"}</title></rect>`);
      }
    }
    if (d.int8_layers[i]) {
      parts.push(`<rect x="${hardX}" y="${y + cell - 6}" width="44" height="8" rx="2" fill="${INT8}"><title>layer ${i}: int8 weights</title></rect>`);
    }
    if (d.hard_attention[i]) {
      parts.push(`<rect x="${hardX}" y="${y}" width="44" height="${cell}" rx="4" fill="${HARD}"><title>layer ${i}: hard attention, K = ${d.hard_attention_k[i]}</title></rect>`);
      parts.push(`<text x="${hardX + 5}" y="${y + 13}" class="inbar">K=${d.hard_attention_k[i]}</text>`);
    }
    if (d.ffn_block_removed[i]) {
      parts.push(`<rect x="${ffnX}" y="${y}" width="${ffnW - gap}" height="${cell}" fill="${BLOCK}"><title>layer ${i}: FFN block removed (LayerNorm only)</title></rect>`);
      parts.push(`<text x="${ffnX + 4}" y="${y + 13}" class="inbar">block removed</text>`);
    } else {
      for (let g = 0; g < FFN_GROUPS; g++) {
        const gone = d.ffn_groups_removed[i].includes(g);
        parts.push(`<rect x="${ffnX + g * (cell + gap)}" y="${y}" width="${cell}" height="${cell}" fill="${gone ? GONE : KEPT}"><title>layer ${i} FFN group ${g}: ${gone ? "removed" : "kept"}</title></rect>`);
      }
    }
  }
  const ly = 30 + L * rowH + 8;
  const legend: Array<[string, string]> = [[KEPT, "kept"], [GONE, "removed"], [BLOCK, "whole block removed"], [HARD, "hard attention"]];
  if (s.decisions.int8_layers.some(Boolean)) legend.push([INT8, "int8 weights"]);
  legend.forEach(([c, t], k) => {
    parts.push(`<rect x="${labelW + k * 150}" y="${ly}" width="12" height="12" fill="${c}"/><text x="${labelW + k * 150 + 16}" y="${ly + 10}" class="axis">${t}</text>`);
  });
  return `<svg width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="per-layer decisions">${parts.join("")}</svg>`;
}

// The val loss after each accepted step (the original model first).
function lossChart(s: Summary): string {
  const pts = s.accepted_steps;
  const W = 760, Hh = 300, padL = 60, padR = 110, padT = 20, padB = 110;
  const losses = pts.map((p) => p.loss).filter(Number.isFinite);
  let lo = Math.min(...losses), hi = Math.max(...losses);
  if (!(hi > lo)) { lo -= 0.01; hi += 0.01; }
  const x = (i: number) => padL + (pts.length === 1 ? 0 : (i * (W - padL - padR)) / (pts.length - 1));
  const y = (v: number) => padT + ((hi - v) * (Hh - padT - padB)) / (hi - lo);
  const every = Math.ceil(pts.length / 40); // label at most 40 steps
  const parts: string[] = [];
  parts.push(`<line x1="${padL}" y1="${padT}" x2="${padL}" y2="${Hh - padB}" class="ax"/><line x1="${padL}" y1="${Hh - padB}" x2="${W - padR}" y2="${Hh - padB}" class="ax"/>`);
  for (const v of [lo, (lo + hi) / 2, hi]) parts.push(`<text x="${padL - 6}" y="${y(v) + 4}" text-anchor="end" class="axis">${num(v)}</text>`);
  parts.push(`<polyline fill="none" stroke="${KEPT}" stroke-width="2" points="${pts.map((p, i) => `${x(i)},${y(p.loss)}`).join(" ")}"/>`);
  pts.forEach((p, i) => {
    const label = p.layer < 0 ? "original" : `L${p.layer} ${p.step}`;
    parts.push(`<circle cx="${x(i)}" cy="${y(p.loss)}" r="4" fill="${KEPT}"><title>${esc(label)}: loss ${num(p.loss)}, metric ${num(p.metric, 2)}</title></circle>`);
    if (i % every === 0) parts.push(`<text transform="translate(${x(i) + 3},${Hh - padB + 12}) rotate(40)" class="axis">${esc(label)}</text>`);
  });
  return `<svg width="${W}" height="${Hh}" viewBox="0 0 ${W} ${Hh}" role="img" aria-label="val loss after each accepted step">${parts.join("")}</svg>`;
}

// Every candidate as a point: x = its loss / Lmin, y = rows no worse / rows. The
// strict test accepts left of x = 1 and above y = N / rows (the shaded corner).
function closenessChart(s: Summary): string {
  const W = 640, Hh = 300, pad = 50;
  const cs = s.candidates.filter((c) => Number.isFinite(c.loss) && c.lmin > 0);
  const ratios = cs.map((c) => c.loss / c.lmin);
  let lo = Math.min(0.9, ...ratios), hi = Math.max(1.2, ...ratios);
  hi = Math.min(hi, 3); // a removal that wrecks the model would squash everything else
  const x = (r: number) => pad + ((Math.min(r, hi) - lo) * (W - 2 * pad)) / (hi - lo);
  const y = (f: number) => Hh - pad - f * (Hh - 2 * pad);
  const need = s.rows_needed / s.val_rows;
  const parts: string[] = [];
  parts.push(`<rect x="${pad}" y="${y(1)}" width="${x(1) - pad}" height="${y(need) - y(1)}" fill="#e7f4e4"><title>the strict test accepts here: loss below Lmin and more than ${s.rows_needed} rows no worse</title></rect>`);
  parts.push(`<line x1="${x(1)}" y1="${y(0)}" x2="${x(1)}" y2="${y(1)}" class="ref"/><line x1="${pad}" y1="${y(need)}" x2="${W - pad}" y2="${y(need)}" class="ref"/>`);
  parts.push(`<line x1="${pad}" y1="${y(0)}" x2="${W - pad}" y2="${y(0)}" class="ax"/><line x1="${pad}" y1="${y(0)}" x2="${pad}" y2="${y(1)}" class="ax"/>`);
  parts.push(`<text x="${W / 2}" y="${Hh - 12}" text-anchor="middle" class="axis">candidate loss / Lmin at the time (1 = no better)</text>`);
  parts.push(`<text transform="translate(14,${Hh / 2}) rotate(-90)" text-anchor="middle" class="axis">rows no worse / val rows</text>`);
  for (const v of [lo, 1, hi]) parts.push(`<text x="${x(v)}" y="${y(0) + 14}" text-anchor="middle" class="axis">${v.toFixed(2)}</text>`);
  for (const f of [0, 0.5, 1]) parts.push(`<text x="${pad - 6}" y="${y(f) + 4}" text-anchor="end" class="axis">${f}</text>`);
  cs.forEach((c) => {
    const r = c.loss / c.lmin;
    parts.push(`<circle cx="${x(r)}" cy="${y(c.rows_no_worse / s.val_rows)}" r="4" fill="${c.accepted ? KEPT : GONE}" fill-opacity="0.75"><title>layer ${c.layer} ${esc(c.step)}: loss ${num(c.loss)} vs Lmin ${num(c.lmin)}, ${c.rows_no_worse} rows no worse (need > ${c.rows_needed}) ${c.accepted ? "accepted" : "rejected"}</title></circle>`);
  });
  return `<svg width="${W}" height="${Hh}" viewBox="0 0 ${W} ${Hh}" role="img" aria-label="how close each candidate came">${parts.join("")}</svg>`;
}

function candidateRows(s: Summary): string {
  return s.candidates.map((c: CandidateRecord, k) => {
    const dl = c.loss - c.lmin;
    const lossOk = c.loss < c.lmin, rowsOk = c.rows_no_worse > c.rows_needed;
    const frac = Math.min(1, c.rows_no_worse / s.val_rows);
    const bar = `<svg width="80" height="10"><rect width="80" height="10" fill="#eee"/><rect width="${(80 * frac).toFixed(1)}" height="10" fill="${rowsOk ? KEPT : GONE}"/><line x1="${(80 * (c.rows_needed / s.val_rows)).toFixed(1)}" y1="0" x2="${(80 * (c.rows_needed / s.val_rows)).toFixed(1)}" y2="10" stroke="#000"/></svg>`;
    return `<tr class="${c.accepted ? "acc" : "rej"}"><td>${k + 1}</td><td>${c.layer}</td><td>${esc(c.step)}</td>` +
      `<td class="${lossOk ? "ok" : "no"}">${num(c.loss)}</td><td>${num(c.lmin)}</td><td class="${lossOk ? "ok" : "no"}">${dl >= 0 ? "+" : ""}${num(dl)}</td>` +
      `<td class="${rowsOk ? "ok" : "no"}">${c.rows_no_worse} / ${s.val_rows}</td><td>&gt; ${c.rows_needed}</td><td>${bar}</td>` +
      `<td>${num(c.metric, 2)}</td><td>${c.accepted ? "accepted" : c.early_rejected ? `rejected after ${c.rows_evaluated} rows` : "rejected"}</td></tr>`;
  }).join("\n");
}

export function renderReport(s: Summary, title = "AxFormer optimization"): string {
  const sp = s.speed;
  const speedRows = sp
    ? `<tr><th>latency, ${sp.seq_len} tokens (median, 1 thread)</th><td>${num(sp.ms_before, 2)} ms</td><td>${num(sp.ms_after, 2)} ms</td><td>${num(sp.ms_before / sp.ms_after, 2)}x faster</td></tr>
<tr><th>latency, mean over val rows</th><td>${num(sp.val_row_ms_before, 2)} ms</td><td>${num(sp.val_row_ms_after, 2)} ms</td><td>${num(sp.val_row_ms_before / sp.val_row_ms_after, 2)}x faster</td></tr>`
    : "";
  const accepted = s.candidates.filter((c) => c.accepted).length;
  const mode = s.mode === "strict"
    ? "strict test (the paper's): loss below Lmin and more than half of the rows no worse than under the original model"
    : `accuracy budget: val ${s.metric_name} within ${s.max_drop} points of the original`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1000px;color:#222;padding:0 12px}
h1{font-size:22px} h2{font-size:17px;margin-top:28px}
table{border-collapse:collapse;margin:8px 0} th,td{padding:3px 8px;border-bottom:1px solid #ddd;text-align:right} th{text-align:left}
.cands td:nth-child(3){text-align:left} .acc{background:#eef6ff} .ok{color:#2a7a2a} .no{color:#b03030}
.axis{font-size:11px;fill:#444} .inbar{font-size:11px;fill:#fff} .ax{stroke:#444} .ref{stroke:#888;stroke-dasharray:4 3}
</style></head><body>
<h1>${esc(title)}</h1>
<p>Task <b>${esc(s.task)}</b>, ${s.val_rows} val rows (max ${s.max_len} tokens). Mode: ${esc(mode)}.
${s.candidates.length} candidates, ${accepted} accepted (${s.candidates.filter((c) => c.early_rejected).length} rejected early, before all rows were known); ${s.evaluations} val evaluations,
${s.row_evaluations} row evaluations (${s.row_evaluations_without_early_reject} without early rejection and skipped rows),
${s.layer_evaluations} layer evaluations (${s.layer_evaluations_without_early_reject} without early rejection, ${s.layer_evaluations_without_reuse} without reusing hidden states either), ${num(s.seconds, 1)} s on ${s.workers} worker(s).
Per-row losses in ${s.loss_precision === "f32" ? "float32, as PyTorch computes them (the reference's)" : "float64"}.</p>
<table>
<tr><th></th><th>before</th><th>after</th><th></th></tr>
<tr><th>val loss</th><td>${num(s.original_val_loss)}</td><td>${num(s.final_val_loss)}</td><td></td></tr>
<tr><th>val ${esc(s.metric_name)} (points)</th><td>${num(s.original_val_metric, 2)}</td><td>${num(s.final_val_metric, 2)}</td><td>${num(s.final_val_metric - s.original_val_metric, 2)}</td></tr>
<tr><th>file size</th><td>${mib(s.size_bytes.before)}</td><td>${mib(s.size_bytes.after)}</td><td>${num(s.size_bytes.before / s.size_bytes.after, 2)}x smaller</td></tr>
<tr><th>parameters</th><td>${s.parameters.before}</td><td>${s.parameters.after}</td><td></td></tr>
${speedRows}
</table>
<h2>What was removed, per layer</h2>
${layerPicture(s)}
<h2>Val loss after each accepted step</h2>
${lossChart(s)}
<h2>How close every candidate came</h2>
<p>Each point is a candidate: its mean val loss against the Lmin it had to beat, and the share of val rows whose loss was no worse than under the original model (the strict test needs more than ${s.rows_needed}). Blue: accepted, red: rejected.</p>
${closenessChart(s)}
<table class="cands">
<tr><th>#</th><th>layer</th><th>step</th><th>loss</th><th>Lmin</th><th>loss - Lmin</th><th>rows no worse</th><th>needed</th><th></th><th>${esc(s.metric_name)}</th><th></th></tr>
${candidateRows(s)}
</table>
</body></html>
`;
}
