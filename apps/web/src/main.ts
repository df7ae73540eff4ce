import { mount } from 'svelte';
import App from './App.svelte';
import { AppUpdate } from './lib/app/AppUpdate.svelte.js';
import UpdateNotice from './lib/components/UpdateNotice.svelte';
import './app.css';

const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');
mount(App, { target });

// The service worker (offline app shell) and its "new version" notice, beside the app: every page shows it.
const update = new AppUpdate();
update.start();
mount(UpdateNotice, { target: document.body, props: { update } });
