// Recurring and local-time announcements: the compose form's "Repeat" and "each employee's own time zone" controls
// with a preview of the next occurrences, and the series panel of the announcement view (occurrences, cancel).
import { request } from './api.js';
import { $, formatDateTime, h, localInputToIso, say } from './dom.js';

const weekdays = [['MO', 'Mon'], ['TU', 'Tue'], ['WE', 'Wed'], ['TH', 'Thu'], ['FR', 'Fri'], ['SA', 'Sat'], ['SU', 'Sun']];
const previewCount = 5;
const browserZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC';
const localFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });

/** A wall-clock time without offset (2026-12-24T09:00:00), shown as it is, whatever the browser's zone. */
const formatLocal = local => localFormat.format(new Date(`${local}Z`));

/** When an announcement goes, in words: its instant, or its wall-clock time in each employee's zone. */
export const sendAtText = a => (a.sendAtLocal ? `${formatLocal(a.sendAtLocal)} in each employee’s time zone` : formatDateTime(a.sendAt));

/** The RRULE for the form's choice (RFC 5545); null when it does not repeat. */
export function ruleFor(repeat, days) {
  if (repeat === 'daily') return 'FREQ=DAILY';
  if (repeat === 'weekly') return `FREQ=WEEKLY;BYDAY=${days.join(',')}`;
  // The day of the month of the first occurrence, as RFC 5545 takes it from the start.
  if (repeat === 'monthly') return 'FREQ=MONTHLY';
  return null;
}

function describeRule(rule) {
  if (rule === 'FREQ=DAILY') return 'Every day';
  if (rule === 'FREQ=MONTHLY') return 'Every month on the same day';
  const weekly = /^FREQ=WEEKLY;BYDAY=([A-Z,]+)$/.exec(rule);
  if (weekly) return `Every week on ${weekly[1].split(',').map(d => weekdays.find(([code]) => code === d)?.[1] ?? d).join(', ')}`;
  return rule;
}

/** The compose form's schedule controls; compose.js calls sync() on every change and apply() when it builds the body. */
export function scheduleFields({ sendAt }) {
  const repeat = $('#repeat');
  const zone = $('#repeat-time-zone');
  const localTime = $('#local-time');
  const days = $('#repeat-days');
  const list = $('#repeat-occurrences');
  const previewRegion = $('#repeat-preview');
  let later = false;
  let timer = null;
  let asked = 0; // answers to an older question are dropped

  days.append(...weekdays.map(([code, label]) =>
    h('label', {}, h('input', { type: 'checkbox', name: 'repeat-day', value: code }), label)));
  const chosenDays = () => [...days.querySelectorAll('input:checked')].map(input => input.value);
  zone.value = browserZone();

  /** Adds sendAtLocal (instead of sendAt) and recurrence to a create body. */
  function apply(body) {
    if (!later) return body;
    if (localTime.checked && body.sendAt) {
      delete body.sendAt;
      body.sendAtLocal = sendAt.value;
    }
    const rule = ruleFor(repeat.value, chosenDays());
    if (rule) body.recurrence = { rule, timeZone: zone.value.trim() };
    return body;
  }

  function sync(isLater) {
    later = isLater;
    $('#repeat-fields').hidden = !later;
    days.hidden = repeat.value !== 'weekly';
    $('#repeat-zone-field').hidden = !repeat.value;
    // Weekly starts on the first occurrence's weekday.
    if (repeat.value === 'weekly' && chosenDays().length === 0 && sendAt.value) {
      const code = weekdays[(new Date(sendAt.value).getDay() + 6) % 7][0];
      days.querySelector(`input[value="${code}"]`).checked = true;
    }
    clearTimeout(timer);
    timer = setTimeout(preview, 250);
  }

  async function preview() {
    const mine = ++asked;
    const body = apply(later && sendAt.value ? { sendAt: localInputToIso(sendAt.value) } : {});
    if (!body.recurrence) {
      previewRegion.hidden = true;
      return;
    }
    previewRegion.hidden = false;
    try {
      const { data } = await request('POST', '/api/announcements/occurrences/preview', { json: { ...body, limit: previewCount } });
      if (mine !== asked) return;
      list.replaceChildren(...data.occurrences.map(o => h('li', {}, sendAtText(o))));
    } catch (error) {
      if (mine !== asked || error.status === 401) return;
      const errors = error.problem?.errors ? Object.values(error.problem.errors).flat() : [error.message];
      list.replaceChildren(h('li', { class: 'field-error' }, errors.join(' ')));
    }
  }

  function reset() {
    repeat.value = '';
    localTime.checked = false;
    for (const input of days.querySelectorAll('input')) input.checked = false;
    zone.value = browserZone();
    list.replaceChildren();
    previewRegion.hidden = true;
  }

  return { apply, sync, reset };
}

/** The announcement view's series panel: the series' rule, past and next occurrences, and Cancel the series. */
export function seriesPanel(message) {
  const section = $('#detail-series');
  const cancelButton = $('#detail-series-cancel');
  let shown = null; // "id status": the occurrences are read again only when either changes
  let seriesId = null;
  let current = null;

  async function load(announcementId) {
    current = announcementId;
    const { data } = await request('GET', `/api/announcements/${encodeURIComponent(announcementId)}/occurrences?limit=${previewCount}`);
    seriesId = data.seriesId;
    const state = data.status === 'cancelled' ? ' — cancelled' : '';
    $('#detail-series-rule').textContent = `${describeRule(data.rule)} (${data.timeZone})${state}`;
    $('#detail-series-occurrences').replaceChildren(...data.occurrences.map(o => {
      const when = sendAtText(o);
      const label = o.id === announcementId ? h('strong', { 'aria-current': 'true' }, when) : o.status ? h('a', { href: `#/announcements/${encodeURIComponent(o.id)}` }, when) : when;
      return h('li', { 'data-status': o.status ?? 'upcoming' }, label, ` — ${o.status ?? 'upcoming'}`);
    }));
    cancelButton.hidden = data.status === 'cancelled';
  }

  cancelButton.addEventListener('click', async () => {
    cancelButton.disabled = true;
    try {
      await request('DELETE', `/api/announcements/${encodeURIComponent(seriesId)}`);
      say(message, 'Series cancelled: no further occurrences will be sent.');
      await load(current);
    } catch (error) {
      if (error.status !== 401) say(message, `Could not cancel the series: ${error.message}`, { error: true });
    } finally {
      cancelButton.disabled = false;
    }
  });

  return {
    /** Called with every refresh of the announcement. */
    async show(announcement) {
      section.hidden = !announcement.seriesId;
      // The first occurrence's id is the series': cancelling it is "Cancel the series", below.
      if (announcement.id === announcement.seriesId) $('#detail-cancel').hidden = true;
      if (!announcement.seriesId || shown === `${announcement.id} ${announcement.status}`) return;
      shown = `${announcement.id} ${announcement.status}`;
      await load(announcement.id);
    },
  };
}
