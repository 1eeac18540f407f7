// Activity: the employer's own audit trail (GET /api/audit), newest first, a page at a time.
import { request } from './api.js';
import { $, formatDateTime, h } from './dom.js';

export function activityView() {
  const section = $('#view-activity');
  const rows = $('#activity-rows');
  const more = $('#activity-more');
  let cursor = null;

  async function load(next = false) {
    const { data } = await request('GET', `/api/audit?limit=50${next && cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    const items = data.items.map(e => h('tr', {}, h('td', {}, formatDateTime(e.at)), h('td', {}, e.actor), h('td', {}, e.action), h('td', {}, e.target || '—')));
    if (next) rows.append(...items); else rows.replaceChildren(...items);
    cursor = data.nextCursor;
    more.hidden = !cursor;
  }

  more.addEventListener('click', () => load(true));
  return { section, title: 'Activity', show: () => load(), hide: () => {} };
}
