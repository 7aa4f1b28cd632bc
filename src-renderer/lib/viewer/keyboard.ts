// The viewer's keyboard map (ITK-SNAP/Slicer habits): editing tools and segment actions, brush size,
// segments, undo/redo, slice scrolling, W/L presets and modes. No DOM types or Svelte state: the
// viewer passes what a key acts on, and Node tests drive it with plain objects.
import type { EditTool, SegmentAction } from '../labels/editTools';
import { ACTION_KEYS, TOOL_KEYS } from '../labels/shortcuts';
import { WL_PRESETS, type WindowLevel } from './presets';

/** The part of a KeyboardEvent the map reads. */
export interface ViewerKeyEvent {
  key: string;
  code: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  shiftKey: boolean;
  target: unknown;
  preventDefault(): void;
}

/** The part of the label editor the keys change. */
export interface KeyboardEditor {
  attached: boolean;
  classes: readonly { value: number }[];
  activeSegment: number;
  brushRadiusMm: number;
  sphere: boolean;
  scissors3d: boolean;
  outline: boolean;
  undo(): void;
  redo(): void;
  cancelTool(): void;
  setBrushRadius(mm: number): void;
  applyStyle(): void;
  toggleSet(which: 'locked' | 'hidden', value: number): void;
}

/** What the keys do beyond the editor: the viewer's own actions. */
export interface ViewerKeyActions {
  editor: KeyboardEditor;
  /** '?' shows or hides the cheat sheet; Escape hides it. */
  toggleCheatSheet(): void;
  closeCheatSheet(): void;
  setTool(tool: EditTool): void;
  runAction(action: SegmentAction): void;
  /** Scrolls the view under the mouse by whole slices (positive: ArrowUp, PageUp). */
  scroll(deltaSlices: number): void;
  reset(): void;
  setMode(mode: 'cursor' | 'wl'): void;
  applyWl(wl: WindowLevel): void;
}

/** Slices each scrolling key moves. */
export const SCROLL_KEYS: Readonly<Record<string, number>> = { ArrowUp: 1, ArrowDown: -1, PageUp: 10, PageDown: -10 };

const TEXT_FIELDS = new Set(['INPUT', 'SELECT', 'TEXTAREA']);

/** Whether a key event comes from a text field (typing there must not drive the viewer). */
function fromTextField(target: unknown): boolean {
  const tag = (target as { tagName?: unknown } | null)?.tagName;
  return typeof tag === 'string' && TEXT_FIELDS.has(tag);
}

/** Handles one keydown for the viewer. */
export function handleViewerKey(e: ViewerKeyEvent, act: ViewerKeyActions): void {
  const { editor } = act;
  if (fromTextField(e.target)) return;
  if ((e.ctrlKey || e.metaKey) && !e.altKey) {
    const k = e.key.toLowerCase();
    if (k === 'z' || k === 'y') {
      if (k === 'y' || e.shiftKey) editor.redo();
      else editor.undo();
      e.preventDefault();
    }
    return;
  }
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  if (e.key === '?') return act.toggleCheatSheet();
  if (e.key === 'Escape') {
    act.closeCheatSheet();
    editor.cancelTool();
    return;
  }
  if (e.shiftKey && /^Digit[1-9]$/.test(e.code)) {
    const c = editor.classes[Number(e.code.slice(5)) - 1];
    if (c) editor.activeSegment = c.value;
    return;
  }
  if (e.key === '[' || e.key === ']') {
    editor.setBrushRadius(editor.brushRadiusMm + (e.key === ']' ? 0.5 : -0.5) * Math.max(1, editor.brushRadiusMm / 4));
    return;
  }
  const lower = e.key.toLowerCase();
  if (lower in TOOL_KEYS && editor.attached) return act.setTool(TOOL_KEYS[lower]);
  if (lower === 'g') return void (editor.sphere = !editor.sphere);
  if (lower === 'd') return void (editor.scissors3d = !editor.scissors3d);
  if (lower in ACTION_KEYS && editor.attached) return act.runAction(ACTION_KEYS[lower]);
  if (lower === 'o') {
    editor.outline = !editor.outline;
    editor.applyStyle();
    return;
  }
  if (lower === 'l') return editor.toggleSet('locked', editor.activeSegment);
  if (lower === 'h') return editor.toggleSet('hidden', editor.activeSegment);
  if (e.key in SCROLL_KEYS) {
    act.scroll(SCROLL_KEYS[e.key]);
    e.preventDefault();
    return;
  }
  if (lower === 'r') act.reset();
  else if (lower === 'w') act.setMode('wl');
  else if (lower === 'x') act.setMode('cursor');
  else {
    const p = WL_PRESETS.find((q) => q.key === lower);
    if (p) act.applyWl({ width: p.width, center: p.center });
  }
}
