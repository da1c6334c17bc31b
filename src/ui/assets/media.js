// The newsroom's media pages, enhanced: upload with a progress bar (XMLHttpRequest's upload progress), and
// live progress of snippet jobs (polling their JSON status). Without this script the forms post as usual
// and a reload shows a job's progress.
(() => {
  'use strict';
  const csrf = document.querySelector('meta[name="csrf-token"]')?.getAttribute('content') ?? '';

  function errorMessage(xhr) {
    try {
      return JSON.parse(xhr.responseText).error.message;
    } catch {
      return xhr.status === 413 ? 'This file is too large.' : 'The upload failed. Please try again.';
    }
  }

  function mb(bytes) {
    return `${Math.round((bytes / (1024 * 1024)) * 10) / 10} MB`;
  }

  for (const form of document.querySelectorAll('form[data-media-upload]')) {
    const box = form.querySelector('[data-upload-progress]');
    const bar = form.querySelector('progress');
    const percent = form.querySelector('[data-upload-percent]');
    const status = form.querySelector('[data-upload-status]');
    const errors = document.getElementById('upload-error');
    const result = document.querySelector('[data-upload-result]');
    const button = form.querySelector('button[type="submit"]');
    const showError = (message) => {
      errors.replaceChildren(
        Object.assign(document.createElement('p'), { className: 'newsroom__error', textContent: message }),
      );
    };

    form.addEventListener('submit', (event) => {
      event.preventDefault();
      errors.replaceChildren();
      result.textContent = '';
      const file = form.querySelector('input[type="file"]').files[0];
      if (!file) return showError('Please choose a file to upload.');
      // A quick check for the user's sake; the server enforces the limits by the file's real type.
      const limit = file.type.startsWith('video/') ? Number(form.dataset.maxVideo) : Number(form.dataset.maxImage);
      if (limit && file.size > limit) return showError(`This file is too large: the limit is ${mb(limit)}.`);

      const xhr = new XMLHttpRequest();
      let announced = -1;
      const show = (value) => {
        bar.value = value;
        percent.textContent = `${value}%`;
        // Politely, in quarters: a screen reader hears progress without every percent.
        const quarter = Math.floor(value / 25) * 25;
        if (quarter !== announced) {
          announced = quarter;
          status.textContent = `Uploaded ${quarter}%`;
        }
      };
      box.hidden = false;
      button.disabled = true;
      show(0);
      xhr.upload.addEventListener('progress', (e) => {
        if (e.lengthComputable) show(Math.min(100, Math.round((e.loaded / e.total) * 100)));
      });
      xhr.upload.addEventListener('load', () => {
        show(100);
        status.textContent = 'Uploaded 100%. Processing…';
      });
      xhr.addEventListener('load', () => {
        button.disabled = false;
        if (xhr.status === 201) {
          const media = JSON.parse(xhr.responseText);
          show(100);
          status.textContent = 'Upload complete.';
          const link = Object.assign(document.createElement('a'), {
            href: media.page,
            textContent: `Open ${media.name}`,
          });
          result.replaceChildren(document.createTextNode('Uploaded. '), link);
          form.reset();
        } else {
          box.hidden = true;
          showError(errorMessage(xhr));
        }
      });
      xhr.addEventListener('error', () => {
        button.disabled = false;
        box.hidden = true;
        showError(
          'The upload was interrupted (the file may be too large, or the connection dropped). Please try again.',
        );
      });
      xhr.open('POST', form.action);
      xhr.setRequestHeader('x-csrf-token', csrf);
      xhr.setRequestHeader('accept', 'application/json');
      xhr.send(new FormData(form));
    });
  }

  const words = { queued: 'Waiting for the worker', running: 'Cutting', done: 'Done', failed: 'Failed' };

  for (const item of document.querySelectorAll('[data-clip-job]')) {
    if (item.dataset.status === 'done' || item.dataset.status === 'failed') continue;
    const bar = item.querySelector('progress');
    const status = item.querySelector('[data-clip-status]');
    const poll = async () => {
      let job;
      try {
        const response = await fetch(item.dataset.clipJob, {
          headers: { accept: 'application/json' },
          credentials: 'same-origin',
        });
        if (!response.ok) throw new Error(String(response.status));
        job = await response.json();
      } catch {
        setTimeout(poll, 3000);
        return;
      }
      bar.value = job.progress;
      item.dataset.status = job.status;
      const text = `${words[job.status]}${job.status === 'running' || job.status === 'queued' ? ` · ${job.progress}%` : ''}${job.status === 'failed' && job.error ? `: ${job.error}` : ''}`;
      if (status.textContent !== text) status.textContent = text;
      if (job.status === 'done' && job.result) {
        item.append(
          Object.assign(document.createElement('a'), { href: job.result.page, textContent: 'Open the snippet' }),
        );
        return;
      }
      if (job.status !== 'failed') setTimeout(poll, 1000);
    };
    setTimeout(poll, 500);
  }
})();
