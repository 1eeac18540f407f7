import { newIdempotencyKey, request } from './api.js';
import { $, clearProblem, localInputToIso, showProblem, timeZoneDescription, toLocalInputValue } from './dom.js';
import { acknowledgementControls, maxAcknowledgedMessageLength } from './acknowledgement.js';
import { liveAudienceCount } from './audience.js';
import { scheduleFields } from './schedule.js';
import { attachment, templatePicker } from './templates.js';

const maxMessageLength = 4096;
export const draftStorageKey = 'announcements.draft';
const draftFields = ['message', 'template-name', 'template-language', 'template-parameters', 'employee-ids',
  'audience-departments', 'audience-locations', 'audience-tags', 'send-at'];
const draftChoices = ['kind', 'audience', 'when'];

/** The compose form: text or template, everyone or a pasted list, now or at a local date and time. */
export function composeView({ navigate, flash }) {
  const form = $('#compose-form');
  const message = $('#message');
  const counter = $('#message-count');
  const ids = $('#employee-ids');
  const idsCount = $('#employee-ids-count');
  const sendAt = $('#send-at');
  const send = $('#send');
  const acknowledgement = acknowledgementControls();
  const audienceCount = liveAudienceCount(() => body(), $('#audience-count'));
  const schedule = scheduleFields({ sendAt });
  const picker = templatePicker();
  const file = attachment();

  // One key per composed announcement: a double click, or a retry after a lost answer, re-sends the same key
  // and the API answers with the announcement it already made. A new key only after a success.
  let idempotencyKey = newIdempotencyKey();
  let posting = false;
  // The body the employer was warned about (employees outside the 24-hour window, over the messaging limit):
  // sending exactly that body again means "send anyway".
  let warnedFor = null;
  const warning = $('#compose-warning');

  // Who sends for this employer: shown above the form, and whether outside-window employees get a template.
  let employer = null;
  async function loadEmployer() {
    if (!employer) {
      const { data } = await request('GET', '/api/employer');
      employer = data;
      const limit = data.sender.messagingLimit ? `, messaging limit ${data.sender.messagingLimit} people a day` : '';
      $('#compose-sender').textContent = `Sends from WhatsApp sender “${data.sender.id}” (number id ${data.sender.phoneNumberId}${limit}).` +
        (data.fallbackTemplate ? ` Employees outside the 24-hour window get the template “${data.fallbackTemplate.name}”.` : '');
    }
    return employer;
  }

  /** What WhatsApp will do with this announcement; null when there is nothing to warn about. */
  async function warningFor(payload) {
    const [{ data }, { fallbackTemplate }] = await Promise.all([
      request('POST', '/api/announcements/preview', { json: payload }), loadEmployer()]);
    const lines = [];
    // With a fallback template they get the template instead: nothing to warn about.
    if (data.outsideWindow > 0 && payload.message !== undefined && !fallbackTemplate) {
      lines.push(`${data.outsideWindow} of ${data.targeted} employees have not messaged the bot in the last 24 hours, ` +
        'and no fallback template is configured: WhatsApp will not deliver this text to them.');
    }
    if (data.overMessagingLimit > 0) {
      lines.push(`${data.overMessagingLimit} messages do not fit the messaging limit today: they wait and go out as it frees ` +
        `(estimated completion ${new Date(data.estimatedCompletion).toLocaleString()}).`);
    }
    return lines.length ? lines.join(' ') : null;
  }

  const choice = name => form.querySelector(`input[name="${name}"]:checked`).value;

  // The draft, with its Idempotency-Key, survives a reload of the tab: a resend after a lost answer and a
  // reload is still the same announcement, and nothing typed is lost.
  function saveDraft() {
    const draft = { idempotencyKey };
    for (const name of draftChoices) draft[name] = choice(name);
    for (const id of draftFields) draft[id] = $(`#${id}`).value;
    draft.acknowledgement = acknowledgement.save();
    sessionStorage.setItem(draftStorageKey, JSON.stringify(draft));
  }

  function restoreDraft() {
    let draft;
    try { draft = JSON.parse(sessionStorage.getItem(draftStorageKey) ?? 'null'); } catch { draft = null; }
    if (!draft || typeof draft !== 'object') return;
    if (typeof draft.idempotencyKey === 'string') idempotencyKey = draft.idempotencyKey;
    for (const name of draftChoices) {
      const radio = form.querySelector(`input[name="${name}"][value="${CSS.escape(String(draft[name]))}"]`);
      if (radio) radio.checked = true;
    }
    for (const id of draftFields) if (typeof draft[id] === 'string') $(`#${id}`).value = draft[id];
    acknowledgement.restore(draft.acknowledgement);
  }

  function sync() {
    const kind = choice('kind');
    $('#message-fields').hidden = kind !== 'message';
    $('#template-fields').hidden = kind !== 'template';
    $('#audience-fields').hidden = choice('audience') !== 'list';
    $('#audience-filter-fields').hidden = choice('audience') !== 'filter';
    acknowledgement.sync();
    countMessage();
    const later = choice('when') === 'later';
    $('#when-fields').hidden = !later;
    if (later && !sendAt.value) {
      const inAnHour = new Date(Date.now() + 60 * 60 * 1000);
      inAnHour.setSeconds(0, 0);
      sendAt.value = toLocalInputValue(inAnHour);
    }
    sendAt.min = toLocalInputValue(new Date());
    $('#send-at-zone').textContent = `Your time zone: ${timeZoneDescription()}.`;
    schedule.sync(later);
    send.textContent = later ? 'Schedule announcement' : 'Send now';
    if (warnedFor !== null) {
      // A changed draft is a new question: warn again if it needs it.
      if (JSON.stringify(body()) === warnedFor) send.textContent = 'Send anyway';
      else { warnedFor = null; warning.hidden = true; }
    }
  }

  function countMessage() {
    const length = message.value.length;
    const max = acknowledgement.enabled() ? maxAcknowledgedMessageLength : maxMessageLength;
    const over = length - max;
    counter.textContent = over > 0
      ? `${length} / ${max} characters — ${over} too many`
      : `${length} / ${max} characters`;
    counter.classList.toggle('is-error', over > 0);
  }

  const parseIds = () => [...new Set(ids.value.split(/[\s,;]+/).filter(Boolean))];

  function countIds() {
    const n = parseIds().length;
    idsCount.textContent = `${n} employee${n === 1 ? '' : 's'}`;
  }

  function body() {
    const result = {};
    if (choice('kind') === 'message') {
      result.message = message.value;
      if (file.value()) result.media = file.value();
    } else {
      result.template = {
        name: $('#template-name').value.trim(),
        language: $('#template-language').value.trim(),
        parameters: $('#template-parameters').value.split(/\r?\n/).filter(line => line.trim() !== ''),
      };
    }
    if (choice('audience') === 'list') result.employeeIds = parseIds();
    if (choice('audience') === 'filter') {
      // Values separated by ';' (a location may hold a comma); a list left empty does not filter.
      const values = id => $(id).value.split(';').map(v => v.trim()).filter(Boolean);
      const audience = {};
      for (const [key, id] of [['departments', '#audience-departments'], ['locations', '#audience-locations'], ['tags', '#audience-tags']]) {
        if (values(id).length) audience[key] = values(id);
      }
      result.audience = audience;
    }
    if (choice('when') === 'later') result.sendAt = localInputToIso(sendAt.value);
    if (acknowledgement.enabled()) result.acknowledgement = acknowledgement.value();
    return schedule.apply(result);
  }

  async function submit(event) {
    event.preventDefault();
    if (posting) return; // the button is disabled too; Enter in a field must not post twice either
    clearProblem(form);
    const payload = body();
    if (choice('when') === 'later' && !payload.sendAt && !payload.sendAtLocal) {
      showProblem(form, { problem: { errors: { sendAt: ['Choose a date and time, or pick “Send now”.'] } } });
      return;
    }

    posting = true;
    send.disabled = true;
    send.setAttribute('aria-busy', 'true');
    try {
      const key = JSON.stringify(payload);
      if (warnedFor !== key) {
        const text = await warningFor(payload);
        if (text) {
          warnedFor = key;
          warning.textContent = `${text} Press “Send anyway” to send it.`;
          warning.hidden = false;
          send.textContent = 'Send anyway';
          return;
        }
      }
      warning.hidden = true;
      warnedFor = null;
      const { data } = await request('POST', '/api/announcements', {
        json: payload,
        headers: { 'Idempotency-Key': idempotencyKey },
      });
      // Only now is the draft done with: a failed submit above leaves every field as it was.
      form.reset();
      schedule.reset();
      file.reset();
      sendAt.value = '';
      idempotencyKey = newIdempotencyKey();
      sessionStorage.removeItem(draftStorageKey);
      sync();
      countMessage();
      countIds();
      flash(data.status === 'scheduled' && (payload.sendAt || payload.sendAtLocal)
        ? (payload.recurrence ? 'Recurring announcement scheduled.' : 'Announcement scheduled.')
        : 'Announcement accepted; sending starts now.');
      navigate(`#/announcements/${encodeURIComponent(data.id)}`);
    } catch (error) {
      if (error.status === 422) {
        // The key was used before for a different body: an earlier attempt did get through before the
        // form changed. Say so, and give this draft its own key so sending it again is a new announcement.
        idempotencyKey = newIdempotencyKey();
        saveDraft();
        showProblem(form, { problem: { detail:
          'An earlier attempt from this form was accepted before you changed it — check Announcements. ' +
          'Press Send again to send this version as a new announcement.' } });
      } else if (error.status !== 401) {
        showProblem(form, error);
      }
    } finally {
      posting = false;
      send.disabled = false;
      send.removeAttribute('aria-busy');
    }
  }

  form.addEventListener('change', sync);
  form.addEventListener('change', saveDraft);
  form.addEventListener('input', saveDraft);
  form.addEventListener('submit', submit);
  form.addEventListener('input', () => audienceCount.update());
  form.addEventListener('change', () => audienceCount.update());
  message.addEventListener('input', countMessage);
  ids.addEventListener('input', countIds);
  restoreDraft();
  sync();
  countMessage();
  countIds();

  return {
    title: 'New announcement',
    section: $('#view-compose'),
    show() {
      sync();
      loadEmployer().catch(() => {});
      picker.load();
      audienceCount.refresh();
    },
    hide() {},
  };
}
