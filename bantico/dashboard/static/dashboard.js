/* Bantico dashboard: small progressive enhancements. No inline scripts (the CSP forbids them). */
(function () {
  "use strict";

  // Copy buttons: <button data-copy="ELEMENT_ID">.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-copy]");
    if (!button) return;
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) return;
    var text = source.textContent;
    var done = function (label) {
      button.textContent = label;
      setTimeout(function () { button.textContent = "Copy"; }, 2000);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { done("Copied"); }, function () { select(source); done("Press Ctrl+C"); });
    } else {
      select(source);
      done("Press Ctrl+C");
    }
  });

  function select(element) {
    if (element.select) { element.select(); return; }
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  // Confirmation for destructive forms: <form data-confirm="Are you sure?">.
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  }, true);

  // Move focus to the first field with an error, so keyboard and screen-reader users land on it.
  document.addEventListener("DOMContentLoaded", function () {
    var invalid = document.querySelector("[aria-invalid=true]");
    if (invalid) invalid.focus();
  });
})();
