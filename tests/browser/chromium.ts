// Debian Chromium and the headless flags that work here (FACTS.md), shared by tests and benchmark.
export const CHROMIUM_PATH = process.env.DEFORMUX_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
];
