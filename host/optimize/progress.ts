// Progress of a long search on stderr, with an ETA. Work is counted in layers run
// per val row, so a candidate high in the stack (cheap, thanks to the cached
// states) moves the bar less than one low in the stack.

import cliProgress from "cli-progress";

export interface Progress {
  update(done: number, total: number, label: string): void;
  stop(): void;
}

export function stderrProgress(title: string): Progress {
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${title} |{bar}| {percentage}% | ETA {eta_formatted} | {label}`,
      etaBuffer: 20,
      hideCursor: true,
      noTTYOutput: true,     // still report in logs and pipes, one line at a time
      notTTYSchedule: 10000, // ms between lines when not a terminal
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(done, total, label) {
      if (!started) {
        bar.start(total, done, { label });
        started = true;
      } else {
        bar.setTotal(total);
        bar.update(done, { label });
      }
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
