// The operator page: numbers, employers, API keys and the audit trail through /admin. The operator key lives in session
// storage and travels in the X-Admin-Key header only; an issued employer key is shown once and kept nowhere.
import { $, formatDateTime as when, h } from './dom.js';

const storageKey = 'announcements.adminKey';
const adminKey = {
  get value() { return sessionStorage.getItem(storageKey); },
  set value(v) { if (v) sessionStorage.setItem(storageKey, v); else sessionStorage.removeItem(storageKey); },
};

async function admin(method, path, json, key = adminKey.value) {
  const init = { method, headers: { Accept: 'application/json', 'X-Admin-Key': key ?? '' }, cache: 'no-store', credentials: 'omit' };
  if (json !== undefined) {
    init.body = JSON.stringify(json);
    init.headers['Content-Type'] = 'application/json';
  }
  const response = await fetch(path, init);
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) throw Object.assign(new Error(data?.detail || data?.title || `${response.status}`), { status: response.status, problem: data });
  return data;
}

/** The ProblemDetails of a refused form, each field named, in the form's alert. */
function showError(form, error) {
  const box = form.querySelector('.form-error');
  const fields = error.problem?.errors ? Object.entries(error.problem.errors).map(([f, m]) => `${f}: ${m.join(' ')}`) : [];
  box.textContent = fields.length ? fields.join(' ') : error.message;
  box.hidden = false;
}

function clearError(form) { form.querySelector('.form-error').hidden = true; }

const optional = id => $(id).value.trim() || undefined;
const cell = value => h('td', {}, value ?? '—');

async function loadSenders() {
  const senders = await admin('GET', '/admin/senders');
  $('#sender-rows').replaceChildren(...senders.map(s => h('tr', {}, cell(s.id), cell(s.phoneNumberId), cell(s.displayPhoneNumber),
    cell(s.verifiedName), cell(s.qualityRating), cell(s.source))));
  $('#employer-sender').replaceChildren(...senders.map(s => h('option', { value: s.id }, s.id)));
}

async function loadEmployers() {
  const employers = await admin('GET', '/admin/employers');
  $('#employer-rows').replaceChildren(...employers.map(e => h('tr', {}, cell(e.id), cell(e.name), cell(e.sender), cell(e.timeZone),
    cell(e.quietHours), cell(e.source))));
  const selected = $('#key-employer').value;
  $('#key-employer').replaceChildren(...employers.map(e => h('option', { value: e.id }, e.id)));
  if (selected) $('#key-employer').value = selected;
}

async function loadKeys() {
  const employerId = $('#key-employer').value;
  if (!employerId) return;
  const keys = await admin('GET', `/admin/employers/${encodeURIComponent(employerId)}/api-keys`);
  $('#key-rows').replaceChildren(...keys.map(k => {
    const revoke = h('button', { type: 'button', class: 'danger' }, 'Revoke');
    revoke.hidden = Boolean(k.revokedAt);
    revoke.addEventListener('click', async () => {
      await admin('DELETE', `/admin/employers/${encodeURIComponent(employerId)}/api-keys/${encodeURIComponent(k.id)}`);
      await Promise.all([loadKeys(), loadAudit()]);
    });
    return h('tr', { 'data-key': k.id }, cell(k.id), cell(k.name), cell(when(k.createdAt)), cell(when(k.lastUsedAt)), cell(when(k.revokedAt)), h('td', {}, revoke));
  }));
}

let auditCursor = null;
async function loadAudit(more = false) {
  const page = await admin('GET', `/admin/audit?limit=20${more && auditCursor ? `&cursor=${encodeURIComponent(auditCursor)}` : ''}`);
  const rows = page.items.map(e => h('tr', {}, cell(when(e.at)), cell(e.actor), cell(e.action), cell(e.target), cell(e.employerId)));
  if (more) $('#audit-rows').append(...rows); else $('#audit-rows').replaceChildren(...rows);
  auditCursor = page.nextCursor;
  $('#audit-more').hidden = !auditCursor;
}

function submit(form, action) {
  form.addEventListener('submit', async event => {
    event.preventDefault();
    clearError(form);
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    try {
      await action();
      await loadAudit();
    } catch (error) {
      showError(form, error);
    } finally {
      button.disabled = false;
    }
  });
}

submit($('#sender-form'), async () => {
  const id = $('#sender-id').value.trim();
  const sender = await admin('PUT', `/admin/senders/${encodeURIComponent(id || '-')}`, {
    phoneNumberId: optional('#sender-phone'), accessToken: optional('#sender-token'), messagesPerSecond: Number($('#sender-rate').value) || undefined,
  });
  $('#sender-token').value = '';
  const answer = $('#sender-answer');
  answer.textContent = `WhatsApp answered: ${sender.displayPhoneNumber ?? '?'} — ${sender.verifiedName ?? '?'}, quality ${sender.qualityRating ?? 'unknown'}.`;
  answer.hidden = false;
  await loadSenders();
});

submit($('#employer-form'), async () => {
  const id = $('#employer-id').value.trim();
  const template = optional('#employer-template');
  await admin('PUT', `/admin/employers/${encodeURIComponent(id || '-')}`, {
    name: optional('#employer-name'), sender: $('#employer-sender').value, timeZone: optional('#employer-zone'),
    quietHours: optional('#employer-quiet'), language: optional('#employer-language'), fallbackTemplate: template ? { name: template } : undefined,
  });
  await loadEmployers();
  $('#key-employer').value = id;
  await loadKeys();
});

submit($('#key-form'), async () => {
  const employerId = $('#key-employer').value;
  const issued = await admin('POST', `/admin/employers/${encodeURIComponent(employerId)}/api-keys`, { name: optional('#key-name') });
  $('#new-key-value').textContent = issued.key;
  $('#copy-state').textContent = '';
  $('#new-key').hidden = false;
  await loadKeys();
});

$('#copy-key').addEventListener('click', async () => {
  try {
    await navigator.clipboard.writeText($('#new-key-value').textContent);
    $('#copy-state').textContent = 'Copied.';
  } catch {
    $('#copy-state').textContent = 'Select the key and copy it.';
  }
});
$('#key-employer').addEventListener('change', () => { $('#new-key').hidden = true; loadKeys(); });
$('#audit-more').addEventListener('click', () => loadAudit(true));

async function show() {
  const signedIn = Boolean(adminKey.value);
  $('#op-signin').hidden = signedIn;
  $('#op-app').hidden = !signedIn;
  $('#op-sign-out').hidden = !signedIn;
  if (!signedIn) return;
  await loadSenders();
  await loadEmployers();
  await Promise.all([loadKeys(), loadAudit()]);
}

$('#op-signin-form').addEventListener('submit', async event => {
  event.preventDefault();
  const form = event.currentTarget;
  clearError(form);
  const key = $('#admin-key').value.trim();
  try {
    await admin('GET', '/admin/senders', undefined, key);
    adminKey.value = key;
    $('#admin-key').value = '';
    await show();
  } catch (error) {
    showError(form, error.status === 401 || error.status === 404 ? { message: 'This operator key was not accepted.' } : error);
  }
});
$('#op-sign-out').addEventListener('click', () => { adminKey.value = null; location.reload(); });

show();
