// Job progress bars: poll each job's JSON progress until it ends, then show its result.
(function () {
  "use strict";

  function update(box, data) {
    const bar = box.querySelector("[data-job-bar]");
    bar.value = data.percent;
    bar.textContent = data.percent + " %";
    box.querySelector("[data-job-percent]").textContent = data.percent;
    box.querySelector("[data-job-count]").textContent =
      data.total ? data.done + " / " + data.total : "";
    box.querySelector("[data-job-message]").textContent = data.message || "";
    box.querySelector("[data-job-state]").textContent = data.state_label;
    box.dataset.state = data.state;
    const error = box.querySelector("[data-job-error]");
    error.textContent = data.error || "";
    error.hidden = !data.error;
    const result = box.querySelector("[data-job-result]");
    if (data.result_url) {
      box.querySelector("[data-job-result-link]").href = data.result_url;
    }
    result.hidden = !data.result_url;
    box.querySelector("[data-job-restart]").hidden = !data.restart_url;
    if (data.finished) {
      box.dispatchEvent(new CustomEvent("job:finished", { bubbles: true, detail: data }));
    }
  }

  function follow(box) {
    const url = box.dataset.url;
    if (box.dataset.finished === "1") return;
    let delay = 500;
    function poll() {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then((response) => {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json();
        })
        .then((data) => {
          update(box, data);
          if (!data.finished) {
            delay = Math.min(delay * 1.2, 3000);
            window.setTimeout(poll, delay);
          } else if (box.hasAttribute("data-reload-when-done")) {
            window.location.reload();
          }
        })
        .catch(() => window.setTimeout(poll, 5000));
    }
    poll();
  }

  document.querySelectorAll("[data-job-progress]").forEach(follow);
})();
