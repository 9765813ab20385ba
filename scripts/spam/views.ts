// Training views of the spam messages: what a user sends is often a subject line, a sentence or a
// piece of a message, not a whole e-mail, so the default model is trained on all of these (issue 12).
// The held-out evaluation uses host/data/spam.ts's SPAM_SLICES instead; these views are random.

import { clip, firstSentences, type Row } from "../../host/data/spam.ts";
// mulberry32, seeded, so the views (and the model) are reproducible.
import { prng as seededRandom } from "../../test/helpers/random-model.ts";

/** A window of `text` of about `chars` characters that starts at a word boundary. */
function crop(text: string, chars: number, rand: () => number): string {
  if (text.length <= chars) return text;
  let start = Math.floor(rand() * (text.length - chars));
  const space = text.indexOf(" ", start);
  start = start === 0 || space < 0 ? start : space + 1;
  return clip(text.slice(start), chars);
}

/**
 * Each message becomes up to six texts with its label: subject + body (the whole message), the
 * subject alone, the body alone, its first one or two sentences, the message's first 40 to 300
 * characters, and a random 30 to 400 character crop of the body. Empty and repeated views are dropped.
 */
export function trainingViews(rows: Row[], seed = 0): { text: string; label: Row["label"] }[] {
  const rand = seededRandom(seed);
  const out: { text: string; label: Row["label"] }[] = [];
  for (const r of rows) {
    const views = new Set([
      r.text,
      r.subject,
      r.body,
      firstSentences(r.body, 1 + Math.floor(rand() * 2)),
      clip(r.text, 40 + Math.floor(rand() * 260)),
      crop(r.body, 30 + Math.floor(rand() * 370), rand),
    ]);
    for (const text of views) if (text !== "") out.push({ text, label: r.label });
  }
  return out;
}
