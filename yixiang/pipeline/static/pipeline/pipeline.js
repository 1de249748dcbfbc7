// Pipeline pages: a proposed stage is taken over with one tap (the rep still saves).
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
    }
  });
})();
