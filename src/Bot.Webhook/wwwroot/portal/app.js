// The employer portal: sign-in, then hash routes (#/compose, #/announcements[/<id>], #/employees). The hash only
// ever names a screen; the API key lives in session storage and travels in the X-Api-Key header.
import { onUnauthorized, request, session } from './api.js';
import { announcementDetailView, announcementListView } from './announcements.js';
import { composeView, draftStorageKey } from './compose.js';
import { $, $$, clearProblem, say, showProblem } from './dom.js';
import { employeesView } from './employees.js';
import { activityView } from './activity.js';
import { webhooksView } from './webhooks.js';

const flashRegion = $('#flash');
let pendingFlash = '';

/** A message shown on the next screen (e.g. "Announcement scheduled." above its progress). */
const flash = text => { pendingFlash = text; };
const navigate = hash => { location.hash = hash; };

const views = {
  compose: composeView({ navigate, flash }),
  announcements: announcementListView(),
  announcement: announcementDetailView(),
  employees: employeesView(),
  activity: activityView(),
  webhooks: webhooksView(),
};
const signinSection = $('#view-signin');
let current = null;

function parse(hash) {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'announcements' && parts[1]) return { view: views.announcement, params: [parts[1]], nav: 'announcements' };
  if (parts[0] === 'announcements') return { view: views.announcements, params: [], nav: 'announcements' };
  if (parts[0] === 'employees') return { view: views.employees, params: [], nav: 'employees' };
  if (parts[0] === 'activity') return { view: views.activity, params: [], nav: 'activity' };
  if (parts[0] === 'webhooks') return { view: views.webhooks, params: [], nav: 'webhooks' };
  return { view: views.compose, params: [], nav: 'compose' };
}

function route() {
  const signedIn = Boolean(session.key);
  $('#nav').hidden = !signedIn;
  $('#sign-out').hidden = !signedIn;
  current?.hide();
  current = null;
  for (const section of $$('.view')) section.hidden = true;

  if (!signedIn) {
    signinSection.hidden = false;
    document.title = 'Sign in — Announcements';
    $('#api-key').focus();
    return;
  }

  const { view, params, nav } = parse(location.hash);
  for (const link of $$('#nav a')) {
    if (link.getAttribute('href') === `#/${nav}`) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  say(flashRegion, pendingFlash);
  pendingFlash = '';
  current = view;
  view.section.hidden = false;
  document.title = `${view.title} — Announcements`;
  // Move focus to the new screen's heading so keyboard and screen-reader users land where the content is.
  view.section.querySelector('h1')?.focus({ preventScroll: true });
  window.scrollTo(0, 0);
  view.show(params);
}

$('#signin-form').addEventListener('submit', async event => {
  event.preventDefault();
  const form = event.currentTarget;
  const input = $('#api-key');
  const key = input.value.trim();
  clearProblem(form);
  if (!key) {
    showProblem(form, { problem: { errors: { apiKey: ['Enter your API key.'] } } });
    return;
  }
  const button = form.querySelector('button[type="submit"]');
  button.disabled = true;
  try {
    // Any read proves the key; only a key the API accepted is kept.
    await request('GET', '/api/employees?limit=1', { key });
    session.key = key;
    input.value = '';
    route();
  } catch (error) {
    showProblem(form, error.status === 401
      ? { problem: { errors: { apiKey: ['This API key was not accepted. Check it and try again.'] } } }
      : error);
    input.select(); // typing again replaces the refused key
  } finally {
    button.disabled = false;
  }
});

function signOut(reason) {
  session.key = null;
  // A fresh page: nothing of this employer's drafts or lists stays in memory for the next one to see.
  history.replaceState(null, '', location.pathname);
  if (reason) sessionStorage.setItem('announcements.signedOutBecause', reason);
  location.reload();
}

$('#sign-out').addEventListener('click', () => {
  sessionStorage.removeItem(draftStorageKey); // signing out on purpose discards the draft; a refused key keeps it
  signOut();
});
onUnauthorized(() => signOut('Your API key is no longer accepted. Sign in again.'));

const reason = sessionStorage.getItem('announcements.signedOutBecause');
if (reason) {
  sessionStorage.removeItem('announcements.signedOutBecause');
  say(flashRegion, reason, { error: true });
}

window.addEventListener('hashchange', route);
route();
