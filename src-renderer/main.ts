// Renderer entry: picks the API transport and mounts the Svelte app.
import { mount } from 'svelte';
import App from './App.svelte';
import { createApi } from './lib/api/client';
import './app.css';

const target = document.getElementById('app')!;
try {
  mount(App, { target, props: { api: createApi() } });
} catch (e) {
  const p = document.createElement('p');
  p.className = 'fatal';
  p.textContent = e instanceof Error ? e.message : String(e);
  target.replaceChildren(p);
}
