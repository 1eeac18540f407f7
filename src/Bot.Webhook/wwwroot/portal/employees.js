import { query, request } from './api.js';
import { $, clearProblem, formatDateTime, h, Pager, say, showProblem } from './dom.js';

const pageSize = 25;

/** Tags as typed ("a; b;") → ["a", "b"]; the API checks each one. */
const parseTags = text => text.split(';').map(t => t.trim()).filter(t => t !== '');

/** Employees: the list with paging and filters, add/edit by id, CSV import with its per-row result, join codes. */
export function employeesView() {
  const section = $('#view-employees');
  const rows = $('#employee-rows');
  const message = $('#employees-message');
  const form = $('#employee-form');
  const formResult = $('#employee-form-result');
  const importForm = $('#import-form');
  const csv = $('#import-csv');
  const pager = new Pager($('#employee-pager'), load);
  const filterForm = $('#employee-filter');
  // The filters in force: what was applied with the Filter button, not what is being typed.
  let filters = {};

  async function load() {
    try {
      const { data } = await request('GET', `/api/employees${query({ ...filters, cursor: pager.cursor, limit: pageSize })}`);
      rows.replaceChildren(...data.items.map(row));
      $('#employees-empty').hidden = data.items.length > 0;
      pager.update(data.nextCursor);
    } catch (error) {
      if (error.status !== 401) say(message, `Could not load employees: ${error.message}`, { error: true });
    }
  }

  function row(e) {
    return h('tr', { 'data-id': e.employeeId },
      h('td', { 'data-label': 'Employee id' }, e.employeeId),
      h('td', { 'data-label': 'Name' }, e.name ?? '—'),
      // A WhatsApp username, when the employee has one, next to the number it may hide.
      h('td', { 'data-label': 'Phone', class: 'mono' }, e.username ? `${e.phone} · ${e.username}` : e.phone),
      h('td', { 'data-label': 'Department' }, e.department ?? '—'),
      h('td', { 'data-label': 'Location' }, e.location ?? '—'),
      h('td', { 'data-label': 'Tags' }, e.tags?.length ? e.tags.join('; ') : '—'),
      h('td', { 'data-label': 'Language' }, e.language ?? '—'),
      h('td', { 'data-label': 'Time zone' }, e.timeZone ?? '—'),
      h('td', { 'data-label': 'Status' }, h('span', { class: `state state-${e.status}` }, e.status.replace('_', ' '))),
      h('td', { 'data-label': 'Updated' }, formatDateTime(e.updatedAt)),
      h('td', { class: 'row-actions' },
        h('button', { type: 'button', 'aria-label': `Edit ${e.employeeId}`, onclick: () => edit(e) }, 'Edit'),
        h('button', {
          type: 'button',
          'aria-label': `Issue join code for ${e.employeeId}`,
          onclick: event => joinCode(event.currentTarget, e.employeeId),
        }, 'Issue join code')));
  }

  function edit(employee) {
    clearProblem(form);
    say(formResult, '');
    $('#employee-id').value = employee.employeeId;
    $('#employee-phone').value = employee.phone;
    $('#employee-name').value = employee.name ?? '';
    $('#employee-department').value = employee.department ?? '';
    $('#employee-location').value = employee.location ?? '';
    $('#employee-language').value = employee.language ?? '';
    $('#employee-time-zone').value = employee.timeZone ?? '';
    $('#employee-tags').value = (employee.tags ?? []).join('; ');
    $('#employee-form-title').scrollIntoView({ block: 'start' });
    $('#employee-phone').focus();
  }

  async function joinCode(button, employeeId) {
    button.disabled = true;
    try {
      const { data } = await request('POST', `/api/employees/${encodeURIComponent(employeeId)}/join-code`);
      message.replaceChildren(
        `Join code for ${employeeId}: `, h('strong', { class: 'code' }, data.code),
        ` (expires ${formatDateTime(data.expiresAt)}). The employee sends “JOIN ${data.code}” to the bot from their WhatsApp number.`);
      message.classList.remove('is-error');
      message.hidden = false;
    } catch (error) {
      if (error.status !== 401) say(message, `Could not issue a join code for ${employeeId}: ${error.message}`, { error: true });
    } finally {
      button.disabled = false;
    }
  }

  form.addEventListener('submit', async event => {
    event.preventDefault();
    clearProblem(form);
    say(formResult, '');
    const employeeId = $('#employee-id').value.trim();
    if (!employeeId) {
      showProblem(form, { problem: { errors: { employeeId: ['Enter the employee id.'] } } });
      return;
    }
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    try {
      const text = id => $(id).value.trim() || null;
      // A PUT replaces the employee: every field is sent, an empty one clears it.
      const { status } = await request('PUT', `/api/employees/${encodeURIComponent(employeeId)}`, {
        json: {
          phone: $('#employee-phone').value,
          name: text('#employee-name'),
          department: text('#employee-department'),
          location: text('#employee-location'),
          language: text('#employee-language'),
          timeZone: text('#employee-time-zone'),
          tags: parseTags($('#employee-tags').value),
        },
      });
      form.reset();
      say(formResult, status === 201 ? `Added ${employeeId}.` : `Saved ${employeeId}.`);
      await load();
    } catch (error) {
      // 409: the phone belongs to someone else, so the message belongs next to the phone.
      if (error.status !== 401) showProblem(form, error, { field: error.status === 409 ? 'phone' : undefined });
    } finally {
      button.disabled = false;
    }
  });
  form.addEventListener('reset', () => {
    clearProblem(form);
    say(formResult, '');
  });

  filterForm.addEventListener('submit', event => {
    event.preventDefault();
    filters = {
      department: $('#filter-department').value.trim(),
      location: $('#filter-location').value.trim(),
      tag: $('#filter-tag').value.trim(),
    };
    pager.reset();
    load();
  });
  filterForm.addEventListener('reset', () => {
    filters = {};
    pager.reset();
    load();
  });

  $('#import-file').addEventListener('change', async event => {
    const file = event.currentTarget.files?.[0];
    if (file) csv.value = await file.text();
  });

  importForm.addEventListener('submit', async event => {
    event.preventDefault();
    clearProblem(importForm);
    const result = $('#import-result');
    result.replaceChildren();
    const text = csv.value;
    if (!text.trim()) {
      showProblem(importForm, { problem: { errors: { body: ['Choose a CSV file or paste rows first.'] } } });
      return;
    }
    const button = importForm.querySelector('button[type="submit"]');
    button.disabled = true;
    try {
      const { data } = await request('POST', '/api/employees/import', { text, contentType: 'text/csv' });
      result.replaceChildren(...importResult(data, text.split(/\r?\n/)));
      pager.reset();
      await load();
    } catch (error) {
      if (error.status !== 401) showProblem(importForm, error, { field: 'body' });
    } finally {
      button.disabled = false;
    }
  });

  function importResult(data, lines) {
    const summary = h('p', { class: `flash ${data.rejected.length ? 'is-warning' : ''}` },
      `Imported: ${data.created} created, ${data.updated} updated, ${data.unchanged} unchanged, ${data.rejected.length} rejected.`);
    if (data.rejected.length === 0) return [summary];
    const table = h('div', { class: 'table-wrap' },
      h('table', { class: 'cards' },
        h('caption', {}, 'Rejected rows'),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Row'), h('th', { scope: 'col' }, 'Line'), h('th', { scope: 'col' }, 'Why'))),
        h('tbody', {}, data.rejected.map(r => h('tr', {},
          h('td', { 'data-label': 'Row' }, r.row),
          // The line the row starts on (the API counts them, quoted line breaks included).
          h('td', { 'data-label': 'Line', class: 'mono' }, r.line ? `${r.line}: ${lines[r.line - 1] ?? ''}` : ''),
          h('td', { 'data-label': 'Why' }, r.error))))));
    return [summary, table];
  }

  return {
    title: 'Employees',
    section,
    show() {
      say(message, '');
      return load();
    },
    hide() {},
  };
}
