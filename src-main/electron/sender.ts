// Decides whether an IPC message comes from our own window's top frame (pure; unit-tested).

export interface SenderFacts {
  /** webContents id of the sender. */
  webContentsId: number;
  /** URL of the frame that sent the message ('' when the frame is gone). */
  frameUrl: string;
  /** True when the sending frame is the top frame of its page. */
  isMainFrame: boolean;
}

/**
 * Calls are served only for the windows we created, from their top frame, showing our app. Anything
 * else (another webContents, an iframe, a page navigated elsewhere) is dropped.
 */
export function isTrustedSender(
  facts: SenderFacts,
  ourWebContentsIds: ReadonlySet<number>,
  isAppUrl: (url: string) => boolean,
): boolean {
  return ourWebContentsIds.has(facts.webContentsId) && facts.isMainFrame && isAppUrl(facts.frameUrl);
}
