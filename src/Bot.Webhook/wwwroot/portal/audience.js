import { request } from './api.js';

const debounce = 300;

/**
 * The live count under the audience choice: how many employees the announcement would reach, asked from
 * POST /api/announcements/preview as the employer picks departments, locations, tags or ids. Only the answer to the
 * latest question is shown.
 * @param {() => {employeeIds?: string[], audience?: object}} audienceOf  the audience part of the request being composed
 * @param {HTMLElement} output
 */
export function liveAudienceCount(audienceOf, output) {
  let timer = null;
  let asked = 0;
  let last = null;

  async function count() {
    const { employeeIds, audience } = audienceOf();
    // Preview validates a whole request: a stand-in text, so an empty message does not hide the count.
    const question = JSON.stringify({ message: 'count', employeeIds, audience });
    if (question === last) return;
    last = question;
    const mine = ++asked;
    output.textContent = 'Counting…';
    try {
      const { data } = await request('POST', '/api/announcements/preview', { json: JSON.parse(question) });
      if (mine !== asked) return;
      output.textContent = `Reaches ${data.targeted} employee${data.targeted === 1 ? '' : 's'}` +
        (data.outsideWindow ? ` (${data.outsideWindow} outside the 24-hour window).` : '.');
    } catch (error) {
      if (mine !== asked) return;
      const errors = error.problem?.errors;
      output.textContent = errors ? `Cannot count yet: ${Object.values(errors).flat().join(' ')}` : '';
    }
  }

  return {
    /** Counts again a moment after the last change. */
    update() {
      clearTimeout(timer);
      timer = setTimeout(count, debounce);
    },
    /** Counts now (the form was shown or reset). */
    refresh() {
      last = null;
      clearTimeout(timer);
      return count();
    },
  };
}
