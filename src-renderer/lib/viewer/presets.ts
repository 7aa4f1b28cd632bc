// Window/level presets (HU) as radiologists use them for abdominal CT.

export interface WindowLevel {
  /** Window width in HU. */
  width: number;
  /** Window centre (level) in HU. */
  center: number;
}

export interface WlPreset extends WindowLevel {
  id: string;
  label: string;
  /** Keyboard shortcut (digit) shown in the UI. */
  key: string;
}

export const WL_PRESETS: readonly WlPreset[] = [
  { id: 'abdomen', label: 'Abdomen', width: 400, center: 40, key: '1' },
  { id: 'soft-tissue', label: 'Soft tissue', width: 350, center: 50, key: '2' },
  { id: 'bone', label: 'Bone', width: 1800, center: 400, key: '3' },
  { id: 'lung', label: 'Lung', width: 1500, center: -600, key: '4' },
];

export const CUSTOM_PRESET_ID = 'custom';
export const DEFAULT_PRESET = WL_PRESETS[0];

/** Cornerstone's VOI range from width/centre (linear VOI: lower = c - w/2, upper = c + w/2). */
export function toVoiRange(wl: WindowLevel): { lower: number; upper: number } {
  return { lower: wl.center - wl.width / 2, upper: wl.center + wl.width / 2 };
}

export function fromVoiRange(r: { lower: number; upper: number }): WindowLevel {
  return { width: r.upper - r.lower, center: (r.upper + r.lower) / 2 };
}

/** The preset whose values match (within 0.5 HU), else 'custom'. */
export function presetIdFor(wl: WindowLevel): string {
  const p = WL_PRESETS.find((q) => Math.abs(q.width - wl.width) < 0.5 && Math.abs(q.center - wl.center) < 0.5);
  return p ? p.id : CUSTOM_PRESET_ID;
}
