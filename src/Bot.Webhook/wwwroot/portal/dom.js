// Small DOM helpers. Text from the API only ever reaches the page through textContent (h() below), never
// innerHTML: the page holds an API key, and an employee's name must not be able to run script.

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

/** h('td', {class: 'num', 'data-label': 'Sent'}, 12) */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') element.className = value;
    else if (name.startsWith('on') && typeof value === 'function') element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const timeOnly = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });

export const formatDateTime = iso => (iso ? dateTime.format(new Date(iso)) : '—');
export const formatTime = date => timeOnly.format(date);
export const formatNumber = n => new Intl.NumberFormat().format(n ?? 0);

const pad = n => String(n).padStart(2, '0');

/** A Date as the value of an <input type="datetime-local"> (local time, seconds included). */
export function toLocalInputValue(date) {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/**
 * The value of a datetime-local input (the employer's wall-clock time) as ISO 8601 with the offset in force
 * at that moment, e.g. 2026-12-24T18:00:00+01:00. The offset comes from that date, not from today, so a
 * time on the other side of a daylight-saving change gets its own offset.
 */
export function localInputToIso(value) {
  if (!value) return null;
  const date = new Date(value); // ECMAScript reads a date-time without an offset as local time
  if (Number.isNaN(date.getTime())) return null;
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  const abs = Math.abs(offset);
  return `${toLocalInputValue(date)}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

export function timeZoneDescription(date = new Date()) {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const iso = localInputToIso(toLocalInputValue(date));
  return `${zone ?? 'local time'} (UTC${iso.slice(-6)})`;
}

/** Removes the errors shown by showProblem. */
export function clearProblem(form) {
  for (const error of $$('[data-error-for]', form)) {
    error.hidden = true;
    error.textContent = '';
    for (const control of describedBy(form, error)) control.removeAttribute('aria-invalid');
  }
  const summary = $('.form-error', form);
  if (summary) {
    summary.hidden = true;
    summary.textContent = '';
  }
}

/**
 * Shows an ApiError's ProblemDetails next to the fields it names (errors.message → [data-error-for="message"]),
 * marks those controls invalid and focuses the first. Whatever names no field on this form goes to the
 * form's summary (.form-error). Nothing the employer typed is touched.
 * @param {HTMLElement} form
 * @param {{problem?: any, message: string}} error
 * @param {{field?: string}} options  field: where a problem without errors belongs (e.g. 409 → phone)
 */
export function showProblem(form, error, { field } = {}) {
  clearProblem(form);
  const problem = error.problem ?? { detail: error.message };
  const unplaced = [];
  let first = null;
  const place = (name, messages) => {
    const target = $(`[data-error-for="${CSS.escape(name)}"]`, form);
    if (!target) {
      unplaced.push(...messages);
      return;
    }
    target.textContent = messages.join(' ');
    target.hidden = false;
    for (const control of describedBy(form, target)) {
      control.setAttribute('aria-invalid', 'true');
      first ??= control;
    }
  };

  const errors = problem.errors && typeof problem.errors === 'object' ? problem.errors : null;
  if (errors) {
    for (const [name, messages] of Object.entries(errors)) place(name, [].concat(messages));
  } else if (field) {
    place(field, [problem.detail || problem.title || error.message]);
  } else {
    unplaced.push(problem.detail || problem.title || error.message);
  }

  const summary = $('.form-error', form);
  if (unplaced.length && summary) {
    const title = errors || !problem.detail ? '' : (problem.title ? `${problem.title}: ` : '');
    summary.textContent = title + unplaced.join(' ');
    summary.hidden = false;
  }
  (first ?? (unplaced.length ? summary : null))?.focus();
}

function describedBy(form, error) {
  return $$(`[aria-describedby~="${CSS.escape(error.id)}"]`, form);
}

/** Previous / next paging over an API's nextCursor; remembers the cursors it came through. */
export class Pager {
  constructor(root, onChange) {
    this.previous = $('[data-page="previous"]', root);
    this.next = $('[data-page="next"]', root);
    this.label = $('[data-page="label"]', root);
    this.onChange = onChange;
    this.previous.addEventListener('click', () => this.back());
    this.next.addEventListener('click', () => this.forward());
    this.reset();
  }

  reset() {
    this.trail = [];
    this.cursor = null;
    this.nextCursor = null;
  }

  /** After a page loaded: enable the buttons that lead somewhere. */
  update(nextCursor) {
    this.nextCursor = nextCursor ?? null;
    this.previous.disabled = this.trail.length === 0;
    this.next.disabled = !this.nextCursor;
    this.label.textContent = `Page ${this.trail.length + 1}`;
  }

  forward() {
    if (!this.nextCursor) return;
    this.trail.push(this.cursor);
    this.cursor = this.nextCursor;
    this.onChange();
  }

  back() {
    if (this.trail.length === 0) return;
    this.cursor = this.trail.pop();
    this.onChange();
  }
}

/** Shows a message in a live region; an error gets the alert style. */
export function say(region, text, { error = false } = {}) {
  region.textContent = text ?? '';
  region.classList.toggle('is-error', error);
  region.hidden = !text;
}
