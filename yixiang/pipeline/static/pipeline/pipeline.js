// Pipeline pages: a proposed stage is taken over with one tap (the rep still saves), and a phone
// number is copied with one click on a desktop (where tel: links have nothing to call with).
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest(".use-stage");
    if (button) {
      var form = button.closest("form");
      var select = (form && form.querySelector("select[name=stage]")) || document.getElementById("id_stage");
      if (!select) return;
      select.value = button.getAttribute("data-stage");
      select.classList.add("just-set");
      setTimeout(function () { select.classList.remove("just-set"); }, 800);
      return;
    }
    var copy = event.target.closest(".copy-phone");
    if (copy && navigator.clipboard) {
      navigator.clipboard.writeText(copy.getAttribute("data-copy")).then(function () {
        var label = copy.textContent;
        copy.textContent = copy.getAttribute("data-done");
        setTimeout(function () { copy.textContent = label; }, 1200);
      });
    }
  });
})();
