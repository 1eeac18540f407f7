import { request } from './api.js';
import { $, h } from './dom.js';

/**
 * The compose form's template picker: the sender's catalog from GET /api/templates with each variant's status, category
 * and quality, and a preview of the body with the parameters filled in. Without a catalog the name and language are typed.
 */
export function templatePicker() {
  const select = $('#template-choice');
  const name = $('#template-name');
  const language = $('#template-language');
  const parameters = $('#template-parameters');
  const info = $('#template-info');
  const preview = $('#template-preview');
  let templates = [];

  async function load() {
    try {
      ({ data: templates } = await request('GET', '/api/templates'));
    } catch {
      templates = [];
    }
    select.replaceChildren(
      h('option', { value: '' }, templates.length ? 'Choose a template…' : 'No template catalog: type the name below'),
      ...templates.map((t, i) => h('option', { value: String(i), disabled: t.status !== 'APPROVED' }, `${t.name} · ${t.language} — ${t.status}`)));
    sync();
  }

  const chosen = () => templates.find(t => t.name === name.value.trim() && t.language === language.value.trim());

  function sync() {
    const t = chosen();
    select.value = t ? String(templates.indexOf(t)) : '';
    if (!t) {
      info.textContent = '';
      preview.textContent = '';
      return;
    }
    const marketing = t.category === 'MARKETING'
      ? ' Meta counts it as MARKETING: it is billed as marketing and capped per user; US numbers do not get it.'
      : '';
    info.textContent = `${t.category}, quality ${t.qualityScore}, ${t.parameters} parameter${t.parameters === 1 ? '' : 's'}.${marketing}`;
    info.classList.toggle('is-warning', marketing !== '');
    const values = parameters.value.split(/\r?\n/).filter(line => line.trim() !== '');
    preview.textContent = t.body ? `Preview: ${t.body.replace(/\{\{(\d+)\}\}/g, (_, n) => values[n - 1] ?? `{{${n}}}`)}` : '';
  }

  select.addEventListener('change', () => {
    const t = templates[Number(select.value)];
    if (t) [name.value, language.value] = [t.name, t.language];
    sync();
  });
  for (const input of [name, language, parameters]) input.addEventListener('input', sync);
  return { load, sync };
}

/** The compose form's file: uploaded once through POST /api/media when chosen; the announcement names it by its id. */
export function attachment() {
  const input = $('#media-file');
  const status = $('#media-status');
  let media = null;

  input.addEventListener('change', async () => {
    media = null;
    const file = input.files?.[0];
    if (!file) {
      status.textContent = '';
      return;
    }
    status.textContent = `Uploading ${file.name}…`;
    const form = new FormData();
    form.append('file', file, file.name);
    try {
      const { data } = await request('POST', '/api/media', { form });
      media = { id: data.id };
      status.textContent = `Attached ${data.fileName ?? file.name} (${Math.ceil(data.size / 1024)} KB); the message is its caption.`;
    } catch (error) {
      input.value = '';
      status.textContent = `Not attached: ${error.message}`;
    }
  });

  return {
    /** The request's `media`, or undefined when nothing is attached. */
    value: () => media ?? undefined,
    reset() {
      media = null;
      input.value = '';
      status.textContent = '';
    },
  };
}
