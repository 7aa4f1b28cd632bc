// The editing keyboard shortcuts, one table for the key handler and the on-screen cheat sheet.
import type { EditTool } from './labelEditor.svelte';

export const TOOL_KEYS: Record<string, EditTool> = { b: 'brush', e: 'eraser', t: 'threshold', s: 'scissors' };

export const CHEAT_SHEET: { keys: string; what: string }[] = [
  { keys: 'B', what: 'Brush (paints the active segment)' },
  { keys: 'E', what: 'Eraser' },
  { keys: 'T', what: 'Threshold brush (only voxels in the HU range)' },
  { keys: 'S', what: 'Rectangle scissors (fill or erase on the slice)' },
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
