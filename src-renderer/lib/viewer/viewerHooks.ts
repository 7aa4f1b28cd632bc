// The viewer's test and diagnostics hooks on `window`, in one place: browser tests and benchmarks read the label
// counts, hashes and canvas geometry through them instead of poking at components. Installed while a viewer is
// mounted; the returned function removes them.
import type { LabelEditor } from '../labels/labelEditor.svelte';
import type { LabelSession } from '../labels/labelSession.svelte';
import type { Vec3 } from './geometry';
import type { ViewName } from './mpr';

export interface ViewerHookSources {
  /** Maps an LPS point to a view's canvas pixels (undefined while no case is shown). */
  worldToCanvas(view: ViewName, world: Vec3): number[] | undefined;
  editor: LabelEditor;
  session: LabelSession;
}

/** FNV-1a of the label voxels: compares big volumes without copying them out of the page. */
export function labelHash(labels: Uint8Array | null): number | null {
  if (!labels) return null;
  let h = 0x811c9dc5;
  for (let n = 0; n < labels.length; n++) h = Math.imul(h ^ labels[n], 0x01000193);
  return h >>> 0;
}

export function installViewerHooks(src: ViewerHookSources): () => void {
  const w = window as unknown as Record<string, unknown>;
  const { editor, session } = src;
  const viewer = { worldToCanvas: (view: ViewName, world: Vec3) => src.worldToCanvas(view, world) };
  // Label voxel counts per class in the editor's array and in Cornerstone's labelmap, and the session's state.
  const labels = {
    counts: () => [...editor.counts],
    overlayCounts: () => editor.overlayCounts(),
    caseId: () => session.caseId,
    baseVersion: () => session.baseVersion,
    dirty: () => session.dirty,
    snapshot: () => Array.from(editor.labels ?? []),
    hash: () => labelHash(editor.labels),
  };
  w.__deformuxViewer = viewer;
  w.__deformuxLabels = labels;
  // A viewer mounted meanwhile (a project switch) keeps its own hooks.
  return () => {
    if (w.__deformuxViewer === viewer) delete w.__deformuxViewer;
    if (w.__deformuxLabels === labels) delete w.__deformuxLabels;
  };
}
