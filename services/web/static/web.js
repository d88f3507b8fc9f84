// HR-mnenie web client: small enhancements only. Every page and form works without this file.
(function () {
  "use strict";

  // What is still missing, updated as the member types (the server says the same on saving).
  function watchMissing() {
    var form = document.getElementById("profile-form");
    var list = document.getElementById("missing");
    var none = document.getElementById("missing-none");
    if (!form || !list) return;
    function update() {
      var left = 0;
      form.querySelectorAll("[data-required]").forEach(function (input) {
        var item = list.querySelector('[data-field="' + input.dataset.required + '"]');
        var empty = input.value.trim() === "";
        if (item) item.hidden = !empty;
        if (empty) left += 1;
      });
      if (none) none.hidden = left > 0;
    }
    form.addEventListener("input", update);
    update();
  }

  // A form is sent once: a second click while the first is on its way does nothing.
  function sendOnce() {
    document.querySelectorAll("form[data-once]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (form.dataset.sent) { event.preventDefault(); return; }
        form.dataset.sent = "1";
        form.querySelectorAll("button[type=submit]").forEach(function (b) { b.setAttribute("aria-disabled", "true"); });
      });
    });
  }

  function copyButtons() {
    document.querySelectorAll("[data-copy]").forEach(function (button) {
      button.addEventListener("click", function () {
        var input = document.getElementById(button.dataset.copy);
        if (!input) return;
        input.select();
        var done = function () { button.textContent = button.dataset.copied; };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(input.value).then(done, function () { document.execCommand("copy"); done(); });
        } else { document.execCommand("copy"); done(); }
      });
    });
  }

  // After a refused form, the keyboard starts at the first field in error.
  function focusFirstError() {
    var bad = document.querySelector("[aria-invalid=true]");
    if (bad) { bad.focus(); return; }
    var box = document.getElementById("form-error");
    if (box) { box.setAttribute("tabindex", "-1"); box.focus(); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    watchMissing(); sendOnce(); copyButtons(); focusFirstError();
  });
})();
