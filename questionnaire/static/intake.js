// Progressive enhancement only: every page works without this script.
(function () {
  "use strict";

  // Show a conditional question only when its condition holds; without this
  // script it is always shown, with a hint saying when to answer it.
  document.querySelectorAll("[data-asked-when]").forEach(function (field) {
    var name = field.getAttribute("data-asked-when");
    var values = field.getAttribute("data-asked-values").split(" ");
    var controls = document.querySelectorAll('input[name="' + name + '"]');
    var hint = field.querySelector(".conditional-hint");
    // Also asked while the question it depends on has no answer (it may be skipped).
    var unanswered = field.hasAttribute("data-asked-unanswered");
    if (hint) { hint.hidden = true; }
    function update() {
      var shown = Array.prototype.some.call(controls, function (c) {
        return c.checked && values.indexOf(c.value) !== -1;
      }) || (unanswered && !Array.prototype.some.call(controls, function (c) {
        return c.checked;
      }));
      var answered = field.querySelector("input:checked");
      // Never hide a question that already has an answer: the answer is kept.
      field.hidden = !shown && !answered;
    }
    controls.forEach(function (c) { c.addEventListener("change", update); });
    update();
  });

  // Show the crisis panel beside the question the moment a worrying answer is chosen.
  // The panel sits in a live region, so it is announced; focus is left where it is.
  // Once shown it stays: help never vanishes because an answer was changed.
  document.querySelectorAll("[data-crisis-for]").forEach(function (region) {
    var name = region.getAttribute("data-crisis-for");
    var values = region.getAttribute("data-crisis-values").split(" ");
    var panel = region.querySelector(".crisis-panel");
    var controls = document.querySelectorAll('input[name="' + name + '"]');
    function update() {
      var worrying = Array.prototype.some.call(controls, function (c) {
        return c.checked && values.indexOf(c.value) !== -1;
      });
      if (worrying && panel) { panel.hidden = false; }
    }
    controls.forEach(function (c) { c.addEventListener("change", update); });
  });

  // Move focus to the error summary so screen readers announce it.
  var summary = document.querySelector("[data-autofocus]");
  if (summary) { summary.focus(); }

  // A link in the error summary shows the whole question (its label, hint and
  // message), not just the bare input scrolled to the top of the screen.
  document.querySelectorAll('.error-summary a[href^="#"]').forEach(function (link) {
    link.addEventListener("click", function (event) {
      var input = document.getElementById(link.getAttribute("href").slice(1));
      var field = input && input.closest(".field");
      if (!field) { return; }
      event.preventDefault();
      field.scrollIntoView();
      input.focus({ preventScroll: true });
    });
  });

  // One click sends once; the server also makes a second send harmless.
  document.querySelectorAll("[data-prevent-double-click]").forEach(function (button) {
    button.form.addEventListener("submit", function () {
      window.setTimeout(function () { button.disabled = true; }, 0);
    });
  });
})();
