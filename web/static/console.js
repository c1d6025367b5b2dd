// Vigil console: the only script, and the console works without it. It
// refreshes pages that show live state (the overview, unless the person
// turns that off; an incident while its actions are in flight) and asks
// before destructive actions.
(function () {
  "use strict";
  var box = document.getElementById("live-refresh");
  if (box) {
    box.checked = window.localStorage.getItem("vigil.refresh") !== "off";
    box.addEventListener("change", function () {
      window.localStorage.setItem("vigil.refresh", box.checked ? "on" : "off");
    });
    window.setInterval(function () {
      if (box.checked && !document.hidden) { window.location.reload(); }
    }, 5000);
  }
  if (document.querySelector("[data-pending]")) {
    window.setTimeout(function () { window.location.reload(); }, 1500);
  }
  document.querySelectorAll("form[data-confirm]").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      if (!window.confirm(f.getAttribute("data-confirm"))) { e.preventDefault(); }
    });
  });
})();
