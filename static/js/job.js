// Polls a background job and reloads the page when it ends (the server renders the result).
(function () {
  var box = document.getElementById("job");
  if (!box) return;
  var status = box.dataset.status;
  if (status === "done" || status === "failed") return;
  var bar = document.getElementById("job-progress");
  var label = document.getElementById("job-status");
  var count = document.getElementById("job-count");
  var notice = document.getElementById("job-notice");  // "no background worker is running", when so
  function poll() {
    fetch(box.dataset.statusUrl, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (job) {
        bar.value = job.percent;
        label.textContent = job.status_label;
        count.textContent = job.progress + " / " + job.total;
        if (notice) { notice.textContent = job.notice || ""; notice.hidden = !job.notice; }
        if (job.status === "done" || job.status === "failed") { window.location.reload(); }
        else { setTimeout(poll, 1000); }
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 500);
})();
