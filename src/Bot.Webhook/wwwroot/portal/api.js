// The employer API as the portal sees it: every request carries the key from session storage in the X-Api-Key
// header (never in a URL, where logs, history and referrers would keep it), and every failure becomes an
// ApiError holding the RFC 7807 ProblemDetails the API answered with.

const storageKey = 'announcements.apiKey';

export const session = {
  get key() { return sessionStorage.getItem(storageKey); },
  set key(value) {
    if (value) sessionStorage.setItem(storageKey, value);
    else sessionStorage.removeItem(storageKey);
  },
};

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `The server answered ${status}.`);
    this.status = status;
    this.problem = problem;
  }
}

let unauthorized = () => {};

/** Called when the stored key stops working (rotated or removed): the page signs out instead of failing on. */
export function onUnauthorized(handler) { unauthorized = handler; }

/**
 * @param {string} method
 * @param {string} path  relative to the site, e.g. /api/employees
 * @param {{json?: unknown, text?: string, form?: FormData, contentType?: string, headers?: Record<string,string>, key?: string|null}} options
 */
export async function request(method, path, { json, text, form, contentType, headers = {}, key = session.key } = {}) {
  const init = {
    method,
    headers: { Accept: 'application/json, application/problem+json', ...headers },
    cache: 'no-store',
    credentials: 'omit',
    referrerPolicy: 'no-referrer',
  };
  if (key) init.headers['X-Api-Key'] = key;
  if (json !== undefined) {
    init.body = JSON.stringify(json);
    init.headers['Content-Type'] = 'application/json';
  } else if (text !== undefined) {
    init.body = text;
    init.headers['Content-Type'] = contentType ?? 'text/plain';
  } else if (form !== undefined) {
    init.body = form; // the browser sets multipart/form-data with its boundary
  }

  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(0, {
      title: 'The server could not be reached',
      detail: 'Check your connection and try again; what you entered is still here.',
    });
  }
  const body = await response.text();
  let data = null;
  if (body) {
    try { data = JSON.parse(body); } catch { data = null; }
  }
  if (!response.ok) {
    const problem = data && typeof data === 'object'
      ? data
      : { title: `${response.status} ${response.statusText}`.trim(), status: response.status };
    if (response.status === 401 && key && key === session.key) unauthorized(problem);
    throw new ApiError(response.status, problem);
  }
  return { status: response.status, data };
}

/**
 * Saves a file the API streams (e.g. a CSV export). The key travels in the header, so a plain link cannot carry it:
 * the file is fetched, then handed to the browser as a download.
 */
export async function download(path, fileName, { key = session.key } = {}) {
  const response = await fetch(path, {
    headers: { 'X-Api-Key': key ?? '', Accept: 'text/csv, application/problem+json' },
    cache: 'no-store',
    credentials: 'omit',
    referrerPolicy: 'no-referrer',
  }).catch(() => {
    throw new ApiError(0, { title: 'The server could not be reached', detail: 'Check your connection and try again.' });
  });
  if (!response.ok) {
    const problem = await response.json().catch(() => ({ title: `${response.status} ${response.statusText}`.trim() }));
    if (response.status === 401 && key && key === session.key) unauthorized(problem);
    throw new ApiError(response.status, problem);
  }
  const url = URL.createObjectURL(await response.blob());
  const link = Object.assign(document.createElement('a'), { href: url, download: fileName });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** A query string from the non-empty values only. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(name, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/**
 * A fresh Idempotency-Key. crypto.randomUUID exists only in secure contexts (https, localhost); a portal
 * reached over plain http on a LAN name still gets a random v4 UUID from getRandomValues.
 */
export function newIdempotencyKey() {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map(b => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
