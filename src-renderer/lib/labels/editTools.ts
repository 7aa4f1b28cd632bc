// Names of the editing tools and whole-segment actions (types only, so the keyboard map and its Node
// tests need not load the editor, which starts Web Workers).
export type EditTool = 'brush' | 'eraser' | 'threshold' | 'scissors' | 'circle' | 'lasso' | 'fill';
/** Whole-segment operations run from a button or key (each one undo step). */
export type SegmentAction = 'keepLargest' | 'removeSmall' | 'interpolate' | 'smooth' | 'clear' | 'relabel';
