// The editing keyboard shortcuts, one table for the key handler and the on-screen cheat sheet.
import type { EditTool, SegmentAction } from './editTools';

export const TOOL_KEYS: Record<string, EditTool> = {
  b: 'brush',
  e: 'eraser',
  t: 'threshold',
  s: 'scissors',
  c: 'circle',
  f: 'lasso',
  p: 'fill',
};

/** Keys that run a whole-segment operation on the active segment (one undo step each). */
export const ACTION_KEYS: Record<string, SegmentAction> = { k: 'keepLargest', i: 'interpolate', m: 'smooth' };

export const CHEAT_SHEET: { keys: string; what: string }[] = [
  { keys: 'B', what: 'Brush (paints the active segment)' },
  { keys: 'E', what: 'Eraser' },
  { keys: 'T', what: 'Threshold brush (only voxels in the HU range)' },
  { keys: 'S', what: 'Rectangle scissors (fill or erase on the slice)' },
  { keys: 'C', what: 'Circle scissors (drag centre → rim)' },
  { keys: 'F', what: 'Freehand (lasso) scissors' },
  { keys: 'D', what: 'Circle/lasso scissors through the whole volume (3D) on/off' },
  { keys: 'P', what: 'Paint-fill the connected region under the cursor (optional HU range)' },
  { keys: 'K', what: 'Keep the largest island of the active segment' },
  { keys: 'I', what: 'Interpolate the active segment between edited slices' },
  { keys: 'M', what: 'Smooth the active segment (method in the panel)' },
  { keys: 'Esc', what: 'Cancel a running keep-largest / islands / smooth / interpolate' },
  { keys: 'X / W', what: 'Crosshair / window-level (leave editing)' },
  { keys: '[ / ]', what: 'Brush smaller / larger (also Ctrl+wheel)' },
  { keys: 'G', what: '3D sphere brush on/off' },
  { keys: 'Shift+1…9', what: 'Active segment' },
  { keys: 'L / H', what: 'Lock / hide the active segment' },
  { keys: 'O', what: 'Outline on/off' },
  { keys: 'Ctrl+Z / Ctrl+Shift+Z', what: 'Undo / redo (also Ctrl+Y)' },
  { keys: 'Wheel, ↑/↓', what: 'Scroll slices' },
  { keys: '1–4, R', what: 'W/L presets, reset views' },
  { keys: '?', what: 'This cheat sheet (Esc closes)' },
];
