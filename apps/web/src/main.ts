import { mount } from 'svelte';
import App from './App.svelte';
import { AppUpdate } from './lib/app/AppUpdate.svelte.js';
import UpdateNotice from './lib/components/UpdateNotice.svelte';
import EmbedPage from './lib/pages/EmbedPage.svelte';
import { createApi } from './lib/trpc.js';
import './app.css';

const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');
const embed = location.pathname.match(/^\/embed\/([A-Za-z0-9_-]{10,100})\/?$/);
if (embed) {
  // The read-only embed of a public link (issue 18), framed by another site: only the picture of the
  // board; no account, storage or service worker (a third-party frame may be denied them).
  mount(EmbedPage, { target, props: { code: embed[1]!, api: createApi() } });
} else {
  mount(App, { target });

  // The service worker (offline app shell) and its "new version" notice, beside the app: every page shows it.
  const update = new AppUpdate();
  update.start();
  mount(UpdateNotice, { target: document.body, props: { update } });
}
