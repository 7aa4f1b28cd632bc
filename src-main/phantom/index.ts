// Public entry of the synthetic phantom generator (see generate.ts).
export * from './generate';
