import { download, query, request } from './api.js';
import { $, formatDateTime, formatNumber, formatTime, h, Pager, say } from './dom.js';
import { followUpView } from './follow-up.js';
import { sendAtText, seriesPanel } from './schedule.js';

const pollInterval = 2000;
// DeliveryStates.CountFields (C#); DeliveryStateDefinitionTests fails when this list drifts from it.
const countNames = ['targeted', 'sent', 'delivered', 'read', 'failed', 'unknown', 'skipped'];

const statusBadge = status => h('span', { class: `status status-${status}` }, status);

function summary(announcement) {
  if (announcement.template) {
    const t = announcement.template;
    const parameters = t.parameters?.length ? ` (${t.parameters.join(', ')})` : '';
    return `Template ${t.name} · ${t.language}${parameters}`;
  }
  const file = announcement.media ? ` · with ${announcement.media.kind} ${announcement.media.fileName ?? announcement.media.id ?? announcement.media.link}` : '';
  return (announcement.message ?? '') + file;
}

/** Who an announcement goes to, in words: all, chosen employees, or its audience by attribute. */
function recipients(a) {
  if (a.recipients === 'all') return 'All employees';
  if (a.recipients !== 'audience' || !a.audience) return 'Chosen employees';
  const parts = [['departments', 'department'], ['locations', 'location'], ['tags', 'tag']]
    .filter(([key]) => a.audience[key]?.length)
    .map(([key, label]) => `${label} ${a.audience[key].join(' or ')}`);
  return `Employees with ${parts.join(' and ')}`;
}

const shorten = (text, length = 80) => (text.length > length ? `${text.slice(0, length - 1)}…` : text);

async function cancel(id) {
  await request('DELETE', `/api/announcements/${encodeURIComponent(id)}`);
}

/** Announcements, newest first, filtered by status, with their delivery counts and Cancel while scheduled. */
export function announcementListView() {
  const section = $('#view-announcements');
  const rows = $('#announcements-rows');
  const filter = $('#status-filter');
  const message = $('#announcements-message');
  const pager = new Pager($('#announcements-pager'), load);
  const limit = 25;

  async function load() {
    try {
      const { data } = await request('GET', `/api/announcements${query({ status: filter.value, cursor: pager.cursor, limit })}`);
      rows.replaceChildren(...data.items.map(row));
      $('#announcements-empty').hidden = data.items.length > 0;
      pager.update(data.nextCursor);
    } catch (error) {
      if (error.status !== 401) say(message, `Could not load announcements: ${error.message}`, { error: true });
    }
  }

  function row(a) {
    const text = summary(a);
    const cells = [
      h('td', { 'data-label': 'Announcement' },
        h('a', { href: `#/announcements/${encodeURIComponent(a.id)}`, title: text }, shorten(text) || a.id),
        h('div', { class: 'hint' }, `Created ${formatDateTime(a.createdAt)} · ${recipients(a).toLowerCase()}`)),
      h('td', { 'data-label': 'Status' }, statusBadge(a.status)),
      h('td', { 'data-label': 'Send at' }, sendAtText(a)),
      h('td', { 'data-label': 'Sender' }, a.sender ?? '—'),
      ...['targeted', 'sent', 'delivered', 'read', 'failed'].map(name =>
        h('td', { class: 'num', 'data-label': name[0].toUpperCase() + name.slice(1) }, formatNumber(a.counts[name]))),
      h('td', { class: 'row-actions' }, a.status === 'scheduled'
        ? h('button', {
          type: 'button',
          class: 'danger',
          'aria-label': `Cancel “${shorten(text, 40)}” scheduled for ${formatDateTime(a.sendAt)}`,
          onclick: event => cancelRow(event.currentTarget, a.id),
        }, a.id === a.seriesId ? 'Cancel series' : 'Cancel')
        : null),
    ];
    return h('tr', { 'data-id': a.id }, cells);
  }

  async function cancelRow(button, id) {
    button.disabled = true;
    try {
      await cancel(id);
      say(message, 'Announcement cancelled; nobody will receive it.');
    } catch (error) {
      if (error.status !== 401) say(message, `Could not cancel: ${error.message}`, { error: true });
    }
    await load();
  }

  filter.addEventListener('change', () => {
    pager.reset();
    load();
  });
  $('#announcements-refresh').addEventListener('click', load);

  return {
    title: 'Announcements',
    section,
    show() {
      say(message, '');
      return load();
    },
    hide() {},
  };
}

/** One announcement: live counts every 2 s while on screen, and the per-employee delivery table. */
export function announcementDetailView() {
  const section = $('#view-announcement');
  const message = $('#detail-message');
  const cancelButton = $('#detail-cancel');
  const resumeButton = $('#detail-resume');
  const retryFailedButton = $('#detail-retry-failed');
  const retryUnknownButton = $('#detail-retry-unknown');
  const stateFilter = $('#delivery-state');
  const limitSelect = $('#delivery-limit');
  const pager = new Pager($('#delivery-pager'), () => loadDeliveries().catch(showRefreshError));
  const followUp = followUpView(section);
  const series = seriesPanel(message);
  let id = null;
  let timer = null;
  let generation = 0; // answers for an announcement we already left are dropped

  async function loadAnnouncement(forId) {
    const { data } = await request('GET', `/api/announcements/${encodeURIComponent(forId)}`);
    if (forId !== id) return;
    $('#detail-id').textContent = data.id;
    const status = $('#detail-status');
    status.className = `status status-${data.status}`;
    status.textContent = data.status;
    $('#detail-send-at').textContent = sendAtText(data);
    $('#detail-created').textContent = formatDateTime(data.createdAt);
    $('#detail-sender').textContent = data.sender ?? '—';
    $('#detail-audience').textContent = recipients(data);
    $('#detail-content').textContent = summary(data);
    cancelButton.hidden = data.status !== 'scheduled';
    // Paused by an error about the sender (token, account, spam limit): why, until when, and "resume now" once fixed.
    // Or waiting for the portfolio's messaging limit: what fit went out, the rest goes on at resumesAt.
    $('#detail-pause').hidden = data.status !== 'paused' && data.status !== 'waiting_for_limit';
    $('#detail-pause-label').textContent = data.status === 'waiting_for_limit' ? 'Waiting for' : 'Paused because';
    $('#detail-reason').textContent = data.reason ?? '';
    $('#detail-resumes-at').textContent = data.resumesAt ? formatDateTime(data.resumesAt) : '';
    resumeButton.hidden = data.status !== 'paused';
    // A retry is refused while the announcement is scheduled or still being sent (409), and means nothing when cancelled.
    const retryable = !['scheduled', 'dispatching', 'cancelled'].includes(data.status);
    retryFailedButton.hidden = !retryable || !data.counts.failed;
    retryUnknownButton.hidden = !retryable || !data.counts.unknown;
    await series.show(data);

    const counts = data.counts;
    for (const name of countNames) $(`[data-count="${name}"]`, section).textContent = formatNumber(counts[name]);
    const settled = countNames.filter(name => name !== 'targeted').reduce((sum, name) => sum + counts[name], 0);
    const progress = $('#detail-progress');
    progress.max = Math.max(counts.targeted, 1);
    progress.value = Math.min(settled, progress.max);
    $('#detail-progress-label').textContent = `Settled ${formatNumber(settled)} of ${formatNumber(counts.targeted)}`;
    $('#detail-updated').textContent = `Updated ${formatTime(new Date())}; refreshes every 2 seconds.`;
    await followUp.refresh(forId, data);
  }

  async function loadDeliveries() {
    const forId = id;
    if (!forId) return;
    const path = `/api/announcements/${encodeURIComponent(forId)}/deliveries` +
      query({ state: stateFilter.value, cursor: pager.cursor, limit: limitSelect.value });
    const { data } = await request('GET', path);
    if (forId !== id) return;
    $('#delivery-rows').replaceChildren(...data.items.map(d => h('tr', {},
      h('td', { 'data-label': 'Employee' }, d.employeeId),
      h('td', { 'data-label': 'State' }, h('span', { class: `state state-${d.state}` }, d.state)),
      h('td', { 'data-label': 'Form' }, d.form ?? '—'),
      h('td', { 'data-label': 'Message id', class: 'mono' }, d.messageId ?? '—'),
      h('td', { 'data-label': 'Error' }, d.error ?? '—'),
      h('td', { 'data-label': 'Attempts' }, d.attempts ? formatNumber(d.attempts) : '—'),
      h('td', { 'data-label': 'Updated' }, formatDateTime(d.updatedAt)))));
    $('#deliveries-empty').hidden = data.items.length > 0;
    pager.update(data.nextCursor);
  }

  async function refresh() {
    const mine = generation;
    try {
      await Promise.all([loadAnnouncement(id), loadDeliveries()]);
      if (mine === generation && message.classList.contains('is-error')) say(message, '');
    } catch (error) {
      if (mine !== generation || error.status === 401) return;
      say(message, error.status === 404
        ? 'There is no such announcement for this employer.'
        : `Could not refresh: ${error.message} Trying again…`, { error: true });
    }
  }

  function poll() {
    const mine = generation;
    timer = setTimeout(async () => {
      if (mine !== generation) return;
      if (!document.hidden) await refresh();
      if (mine === generation) poll();
    }, pollInterval);
  }

  function showRefreshError(error) {
    if (error.status !== 401) say(message, `Could not load deliveries: ${error.message}`, { error: true });
  }

  const reload = () => {
    pager.reset();
    loadDeliveries().catch(showRefreshError);
  };
  stateFilter.addEventListener('change', reload);
  limitSelect.addEventListener('change', reload);

  /** A button that calls the API once per click, says how it went, and shows the announcement as it is now. */
  function onClick(button, call, done, failed) {
    button.addEventListener('click', async () => {
      button.disabled = true;
      try {
        await call();
        say(message, done);
      } catch (error) {
        if (error.status !== 401) say(message, `${failed}: ${error.message}`, { error: true });
      } finally {
        button.disabled = false;
      }
      await refresh();
    });
  }
  onClick(cancelButton, () => cancel(id), 'Announcement cancelled; nobody will receive it.', 'Could not cancel');
  onClick(resumeButton, () => request('POST', `/api/announcements/${encodeURIComponent(id)}/resume`), 'Announcement resumed.', 'Could not resume');
  /** One more attempt for the deliveries in these states; the server makes a double click one retry. */
  async function retry(states) {
    const { data } = await request('POST', `/api/announcements/${encodeURIComponent(id)}/retry`, { json: { states } });
    say(message, data.retrying === 1 ? 'Retrying 1 delivery.' : `Retrying ${formatNumber(data.retrying)} deliveries.`);
  }
  retryFailedButton.addEventListener('click', () => retryClicked(retryFailedButton, ['failed']));
  retryUnknownButton.addEventListener('click', () => {
    // WhatsApp may have taken an unknown send before its answer was lost: a retry can give those employees the message twice.
    if (!window.confirm('Retry the unknown deliveries?\n\nTheir first message may have reached these employees already '
      + '(WhatsApp\'s answer was lost), so some of them may receive it twice.')) return;
    retryClicked(retryUnknownButton, ['unknown']);
  });
  async function retryClicked(button, states) {
    button.disabled = true;
    try {
      await retry(states);
    } catch (error) {
      if (error.status !== 401) say(message, `Could not retry: ${error.message}`, { error: true });
    } finally {
      button.disabled = false;
    }
    await refresh();
  }
  onClick($('#detail-export'), () => download(`/api/announcements/${encodeURIComponent(id)}/deliveries.csv`, `deliveries-${id}.csv`),
    'Deliveries exported.', 'Could not export');

  return {
    title: 'Announcement',
    section,
    async show([announcementId]) {
      generation++;
      clearTimeout(timer);
      if (id !== announcementId) {
        id = announcementId;
        pager.reset();
        stateFilter.value = '';
        $('#delivery-rows').replaceChildren();
        followUp.reset();
        $('#detail-content').textContent = '';
        $('#detail-id').textContent = id;
        for (const name of countNames) $(`[data-count="${name}"]`, section).textContent = '…';
      }
      say(message, '');
      await refresh();
      poll();
    },
    hide() {
      generation++;
      clearTimeout(timer);
    },
  };
}
