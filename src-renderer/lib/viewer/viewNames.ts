// The three slice views, in display order (no Cornerstone import: the app shell and the preview use it).
export const VIEW_NAMES = ['axial', 'sagittal', 'coronal'] as const;
export type ViewName = (typeof VIEW_NAMES)[number];
