// The request bodies of the load test: texts built from the model's own
// vocabulary (whole words, seeded), from 1 word to past max_len, as single
// texts, text pairs and batches of 4, so the requests cost what real traffic of
// mixed lengths costs. Deterministic for a seed.
import { prng } from "../../test/helpers/random-model.ts";

export type Body = { text: string } | { text: string; text_pair: string } | { texts: string[] };

export function makeBodies(vocab: string[], count: number, seed: number): Body[] {
  const rand = prng(seed);
  const words = vocab.filter((w) => /^[a-z]{2,}$/.test(w));
  if (words.length === 0) throw new Error("makeBodies: the vocabulary has no plain words");
  // Lengths skewed short, as messages are: 1..160 words (past a 128-token max_len).
  const text = () => {
    const n = 1 + Math.floor(160 * rand() ** 2.5);
    return Array.from({ length: n }, () => words[Math.floor(rand() * words.length)]).join(" ");
  };
  return Array.from({ length: count }, (): Body => {
    const r = rand();
    if (r < 0.85) return { text: text() };
    if (r < 0.95) return { texts: [text(), text(), text(), text()] };
    return { text: text(), text_pair: text() };
  });
}
