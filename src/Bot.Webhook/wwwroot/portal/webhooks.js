// Webhooks: where the employer's own systems hear about deliveries (docs/events.md) — the URL and event types, the
// signing secret shown once, recent attempts with their status codes, and a replay of the events given up on.
import { request } from './api.js';
import { $, clearProblem, formatDateTime, h, showProblem } from './dom.js';

const eventTypes = ['delivery.sent', 'delivery.delivered', 'delivery.read', 'delivery.failed', 'delivery.unknown',
  'delivery.acknowledged', 'announcement.completed', 'announcement.paused', 'announcement.expired'];

export function webhooksView() {
  const section = $('#view-webhooks');
  const form = $('#webhook-form');
  const url = $('#webhook-url');
  const types = $('#webhook-events');
  const secretBox = $('#webhook-secret-box');
  const secret = $('#webhook-secret');
  const rows = $('#webhook-attempts');
  const status = $('#webhook-status');

  types.replaceChildren(...eventTypes.map(type =>
    h('label', { class: 'check' }, h('input', { type: 'checkbox', value: type, checked: true }), ` ${type}`)));
  const chosen = () => [...types.querySelectorAll('input:checked')].map(input => input.value);

  function showSecret(data) {
    secretBox.hidden = !data.secret;
    secret.textContent = data.secret ?? '';
  }

  async function load() {
    secretBox.hidden = true;
    clearProblem(form);
    try {
      const { data } = await request('GET', '/api/webhooks');
      url.value = data.url;
      for (const input of types.querySelectorAll('input')) input.checked = data.events.length === 0 || data.events.includes(input.value);
      status.textContent = `Events go to ${data.url}.`;
      $('#webhook-registered').hidden = false;
      await loadAttempts();
    } catch (error) {
      if (error.status !== 404) throw error;
      status.textContent = 'No endpoint yet: events are not sent anywhere.';
      $('#webhook-registered').hidden = true;
    }
  }

  async function loadAttempts() {
    const { data } = await request('GET', `/api/webhooks/attempts?limit=50`);
    rows.replaceChildren(...data.items.map(a => h('tr', {},
      h('td', {}, formatDateTime(a.at)), h('td', {}, a.type), h('td', { class: 'mono' }, a.eventId), h('td', {}, String(a.attempt)),
      h('td', {}, a.statusCode ? String(a.statusCode) : '—'), h('td', {}, a.outcome), h('td', {}, a.error ?? ''))));
  }

  form.addEventListener('submit', async event => {
    event.preventDefault();
    clearProblem(form);
    try {
      const { data } = await request('PUT', '/api/webhooks', { json: { url: url.value.trim(), events: chosen() } });
      await load();
      showSecret(data);
    } catch (error) {
      if (error.status !== 401) showProblem(form, error);
    }
  });
  $('#webhook-rotate').addEventListener('click', async () => {
    if (!confirm('Replace the signing secret? Your receiver must verify with the new one from now on.')) return;
    const { data } = await request('POST', '/api/webhooks/rotate-secret');
    showSecret(data);
  });
  $('#webhook-copy').addEventListener('click', () => navigator.clipboard?.writeText(secret.textContent));
  $('#webhook-replay').addEventListener('click', async () => {
    const { data } = await request('POST', '/api/webhooks/replay', { json: {} });
    status.textContent = `${data.replayed} failed event${data.replayed === 1 ? '' : 's'} sent again.`;
    await loadAttempts();
  });
  $('#webhook-delete').addEventListener('click', async () => {
    if (!confirm('Stop sending events to this URL?')) return;
    await request('DELETE', '/api/webhooks');
    url.value = '';
    await load();
  });

  // Attempts come in as the worker sends: refreshed while the page is shown.
  let timer = null;
  return {
    section,
    title: 'Webhooks',
    show() {
      load();
      timer = setInterval(() => { if (!$('#webhook-registered').hidden) loadAttempts().catch(() => {}); }, 2000);
    },
    hide() { clearInterval(timer); },
  };
}
