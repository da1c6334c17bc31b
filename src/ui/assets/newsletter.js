// Live progress on the newsroom's newsletter screens (a CSV import, an issue being sent). The page is
// rendered with the progress as it was; this polls the JSON at `data-progress-url` and updates the
// <progress> bar and the status line, then reloads once finished so the page shows the result. Without
// JavaScript the page says to refresh it.
(function () {
  'use strict';
  var box = document.querySelector('[data-progress-url]');
  if (!box) return;
  var finished = function (status) {
    return status === 'done' || status === 'failed' || status === 'interrupted' || status === 'sent';
  };
  if (finished(box.getAttribute('data-progress-status'))) return;
  var bar = box.querySelector('progress');
  var text = box.querySelector('[data-progress-text]');
  var url = box.getAttribute('data-progress-url');
  var delay = 500;

  function describe(p) {
    if (typeof p.text === 'string') return p.text;
    return p.percent + '% · ' + Number(p.rows).toLocaleString('en') + ' rows read.';
  }

  function tick() {
    fetch(url, { headers: { accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store' })
      .then(function (response) {
        if (!response.ok) throw new Error('HTTP ' + response.status);
        return response.json();
      })
      .then(function (p) {
        if (bar) {
          bar.value = p.percent;
          bar.textContent = p.percent + '%';
        }
        if (text) text.textContent = describe(p);
        if (finished(p.status)) {
          window.location.reload();
          return;
        }
        delay = 500;
        window.setTimeout(tick, delay);
      })
      .catch(function () {
        // A blip (a restart, a lost connection): try again, less often.
        delay = Math.min(delay * 2, 10000);
        window.setTimeout(tick, delay);
      });
  }

  window.setTimeout(tick, delay);
})();
