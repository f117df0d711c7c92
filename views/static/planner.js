// The planner's day page: follows a running solve's progress and reloads once it has ended.
(function () {
  "use strict";
  var box = document.getElementById("solve-progress");
  if (!box || !box.dataset.statusUrl) { return; }
  var bar = box.querySelector("progress");
  var state = box.querySelector(".state");
  var percent = box.querySelector(".percent");
  var message = box.querySelector(".message");

  function show(status) {
    state.textContent = box.dataset[status.status] || "";
    bar.value = status.progress;
    percent.textContent = Math.round(status.progress * 100) + "%";
    message.textContent = status.message || "";
  }

  function poll() {
    fetch(box.dataset.statusUrl, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error(response.status); }
        return response.json();
      })
      .then(function (status) {
        show(status);
        if (!status.finished) {
          window.setTimeout(poll, 1000);
        } else if (status.status === "done") {
          window.location.reload();
        } else {
          // failed, cancelled or abandoned: polling stops; the reload shows why and the solve button
          window.setTimeout(function () { window.location.reload(); }, 1500);
        }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }

  window.setTimeout(poll, 1000);
}());
