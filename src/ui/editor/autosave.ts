import { csrfToken, h } from './dom.ts';

// Autosave: a few seconds after a change, the form's fields go to the autosave URL with the revision the page
// holds. The state is always on screen: "Saving…", "Saved 14:03", "Offline — will retry" (retried with
// backoff, and at once when the browser is back online), or a conflict: someone saved this article in
// another tab or window since this page loaded. A conflict stops autosave, keeps the text here, and links to
// the comparison of the two revisions, so nobody overwrites a newer save without being told.

const autosaveDelayMs = 3000;
const retryDelaysMs = [2000, 5000, 10_000, 30_000, 60_000];

export interface AutosaveOptions {
  form: HTMLFormElement;
  status: HTMLElement;
  /** Where a conflict is explained (a region with role="alert"). */
  conflictBox: HTMLElement;
  title: HTMLInputElement | null;
  /** Before the fields are read: the rich editor writes its Markdown into the body field. */
  beforeSave: () => void;
}

interface SaveAnswer {
  revision?: number;
  editUrl?: string;
  autosaveUrl?: string;
  savedAt?: string;
  error?: { code?: string; message?: string; compareUrl?: string };
}

export function post(url: string, data: URLSearchParams): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: {
      'x-csrf-token': csrfToken(),
      accept: 'application/json',
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: data,
    credentials: 'same-origin',
  });
}

export class Autosave {
  readonly #o: AutosaveOptions;
  readonly enabled: boolean;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #dirty = false;
  #saving: Promise<void> | null = null;
  #stopped = false;
  #failures = 0;

  constructor(options: AutosaveOptions) {
    this.#o = options;
    this.enabled = options.form.dataset.autosaveEnabled === 'true';
    window.addEventListener('online', () => {
      if (this.#dirty && !this.#stopped) this.schedule(0);
    });
    if (!this.enabled) this.say('Autosave is off for published articles: press “Update” to publish your changes.');
  }

  /** A change was made: save it after a pause. */
  changed(): void {
    this.#dirty = true;
    this.schedule(autosaveDelayMs);
  }

  get saving(): Promise<void> | null {
    return this.#saving;
  }

  cancelTimer(): void {
    clearTimeout(this.#timer);
  }

  /** The form is being submitted: no autosave may start after it (it would race the form's own save). */
  halt(): void {
    clearTimeout(this.#timer);
    this.#stopped = true;
  }

  schedule(delay: number): void {
    if (!this.enabled || this.#stopped) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.save(), delay);
  }

  say(message: string, kind: 'ok' | 'error' | 'offline' = 'ok'): void {
    this.#o.status.textContent = message;
    this.#o.status.dataset.state = kind;
    this.#o.status.classList.toggle('editor-autosave--error', kind === 'error');
  }

  #fields(): URLSearchParams {
    this.#o.beforeSave();
    const data = new URLSearchParams();
    for (const [name, value] of new FormData(this.#o.form))
      if (typeof value === 'string' && name !== '_csrf' && name !== 'action') data.append(name, value);
    return data;
  }

  save(): Promise<void> {
    clearTimeout(this.#timer);
    if (!this.#dirty || this.#stopped || !this.enabled) return Promise.resolve();
    if (this.#saving) return this.#saving.then(() => this.save());
    if (!this.#o.title || this.#o.title.value.trim() === '') {
      this.say('Autosave starts once the article has a title.');
      return Promise.resolve();
    }
    this.#dirty = false;
    this.say('Saving…');
    const { form } = this.#o;
    this.#saving = post(form.dataset.autosave ?? '', this.#fields())
      .then(async (response) => {
        const result = (await response.json().catch(() => ({}))) as SaveAnswer;
        if (response.ok) {
          this.#failures = 0;
          this.#saved(result);
          return;
        }
        if (response.status === 409 && result.error?.code === 'article.conflict') {
          this.#stopped = true;
          this.#conflict(result.error.compareUrl);
          return;
        }
        this.#dirty = true; // keep the change: the next edit tries again
        this.say(`Not saved: ${result.error?.message ?? `error ${response.status}.`}`, 'error');
      })
      .catch(() => {
        this.#dirty = true;
        const delay = retryDelaysMs[Math.min(this.#failures, retryDelaysMs.length - 1)] ?? 60_000;
        this.#failures += 1;
        this.say('Offline — will retry', 'offline');
        this.schedule(delay);
      })
      .finally(() => {
        this.#saving = null;
      });
    return this.#saving;
  }

  #saved(result: SaveAnswer): void {
    const { form } = this.#o;
    const revisionInput = form.querySelector<HTMLInputElement>('input[name="revision"]');
    if (revisionInput && result.revision !== undefined) revisionInput.value = String(result.revision);
    const label = document.querySelector('[data-revision-label]');
    if (label && result.revision !== undefined) label.textContent = String(result.revision);
    if (result.editUrl && form.getAttribute('action') !== result.editUrl) {
      // The first autosave of a new article created it: from now on this page edits that article.
      form.setAttribute('action', result.editUrl);
      form.dataset.autosave = result.autosaveUrl ?? '';
      history.replaceState(null, '', result.editUrl);
    }
    const time = new Date(result.savedAt ?? Date.now()).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    this.say(`Saved ${time}`);
  }

  #conflict(compareUrl: string | undefined): void {
    this.say('Not saved: this article changed in another tab or window.', 'error');
    const box = this.#o.conflictBox;
    box.replaceChildren(
      h(
        'p',
        {},
        h('strong', {}, 'Someone saved this article after you opened it'),
        ' (in another tab, another window or another person’s browser). Autosave has stopped so that neither version is lost: your text is still here.',
      ),
      h(
        'p',
        {},
        compareUrl
          ? h('a', { href: compareUrl, target: '_blank', rel: 'noopener' }, 'Compare the two revisions')
          : 'Open the revisions to compare them',
        '. Then either copy your changes and reload this page to continue from the newest version, or keep yours: press “Save draft”, and the editor comes back with your text ready to save over the other.',
      ),
    );
    box.hidden = false;
  }
}
