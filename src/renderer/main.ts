/**
 * Renderer entry: global styles, the API client for this page's transport (Electron IPC or
 * the headless WebSocket), and the Svelte app.
 */
import './zod-setup';
import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { connectApi } from './lib/api';

const target = document.getElementById('app');
if (!target) throw new Error('missing #app');

mount(App, { target, props: { client: connectApi() } });
