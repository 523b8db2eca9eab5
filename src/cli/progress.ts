/** A progress bar for long replays (cli-progress, on stderr, only on a terminal). */
import cliProgress from 'cli-progress'

/** Replays shorter than this show no bar. */
export const PROGRESS_MIN_EVENTS = 2000

export interface ProgressReporter {
  update: (done: number, total: number) => void
  stop: () => void
}

export function progressReporter(isTTY: boolean): ProgressReporter | null {
  if (!isTTY) return null
  let bar: cliProgress.SingleBar | null = null
  return {
    update(done, total) {
      if (total < PROGRESS_MIN_EVENTS) return
      if (bar === null) {
        bar = new cliProgress.SingleBar(
          { format: 'replay [{bar}] {percentage}% | {value}/{total} events | {eta_formatted} left', stream: process.stderr, hideCursor: true },
          cliProgress.Presets.shades_classic,
        )
        bar.start(total, 0)
      }
      if (done % 256 === 0 || done === total) bar.update(done)
    },
    stop() {
      bar?.stop()
    },
  }
}
