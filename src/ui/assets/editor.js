// The article editor's enhancements (the form works without them): the address previewed from the title,
// a live preview of the Markdown body as readers will get it (sanitised by the server), and autosave a few
// seconds after each change. Every POST carries the CSRF token in `x-csrf-token`. Autosave sends the
// revision the page holds; if someone saved in between, the server refuses (409) and autosave stops, so a
// stale tab never overwrites a newer save.
(() => {
  'use strict';
  const form = document.querySelector('form[data-editor]');
  if (!form) return;
  const csrf = document.querySelector('meta[name="csrf-token"]')?.getAttribute('content') ?? '';
  const title = form.querySelector('#title');
  const slug = form.querySelector('#slug');
  const slugPreview = form.querySelector('[data-slug-preview]');
  const body = form.querySelector('#body');
  const preview = document.querySelector('[data-preview]');
  const status = document.querySelector('#autosave-status');
  const revisionInput = form.querySelector('input[name="revision"]');
  const revisionLabel = document.querySelector('[data-revision-label]');
  const autosaveDelayMs = 3000;
  const previewDelayMs = 400;

  /** Keep in step with slugify() in articles.schema.ts. */
  const slugify = (text) =>
    text
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '')
      .toLowerCase()
      .replace(/['’]/g, '')
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 80)
      .replace(/-+$/g, '');

  const showSlug = () => {
    if (!slugPreview || !slug || !title) return;
    const made = slugify(title.value);
    slugPreview.textContent = slug.value || made || '…';
    slug.placeholder = made;
  };

  const say = (message, isError = false) => {
    if (!status) return;
    status.textContent = message;
    status.classList.toggle('editor-autosave--error', isError);
  };

  const post = (url, data) =>
    fetch(url, {
      method: 'POST',
      headers: { 'x-csrf-token': csrf, accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
      body: data,
      credentials: 'same-origin',
    });

  // Live preview: the server renders and sanitises, so the preview is exactly what readers get.
  let previewTimer;
  let previewSeq = 0;
  const refreshPreview = () => {
    if (!body || !preview) return;
    const seq = ++previewSeq;
    post('/newsroom/articles/preview', new URLSearchParams({ body: body.value }))
      .then((response) => (response.ok ? response.json() : Promise.reject(new Error(String(response.status)))))
      .then((result) => {
        if (seq === previewSeq) preview.innerHTML = result.html;
      })
      .catch(() => say('The preview could not be updated; press “Preview” to see it.', true));
  };

  // Autosave.
  const autosaveEnabled = form.dataset.autosaveEnabled === 'true';
  let autosaveTimer;
  let dirty = false;
  let saving = null;
  let stoppedForConflict = false;

  const fields = () => {
    const data = new URLSearchParams();
    for (const [name, value] of new FormData(form)) if (typeof value === 'string' && name !== '_csrf' && name !== 'action') data.append(name, value);
    return data;
  };

  const autosave = () => {
    clearTimeout(autosaveTimer);
    if (!dirty || stoppedForConflict || !autosaveEnabled) return Promise.resolve();
    if (saving) return saving.then(autosave);
    if (!title || title.value.trim() === '') {
      say('Autosave starts once the article has a title.');
      return Promise.resolve();
    }
    dirty = false;
    say('Saving…');
    saving = post(form.dataset.autosave, fields())
      .then(async (response) => {
        const result = await response.json().catch(() => ({}));
        if (response.ok) {
          if (revisionInput) revisionInput.value = String(result.revision);
          if (revisionLabel) revisionLabel.textContent = String(result.revision);
          if (form.getAttribute('action') !== result.editUrl) {
            // The first autosave of a new article created it: from now on this page edits that article.
            form.setAttribute('action', result.editUrl);
            form.dataset.autosave = result.autosaveUrl;
            history.replaceState(null, '', result.editUrl);
          }
          const time = new Date(result.savedAt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
          say(`Saved ${time}`);
          return;
        }
        const message = result?.error?.message ?? `Not saved (error ${response.status}).`;
        if (response.status === 409 && result?.error?.code === 'article.conflict') {
          stoppedForConflict = true;
          say(`Not saved: ${message} Autosave is paused; copy your changes, then reload the page.`, true);
          return;
        }
        dirty = true; // keep the change, try again after the next edit
        say(`Not saved: ${message}`, true);
      })
      .catch(() => {
        dirty = true;
        say('Not saved: the newsroom cannot be reached. Your text is still here; it is saved when the connection returns.', true);
      })
      .finally(() => {
        saving = null;
      });
    return saving;
  };

  form.addEventListener('input', (event) => {
    if (event.target === title || event.target === slug) showSlug();
    if (event.target === body) {
      clearTimeout(previewTimer);
      previewTimer = setTimeout(refreshPreview, previewDelayMs);
    }
    dirty = true;
    if (!autosaveEnabled) return;
    clearTimeout(autosaveTimer);
    autosaveTimer = setTimeout(autosave, autosaveDelayMs);
  });
  form.addEventListener('change', () => {
    dirty = true;
    if (!autosaveEnabled) return;
    clearTimeout(autosaveTimer);
    autosaveTimer = setTimeout(autosave, autosaveDelayMs);
  });

  // A button press waits for an autosave in flight, so the form goes with the newest revision number.
  form.addEventListener('submit', (event) => {
    clearTimeout(autosaveTimer);
    if (!saving) return;
    event.preventDefault();
    const submitter = event.submitter;
    void saving.then(() => form.requestSubmit(submitter ?? undefined));
  });

  // The media pickers' thumbnails follow the chosen image or video.
  for (const select of form.querySelectorAll('select[data-media-picker]')) {
    select.addEventListener('change', () => {
      const thumb = select.selectedOptions[0]?.dataset.thumb;
      let img = select.parentElement.querySelector('img.editor-thumb');
      if (!thumb) return img?.remove();
      if (!img) {
        img = Object.assign(document.createElement('img'), { className: 'editor-thumb', alt: '', width: 160, height: 90 });
        select.after(img);
      }
      img.src = thumb;
    });
  }

  if (!autosaveEnabled) say('Autosave is off for published articles: press “Update” to publish your changes.');
  showSlug();
})();
