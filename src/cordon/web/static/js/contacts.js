// The contact list: a contact's score opens (and closes) the row below it that shows the
// score's parts, one line per piece of evidence.
(function () {
  "use strict";

  function toggle(event) {
    var button = event.target.closest(".parts-toggle");
    if (!button) { return; }
    var parts = document.getElementById(button.getAttribute("aria-controls"));
    if (!parts) { return; }
    var open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", open ? "true" : "false");
    parts.hidden = !open;
  }

  document.addEventListener("click", toggle);
})();
