import { query, request } from './api.js';
import { $, $$, formatDateTime, formatNumber, formatTime, h } from './dom.js';

// Pages read for the chart and the list: up to 10,000 targets; beyond that the view says it shows the first ones.
const pageSize = 500;
const maxPages = 20;
const svgNs = 'http://www.w3.org/2000/svg';
const series = [
  ['sent', '#2b6cb0'], ['delivered', '#0b6e4f'], ['read', '#6b46c1'], ['failed', '#c53030'], ['acknowledged', '#b7791f'],
];

async function readAll(path) {
  const items = [];
  let cursor = null;
  for (let page = 0; page < maxPages; page++) {
    const { data } = await request('GET', path + query({ cursor, limit: pageSize }));
    items.push(...data.items);
    cursor = data.nextCursor;
    if (!cursor) return { items, complete: true };
  }
  return { items, complete: false };
}

const svg = (tag, attributes = {}, text = null) => {
  const element = document.createElementNS(svgNs, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  if (text !== null) element.textContent = text;
  return element;
};

/**
 * Cumulative step lines, one per state: each delivery counted in the state it is in now, at the time it got there (a
 * delivery record keeps one time), and the acknowledgements at the time of the tap.
 */
export function drawDeliveryChart(chart, caption, deliveries, targeted) {
  const times = Object.fromEntries(series.map(([name]) => [name, []]));
  for (const d of deliveries) {
    if (times[d.state] && d.updatedAt) times[d.state].push(Date.parse(d.updatedAt));
    if (d.acknowledgedAt) times.acknowledged.push(Date.parse(d.acknowledgedAt));
  }
  const all = Object.values(times).flat().sort((a, b) => a - b);
  chart.replaceChildren();
  if (all.length === 0) {
    caption.textContent = 'No deliveries yet.';
    return;
  }
  const [left, right, top, bottom] = [44, 630, 28, 190];
  const start = all[0];
  const end = Math.max(all.at(-1), start + 1000);
  const most = Math.max(targeted, 1);
  const x = t => left + ((t - start) / (end - start)) * (right - left);
  const y = n => bottom - (n / most) * (bottom - top);

  chart.append(
    svg('line', { class: 'axis', x1: left, y1: bottom, x2: right, y2: bottom }),
    svg('line', { class: 'axis', x1: left, y1: top, x2: left, y2: bottom }),
    svg('text', { x: left - 6, y: top + 4, 'text-anchor': 'end' }, formatNumber(most)),
    svg('text', { x: left - 6, y: bottom + 4, 'text-anchor': 'end' }, '0'),
    svg('text', { x: left, y: bottom + 18 }, formatTime(new Date(start))),
    svg('text', { x: right, y: bottom + 18, 'text-anchor': 'end' }, formatTime(new Date(end))));
  const said = [];
  series.forEach(([name, colour], i) => {
    const points = times[name].sort((a, b) => a - b);
    chart.append(
      svg('rect', { x: left + 8 + i * 116, y: 6, width: 10, height: 10, fill: colour }),
      svg('text', { x: left + 22 + i * 116, y: 15 }, `${name} ${points.length}`));
    if (points.length === 0) return;
    let d = `M${x(start).toFixed(1)},${y(0).toFixed(1)}`;
    points.forEach((t, n) => { d += ` H${x(t).toFixed(1)} V${y(n + 1).toFixed(1)}`; });
    d += ` H${x(end).toFixed(1)}`;
    chart.append(svg('path', { class: 'series', 'data-series': name, d, stroke: colour }));
    said.push(`${points.length} ${name}`);
  });
  caption.textContent = `From ${formatDateTime(new Date(start).toISOString())} to ${formatDateTime(new Date(end).toISOString())}: ` +
    `${said.join(', ')} of ${formatNumber(targeted)} targeted (each delivery in the state it is in now, at the time it got there).`;
}

/** Who has not tapped "Got it", grouped by department (A–Z, those without one last), each group by name. */
export function renderUnacknowledged(container, items, complete) {
  const groups = new Map();
  for (const item of items) {
    const department = item.department ?? '';
    if (!groups.has(department)) groups.set(department, []);
    groups.get(department).push(item);
  }
  const order = [...groups.keys()].sort((a, b) => (a === '') - (b === '') || a.localeCompare(b));
  const label = item => `${item.name ?? item.employeeId} (${item.employeeId}) · ${item.state}` +
    (item.reminders ? ` · ${item.reminders} reminder${item.reminders === 1 ? '' : 's'}` : '');
  container.replaceChildren(...[
    ...order.map(department => {
      const people = groups.get(department).sort((a, b) => (a.name ?? a.employeeId).localeCompare(b.name ?? b.employeeId));
      return h('details', { class: 'department-group', open: true, 'data-department': department },
        h('summary', {}, `${department || 'No department'} — ${people.length}`),
        h('ul', {}, people.map(p => h('li', { 'data-employee': p.employeeId }, label(p)))));
    }),
    items.length === 0 ? h('p', { class: 'empty' }, 'Everyone has acknowledged.') : null,
    complete ? null : h('p', { class: 'hint' }, `Showing the first ${formatNumber(items.length)}.`),
  ].filter(Boolean));
}

/**
 * The parts of the announcement view that read every delivery: acknowledgement counts and who has not tapped, and the
 * chart. Read again at once when the status, a tap or a reminder changed; while sending merely moves the delivery
 * counts, at most every 10 s (each read is up to 20 pages).
 */
export function followUpView(section) {
  const minInterval = 10_000;
  let seen = null;
  let seenImportant = null;
  let readAt = 0;

  return {
    reset() {
      seen = null;
      seenImportant = null;
      $('#unacknowledged', section).replaceChildren();
      $('#delivery-chart', section).replaceChildren();
      $('#chart-description', section).textContent = 'No deliveries yet.';
    },

    async refresh(id, announcement) {
      const ack = announcement.acknowledgement;
      for (const item of $$('[data-acknowledgement]', section)) item.hidden = !ack;
      $('#detail-acknowledgement', section).hidden = !ack;
      for (const name of ['acknowledged', 'reminded']) $(`[data-ack-count="${name}"]`, section).textContent = formatNumber(announcement.counts[name]);
      if (ack) {
        const reminders = ack.maxReminders === 0 || !ack.remindAfter
          ? 'No reminders.'
          : `Reminders: ${ack.remindersSent} of ${ack.maxReminders} sent, every ${ack.remindAfter.replace(/^PT?/, '').toLowerCase()}` +
            (ack.nextReminderAt ? `; next ${formatDateTime(ack.nextReminderAt)}.` : '.');
        $('#acknowledgement-summary', section).textContent =
          `${formatNumber(announcement.counts.acknowledged)} of ${formatNumber(announcement.counts.targeted)} acknowledged. ${reminders}`;
      }

      const key = JSON.stringify(announcement.counts);
      const important = JSON.stringify([announcement.status, announcement.counts.acknowledged, announcement.counts.reminded, ack]);
      if (important === seenImportant && (key === seen || Date.now() - readAt < minInterval)) return;
      const base = `/api/announcements/${encodeURIComponent(id)}`;
      const [deliveries, open] = await Promise.all([readAll(`${base}/deliveries`), ack ? readAll(`${base}/unacknowledged`) : null]);
      drawDeliveryChart($('#delivery-chart', section), $('#chart-description', section), deliveries.items, announcement.counts.targeted);
      if (open) renderUnacknowledged($('#unacknowledged', section), open.items, open.complete);
      seen = key;
      seenImportant = important;
      readAt = Date.now();
    },
  };
}
