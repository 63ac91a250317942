// Polls each unfinished .job-progress element's data-poll-url and redraws it (see
// templates/admin/includes/job_progress.html). Loaded once per page however many bars it has.
(function () {
  "use strict";
  if (window.offerdeskJobProgress) return;
  window.offerdeskJobProgress = true;
  var INTERVAL_MS = 1000;

  function render(element, data) {
    var bar = element.querySelector(".job-progress-bar");
    bar.hidden = data.finished && data.status === "failed";
    if ((data.total === null || data.total === undefined) && data.finished) {
      bar.max = 1;
      bar.value = data.status === "succeeded" ? 1 : 0;
    } else if (data.total === null || data.total === undefined) {
      bar.removeAttribute("value");
    } else {
      bar.max = Math.max(data.total, 1);
      bar.value = data.total ? Math.min(data.done, data.total) : (data.finished ? 1 : 0);
    }
    element.querySelector(".job-progress-status").textContent = data.status_label || data.status;
    element.querySelector(".job-progress-count").textContent =
      data.done + (data.total === null || data.total === undefined ? "" : " / " + data.total);
    element.querySelector(".job-progress-error").textContent = data.error || "";
    element.className = "job-progress job-progress--" + data.status;
    element.dataset.finished = data.finished ? "true" : "false";
  }

  function poll(element) {
    fetch(element.dataset.pollUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (data) {
        render(element, data);
        if (!data.finished) setTimeout(function () { poll(element); }, INTERVAL_MS);
      })
      .catch(function () { setTimeout(function () { poll(element); }, INTERVAL_MS * 5); });
  }

  function start() {
    document.querySelectorAll(".job-progress[data-poll-url]").forEach(function (element) {
      if (element.dataset.pollUrl && element.dataset.finished !== "true") {
        setTimeout(function () { poll(element); }, INTERVAL_MS);
      }
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
