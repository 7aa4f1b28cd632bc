// The one way time left is written (CLI progress lines, fine-tune job messages, the app's progress bar).

/** "40 s left", "12 min left", or "time left unknown" for a missing or non-finite estimate. */
export function formatEta(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return 'time left unknown';
  return seconds < 90 ? `${Math.max(1, Math.round(seconds))} s left` : `${Math.round(seconds / 60)} min left`;
}
