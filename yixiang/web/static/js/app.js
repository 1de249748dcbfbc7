// Small page behaviours; everything still works without them.
(function () {
  "use strict";

  // Qualification checklist: show (and submit) only the items for the selected customer kind.
  function syncKind(form) {
    var kindSelect = form.querySelector("select[name=kind]");
    if (!kindSelect) return;
    form.querySelectorAll("[data-kind]").forEach(function (group) {
      var on = group.getAttribute("data-kind") === kindSelect.value;
      group.hidden = !on;
      group.querySelectorAll("input").forEach(function (input) { input.disabled = !on; });
    });
  }

  // Ask before destructive actions (delete, revoke) that carry data-confirm.
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  }, true);

  // A panel loaded from another part of the app says so when it fails, instead of "Loading…" forever.
  document.addEventListener("htmx:responseError", function (event) {
    var slot = event.detail.elt;
    var message = slot && slot.getAttribute && slot.getAttribute("data-panel-error");
    if (message) {
      var p = document.createElement("p");
      p.className = "error";
      p.textContent = message;
      slot.replaceChildren(p);
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-customer-form]").forEach(function (form) {
      syncKind(form);
      form.addEventListener("change", function (event) {
        if (event.target.name === "kind") syncKind(form);
      });
    });
  });
})();

// A phone number is copied with one click on a desktop (where a tel: link has nothing to call with).
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var copy = event.target.closest(".copy-phone");
    if (!copy || !navigator.clipboard) return;
    navigator.clipboard.writeText(copy.getAttribute("data-copy")).then(function () {
      var label = copy.textContent;
      copy.textContent = copy.getAttribute("data-done");
      setTimeout(function () { copy.textContent = label; }, 1200);
    });
  });
})();
