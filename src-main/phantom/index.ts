// Public entry of the synthetic phantom generator (see generate.ts).
export * from './generate';
export { synthesizeFromLabelMap } from './labelmap';
export type { LabelMapSynthOptions, LabelMapDeformation } from './labelmap';
