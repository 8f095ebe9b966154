/** Transfer progress, reported per chunk so a CLI can draw a bar. */
export interface ProgressEvent {
  phase: 'hash' | 'upload' | 'download' | 'verify';
  /** Bytes done in this phase so far and the phase's total (uncompressed bytes for transfers). */
  done: number;
  total: number;
}

export type ProgressListener = (event: ProgressEvent) => void;

export function progressCounter(phase: ProgressEvent['phase'], total: number, listener: ProgressListener | undefined) {
  let done = 0;
  return (bytes: number) => {
    done += bytes;
    listener?.({ phase, done: Math.min(done, total), total });
  };
}
